//! TM2 PEX messages (Request, Response with addresses).
//!
//! Invariant: `pex::decode` returns a message or a typed error (unknown
//! type, unknown field, bad UTF-8), never panics; a decoded message
//! re-encodes to bytes that decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::tm2::pex;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = pex::decode(data) {
        let enc = pex::encode(&msg);
        assert_eq!(pex::decode(&enc).expect("own PEX message decodes"), msg);
    }
});
