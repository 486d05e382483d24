//! Candidate Keccak-256 backends, side by side. RLPx absorbs every frame's
//! ciphertext into a keccak MAC, so this choice bounds transport throughput.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn keccak_backends(c: &mut Criterion) {
    let mut group = c.benchmark_group("keccak256");
    for size in [64usize, 1024, 1 << 20] {
        let data = vec![0xabu8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("sha3", size), &data, |b, d| {
            use sha3::Digest;
            b.iter(|| sha3::Keccak256::digest(d))
        });
        group.bench_with_input(BenchmarkId::new("tiny-keccak", size), &data, |b, d| {
            use tiny_keccak::Hasher;
            b.iter(|| {
                let mut h = tiny_keccak::Keccak::v256();
                h.update(d);
                let mut out = [0u8; 32];
                h.finalize(&mut out);
                out
            })
        });
        group.bench_with_input(BenchmarkId::new("keccak-asm", size), &data, |b, d| {
            b.iter(|| keccak_asm::Keccak256::digest(d))
        });
    }
    group.finish();
}

criterion_group!(benches, keccak_backends);
criterion_main!(benches);
