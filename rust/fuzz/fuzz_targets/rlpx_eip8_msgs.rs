//! The RLP bodies of EIP-8 auth and ack messages, without the ECIES layer
//! (fast: lets the fuzzer explore the list layouts, versions and tails).
//!
//! Invariant: decode returns a value or a typed error, never panics; a
//! decoded message re-encodes to bytes that decode to the same value, and
//! re-encoding is then stable (canonical form).
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::rlpx::handshake::{AckMsg, AuthMsg};

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = AuthMsg::decode(data) {
        let enc = msg.encode();
        let again = AuthMsg::decode(&enc).expect("re-encoded auth decodes");
        assert_eq!(again.encode(), enc);
        assert_eq!(again.nonce, msg.nonce);
        assert_eq!(again.version, msg.version);
    }
    if let Ok(msg) = AckMsg::decode(data) {
        let enc = msg.encode();
        let again = AckMsg::decode(&enc).expect("re-encoded ack decodes");
        assert_eq!(again.encode(), enc);
        assert_eq!(again.nonce, msg.nonce);
    }
});
