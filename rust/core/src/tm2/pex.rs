//! Peer discovery messages on channel 0x50 (`tm2/pkg/p2p/discovery`).
//!
//! `Request{}` and `Response{Peers []*NetAddress}` travel as a bare amino
//! `Any` (the MConnection already frames messages); `Peers` is a repeated
//! string field 1 holding `id@ip:port` strings.
use super::amino::{self, Fields, Value};
use crate::error::{CoreError, CoreResult};

/// Type URL of a discovery request.
pub const REQUEST_URL: &str = "/p2p.Request";
/// Type URL of a discovery response.
pub const RESPONSE_URL: &str = "/p2p.Response";

/// A decoded discovery message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Request,
    Response(Vec<String>),
}

/// Encode a discovery message.
pub fn encode(msg: &Message) -> Vec<u8> {
    match msg {
        Message::Request => amino::any(REQUEST_URL, &[]),
        Message::Response(peers) => {
            let mut value = Vec::new();
            for p in peers {
                amino::put_bytes_field_always(&mut value, 1, p.as_bytes());
            }
            amino::any(RESPONSE_URL, &value)
        }
    }
}

/// Decode a discovery message (strict: unknown fields and types are errors).
pub fn decode(bz: &[u8]) -> CoreResult<Message> {
    let (name, value) = amino::decode_any(bz)?;
    match name {
        "p2p.Request" => {
            if value.is_empty() {
                Ok(Message::Request)
            } else {
                Err(CoreError::decode("unknown field in discovery Request"))
            }
        }
        "p2p.Response" => {
            let mut peers = Vec::new();
            let mut f = Fields::with_repeated(value, &[1]);
            while let Some((num, v)) = f.next_field()? {
                match (num, v) {
                    (1, Value::Bytes(_)) => peers.push(v.string("Response.peers")?.to_owned()),
                    _ => {
                        return Err(CoreError::decode(format!(
                            "unknown field number {num} for Response"
                        )))
                    }
                }
            }
            Ok(Message::Response(peers))
        }
        other => Err(CoreError::decode(format!(
            "unknown discovery message type {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@127.0.0.1:26656";

    #[test]
    fn vectors() {
        assert_eq!(
            hex::encode(encode(&Message::Request)),
            "0a0c2f7032702e52657175657374"
        );
        let r = Message::Response(vec![PEER.to_owned()]);
        let enc = encode(&r);
        assert_eq!(enc.len(), 75);
        assert!(hex::encode(&enc).starts_with("0a0d2f7032702e526573706f6e7365123a0a38"));
        assert_eq!(decode(&enc).unwrap(), r);
        assert_eq!(
            decode(&encode(&Message::Request)).unwrap(),
            Message::Request
        );
        let two = Message::Response(vec![PEER.to_owned(), PEER.to_owned()]);
        assert_eq!(decode(&encode(&two)).unwrap(), two);
        assert!(decode(&amino::any("/p2p.Response", &[0x12, 0x00])).is_err());
        assert!(decode(&amino::any("/p2p.Ping", &[])).is_err());
    }
}
