//! Gossip: `NewPooledTransactionHashes` (eth/68-72, with the eth/72 custody
//! mask) and eth/68 `NewBlockHashes`, bounded by geth's
//! `maxTransactionAnnouncements`.
use super::messages::{check_size, hash32, split_list, uint_at};
use crate::error::{CoreError, CoreResult};
use crate::rlp;

/// geth `maxTransactionAnnouncements`: hashes per announcement.
pub const MAX_TX_ANNOUNCEMENTS: usize = 5000;

/// NewPooledTransactionHashes: `[types, [sizes], [hashes]]`, eth/72 adds a
/// custody mask (kept raw). Lengths must agree, as geth checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxAnnouncement {
    pub types: Vec<u8>,
    pub sizes: Vec<u32>,
    pub hashes: Vec<[u8; 32]>,
    pub mask: Option<Vec<u8>>,
}

impl TxAnnouncement {
    pub fn decode(version: u32, data: &[u8]) -> CoreResult<Self> {
        check_size(data)?;
        let parts = split_list(data, 5)?;
        let want = if version >= 72 { 4 } else { 3 };
        if parts.len() != want {
            return Err(CoreError::decode(format!(
                "announcement must have {want} fields"
            )));
        }
        let types = rlp::decode(parts[0])?.as_bytes()?.to_vec();
        let sizes = split_list(parts[1], MAX_TX_ANNOUNCEMENTS)?
            .into_iter()
            .map(|r| {
                u32::try_from(uint_at(r)?).map_err(|_| CoreError::decode("size above 32 bits"))
            })
            .collect::<CoreResult<Vec<_>>>()?;
        let hashes = split_list(parts[2], MAX_TX_ANNOUNCEMENTS)?
            .into_iter()
            .map(|r| hash32(&rlp::decode(r)?, "tx hash"))
            .collect::<CoreResult<Vec<_>>>()?;
        if types.len() != hashes.len() || sizes.len() != hashes.len() {
            return Err(CoreError::decode("announcement field lengths differ"));
        }
        let mask = parts.get(3).map(|m| m.to_vec());
        Ok(TxAnnouncement {
            types,
            sizes,
            hashes,
            mask,
        })
    }
}

/// `[[hash, number], ...]` (eth/68 NewBlockHashes).
pub fn decode_new_block_hashes(data: &[u8]) -> CoreResult<Vec<([u8; 32], u64)>> {
    check_size(data)?;
    split_list(data, MAX_TX_ANNOUNCEMENTS)?
        .into_iter()
        .map(|r| {
            let it = rlp::decode(r)?;
            let l = it.as_list()?;
            if l.len() != 2 {
                return Err(CoreError::decode(
                    "block announcement must be [hash, number]",
                ));
            }
            Ok((hash32(&l[0], "block hash")?, l[1].as_u64()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // go-ethereum v1.17.5 rlp.EncodeToBytes of NewPooledTransactionHashesPacket71/72
    // (tests/interop/go `eth-packets`, also checked at test time by tests/interop).
    const ANNOUNCE71: &str = "f84d820203c56483011170f842a01111111111111111111111111111111111111111111111111111111111111111a02222222222222222222222222222222222222222222222222222222222222222";
    const ANNOUNCE72: &str = "f83903c483020000e1a022222222222222222222222222222222222222222222222222222222222222229001800000000000000000000000000000";

    #[test]
    fn announcements_decode_as_geth_encodes_them() {
        let a = TxAnnouncement::decode(71, &hex::decode(ANNOUNCE71).unwrap()).unwrap();
        assert_eq!(a.types, vec![2, 3]);
        assert_eq!(a.sizes, vec![100, 70000]);
        assert_eq!(a.hashes, vec![[0x11; 32], [0x22; 32]]);
        assert_eq!(a.mask, None);
        let b = TxAnnouncement::decode(72, &hex::decode(ANNOUNCE72).unwrap()).unwrap();
        assert_eq!((b.types, b.sizes), (vec![3], vec![131_072]));
        assert_eq!(b.mask.unwrap()[..3], [0x90, 0x01, 0x80]);
        // the eth/72 layout is not an eth/71 one
        assert!(TxAnnouncement::decode(71, &hex::decode(ANNOUNCE72).unwrap()).is_err());
    }
}
