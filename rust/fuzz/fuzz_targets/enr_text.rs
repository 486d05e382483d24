//! ENR text form (`enr:` + unpadded base64url), as typed by users or read
//! from config and the CLI.
//!
//! Invariant: `Record::from_text` returns a record or a typed error for any
//! string, never panics; a record re-encodes to the same text (canonical
//! base64url); `base64url_decode` inverts `base64url_encode`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::enr::{base64url_decode, base64url_encode, Record};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rec) = Record::from_text(text) {
        let again = Record::from_text(&rec.to_text()).expect("own text decodes");
        assert_eq!(again.raw(), rec.raw());
    }
    if let Ok(bytes) = base64url_decode(text) {
        assert_eq!(
            base64url_decode(&base64url_encode(&bytes)).expect("own b64"),
            bytes
        );
    }
});
