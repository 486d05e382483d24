//! EIP-8 ack message, as the initiator of a dial reads it.
//!
//! Invariant: `Handshake::feed` on the initiator side never panics; it
//! returns NeedMore, Done or a typed `CoreError`. Modes as in `rlpx_auth`:
//! raw socket bytes, or a fuzzed plaintext sealed correctly to the
//! initiator's key. `AckMsg::decode` round-trips through `encode`.
#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use peerwire_core::rlpx::handshake::{seal_eip8, AckMsg, Handshake};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let own = common::secp_key(0x11);
    let remote = common::secp_pub(&common::secp_key(0x33));
    let (mut hs, _auth) = Handshake::initiator_with(
        &mut common::rng(),
        own,
        &remote,
        common::secp_key(0x22),
        [3u8; 32],
        Some(0),
    );
    let wire = if mode & 1 == 0 {
        body.to_vec()
    } else {
        seal_eip8(
            &mut common::rng(),
            &common::secp_pub(&own),
            body,
            usize::from(mode >> 1),
        )
    };
    let plan = [mode >> 3, 0];
    let _ = common::feed_in_pieces(&wire, &plan, |piece| hs.feed(piece).map(|_| ()));

    if let Ok(msg) = AckMsg::decode(body) {
        let again = AckMsg::decode(&msg.encode()).expect("a re-encoded ack decodes");
        assert_eq!(again.encode(), msg.encode());
    }
});
