//! TM2 NodeInfo (amino), read from every peer during the handshake.
//!
//! Invariant: `NodeInfo::decode` returns a NodeInfo or a typed error, never
//! panics; a decoded NodeInfo re-encodes to bytes that decode to the same
//! value, and that encoding is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::tm2::nodeinfo::NodeInfo;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = NodeInfo::decode(data) {
        let enc = info.encode();
        let again = NodeInfo::decode(&enc).expect("own NodeInfo decodes");
        assert_eq!(again, info);
        assert_eq!(again.encode(), enc);
    }
});
