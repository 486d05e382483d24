//! Hash N bytes with one keccak backend; run under `valgrind --tool=callgrind`
//! to compare backends by instruction count, which (unlike wall time) does not
//! move when the machine is busy. Usage: keccak_icount <sha3|tiny|asm> <bytes> <reps>
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (backend, size, reps) = match args.as_slice() {
        [_, b, s, r] => (
            b.as_str(),
            s.parse::<usize>().unwrap_or(1024),
            r.parse::<usize>().unwrap_or(1),
        ),
        _ => {
            eprintln!("usage: keccak_icount <sha3|tiny|asm> <bytes> <reps>");
            std::process::exit(2);
        }
    };
    let data = vec![0xabu8; size];
    let mut acc = 0u8;
    for _ in 0..reps {
        let out: [u8; 32] = match backend {
            "sha3" => {
                use sha3::Digest;
                sha3::Keccak256::digest(black_box(&data)).into()
            }
            "tiny" => {
                use tiny_keccak::Hasher;
                let mut h = tiny_keccak::Keccak::v256();
                h.update(black_box(&data));
                let mut o = [0u8; 32];
                h.finalize(&mut o);
                o
            }
            "asm" => keccak_asm::Keccak256::digest(black_box(&data)).into(),
            other => {
                eprintln!("unknown backend {other}");
                std::process::exit(2);
            }
        };
        acc ^= out[0];
    }
    println!("{acc}");
}
