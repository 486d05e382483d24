//! The devp2p base protocol "p2p": Hello, Disconnect and capability matching.
//!
//! These are the messages every RLPx connection exchanges before (and
//! beside) its sub-protocols, as go-ethereum's `p2p/peer.go`,
//! `p2p/protocol.go` and `p2p/transport.go` define them:
//!
//! * Hello = `[version, name, [[cap_name, cap_version], ...], listen_port, id, ...]`
//!   (extra trailing elements are ignored for forward compatibility, EIP-8);
//! * Disconnect = `[reason]` when sent; a bare `reason` is accepted too;
//! * capability matching gives each shared protocol name its highest common
//!   version and a contiguous message-code range starting at 16.
use std::cmp::Ordering;

use crate::error::{CoreError, CoreResult};
use crate::rlp::{self, Item};

/// Base protocol version we announce; snappy is on iff both sides are ≥ 5.
pub const BASE_PROTOCOL_VERSION: u64 = 5;
/// First version that compresses message payloads with snappy (EIP-706).
pub const SNAPPY_PROTOCOL_VERSION: u64 = 5;
/// Message codes 0x00..0x0f belong to the base protocol.
pub const BASE_PROTOCOL_LENGTH: u64 = 16;
/// Largest Hello payload accepted: a peer announcing thousands of
/// capabilities or a megabyte-long name would otherwise make us allocate and
/// sort unbounded data before the connection is even admitted.
pub const MAX_HELLO_SIZE: usize = 2048;
/// Largest Disconnect payload decoded (go-ethereum's stream limit of 100
/// bytes): a Disconnect carries one small integer, anything bigger is junk.
pub const MAX_DISCONNECT_SIZE: usize = 100;
/// Length of the node public key (X||Y) carried in Hello.
pub const NODE_ID_LEN: usize = 64;
/// go-ethereum's internal "undecodable disconnect reason" marker (never sent).
pub const DISC_INVALID: u8 = 0xff;

/// Base protocol message codes.
pub const HELLO_CODE: u64 = 0x00;
pub const DISCONNECT_CODE: u64 = 0x01;
pub const PING_CODE: u64 = 0x02;
pub const PONG_CODE: u64 = 0x03;

/// A capability: protocol name and version. Names are compared byte-wise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    pub name: Vec<u8>,
    pub version: u64,
}

impl Cap {
    /// go-ethereum's `Cap.Cmp`: name (byte order), then version ascending.
    pub fn cmp_key(&self, other: &Cap) -> Ordering {
        self.name
            .cmp(&other.name)
            .then(self.version.cmp(&other.version))
    }
}

/// The decoded Hello (`protoHandshake`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    pub version: u64,
    pub name: Vec<u8>,
    pub caps: Vec<Cap>,
    pub listen_port: u64,
    pub id: Vec<u8>,
}

impl Hello {
    /// Whether the ID is a plausible public key: 64 bytes, not all zero
    /// (go-ethereum answers a failure with `DiscInvalidIdentity`).
    pub fn id_is_valid(&self) -> bool {
        self.id.len() == NODE_ID_LEN && self.id.iter().any(|&b| b != 0)
    }

    /// Encode the Hello payload; capabilities are written sorted by
    /// (name, version) as go-ethereum sends them.
    pub fn encode(&self) -> Vec<u8> {
        let mut caps = self.caps.clone();
        caps.sort_by(|a, b| a.cmp_key(b));
        let mut caps_payload = Vec::new();
        for c in &caps {
            let mut one = Vec::new();
            rlp::encode_bytes(&mut one, &c.name);
            rlp::encode_uint(&mut one, c.version);
            rlp::encode_list_payload(&mut caps_payload, &one);
        }
        let mut payload = Vec::new();
        rlp::encode_uint(&mut payload, self.version);
        rlp::encode_bytes(&mut payload, &self.name);
        rlp::encode_list_payload(&mut payload, &caps_payload);
        rlp::encode_uint(&mut payload, self.listen_port);
        rlp::encode_bytes(&mut payload, &self.id);
        let mut out = Vec::with_capacity(payload.len() + 3);
        rlp::encode_list_payload(&mut out, &payload);
        out
    }

    /// Decode a received Hello payload.
    ///
    /// Enforces [`MAX_HELLO_SIZE`]; extra list elements and trailing bytes
    /// after the list are ignored (go-ethereum's `rlp:"tail"` and stream
    /// decoding). Integers must be canonical. The ID is not validated here:
    /// see [`Hello::id_is_valid`].
    pub fn decode(payload: &[u8]) -> CoreResult<Hello> {
        if payload.len() > MAX_HELLO_SIZE {
            return Err(CoreError::decode(format!(
                "hello too big: {} > {MAX_HELLO_SIZE} bytes",
                payload.len()
            )));
        }
        let (item, _trailing) = rlp::decode_prefix(payload)?;
        let fields = item.as_list()?;
        if fields.len() < 5 {
            return Err(CoreError::decode(format!(
                "hello has {} elements, need at least 5",
                fields.len()
            )));
        }
        let version = fields[0].as_u64()?;
        let name = fields[1].as_bytes()?.to_vec();
        let mut caps = Vec::new();
        for c in fields[2].as_list()? {
            let pair = c.as_list()?;
            if pair.len() != 2 {
                return Err(CoreError::decode(format!(
                    "capability has {} elements, need 2",
                    pair.len()
                )));
            }
            caps.push(Cap {
                name: pair[0].as_bytes()?.to_vec(),
                version: pair[1].as_u64()?,
            });
        }
        let listen_port = fields[3].as_u64()?;
        let id = fields[4].as_bytes()?.to_vec();
        Ok(Hello {
            version,
            name,
            caps,
            listen_port,
            id,
        })
    }
}

/// Encode a Disconnect payload: the list `[reason]`.
pub fn encode_disconnect(reason: u8) -> Vec<u8> {
    let mut one = Vec::new();
    rlp::encode_uint(&mut one, u64::from(reason));
    let mut out = Vec::new();
    rlp::encode_list_payload(&mut out, &one);
    out
}

/// Decode a Disconnect payload: `[reason, ...]` or a bare `reason` (legacy
/// go-ethereum). Anything undecodable gives [`DISC_INVALID`], as in geth.
pub fn decode_disconnect(payload: &[u8]) -> u8 {
    if payload.len() > MAX_DISCONNECT_SIZE {
        return DISC_INVALID;
    }
    let Ok((item, _)) = rlp::decode_prefix(payload) else {
        return DISC_INVALID;
    };
    let value = match &item {
        Item::List(items) => {
            let Some(first) = items.first() else {
                return DISC_INVALID;
            };
            first
        }
        Item::Bytes(_) => &item,
    };
    match value.as_u64() {
        Ok(v) if v <= 0xff => v as u8,
        _ => DISC_INVALID,
    }
}

/// A locally configured protocol, as far as matching is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalProto {
    pub name: Vec<u8>,
    pub version: u64,
    pub length: u64,
}

/// One negotiated protocol: index into the local list and absolute code offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    pub local_index: usize,
    pub offset: u64,
}

/// go-ethereum's `matchProtocols`: walk the remote caps in (name, version)
/// order; each exact match takes the next code range, and a later (higher)
/// version of an already matched name takes back the earlier one's range.
/// The result is in code order (names in byte order).
pub fn match_protocols(local: &[LocalProto], remote: &[Cap]) -> Vec<Matched> {
    let mut sorted: Vec<&Cap> = remote.iter().collect();
    sorted.sort_by(|a, b| a.cmp_key(b));
    let mut result: Vec<(Vec<u8>, Matched, u64)> = Vec::new();
    let mut offset = BASE_PROTOCOL_LENGTH;
    for cap in sorted {
        let Some(idx) = local
            .iter()
            .position(|p| p.name == cap.name && p.version == cap.version)
        else {
            continue;
        };
        if let Some(pos) = result.iter().position(|(n, _, _)| *n == cap.name) {
            let (_, _, old_len) = result.remove(pos);
            offset -= old_len;
        }
        let length = local[idx].length;
        result.push((
            cap.name.clone(),
            Matched {
                local_index: idx,
                offset,
            },
            length,
        ));
        offset = offset.saturating_add(length);
    }
    result.into_iter().map(|(_, m, _)| m).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(n: &str, v: u64) -> Cap {
        Cap {
            name: n.as_bytes().to_vec(),
            version: v,
        }
    }
    fn proto(n: &str, v: u64, l: u64) -> LocalProto {
        LocalProto {
            name: n.as_bytes().to_vec(),
            version: v,
            length: l,
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn hello_roundtrip_sorts_caps() {
        let h = Hello {
            version: 5,
            name: b"peerwire".to_vec(),
            caps: vec![cap("snap", 1), cap("eth", 68), cap("eth", 67)],
            listen_port: 0,
            id: vec![7; 64],
        };
        let d = Hello::decode(&h.encode()).unwrap();
        assert_eq!(d.caps, vec![cap("eth", 67), cap("eth", 68), cap("snap", 1)]);
        assert_eq!(d.name, b"peerwire");
        assert!(d.id_is_valid());
    }

    #[test]
    fn hello_eip8_vector_with_extra_elements() {
        // EIP-8 "devp2p Base Protocol" Hello: version 22 and extra elements.
        let p = hex(concat!(
            "f87137916b6e6574682f76302e39312f706c616e39cdc5836574683dc6846d6f726b1682270fb840",
            "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569",
            "bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877c883666f6f836261720304"
        ));
        let h = Hello::decode(&p).unwrap();
        assert_eq!(h.version, 55);
        assert_eq!(h.name, b"kneth/v0.91/plan9");
        assert_eq!(h.caps, vec![cap("eth", 61), cap("mork", 22)]);
        assert_eq!(h.listen_port, 9999);
        assert_eq!(h.id.len(), 64);
    }

    #[test]
    fn hello_encoding_matches_geth() {
        // spec 2.5: geth's Hello [5, "geth-harness", [["eth",68],["snap",1]], 0, pubB].
        let want = hex(concat!(
            "f85f058c676574682d6861726e657373cdc58365746844c684736e61700180b840",
            "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138",
            "7574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f"
        ));
        let h = Hello::decode(&want).unwrap();
        let again = Hello {
            caps: vec![cap("snap", 1), cap("eth", 68)],
            ..h
        };
        assert_eq!(again.encode(), want);
    }

    #[test]
    fn hello_limits_and_errors() {
        let mut big = Hello {
            version: 5,
            name: vec![b'x'; 3000],
            caps: vec![],
            listen_port: 0,
            id: vec![1; 64],
        }
        .encode();
        assert!(Hello::decode(&big).is_err());
        big.truncate(10);
        assert!(Hello::decode(&big).is_err());
        assert!(Hello::decode(&[0xc0]).is_err());
        // non-canonical version integer
        assert!(Hello::decode(&hex("c6820005808080c0")).is_err());
        let zero = Hello {
            version: 5,
            name: vec![],
            caps: vec![],
            listen_port: 0,
            id: vec![0; 64],
        };
        assert!(!Hello::decode(&zero.encode()).unwrap().id_is_valid());
    }

    #[test]
    fn disconnect_forms() {
        assert_eq!(encode_disconnect(4), vec![0xc1, 0x04]);
        assert_eq!(encode_disconnect(0), vec![0xc1, 0x80]);
        assert_eq!(decode_disconnect(&[0xc1, 0x04]), 4);
        assert_eq!(decode_disconnect(&[0xc1, 0x80]), 0);
        assert_eq!(decode_disconnect(&[0x08]), 8);
        assert_eq!(decode_disconnect(&[0x80]), 0);
        assert_eq!(decode_disconnect(&[0xc0]), DISC_INVALID);
        assert_eq!(decode_disconnect(&[0x82, 0x01, 0x00]), DISC_INVALID);
        assert_eq!(decode_disconnect(&[0x00]), DISC_INVALID);
        assert_eq!(decode_disconnect(&[]), DISC_INVALID);
        assert_eq!(decode_disconnect(&[0xc1; 200]), DISC_INVALID);
    }

    #[test]
    fn matching_go_example() {
        // TestMatchProtocols "multiple versions of the same protocol".
        let local = vec![
            proto("", 1, 1),
            proto("", 2, 2),
            proto("", 3, 3),
            proto("a", 0, 4),
        ];
        let remote = vec![cap("", 1), cap("", 2), cap("", 3), cap("a", 0)];
        let m = match_protocols(&local, &remote);
        assert_eq!(
            m,
            vec![
                Matched {
                    local_index: 2,
                    offset: 16
                },
                Matched {
                    local_index: 3,
                    offset: 19
                }
            ]
        );
    }

    #[test]
    fn matching_skips_unshared_and_orders_names() {
        let local = vec![proto("zz", 1, 5), proto("echo", 2, 3), proto("echo", 1, 2)];
        let remote = vec![
            cap("zz", 1),
            cap("echo", 1),
            cap("other", 9),
            cap("echo", 3),
        ];
        let m = match_protocols(&local, &remote);
        assert_eq!(
            m,
            vec![
                Matched {
                    local_index: 2,
                    offset: 16
                },
                Matched {
                    local_index: 0,
                    offset: 18
                }
            ]
        );
        assert!(match_protocols(&local, &[cap("x", 1)]).is_empty());
    }
}
