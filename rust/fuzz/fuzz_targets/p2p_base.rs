//! Base protocol messages: Hello (`protoHandshake`) and Disconnect.
//!
//! Invariant: `Hello::decode` returns a Hello or a typed error, never panics;
//! a decoded Hello re-encodes (caps sorted, as geth writes them) to bytes
//! that decode to the same Hello. `decode_disconnect` maps every input to a
//! reason byte without panicking, and every reason round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::p2p_base::{decode_disconnect, encode_disconnect, Hello};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut hello) = Hello::decode(data) {
        let again = Hello::decode(&hello.encode()).expect("a re-encoded Hello decodes");
        hello.caps.sort_by(|a, b| a.cmp_key(b));
        assert_eq!(again, hello);
        let _ = hello.id_is_valid();
    }
    let reason = decode_disconnect(data);
    assert_eq!(decode_disconnect(&encode_disconnect(reason)), reason);
});
