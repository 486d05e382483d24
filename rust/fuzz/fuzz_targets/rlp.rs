//! The generic RLP decoder every devp2p message goes through.
//!
//! Invariant: `decode` returns an item or a typed error, never panics (no
//! overflow on long lengths, non-canonical forms refused); a decoded item
//! re-encodes to exactly the input (RLP is canonical), and `decode_prefix`
//! agrees with `decode` on the first item.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::rlp;

fuzz_target!(|data: &[u8]| {
    if let Ok(item) = rlp::decode(data) {
        assert_eq!(
            rlp::encode(&item),
            data,
            "canonical RLP re-encodes to the input"
        );
    }
    if let Ok((item, rest)) = rlp::decode_prefix(data) {
        let used = data.len() - rest.len();
        assert_eq!(
            rlp::decode(&data[..used]).expect("prefix decodes alone"),
            item
        );
    }
});
