//! Shared fixtures of the fuzz targets: fixed keys (so a crash replays
//! deterministically) and a helper that feeds a byte stream in the pieces the
//! fuzzer chose, the way a socket would deliver it.
#![allow(dead_code)]

use peerwire_core::hash::{Digest, Keccak256};
use peerwire_core::rlpx::frame::Session;
use rand::rngs::StdRng;
use rand::SeedableRng;
use secp256k1::{PublicKey, SecretKey, SECP256K1};
use std::sync::Mutex;

pub fn secp_key(byte: u8) -> SecretKey {
    SecretKey::from_slice(&[byte; 32]).expect("a constant non-zero scalar below n")
}

/// The public key of `sk`, computed once per key: the targets use a few fixed keys, and a
/// scalar multiplication per execution would be a large share of a handshake target's time.
pub fn secp_pub(sk: &SecretKey) -> PublicKey {
    static KNOWN: Mutex<Vec<(SecretKey, PublicKey)>> = Mutex::new(Vec::new());
    let mut known = KNOWN.lock().expect("no execution panics while holding the cache");
    if let Some((_, pk)) = known.iter().find(|(k, _)| k == sk) {
        return *pk;
    }
    let pk = PublicKey::from_secret_key(SECP256K1, sk);
    known.push((*sk, pk));
    pk
}

/// A deterministic RNG: the targets must replay a crash byte for byte.
pub fn rng() -> StdRng {
    StdRng::seed_from_u64(0x7065_6572_7769_7265)
}

/// Cut `data` at the offsets given by `plan` (each byte is the next piece
/// length, 0 meaning "the rest"), calling `feed` per piece; stops at the first
/// error and returns it.
pub fn feed_in_pieces<E>(
    data: &[u8],
    plan: &[u8],
    mut feed: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut rest = data;
    let mut plan = plan.iter();
    while !rest.is_empty() {
        let n = match plan.next() {
            Some(&0) | None => rest.len(),
            Some(&n) => usize::from(n).min(rest.len()),
        };
        let (piece, tail) = rest.split_at(n);
        feed(piece)?;
        rest = tail;
    }
    Ok(())
}

/// Two ends of one RLPx session with fixed secrets: what `a` seals, `b` opens.
pub fn rlpx_pair() -> (Session, Session) {
    let aes = [7u8; 32];
    let mac = [9u8; 32];
    let mut egress = Keccak256::new();
    egress.update(b"egress");
    let mut ingress = Keccak256::new();
    ingress.update(b"ingress");
    let a = Session::with_macs(&aes, &mac, egress.clone(), ingress.clone(), [1u8; 64]);
    let b = Session::with_macs(&aes, &mac, ingress, egress, [2u8; 64]);
    (a, b)
}
