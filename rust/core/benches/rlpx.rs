//! RLPx codec seal+open against the single-core bound of its two primitives
//! (keccak-256 absorb + AES-256-CTR, each applied once when sealing and once
//! when opening), measured in the same run.
use aes::cipher::{KeyIvInit, StreamCipher};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use peerwire_core::hash::{Digest, Keccak256};
use peerwire_core::rlpx::{Secrets, Session};

fn pair() -> (Session, Session) {
    let mut e = Keccak256::new();
    Digest::update(&mut e, b"a");
    let mut i = Keccak256::new();
    Digest::update(&mut i, b"b");
    let mk = |eg: &Keccak256, ing: &Keccak256| {
        Session::new(Secrets {
            aes: [0x11; 32],
            mac: [0x22; 32],
            egress_mac: eg.clone(),
            ingress_mac: ing.clone(),
            remote: [0; 64],
        })
    };
    (mk(&e, &i), mk(&i, &e))
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("rlpx seal+open");
    const BATCH: usize = 4 << 20;
    for size in [1024usize, 16 * 1024, 1 << 20] {
        let payload = vec![0x5au8; size];
        let n = BATCH / size;
        group.throughput(Throughput::Bytes((n * size) as u64));
        group.bench_with_input(BenchmarkId::new("codec", size), &payload, |bch, p| {
            let (mut a, mut b) = pair();
            let mut wire = Vec::with_capacity(BATCH + 64 * n);
            let mut msgs = Vec::with_capacity(n);
            bch.iter(|| {
                wire.clear();
                msgs.clear();
                for _ in 0..n {
                    a.seal(0x10, p, &mut wire).unwrap();
                }
                b.feed(&wire, &mut msgs).unwrap();
                assert_eq!(msgs.len(), n);
            })
        });
        group.bench_with_input(BenchmarkId::new("bound", size), &payload, |bch, p| {
            let mut buf = vec![0u8; n * size];
            bch.iter(|| {
                for _ in 0..2 {
                    let mut k = Keccak256::new();
                    for chunk in buf.chunks(size) {
                        Digest::update(&mut k, chunk);
                    }
                    let mut ctr =
                        ctr::Ctr128BE::<aes::Aes256>::new(&[0x11; 32].into(), &[0; 16].into());
                    for chunk in buf.chunks_mut(size) {
                        chunk.copy_from_slice(p);
                        ctr.apply_keystream(chunk);
                    }
                    criterion::black_box(k.finalize());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
