//! Node Discovery v4 wire codec (go-ethereum `p2p/discover/v4wire`).
//!
//! ```text
//! packet = hash(32) || signature(65) || type(1) || RLP list [|| trailing bytes]
//! hash   = keccak256(signature || type || data)
//! sig    = recoverable secp256k1 over keccak256(type || data)
//! ```
//! Decoding follows geth: the hash is checked first (cheap), then the sender
//! key is recovered; data after the first RLP value is ignored and extra list
//! elements are kept in `rest` (EIP-8 forward compatibility). `enr-seq` is an
//! optional integer (geth PR #22842): a list in that position is a decode
//! error, exactly as in current geth.
use secp256k1::SecretKey;

use crate::enr::Record;
use crate::error::{CoreError, CoreResult};
use crate::hash::keccak256;
use crate::keys;
use crate::rlp::{self, Item};

/// Largest datagram we read or write. Longer input is dropped before any
/// hashing or signature recovery, so oversize floods cost nothing.
pub const MAX_PACKET_SIZE: usize = 1280;
/// hash(32) + signature(65).
pub const HEAD_SIZE: usize = 97;
/// Nodes per Neighbors packet: 12 worst-case (IPv6) entries keep a packet
/// under [`MAX_PACKET_SIZE`] (geth `MaxNeighbors`).
pub const MAX_NEIGHBORS: usize = 12;

pub const PING: u8 = 1;
pub const PONG: u8 = 2;
pub const FINDNODE: u8 = 3;
pub const NEIGHBORS: u8 = 4;
pub const ENR_REQUEST: u8 = 5;
pub const ENR_RESPONSE: u8 = 6;

/// `[ip, udp, tcp]`: ip is 4 bytes (IPv4) or 16 (IPv6), empty if unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoint {
    pub ip: Vec<u8>,
    pub udp: u16,
    pub tcp: u16,
}

/// `[ip, udp, tcp, pubkey64]` in a Neighbors packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEntry {
    pub ip: Vec<u8>,
    pub udp: u16,
    pub tcp: u16,
    pub id: [u8; 64],
}

/// A decoded packet body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Ping {
        version: u64,
        from: Endpoint,
        to: Endpoint,
        expiration: u64,
        enr_seq: Option<u64>,
        rest: Vec<Vec<u8>>,
    },
    Pong {
        to: Endpoint,
        reply_tok: Vec<u8>,
        expiration: u64,
        enr_seq: Option<u64>,
        rest: Vec<Vec<u8>>,
    },
    FindNode {
        target: [u8; 64],
        expiration: u64,
        rest: Vec<Vec<u8>>,
    },
    Neighbors {
        nodes: Vec<NodeEntry>,
        expiration: u64,
        rest: Vec<Vec<u8>>,
    },
    EnrRequest {
        expiration: u64,
        rest: Vec<Vec<u8>>,
    },
    EnrResponse {
        reply_tok: [u8; 32],
        record: Record,
        rest: Vec<Vec<u8>>,
    },
}

impl Packet {
    pub fn kind(&self) -> u8 {
        match self {
            Packet::Ping { .. } => PING,
            Packet::Pong { .. } => PONG,
            Packet::FindNode { .. } => FINDNODE,
            Packet::Neighbors { .. } => NEIGHBORS,
            Packet::EnrRequest { .. } => ENR_REQUEST,
            Packet::EnrResponse { .. } => ENR_RESPONSE,
        }
    }
}

/// Whether a packet's `expiration` (unix seconds) has passed at `now_unix`.
///
/// go-ethereum reads the field as a signed 64-bit value (`int64(ts)` in
/// `v4wire.Expired`): a timestamp at or above 2^63 is negative there, so it
/// is already in the past. Read as unsigned it would be valid for ever and
/// a replayed packet would never expire.
pub fn expired(expiration: u64, now_unix: i64) -> bool {
    (expiration as i64) < now_unix
}

/// A verified packet with its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub packet: Packet,
    pub hash: [u8; 32],
    pub sender: [u8; 64],
    pub sender_id: [u8; 32],
}

/// The verified header of a packet: (hash, sender pubkey64, type byte).
/// Used by [`decode`], and on its own to check a packet whose body we do
/// not accept.
pub fn verify_head(data: &[u8]) -> CoreResult<([u8; 32], [u8; 64], u8)> {
    if data.len() > MAX_PACKET_SIZE {
        return Err(CoreError::decode(format!(
            "packet of {} bytes exceeds {MAX_PACKET_SIZE}",
            data.len()
        )));
    }
    if data.len() < HEAD_SIZE + 1 {
        return Err(CoreError::decode("packet too small"));
    }
    let hash = keccak256(&data[32..]);
    if hash[..] != data[..32] {
        return Err(CoreError::decode("bad packet hash"));
    }
    let sighash = keccak256(&data[HEAD_SIZE..]);
    let pk = keys::secp_recover(&sighash, &data[32..HEAD_SIZE])?;
    Ok((hash, keys::pub64(&pk), data[HEAD_SIZE]))
}

/// Check hash and signature, then decode the body.
pub fn decode(data: &[u8]) -> CoreResult<Decoded> {
    let (hash, sender, ptype) = verify_head(data)?;
    if !(PING..=ENR_RESPONSE).contains(&ptype) {
        return Err(CoreError::decode(format!("unknown packet type {ptype}")));
    }
    // Trailing bytes after the first RLP value are ignored (EIP-8).
    let (item, _trailing) = rlp::decode_prefix(&data[HEAD_SIZE + 1..])?;
    let packet = decode_body(ptype, item.as_list()?)?;
    Ok(Decoded {
        packet,
        hash,
        sender,
        sender_id: keccak256(&sender),
    })
}

/// Decode `type || body` without the hash and signature gate. Only the
/// fuzzers use it: behind the gate every input costs a key recovery, which
/// would keep them at a thousand executions a second.
#[doc(hidden)]
pub fn decode_body_unverified(ptype: u8, data: &[u8]) -> CoreResult<Packet> {
    if !(PING..=ENR_RESPONSE).contains(&ptype) {
        return Err(CoreError::decode(format!("unknown packet type {ptype}")));
    }
    let (item, _trailing) = rlp::decode_prefix(data)?;
    decode_body(ptype, item.as_list()?)
}

fn need<'a>(list: &'a [Item], n: usize, what: &str) -> CoreResult<&'a [Item]> {
    if list.len() < n {
        return Err(CoreError::decode(format!("{what}: too few list elements")));
    }
    Ok(&list[n..])
}

fn u16_of(item: &Item) -> CoreResult<u16> {
    u16::try_from(item.as_u64()?).map_err(|_| CoreError::decode("port does not fit in 16 bits"))
}

fn endpoint(item: &Item) -> CoreResult<Endpoint> {
    let l = item.as_list()?;
    // Endpoint has no tail field in geth: extra elements are an error.
    if l.len() != 3 {
        return Err(CoreError::decode("endpoint must have 3 elements"));
    }
    Ok(Endpoint {
        ip: l[0].as_bytes()?.to_vec(),
        udp: u16_of(&l[1])?,
        tcp: u16_of(&l[2])?,
    })
}

fn pubkey64(item: &Item) -> CoreResult<[u8; 64]> {
    item.as_bytes()?
        .try_into()
        .map_err(|_| CoreError::decode("public key must be 64 bytes"))
}

fn rest_of(items: &[Item]) -> Vec<Vec<u8>> {
    items.iter().map(rlp::encode).collect()
}

/// An optional trailing uint64 (EIP-868 enr-seq), then the tail.
fn opt_seq(items: &[Item]) -> CoreResult<(Option<u64>, Vec<Vec<u8>>)> {
    match items.first() {
        None => Ok((None, Vec::new())),
        Some(Item::List(_)) => Err(CoreError::decode(
            "enr-seq must be an integer (EIP-868 optional uint64)",
        )),
        Some(it) => Ok((Some(it.as_u64()?), rest_of(&items[1..]))),
    }
}

fn decode_body(ptype: u8, l: &[Item]) -> CoreResult<Packet> {
    match ptype {
        PING => {
            let tail = need(l, 4, "ping")?;
            let (enr_seq, rest) = opt_seq(tail)?;
            Ok(Packet::Ping {
                version: l[0].as_u64()?,
                from: endpoint(&l[1])?,
                to: endpoint(&l[2])?,
                expiration: l[3].as_u64()?,
                enr_seq,
                rest,
            })
        }
        PONG => {
            let tail = need(l, 3, "pong")?;
            let (enr_seq, rest) = opt_seq(tail)?;
            Ok(Packet::Pong {
                to: endpoint(&l[0])?,
                reply_tok: l[1].as_bytes()?.to_vec(),
                expiration: l[2].as_u64()?,
                enr_seq,
                rest,
            })
        }
        FINDNODE => {
            let tail = need(l, 2, "findnode")?;
            Ok(Packet::FindNode {
                target: pubkey64(&l[0])?,
                expiration: l[1].as_u64()?,
                rest: rest_of(tail),
            })
        }
        NEIGHBORS => {
            let tail = need(l, 2, "neighbors")?;
            let mut nodes = Vec::new();
            for n in l[0].as_list()? {
                let f = n.as_list()?;
                if f.len() != 4 {
                    return Err(CoreError::decode("neighbors node must have 4 elements"));
                }
                nodes.push(NodeEntry {
                    ip: f[0].as_bytes()?.to_vec(),
                    udp: u16_of(&f[1])?,
                    tcp: u16_of(&f[2])?,
                    id: pubkey64(&f[3])?,
                });
            }
            Ok(Packet::Neighbors {
                nodes,
                expiration: l[1].as_u64()?,
                rest: rest_of(tail),
            })
        }
        ENR_REQUEST => {
            let tail = need(l, 1, "enrrequest")?;
            Ok(Packet::EnrRequest {
                expiration: l[0].as_u64()?,
                rest: rest_of(tail),
            })
        }
        ENR_RESPONSE => {
            let tail = need(l, 2, "enrresponse")?;
            let reply_tok = l[0]
                .as_bytes()?
                .try_into()
                .map_err(|_| CoreError::decode("enrresponse reply token must be 32 bytes"))?;
            Ok(Packet::EnrResponse {
                reply_tok,
                record: Record::decode(&rlp::encode(&l[1]))?,
                rest: rest_of(tail),
            })
        }
        _ => Err(CoreError::decode(format!("unknown packet type {ptype}"))),
    }
}

fn put_endpoint(out: &mut Vec<u8>, e: &Endpoint) {
    let mut p = Vec::new();
    rlp::encode_bytes(&mut p, &e.ip);
    rlp::encode_uint(&mut p, u64::from(e.udp));
    rlp::encode_uint(&mut p, u64::from(e.tcp));
    rlp::encode_list_payload(out, &p);
}

fn put_rest(p: &mut Vec<u8>, rest: &[Vec<u8>]) {
    for r in rest {
        p.extend_from_slice(r);
    }
}

/// RLP of a packet body (the list after the type byte).
pub fn encode_body(packet: &Packet) -> Vec<u8> {
    let mut p = Vec::new();
    match packet {
        Packet::Ping {
            version,
            from,
            to,
            expiration,
            enr_seq,
            rest,
        } => {
            rlp::encode_uint(&mut p, *version);
            put_endpoint(&mut p, from);
            put_endpoint(&mut p, to);
            rlp::encode_uint(&mut p, *expiration);
            if let Some(s) = enr_seq {
                rlp::encode_uint(&mut p, *s);
            }
            put_rest(&mut p, rest);
        }
        Packet::Pong {
            to,
            reply_tok,
            expiration,
            enr_seq,
            rest,
        } => {
            put_endpoint(&mut p, to);
            rlp::encode_bytes(&mut p, reply_tok);
            rlp::encode_uint(&mut p, *expiration);
            if let Some(s) = enr_seq {
                rlp::encode_uint(&mut p, *s);
            }
            put_rest(&mut p, rest);
        }
        Packet::FindNode {
            target,
            expiration,
            rest,
        } => {
            rlp::encode_bytes(&mut p, target);
            rlp::encode_uint(&mut p, *expiration);
            put_rest(&mut p, rest);
        }
        Packet::Neighbors {
            nodes,
            expiration,
            rest,
        } => {
            let mut np = Vec::new();
            for n in nodes {
                let mut e = Vec::new();
                rlp::encode_bytes(&mut e, &n.ip);
                rlp::encode_uint(&mut e, u64::from(n.udp));
                rlp::encode_uint(&mut e, u64::from(n.tcp));
                rlp::encode_bytes(&mut e, &n.id);
                rlp::encode_list_payload(&mut np, &e);
            }
            rlp::encode_list_payload(&mut p, &np);
            rlp::encode_uint(&mut p, *expiration);
            put_rest(&mut p, rest);
        }
        Packet::EnrRequest { expiration, rest } => {
            rlp::encode_uint(&mut p, *expiration);
            put_rest(&mut p, rest);
        }
        Packet::EnrResponse {
            reply_tok,
            record,
            rest,
        } => {
            rlp::encode_bytes(&mut p, reply_tok);
            p.extend_from_slice(record.raw());
            put_rest(&mut p, rest);
        }
    }
    let mut out = Vec::new();
    rlp::encode_list_payload(&mut out, &p);
    out
}

/// Sign and frame a packet; returns (datagram, hash).
pub fn encode(sk: &SecretKey, packet: &Packet) -> CoreResult<(Vec<u8>, [u8; 32])> {
    let body = encode_body(packet);
    let mut out = vec![0u8; HEAD_SIZE];
    out.push(packet.kind());
    out.extend_from_slice(&body);
    if out.len() > MAX_PACKET_SIZE {
        return Err(CoreError::local(format!(
            "packet of {} bytes exceeds {MAX_PACKET_SIZE}",
            out.len()
        )));
    }
    let sig = keys::secp_sign_recoverable(sk, &keccak256(&out[HEAD_SIZE..]));
    out[32..HEAD_SIZE].copy_from_slice(&sig);
    let hash = keccak256(&out[32..]);
    out[..32].copy_from_slice(&hash);
    Ok((out, hash))
}

/// Neighbors answers, split at [`MAX_NEIGHBORS`]; always at least one packet
/// (an empty answer is still an answer, as in geth).
pub fn encode_neighbors(
    sk: &SecretKey,
    nodes: &[NodeEntry],
    expiration: u64,
) -> CoreResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut chunks: Vec<&[NodeEntry]> = nodes.chunks(MAX_NEIGHBORS).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    for c in chunks {
        let p = Packet::Neighbors {
            nodes: c.to_vec(),
            expiration,
            rest: Vec::new(),
        };
        out.push(encode(sk, &p)?.0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PING_A: &str = "71dbda3a79554728d4f94411e42ee1f8b0d561c10e1e5f5893367948c6a7d70bb87b235fa28a77070271b6c164a2dce8c7e13a5739b53b5e96f2e5acb0e458a02902f5965d55ecbeb2ebb6cabb8b2b232896a36b737666c55265ad0a68412f250001ea04cb847f000001820cfa8215a8d790000000000000000000000000000000018208ae820d058443b9a355";
    const PING_B: &str = "e9614ccfd9fc3e74360018522d30e1419a143407ffcce748de3e22116b7e8dc92ff74788c0b6663aaa3d67d641936511c8f8d6ad8698b820a7cf9e1be7155e9a241f556658c55428ec0563514365799a4be2be5a685a80971ddcfa80cb422cdd0101ec04cb847f000001820cfa8215a8d790000000000000000000000000000000018208ae820d058443b9a3550102";

    fn key() -> SecretKey {
        keys::secp_secret(
            &hex::decode("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn geth_ping_vectors() {
        let d = decode(&hex::decode(PING_A).unwrap()).unwrap();
        assert_eq!(d.sender, keys::secp_public64(&key()));
        match d.packet {
            Packet::Ping {
                version,
                from,
                expiration,
                enr_seq,
                rest,
                ..
            } => {
                assert_eq!(version, 4);
                assert_eq!(from.ip, vec![127, 0, 0, 1]);
                assert_eq!((from.udp, from.tcp), (3322, 5544));
                assert_eq!(expiration, 1136239445);
                assert_eq!(enr_seq, None);
                assert!(rest.is_empty());
            }
            other => panic!("wrong packet {other:?}"),
        }
        let d = decode(&hex::decode(PING_B).unwrap()).unwrap();
        match d.packet {
            Packet::Ping { enr_seq, rest, .. } => {
                assert_eq!(enr_seq, Some(1));
                assert_eq!(rest, vec![vec![2u8]]);
            }
            other => panic!("wrong packet {other:?}"),
        }
    }

    #[test]
    fn roundtrip_and_tamper() {
        let p = Packet::Pong {
            to: Endpoint {
                ip: vec![10, 0, 0, 1],
                udp: 30303,
                tcp: 0,
            },
            reply_tok: vec![7; 32],
            expiration: 99,
            enr_seq: Some(1_700_000_000_000),
            rest: vec![],
        };
        let (bytes, hash) = encode(&key(), &p).unwrap();
        let d = decode(&bytes).unwrap();
        assert_eq!(d.packet, p);
        assert_eq!(d.hash, hash);
        let mut bad = bytes.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(decode(&bad).is_err());
        assert!(decode(&bytes[..HEAD_SIZE]).is_err());
        let mut big = bytes.clone();
        big.resize(MAX_PACKET_SIZE + 1, 0);
        assert!(decode(&big).is_err());
    }

    #[test]
    fn neighbors_split_at_twelve() {
        let n = NodeEntry {
            ip: vec![0x20; 16],
            udp: 65535,
            tcp: 65535,
            id: [0xff; 64],
        };
        let pkts = encode_neighbors(&key(), &vec![n; 16], u64::MAX).unwrap();
        assert_eq!(pkts.len(), 2);
        assert!(pkts.iter().all(|p| p.len() <= MAX_PACKET_SIZE));
        assert_eq!(encode_neighbors(&key(), &[], 1).unwrap().len(), 1);
    }
}
