//! Snappy block decoding of RLPx payloads (`frame::decompress`).
//!
//! Invariant: never panics and never allocates by a declared length above
//! the 16 MiB limit (bombs are refused before allocation); a decoded payload
//! fits the limit and compressing it again round-trips to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::rlpx::frame::{decompress, MAX_PAYLOAD_SIZE};

fuzz_target!(|data: &[u8]| {
    if let Ok(plain) = decompress(data) {
        assert!(plain.len() <= MAX_PAYLOAD_SIZE);
        let again = snap::raw::Encoder::new()
            .compress_vec(&plain)
            .expect("compressing a decoded block works");
        assert_eq!(decompress(&again).expect("own output decodes"), plain);
    }
});
