//! eth wire messages (eth/68-72): the decoders `peerwire.eth` runs on every
//! message a peer sends. The first byte picks the message and version.
//!
//! Invariant: each decoder returns a value or a typed error, never panics
//! (size limit, field counts, 32-byte hashes, 64-bit integers, list limits);
//! where the format is canonical RLP the value re-encodes to bytes that
//! decode to the same value (Status, GetBlockHeaders, block headers, fork IDs,
//! block ranges, the request/response envelopes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerwire_core::eth::announce::{decode_new_block_hashes, TxAnnouncement};
use peerwire_core::eth::forkid::{decode_enr_entry, encode_enr_entry, ForkId};
use peerwire_core::eth::header::Header;
use peerwire_core::eth::messages::{
    decode_block_range, decode_hash_request, decode_id_and_raw_list, encode_block_range,
    encode_hash_request, encode_id_and_raw_list, split_list, validate_block_range, GetBlockHeaders,
    Status,
};
use peerwire_core::eth::receipts_cells::{
    decode_cells, decode_get_cells, decode_get_receipts70, decode_receipts70, encode_cells,
    encode_get_receipts70, encode_receipts70,
};

/// The list bound `peerwire.eth` passes (geth's per-request maximum is below it).
const LIMIT: usize = 1024;
const VERSIONS: [u32; 5] = [68, 69, 70, 71, 72];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let version = VERSIONS[usize::from(sel >> 4) % VERSIONS.len()];
    match sel % 14 {
        0 => {
            if let Ok(s) = Status::decode(version, body) {
                if s.version == version {
                    let again = Status::decode(version, &s.encode()).expect("status re-encodes");
                    assert_eq!(again, s);
                }
                let _ = validate_block_range(s.earliest, s.latest, &s.latest_hash);
            }
        }
        1 => {
            if let Ok(q) = GetBlockHeaders::decode(body) {
                assert_eq!(GetBlockHeaders::decode(&q.encode()).expect("re-encodes"), q);
            }
        }
        2 => {
            if let Ok(h) = Header::decode(body) {
                let enc = h.encode();
                let again = Header::decode(&enc).expect("a header re-encodes");
                assert_eq!(again, h);
                assert_eq!(again.hash(), h.hash());
            }
        }
        3 => {
            if let Ok((rid, items)) = decode_id_and_raw_list(body, LIMIT) {
                let enc = encode_id_and_raw_list(rid, &items);
                let (rid2, items2) = decode_id_and_raw_list(&enc, LIMIT).expect("re-encodes");
                assert_eq!((rid2, items2), (rid, items));
            }
        }
        4 => {
            if let Ok((rid, hashes)) = decode_hash_request(body, LIMIT) {
                let again = decode_hash_request(&encode_hash_request(rid, &hashes), LIMIT)
                    .expect("re-encodes");
                assert_eq!(again, (rid, hashes));
            }
        }
        5 => {
            if let Ok((e, l, h)) = decode_block_range(body) {
                assert_eq!(
                    decode_block_range(&encode_block_range(e, l, &h)).expect("re-encodes"),
                    (e, l, h)
                );
                let _ = validate_block_range(e, l, &h);
            }
        }
        6 => {
            let _ = TxAnnouncement::decode(version, body);
        }
        7 => {
            let _ = decode_new_block_hashes(body);
        }
        8 => {
            if let Ok((rid, first, hashes)) = decode_get_receipts70(body, LIMIT) {
                let enc = encode_get_receipts70(rid, first, &hashes);
                assert_eq!(
                    decode_get_receipts70(&enc, LIMIT).expect("re-encodes"),
                    (rid, first, hashes)
                );
            }
        }
        9 => {
            if let Ok((rid, incomplete, items)) = decode_receipts70(body, LIMIT) {
                let enc = encode_receipts70(rid, incomplete, &items);
                assert_eq!(
                    decode_receipts70(&enc, LIMIT).expect("re-encodes"),
                    (rid, incomplete, items)
                );
            }
        }
        10 => {
            let _ = decode_get_cells(body, LIMIT);
        }
        11 => {
            if let Ok((rid, hashes, cells, mask)) = decode_cells(body, LIMIT) {
                let enc = encode_cells(rid, &hashes, &cells, &mask);
                assert_eq!(
                    decode_cells(&enc, LIMIT).expect("re-encodes"),
                    (rid, hashes, cells, mask)
                );
            }
        }
        12 => {
            if let Ok(id) = ForkId::decode(body) {
                assert_eq!(ForkId::decode(&id.encode()).expect("re-encodes"), id);
            }
            if let Ok(id) = decode_enr_entry(body) {
                assert_eq!(
                    decode_enr_entry(&encode_enr_entry(&id)).expect("re-encodes"),
                    id
                );
            }
        }
        _ => {
            let _ = split_list(body, LIMIT);
        }
    }
});
