//! The amino primitives under every TM2 message: uvarints, field keys,
//! `Any` wrappers and the sized prefix.
//!
//! Invariant: each returns a value or a typed error, never panics (no
//! overflow on 10-byte varints, no out-of-bounds lengths); `take_sized`
//! never reports more bytes than the buffer holds nor more than `max_total`;
//! a decoded `Any` re-encodes to a value that decodes to the same name/value
//! (a value of exactly `00` canonicalises to absent, as in gno).
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::tm2::amino::{self, Fields};

fuzz_target!(|data: &[u8]| {
    let _ = amino::read_uvarint(data);
    if let Ok((v, n)) = amino::uvarint(data) {
        assert!(n <= data.len());
        let mut buf = Vec::new();
        amino::put_uvarint(&mut buf, v);
        assert_eq!(amino::uvarint(&buf).expect("own uvarint"), (v, buf.len()));
    }
    if let Ok(Some((body, used))) = amino::take_sized(data, 4096) {
        assert!(used <= data.len() && used <= 4096 && body.len() < used);
    }
    if let Ok((name, value)) = amino::decode_any(data) {
        let url = format!("/{name}");
        let enc = amino::any(&url, value);
        let (n2, v2) = amino::decode_any(&enc).expect("own Any decodes");
        // Like gno, a value of exactly `00` is written as an absent field.
        let canonical: &[u8] = if value == [0u8] { &[] } else { value };
        assert_eq!((n2, v2), (name, canonical));
    }
    let mut fields = Fields::with_repeated(data, &[1]);
    for _ in 0..64 {
        match fields.next_field() {
            Ok(Some((_, v))) => {
                let _ = v.string("f");
            }
            _ => break,
        }
    }
});
