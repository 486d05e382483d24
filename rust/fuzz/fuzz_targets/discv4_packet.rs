//! Discovery v4 datagrams: hash, recoverable signature, type, RLP body.
//!
//! Mode (first byte, low bit): raw datagram, or the rest used as
//! `type || body` and signed with a fixed key so the body decoders are
//! reached behind the hash/signature gate.
//! Invariant: `decode` returns a packet or a typed error, never panics; a
//! decoded packet re-encodes and decodes to the same packet (the signer is
//! recovered as the key that signed it).
#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use peerwire_core::discv4::{decode, encode, HEAD_SIZE};
use peerwire_core::hash::keccak256;
use peerwire_core::keys;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let sk = common::secp_key(0x44);
    let datagram = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut out = vec![0u8; HEAD_SIZE];
        out.extend_from_slice(rest);
        let sig = keys::secp_sign_recoverable(&sk, &keccak256(&out[HEAD_SIZE..]));
        out[32..HEAD_SIZE].copy_from_slice(&sig);
        let hash = keccak256(&out[32..]);
        out[..32].copy_from_slice(&hash);
        out
    };
    if let Ok(d) = decode(&datagram) {
        if let Ok((again, _)) = encode(&sk, &d.packet) {
            let d2 = decode(&again).expect("our own encoding decodes");
            assert_eq!(d2.packet, d.packet);
            assert_eq!(d2.sender, keys::pub64(&common::secp_pub(&sk)));
        }
    }
});
