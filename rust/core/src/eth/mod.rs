//! The `eth` wire protocol (go-ethereum `eth/protocols/eth`), sans-IO: fork
//! IDs (EIP-2124), block headers and genesis hashing, and the message codecs.
pub mod announce;
pub mod forkid;
pub mod genesis;
pub mod header;
pub mod messages;
pub mod receipts_cells;

#[cfg(test)]
mod no_panic {
    //! Every decoder takes attacker bytes: none may panic, whatever the input.
    use super::*;
    use proptest::prelude::*;

    fn all_decoders(data: &[u8]) {
        let _ = forkid::ForkId::decode(data);
        let _ = forkid::decode_enr_entry(data);
        let _ = header::Header::decode(data);
        for v in [68, 69, 70, 71, 72] {
            let _ = messages::Status::decode(v, data);
            let _ = announce::TxAnnouncement::decode(v, data);
        }
        let _ = messages::GetBlockHeaders::decode(data);
        let _ = messages::decode_id_and_raw_list(data, 16);
        let _ = messages::decode_hash_request(data, 16);
        let _ = messages::decode_block_range(data);
        let _ = announce::decode_new_block_hashes(data);
        let _ = receipts_cells::decode_get_receipts70(data, 16);
        let _ = receipts_cells::decode_receipts70(data, 16);
        let _ = receipts_cells::decode_get_cells(data, 16);
        let _ = receipts_cells::decode_cells(data, 16);
    }

    proptest! {
        #[test]
        fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            all_decoders(&data);
        }

        // Valid list headers around random content reach the inner decoders.
        #[test]
        fn random_lists(items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8)) {
            let mut payload = Vec::new();
            for it in &items {
                crate::rlp::encode_bytes(&mut payload, it);
            }
            let mut inner = Vec::new();
            crate::rlp::encode_list_payload(&mut inner, &payload);
            let mut outer = Vec::new();
            crate::rlp::encode_list_payload(&mut outer, &[&[0x05][..], &inner].concat());
            all_decoders(&inner);
            all_decoders(&outer);
        }
    }
}
