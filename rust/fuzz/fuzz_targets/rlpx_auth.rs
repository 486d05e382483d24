//! EIP-8 auth message, as the recipient of a dial reads it.
//!
//! Invariant: `Handshake::feed` either asks for more bytes, completes, or
//! returns a typed `CoreError`; it never panics, whatever the bytes. The
//! first input byte picks the mode: raw bytes straight off the socket (tests
//! the size prefix and the ECIES layer), or a fuzzed plaintext body sealed
//! correctly to our key (reaches the RLP decoder and the signature recovery
//! behind the ECIES MAC). `AuthMsg::decode` re-encodes to a message that
//! decodes to the same value.
#![no_main]
#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use peerwire_core::rlpx::handshake::{seal_eip8, AuthMsg, Handshake};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let static_key = common::secp_key(0x11);
    let mut hs = Handshake::recipient_with(static_key, common::secp_key(0x22), [3u8; 32], Some(0));
    let wire = if mode & 1 == 0 {
        body.to_vec()
    } else {
        seal_eip8(
            &mut common::rng(),
            &common::secp_pub(&static_key),
            body,
            usize::from(mode >> 1),
        )
    };
    let plan = [mode >> 3, 0];
    let _ = common::feed_in_pieces(&wire, &plan, |piece| hs.feed(piece).map(|_| ()));

    if let Ok(msg) = AuthMsg::decode(body) {
        let again = AuthMsg::decode(&msg.encode()).expect("a re-encoded auth message decodes");
        assert_eq!(again.encode(), msg.encode());
    }
});
