//! discv5 messages (geth `v5wire/msg.go`): `message-type || RLP(list)`.
//!
//! Decoding is as strict as geth's RLP struct decoder: exact field count,
//! canonical integers, request IDs of at most 8 bytes, records within the
//! ENR size limit.
use crate::enr;
use crate::error::{CoreError, CoreResult};
use crate::rlp::{self, Item};

/// Longest request ID (geth `ErrInvalidReqID`): IDs are echoed back, so a
/// long one would let a peer grow our replies and our pending-call keys.
pub const MAX_REQUEST_ID: usize = 8;

pub const PING: u8 = 0x01;
pub const PONG: u8 = 0x02;
pub const FINDNODE: u8 = 0x03;
pub const NODES: u8 = 0x04;
pub const TALKREQ: u8 = 0x05;
pub const TALKRESP: u8 = 0x06;

/// A decoded discv5 message. NODES keeps each record as raw RLP so it can be
/// verified (and relayed) byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Ping {
        req_id: Vec<u8>,
        enr_seq: u64,
    },
    Pong {
        req_id: Vec<u8>,
        enr_seq: u64,
        ip: Vec<u8>,
        port: u16,
    },
    FindNode {
        req_id: Vec<u8>,
        distances: Vec<u64>,
    },
    Nodes {
        req_id: Vec<u8>,
        total: u8,
        records: Vec<Vec<u8>>,
    },
    TalkReq {
        req_id: Vec<u8>,
        protocol: Vec<u8>,
        request: Vec<u8>,
    },
    TalkResp {
        req_id: Vec<u8>,
        response: Vec<u8>,
    },
}

impl Message {
    /// The message-type byte.
    pub fn kind(&self) -> u8 {
        match self {
            Message::Ping { .. } => PING,
            Message::Pong { .. } => PONG,
            Message::FindNode { .. } => FINDNODE,
            Message::Nodes { .. } => NODES,
            Message::TalkReq { .. } => TALKREQ,
            Message::TalkResp { .. } => TALKRESP,
        }
    }

    /// The request ID.
    pub fn req_id(&self) -> &[u8] {
        match self {
            Message::Ping { req_id, .. }
            | Message::Pong { req_id, .. }
            | Message::FindNode { req_id, .. }
            | Message::Nodes { req_id, .. }
            | Message::TalkReq { req_id, .. }
            | Message::TalkResp { req_id, .. } => req_id,
        }
    }

    /// `message-type || RLP(message-data)`: the GCM plaintext.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::new();
        match self {
            Message::Ping { req_id, enr_seq } => {
                rlp::encode_bytes(&mut p, req_id);
                rlp::encode_uint(&mut p, *enr_seq);
            }
            Message::Pong {
                req_id,
                enr_seq,
                ip,
                port,
            } => {
                rlp::encode_bytes(&mut p, req_id);
                rlp::encode_uint(&mut p, *enr_seq);
                rlp::encode_bytes(&mut p, ip);
                rlp::encode_uint(&mut p, u64::from(*port));
            }
            Message::FindNode { req_id, distances } => {
                rlp::encode_bytes(&mut p, req_id);
                let mut d = Vec::new();
                for x in distances {
                    rlp::encode_uint(&mut d, *x);
                }
                rlp::encode_list_payload(&mut p, &d);
            }
            Message::Nodes {
                req_id,
                total,
                records,
            } => {
                rlp::encode_bytes(&mut p, req_id);
                rlp::encode_uint(&mut p, u64::from(*total));
                let mut r = Vec::new();
                for rec in records {
                    r.extend_from_slice(rec);
                }
                rlp::encode_list_payload(&mut p, &r);
            }
            Message::TalkReq {
                req_id,
                protocol,
                request,
            } => {
                rlp::encode_bytes(&mut p, req_id);
                rlp::encode_bytes(&mut p, protocol);
                rlp::encode_bytes(&mut p, request);
            }
            Message::TalkResp { req_id, response } => {
                rlp::encode_bytes(&mut p, req_id);
                rlp::encode_bytes(&mut p, response);
            }
        }
        let mut out = vec![self.kind()];
        rlp::encode_list_payload(&mut out, &p);
        out
    }

    /// Decode a GCM plaintext.
    pub fn decode(plaintext: &[u8]) -> CoreResult<Message> {
        let (&kind, body) = plaintext
            .split_first()
            .ok_or_else(|| CoreError::decode("message contains no data"))?;
        let item = rlp::decode(body)?;
        let f = item.as_list()?;
        let want = match kind {
            PING | FINDNODE | TALKRESP => 2,
            PONG => 4,
            NODES | TALKREQ => 3,
            _ => return Err(CoreError::decode(format!("unknown packet type {kind}"))),
        };
        if f.len() != want {
            return Err(CoreError::decode(format!(
                "message type {kind} has {} fields, want {want}",
                f.len()
            )));
        }
        let req_id = f[0].as_bytes()?.to_vec();
        if req_id.len() > MAX_REQUEST_ID {
            return Err(CoreError::decode("request ID larger than 8 bytes"));
        }
        Ok(match kind {
            PING => Message::Ping {
                req_id,
                enr_seq: f[1].as_u64()?,
            },
            PONG => Message::Pong {
                req_id,
                enr_seq: f[1].as_u64()?,
                ip: f[2].as_bytes()?.to_vec(),
                port: u16::try_from(f[3].as_u64()?)
                    .map_err(|_| CoreError::decode("PONG port exceeds 16 bits"))?,
            },
            FINDNODE => Message::FindNode {
                req_id,
                distances: f[1]
                    .as_list()?
                    .iter()
                    .map(Item::as_u64)
                    .collect::<CoreResult<_>>()?,
            },
            NODES => Message::Nodes {
                req_id,
                total: u8::try_from(f[1].as_u64()?)
                    .map_err(|_| CoreError::decode("NODES total exceeds 8 bits"))?,
                records: f[2]
                    .as_list()?
                    .iter()
                    .map(|r| {
                        let raw = rlp::encode(r);
                        if raw.len() > enr::SIZE_LIMIT {
                            return Err(CoreError::decode("record in NODES exceeds 300 bytes"));
                        }
                        r.as_list()?;
                        Ok(raw)
                    })
                    .collect::<CoreResult<_>>()?,
            },
            TALKREQ => Message::TalkReq {
                req_id,
                protocol: f[1].as_bytes()?.to_vec(),
                request: f[2].as_bytes()?.to_vec(),
            },
            _ => Message::TalkResp {
                req_id,
                response: f[1].as_bytes()?.to_vec(),
            },
        })
    }
}
