//! Ethereum Node Records in their RLP form (EIP-778).
//!
//! Invariant: `Record::decode` returns a record or a typed error, never
//! panics (300-byte limit, sorted unique keys, canonical seq); the accessors
//! and `verify_v4` return typed errors on bad values; a decoded record's raw
//! bytes decode again to the same record, and its text form round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::enr::Record;

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = Record::decode(data) {
        let again = Record::decode(rec.raw()).expect("raw bytes of a record decode");
        assert_eq!(again.seq(), rec.seq());
        assert_eq!(again.pairs(), rec.pairs());
        let text = rec.to_text();
        let from_text = Record::from_text(&text).expect("text form decodes");
        assert_eq!(from_text.raw(), rec.raw());
        let _ = rec.verify_v4();
        let _ = rec.node_id();
        let _ = rec.get_port(b"udp");
        let _ = rec.get_port(b"tcp");
        let _ = rec.get_ip(b"ip", 4);
        let _ = rec.get_ip(b"ip6", 16);
        let _ = rec.get_bytes(b"secp256k1");
    }
});
