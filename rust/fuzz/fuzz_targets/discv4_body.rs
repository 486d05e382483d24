//! Discovery v4 packet bodies (Ping, Pong, FindNode, Neighbors, ENRRequest,
//! ENRResponse) without the signature gate, so the RLP layouts, optional
//! `enr-seq`, endpoints, node lists and EIP-8 tails get millions of runs
//! (`discv4_packet` covers the gate itself at ~1k runs/s).
//!
//! Invariant: decoding returns a packet or a typed error, never panics; a
//! decoded packet re-encodes (`encode_body`) to a body that decodes to the
//! same packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::discv4::{decode_body_unverified, encode_body};

fuzz_target!(|data: &[u8]| {
    let Some((&ptype, body)) = data.split_first() else {
        return;
    };
    if let Ok(packet) = decode_body_unverified(ptype, body) {
        let again = decode_body_unverified(packet.kind(), &encode_body(&packet))
            .expect("a re-encoded body decodes");
        assert_eq!(again, packet);
    }
});
