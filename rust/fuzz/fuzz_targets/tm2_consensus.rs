//! TM2 consensus, blockchain and mempool reactor messages (gno v1.7.1,
//! amino `Any` with `/tm.<Name>` type URLs): what a gno.land validator sends
//! on channels 0x20-0x23, 0x30 (mempool) and 0x40 (blockchain).
//! The first byte picks the decoder.
//!
//! Invariant: each decoder returns a message or a typed error, never panics
//! (1 MiB / 8 MiB size limits, `ValidateBasic` bounds, amino field rules,
//! bit-array and part-count limits); a decoded message re-encodes to bytes
//! that decode to the same message, and that encoding is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::tm2::consensus::{decode, encode};
use peerwire_core::tm2::consensus_chain::{
    decode_blockchain, decode_mempool, encode_blockchain, encode_mempool,
};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bz)) = data.split_first() else {
        return;
    };
    match sel % 3 {
        0 => {
            if let Ok(m) = decode(bz) {
                let enc = encode(&m);
                let again = decode(&enc).expect("a decoded consensus message re-encodes");
                assert_eq!(again, m);
                assert_eq!(encode(&again), enc);
                let _ = m.type_name();
            }
        }
        1 => {
            if let Ok(m) = decode_blockchain(bz) {
                let enc = encode_blockchain(&m);
                let again =
                    decode_blockchain(&enc).expect("a decoded blockchain message re-encodes");
                assert_eq!(again, m);
                assert_eq!(encode_blockchain(&again), enc);
                let _ = m.type_name();
            }
        }
        _ => {
            if let Ok(tx) = decode_mempool(bz) {
                assert_eq!(
                    decode_mempool(&encode_mempool(&tx)).expect("re-encodes"),
                    tx
                );
            }
        }
    }
});
