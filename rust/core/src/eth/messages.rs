//! `eth` message codecs for eth/68 to eth/72 (go-ethereum
//! `eth/protocols/eth/protocol.go`). Decoding is lazy: lists of transactions,
//! headers, bodies and receipts come back as the raw RLP of each element, so a
//! caller decodes only what it uses; every list is bounded.
use alloy_rlp::Header as RlpHeader;

use super::forkid::ForkId;
use crate::error::{CoreError, CoreResult};
use crate::rlp::{self, Item};

/// geth `maxMessageSize`: no eth message may exceed 10 MiB (a peer announcing
/// a larger one would make us buffer and parse it).
pub const MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;
/// geth `softResponseLimit`: target size of a reply we serve.
pub const SOFT_RESPONSE_LIMIT: usize = 2 * 1024 * 1024;
/// geth `maxHeadersServe`: headers served per request (bounds disk lookups a
/// peer can make us do).
pub const MAX_HEADERS_SERVE: u64 = 1024;
/// geth `maxBodiesServe`.
pub const MAX_BODIES_SERVE: usize = 1024;
/// geth `maxReceiptsServe`.
pub const MAX_RECEIPTS_SERVE: usize = 1024;
/// Elements we split out of one list: a 10 MiB message of 1-byte items would
/// otherwise allocate ten million slices.
pub const MAX_LIST_ITEMS: usize = 65_536;

pub const STATUS: u64 = 0x00;
pub const NEW_BLOCK_HASHES: u64 = 0x01;
pub const TRANSACTIONS: u64 = 0x02;
pub const GET_BLOCK_HEADERS: u64 = 0x03;
pub const BLOCK_HEADERS: u64 = 0x04;
pub const GET_BLOCK_BODIES: u64 = 0x05;
pub const BLOCK_BODIES: u64 = 0x06;
pub const NEW_BLOCK: u64 = 0x07;
pub const NEW_POOLED_TRANSACTION_HASHES: u64 = 0x08;
pub const GET_POOLED_TRANSACTIONS: u64 = 0x09;
pub const POOLED_TRANSACTIONS: u64 = 0x0a;
pub const GET_RECEIPTS: u64 = 0x0f;
pub const RECEIPTS: u64 = 0x10;
pub const BLOCK_RANGE_UPDATE: u64 = 0x11;
pub const GET_BLOCK_ACCESS_LISTS: u64 = 0x12;
pub const BLOCK_ACCESS_LISTS: u64 = 0x13;
pub const GET_CELLS: u64 = 0x14;
pub const CELLS: u64 = 0x15;

/// geth `protocolLengths` (eth/68 from geth v1.14: 17 codes).
pub fn protocol_length(version: u32) -> Option<u64> {
    match version {
        68 => Some(17),
        69 | 70 => Some(18),
        71 => Some(20),
        72 => Some(22),
        _ => None,
    }
}

/// Whether `code` is a message of `version` (geth's per-version handler maps).
pub fn code_allowed(version: u32, code: u64) -> bool {
    match code {
        STATUS
        | TRANSACTIONS
        | GET_BLOCK_HEADERS
        | BLOCK_HEADERS
        | GET_BLOCK_BODIES
        | BLOCK_BODIES
        | NEW_POOLED_TRANSACTION_HASHES
        | GET_POOLED_TRANSACTIONS
        | POOLED_TRANSACTIONS
        | GET_RECEIPTS
        | RECEIPTS => (68..=72).contains(&version),
        NEW_BLOCK_HASHES | NEW_BLOCK => version == 68,
        BLOCK_RANGE_UPDATE => (69..=72).contains(&version),
        GET_BLOCK_ACCESS_LISTS | BLOCK_ACCESS_LISTS => (71..=72).contains(&version),
        GET_CELLS | CELLS => version == 72,
        _ => false,
    }
}

/// The Status message. eth/68: `[version, networkid, td, head, genesis, forkid]`;
/// eth/69+: `[version, networkid, genesis, forkid, earliest, latest, latesthash]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub version: u32,
    pub network_id: u64,
    pub genesis: [u8; 32],
    pub fork_id: ForkId,
    /// eth/68 only: total difficulty (big-endian) and head hash.
    pub td: Vec<u8>,
    pub head: [u8; 32],
    /// eth/69+: the block range the node serves.
    pub earliest: u64,
    pub latest: u64,
    pub latest_hash: [u8; 32],
}

pub(crate) fn hash32(item: &Item, what: &str) -> CoreResult<[u8; 32]> {
    item.as_bytes()?
        .try_into()
        .map_err(|_| CoreError::decode(format!("{what} must be 32 bytes")))
}

pub(crate) fn check_size(data: &[u8]) -> CoreResult<()> {
    if data.len() > MAX_MESSAGE_SIZE {
        return Err(CoreError::decode(
            "eth message larger than MAX_MESSAGE_SIZE",
        ));
    }
    Ok(())
}

impl Status {
    pub fn encode(&self) -> Vec<u8> {
        let u = |v: u64| Item::Bytes(rlp::uint_bytes(v));
        let b = |v: &[u8]| Item::Bytes(v.to_vec());
        let l = if self.version == 68 {
            vec![
                u(self.version.into()),
                u(self.network_id),
                b(&self.td),
                b(&self.head),
                b(&self.genesis),
                self.fork_id.to_item(),
            ]
        } else {
            vec![
                u(self.version.into()),
                u(self.network_id),
                b(&self.genesis),
                self.fork_id.to_item(),
                u(self.earliest),
                u(self.latest),
                b(&self.latest_hash),
            ]
        };
        rlp::encode(&Item::List(l))
    }

    /// Decode a Status of the negotiated `version` (exact field count: geth
    /// decodes into a struct without a tail).
    pub fn decode(version: u32, data: &[u8]) -> CoreResult<Self> {
        check_size(data)?;
        let item = rlp::decode(data)?;
        let l = item.as_list()?;
        let remote_version = u32::try_from(l.first().map_or(Ok(0), Item::as_u64)?)
            .map_err(|_| CoreError::decode("status version larger than 32 bits"))?;
        if version == 68 {
            if l.len() != 6 {
                return Err(CoreError::decode("eth/68 status must have 6 fields"));
            }
            let td = l[2].as_bytes()?;
            if td.len() > 32 {
                return Err(CoreError::decode("total difficulty larger than 256 bits"));
            }
            return Ok(Status {
                version: remote_version,
                network_id: l[1].as_u64()?,
                td: td.to_vec(),
                head: hash32(&l[3], "head hash")?,
                genesis: hash32(&l[4], "genesis hash")?,
                fork_id: ForkId::from_item(&l[5])?,
                earliest: 0,
                latest: 0,
                latest_hash: [0; 32],
            });
        }
        if l.len() != 7 {
            return Err(CoreError::decode("eth/69+ status must have 7 fields"));
        }
        Ok(Status {
            version: remote_version,
            network_id: l[1].as_u64()?,
            genesis: hash32(&l[2], "genesis hash")?,
            fork_id: ForkId::from_item(&l[3])?,
            td: Vec::new(),
            head: [0; 32],
            earliest: l[4].as_u64()?,
            latest: l[5].as_u64()?,
            latest_hash: hash32(&l[6], "latest hash")?,
        })
    }
}

/// Split a list into the raw encodings of its elements without decoding them.
pub fn split_list(data: &[u8], limit: usize) -> CoreResult<Vec<&[u8]>> {
    let mut buf = data;
    let h = RlpHeader::decode(&mut buf)?;
    if !h.list {
        return Err(CoreError::decode("expected list, got string"));
    }
    if h.payload_length != buf.len() {
        return Err(CoreError::decode("list length does not match its input"));
    }
    let mut out = Vec::new();
    while !buf.is_empty() {
        if out.len() >= limit {
            return Err(CoreError::decode(format!(
                "list has more than {limit} elements"
            )));
        }
        let mut peek = buf;
        let eh = RlpHeader::decode(&mut peek)?;
        let header_len = buf.len() - peek.len();
        let total = header_len
            .checked_add(eh.payload_length)
            .filter(|&t| t <= buf.len())
            .ok_or_else(|| CoreError::decode("RLP element longer than input"))?;
        out.push(&buf[..total]);
        buf = &buf[total..];
    }
    Ok(out)
}

pub(crate) fn uint_at(raw: &[u8]) -> CoreResult<u64> {
    rlp::decode(raw)?.as_u64()
}

/// `[request_id, [item, ...]]` with raw items: BlockHeaders, BlockBodies,
/// PooledTransactions, Receipts (eth/69), BlockAccessLists.
pub fn decode_id_and_raw_list(data: &[u8], limit: usize) -> CoreResult<(u64, Vec<&[u8]>)> {
    check_size(data)?;
    let parts = split_list(data, 3)?;
    if parts.len() != 2 {
        return Err(CoreError::decode("expected [request_id, list]"));
    }
    Ok((uint_at(parts[0])?, split_list(parts[1], limit)?))
}

/// Encode `[request_id, [raw item, ...]]`.
pub fn encode_id_and_raw_list(request_id: u64, items: &[&[u8]]) -> Vec<u8> {
    let mut inner = Vec::new();
    for it in items {
        inner.extend_from_slice(it);
    }
    let mut payload = Vec::new();
    rlp::encode_uint(&mut payload, request_id);
    rlp::encode_list_payload(&mut payload, &inner);
    let mut out = Vec::new();
    rlp::encode_list_payload(&mut out, &payload);
    out
}

/// `[request_id, [hash, ...]]`: GetBlockBodies, GetPooledTransactions,
/// GetReceipts (eth/69), GetBlockAccessLists.
pub fn decode_hash_request(data: &[u8], limit: usize) -> CoreResult<(u64, Vec<[u8; 32]>)> {
    let (id, raw) = decode_id_and_raw_list(data, limit)?;
    let hashes = raw
        .into_iter()
        .map(|r| hash32(&rlp::decode(r)?, "requested hash"))
        .collect::<CoreResult<_>>()?;
    Ok((id, hashes))
}

pub fn encode_hash_request(request_id: u64, hashes: &[[u8; 32]]) -> Vec<u8> {
    let enc: Vec<Vec<u8>> = hashes
        .iter()
        .map(|h| {
            let mut o = Vec::new();
            rlp::encode_bytes(&mut o, h);
            o
        })
        .collect();
    let refs: Vec<&[u8]> = enc.iter().map(Vec::as_slice).collect();
    encode_id_and_raw_list(request_id, &refs)
}

/// GetBlockHeaders origin: a hash or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Hash([u8; 32]),
    Number(u64),
}

/// `[request_id, [origin, amount, skip, reverse]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetBlockHeaders {
    pub request_id: u64,
    pub origin: Origin,
    pub amount: u64,
    pub skip: u64,
    pub reverse: bool,
}

impl GetBlockHeaders {
    pub fn encode(&self) -> Vec<u8> {
        let origin = match self.origin {
            Origin::Hash(h) => Item::Bytes(h.to_vec()),
            Origin::Number(n) => Item::Bytes(rlp::uint_bytes(n)),
        };
        rlp::encode(&Item::List(vec![
            Item::Bytes(rlp::uint_bytes(self.request_id)),
            Item::List(vec![
                origin,
                Item::Bytes(rlp::uint_bytes(self.amount)),
                Item::Bytes(rlp::uint_bytes(self.skip)),
                Item::Bytes(rlp::uint_bytes(u64::from(self.reverse))),
            ]),
        ]))
    }

    pub fn decode(data: &[u8]) -> CoreResult<Self> {
        check_size(data)?;
        let item = rlp::decode(data)?;
        let l = item.as_list()?;
        if l.len() != 2 {
            return Err(CoreError::decode("expected [request_id, query]"));
        }
        let q = l[1].as_list()?;
        if q.len() != 4 {
            return Err(CoreError::decode("header query must have 4 fields"));
        }
        let o = q[0].as_bytes()?;
        let origin = match o.len() {
            32 => Origin::Hash(hash32(&q[0], "origin")?),
            0..=8 => Origin::Number(q[0].as_u64()?),
            n => {
                return Err(CoreError::decode(format!(
                    "invalid input size {n} for origin"
                )))
            }
        };
        let reverse = match q[3].as_u64()? {
            0 => false,
            1 => true,
            _ => return Err(CoreError::decode("reverse must be a boolean")),
        };
        Ok(GetBlockHeaders {
            request_id: l[0].as_u64()?,
            origin,
            amount: q[1].as_u64()?,
            skip: q[2].as_u64()?,
            reverse,
        })
    }
}

/// `[earliest, latest, latest_hash]` (eth/69+ BlockRangeUpdate; also the
/// range part of the Status). geth `BlockRangeUpdatePacket.Validate`.
pub fn decode_block_range(data: &[u8]) -> CoreResult<(u64, u64, [u8; 32])> {
    check_size(data)?;
    let item = rlp::decode(data)?;
    let l = item.as_list()?;
    if l.len() != 3 {
        return Err(CoreError::decode("block range must have 3 fields"));
    }
    Ok((
        l[0].as_u64()?,
        l[1].as_u64()?,
        hash32(&l[2], "latest hash")?,
    ))
}

pub fn encode_block_range(earliest: u64, latest: u64, latest_hash: &[u8; 32]) -> Vec<u8> {
    rlp::encode(&Item::List(vec![
        Item::Bytes(rlp::uint_bytes(earliest)),
        Item::Bytes(rlp::uint_bytes(latest)),
        Item::Bytes(latest_hash.to_vec()),
    ]))
}

/// geth's block range validation: earliest <= latest and a non-zero hash.
pub fn validate_block_range(
    earliest: u64,
    latest: u64,
    latest_hash: &[u8; 32],
) -> Result<(), &'static str> {
    if earliest > latest {
        return Err("earliest > latest");
    }
    if latest_hash.iter().all(|&b| b == 0) {
        return Err("zero latest hash");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_roundtrip_both_layouts() {
        let fid = ForkId {
            hash: [1, 2, 3, 4],
            next: 9,
        };
        let s69 = Status {
            version: 69,
            network_id: 1337,
            genesis: [7; 32],
            fork_id: fid,
            td: vec![],
            head: [0; 32],
            earliest: 0,
            latest: 5,
            latest_hash: [8; 32],
        };
        assert_eq!(Status::decode(69, &s69.encode()).unwrap(), s69);
        assert!(Status::decode(68, &s69.encode()).is_err());
        let s68 = Status {
            version: 68,
            td: vec![1, 0],
            head: [3; 32],
            earliest: 0,
            latest: 0,
            latest_hash: [0; 32],
            ..s69
        };
        assert_eq!(Status::decode(68, &s68.encode()).unwrap(), s68);
        assert!(Status::decode(70, &s68.encode()).is_err());
    }

    #[test]
    fn header_request_roundtrip_and_origin_rules() {
        for origin in [
            Origin::Number(0),
            Origin::Number(u64::MAX),
            Origin::Hash([5; 32]),
        ] {
            let q = GetBlockHeaders {
                request_id: 77,
                origin,
                amount: 3,
                skip: 1,
                reverse: true,
            };
            assert_eq!(GetBlockHeaders::decode(&q.encode()).unwrap(), q);
        }
        let bad = rlp::encode(&Item::List(vec![
            Item::Bytes(vec![1]),
            Item::List(vec![
                Item::Bytes(vec![1; 9]),
                Item::Bytes(vec![1]),
                Item::Bytes(vec![]),
                Item::Bytes(vec![]),
            ]),
        ]));
        assert!(GetBlockHeaders::decode(&bad).is_err());
    }

    #[test]
    fn raw_lists_split_lazily_and_bounded() {
        let items: [&[u8]; 3] = [&[0x01], &[0x82, 0xaa, 0xbb], &[0xc1, 0x80]];
        let enc = encode_id_and_raw_list(42, &items);
        let (id, got) = decode_id_and_raw_list(&enc, 10).unwrap();
        assert_eq!(id, 42);
        assert_eq!(got, items.to_vec());
        assert!(decode_id_and_raw_list(&enc, 2).is_err());
        let mut truncated = enc.clone();
        truncated.pop();
        assert!(decode_id_and_raw_list(&truncated, 10).is_err());
        let hashes = [[1u8; 32], [2; 32]];
        assert_eq!(
            decode_hash_request(&encode_hash_request(9, &hashes), 10).unwrap(),
            (9, hashes.to_vec())
        );
    }

    #[test]
    fn version_code_tables_match_geth() {
        assert_eq!(protocol_length(69), Some(18));
        assert_eq!(protocol_length(72), Some(22));
        assert_eq!(protocol_length(67), None);
        assert!(code_allowed(68, NEW_BLOCK) && !code_allowed(69, NEW_BLOCK));
        assert!(code_allowed(69, BLOCK_RANGE_UPDATE) && !code_allowed(68, BLOCK_RANGE_UPDATE));
        assert!(code_allowed(72, CELLS) && !code_allowed(71, CELLS));
        assert!(validate_block_range(2, 1, &[1; 32]).is_err());
        assert!(validate_block_range(0, 0, &[0; 32]).is_err());
        assert!(validate_block_range(0, 0, &[1; 32]).is_ok());
    }
}
