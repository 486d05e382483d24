//! discv5 message plaintexts (`type || rlp(list)`): PING, PONG, FINDNODE,
//! NODES, TALKREQ, TALKRESP.
//!
//! Invariant: `Message::decode` returns a message or a typed error, never
//! panics (unknown type, field counts, 8-byte request IDs, 16-bit port,
//! 8-bit total, 300-byte records); a decoded message re-encodes to bytes that
//! decode to the same message, and that encoding is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::discv5::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Message::decode(data) {
        let enc = msg.encode();
        let again = Message::decode(&enc).expect("a decoded message re-encodes");
        assert_eq!(again, msg);
        assert_eq!(again.encode(), enc);
        let _ = (msg.kind(), msg.req_id());
    }
});
