//! Run one hot path `reps` times, to be counted under `valgrind --tool=callgrind`.
//!
//! Instruction counts, unlike wall time, do not move when the machine is busy, so
//! `tools/icount.py` runs every path twice (0 and N reps) and compares the
//! per-rep difference with `tools/icount_baseline.json`: a regression gate that
//! is deterministic enough for CI. Every input (keys, nonces, padding, payloads)
//! is fixed; the only randomness left is the ECIES ephemeral key of the RLPx ack,
//! whose secp256k1 operations are constant-time.
//!
//! Usage: hotpath_icount <path> <reps>   (`hotpath_icount list` names the paths)
use std::hint::black_box;

use peerwire_core::hash::{Digest, Keccak256};
use peerwire_core::rlpx::{self, Progress};
use peerwire_core::tm2::secret;
use rand::SeedableRng;
use secp256k1::{PublicKey, SecretKey, SECP256K1};

const PATHS: &[&str] = &[
    "rlpx_seal_open_1k",
    "rlpx_seal_open_16k",
    "tm2_seal_open_1k",
    "tm2_seal_open_64k",
    "rlpx_handshake",
    "tm2_handshake",
];

fn rlpx_pair() -> (rlpx::Session, rlpx::Session) {
    let mut e = Keccak256::new();
    Digest::update(&mut e, b"a");
    let mut i = Keccak256::new();
    Digest::update(&mut i, b"b");
    let mk = |eg: &Keccak256, ing: &Keccak256| {
        rlpx::Session::new(rlpx::Secrets {
            aes: [0x11; 32],
            mac: [0x22; 32],
            egress_mac: eg.clone(),
            ingress_mac: ing.clone(),
            remote: [0; 64],
        })
    };
    (mk(&e, &i), mk(&i, &e))
}

fn rlpx_seal_open(size: usize, reps: usize) {
    let (mut a, mut b) = rlpx_pair();
    let payload = vec![0x5au8; size];
    let mut wire = Vec::with_capacity(size + 128);
    let mut msgs = Vec::with_capacity(1);
    for _ in 0..reps {
        wire.clear();
        msgs.clear();
        a.seal(0x10, black_box(&payload), &mut wire).expect("seal");
        b.feed(&wire, &mut msgs).expect("open");
        assert_eq!(msgs.len(), 1);
    }
}

fn tm2_pair() -> (secret::Session, secret::Session) {
    let dh = [0x42u8; 32];
    let a = secret::Session::new(&secret::derive_secrets(&dh, true));
    let b = secret::Session::new(&secret::derive_secrets(&dh, false));
    (a, b)
}

fn tm2_seal_open(size: usize, reps: usize) {
    let (mut a, mut b) = tm2_pair();
    let payload = vec![0x5au8; size];
    let mut wire = Vec::with_capacity(2 * size + 1024);
    let mut plain = Vec::with_capacity(size);
    for _ in 0..reps {
        wire.clear();
        plain.clear();
        a.seal_into(black_box(&payload), &mut wire).expect("seal");
        b.open_into(&wire, &mut plain).expect("open");
        assert_eq!(plain.len(), size);
    }
}

fn rlpx_handshake(reps: usize) {
    let ka = SecretKey::from_slice(&[0x11; 32]).expect("key");
    let kb = SecretKey::from_slice(&[0x22; 32]).expect("key");
    let pub_b: PublicKey = kb.public_key(SECP256K1);
    let eph_a = SecretKey::from_slice(&[0x33; 32]).expect("key");
    let eph_b = SecretKey::from_slice(&[0x44; 32]).expect("key");
    for _ in 0..reps {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (mut ini, auth) =
            rlpx::Handshake::initiator_with(&mut rng, ka, &pub_b, eph_a, [0x55; 32], Some(150));
        let mut rec = rlpx::Handshake::recipient_with(kb, eph_b, [0x66; 32], Some(150));
        let Ok(Progress::Done { send, .. }) = rec.feed(&auth) else {
            panic!("recipient did not finish");
        };
        let done = ini.feed(&send).expect("ack");
        assert!(matches!(done, Progress::Done { .. }));
    }
}

fn tm2_handshake(reps: usize) {
    for _ in 0..reps {
        let mut a = secret::Handshake::new(&[0xa1; 32], Some([0x01; 32])).expect("a");
        let mut b = secret::Handshake::new(&[0xb2; 32], Some([0x02; 32])).expect("b");
        let fa = a.read_ephemeral(&b.ephemeral_message()).expect("eph a");
        let fb = b.read_ephemeral(&a.ephemeral_message()).expect("eph b");
        assert!(a.read_auth(&fb).expect("auth a").is_some());
        assert!(b.read_auth(&fa).expect("auth b").is_some());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (path, reps) = match args.as_slice() {
        [_, p] if p == "list" => {
            println!("{}", PATHS.join("\n"));
            return;
        }
        [_, p, r] => (p.as_str(), r.parse::<usize>().unwrap_or(1)),
        _ => {
            eprintln!("usage: hotpath_icount <path> <reps> | hotpath_icount list");
            std::process::exit(2);
        }
    };
    match path {
        "rlpx_seal_open_1k" => rlpx_seal_open(1024, reps),
        "rlpx_seal_open_16k" => rlpx_seal_open(16 * 1024, reps),
        "tm2_seal_open_1k" => tm2_seal_open(1024, reps),
        "tm2_seal_open_64k" => tm2_seal_open(64 * 1024, reps),
        "rlpx_handshake" => rlpx_handshake(reps),
        "tm2_handshake" => tm2_handshake(reps),
        other => {
            eprintln!("unknown path {other}; one of: {}", PATHS.join(", "));
            std::process::exit(2);
        }
    }
}
