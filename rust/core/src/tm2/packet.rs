//! MConnection packets: `Ping`, `Pong` and `Msg`, each an amino `Any`
//! written sized (`amino.MarshalAnySizedWriter`, `tm2/pkg/p2p/conn`).
//!
//! `Msg{1: channel_id uint8, 2: eof uint8, 3: bytes}`; zero fields omitted.
//! The receiver bounds every packet (prefix included) by
//! [`max_packet_msg_size`] so a peer cannot make us buffer an unbounded
//! packet before we see that it is too big.
use super::amino::{self, Fields, Value};
use crate::error::{CoreError, CoreResult};

/// Type URL of a ping.
pub const PING_URL: &str = "/p2p.Ping";
/// Type URL of a pong.
pub const PONG_URL: &str = "/p2p.Pong";
/// Type URL of a message packet.
pub const MSG_URL: &str = "/p2p.Msg";

/// gno's `defaultMaxPacketMsgPayloadSize`: the largest chunk of a message in one packet.
pub const DEFAULT_MAX_PACKET_MSG_PAYLOAD_SIZE: usize = 1024;

/// Slack gno adds to the encoded size of a full packet (`_maxPacketMsgSize = … + 10`).
const PACKET_SIZE_SLACK: usize = 10;

/// A decoded packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    Ping,
    Pong,
    Msg {
        channel_id: u8,
        eof: u8,
        bytes: &'a [u8],
    },
}

/// Append the sized encoding of a Ping.
pub fn put_ping(out: &mut Vec<u8>) {
    put_sized_any(out, PING_URL, &[]);
}

/// Append the sized encoding of a Pong.
pub fn put_pong(out: &mut Vec<u8>) {
    put_sized_any(out, PONG_URL, &[]);
}

fn put_sized_any(out: &mut Vec<u8>, url: &str, value: &[u8]) {
    let a = amino::any(url, value);
    amino::put_uvarint(out, a.len() as u64);
    out.extend_from_slice(&a);
}

/// Append the sized encoding of one `Msg` packet.
pub fn put_msg(out: &mut Vec<u8>, channel_id: u8, eof: u8, bytes: &[u8]) {
    // value = Msg body
    let value_len = msg_value_len(channel_id, eof, bytes.len());
    let value_present = value_len > 0;
    // Any = 0a len url [12 len value]
    let any_len = 2
        + MSG_URL.len()
        + if value_present {
            1 + amino::uvarint_size(value_len as u64) + value_len
        } else {
            0
        };
    out.reserve(any_len + amino::uvarint_size(any_len as u64));
    amino::put_uvarint(out, any_len as u64);
    amino::put_bytes_field_always(out, 1, MSG_URL.as_bytes());
    if value_present {
        amino::put_key(out, 2, amino::TYP3_BYTES);
        amino::put_uvarint(out, value_len as u64);
        amino::put_varint_field(out, 1, u64::from(channel_id));
        amino::put_varint_field(out, 2, u64::from(eof));
        amino::put_bytes_field(out, 3, bytes);
    }
}

fn msg_value_len(channel_id: u8, eof: u8, n: usize) -> usize {
    let mut s = 0;
    if channel_id != 0 {
        s += 1 + amino::uvarint_size(u64::from(channel_id));
    }
    if eof != 0 {
        s += 1 + amino::uvarint_size(u64::from(eof));
    }
    if n != 0 {
        s += 1 + amino::uvarint_size(n as u64) + n;
    }
    s
}

/// Cut a message into Msg packets of at most `max_payload` bytes each, the
/// last one with EOF=1, appended to `out`. Returns the number of packets.
pub fn put_message(out: &mut Vec<u8>, channel_id: u8, msg: &[u8], max_payload: usize) -> usize {
    let max_payload = max_payload.max(1);
    if msg.is_empty() {
        put_msg(out, channel_id, 1, &[]);
        return 1;
    }
    let mut count = 0;
    let mut chunks = msg.chunks(max_payload).peekable();
    while let Some(c) = chunks.next() {
        let eof = u8::from(chunks.peek().is_none());
        put_msg(out, channel_id, eof, c);
        count += 1;
    }
    count
}

/// Cut `data` into Msg packets of at most `max_payload` bytes; the last one
/// carries EOF=1 only when `last` (the data ends the message). Returns the packet count.
pub fn put_chunks(
    out: &mut Vec<u8>,
    channel_id: u8,
    data: &[u8],
    max_payload: usize,
    last: bool,
) -> usize {
    let max_payload = max_payload.max(1);
    if data.is_empty() {
        put_msg(out, channel_id, u8::from(last), &[]);
        return 1;
    }
    let mut count = 0;
    let mut chunks = data.chunks(max_payload).peekable();
    while let Some(c) = chunks.next() {
        let eof = u8::from(last && chunks.peek().is_none());
        put_msg(out, channel_id, eof, c);
        count += 1;
    }
    count
}

/// gno's `_maxPacketMsgSize`: the sized encoding of a full packet on channel 1 plus 10.
pub fn max_packet_msg_size(max_payload: usize) -> usize {
    let mut v = Vec::new();
    put_msg(&mut v, 1, 1, &vec![0u8; max_payload]);
    v.len() + PACKET_SIZE_SLACK
}

/// Decode the `Any` body of one packet.
pub fn decode_packet(body: &[u8]) -> CoreResult<Packet<'_>> {
    let (name, value) = amino::decode_any(body)?;
    match name {
        "p2p.Ping" | "p2p.Pong" => {
            if !value.is_empty() {
                // Ping/Pong have no fields: any field is unknown.
                return Err(CoreError::decode(format!("unknown field in {name}")));
            }
            Ok(if name == "p2p.Ping" {
                Packet::Ping
            } else {
                Packet::Pong
            })
        }
        "p2p.Msg" => {
            let (mut ch, mut eof, mut bytes) = (0u8, 0u8, &[][..]);
            let mut f = Fields::new(value);
            while let Some((num, v)) = f.next_field()? {
                match (num, v) {
                    (1, v @ Value::Varint(_)) => ch = v.uint8("Msg.channel_id")?,
                    (2, v @ Value::Varint(_)) => eof = v.uint8("Msg.eof")?,
                    (3, Value::Bytes(b)) => bytes = b,
                    (1..=3, _) => {
                        return Err(CoreError::decode(format!(
                            "Msg field {num}: wrong wire type"
                        )))
                    }
                    _ => {
                        return Err(CoreError::decode(format!(
                            "unknown field number {num} for PacketMsg"
                        )))
                    }
                }
            }
            Ok(Packet::Msg {
                channel_id: ch,
                eof,
                bytes,
            })
        }
        other => Err(CoreError::decode(format!("unknown message type {other:?}"))),
    }
}

/// Split every complete sized packet off the front of `buf`.
/// Returns the packets and how many bytes they used; stops at an incomplete packet.
pub fn split_packets(buf: &[u8], max_packet_size: usize) -> CoreResult<(Vec<Packet<'_>>, usize)> {
    let mut pos = 0;
    let mut out = Vec::new();
    while let Some((body, used)) = amino::take_sized(&buf[pos..], max_packet_size)? {
        out.push(decode_packet(body)?);
        pos += used;
    }
    Ok((out, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_from_the_digest() {
        let mut v = Vec::new();
        put_ping(&mut v);
        assert_eq!(hex::encode(&v), "0b0a092f7032702e50696e67");
        v.clear();
        put_pong(&mut v);
        assert_eq!(hex::encode(&v), "0b0a092f7032702e506f6e67");
        v.clear();
        put_msg(&mut v, 7, 1, b"hello world");
        assert_eq!(
            hex::encode(&v),
            "1d0a082f7032702e4d73671211080710011a0b68656c6c6f20776f726c64"
        );
        v.clear();
        put_msg(&mut v, 0, 0, b"");
        assert_eq!(hex::encode(&v), "0a0a082f7032702e4d7367");
        v.clear();
        put_msg(&mut v, 0x80, 1, &[0xff]);
        assert_eq!(
            hex::encode(&v),
            "140a082f7032702e4d7367120808800110011a01ff"
        );
        assert_eq!(max_packet_msg_size(1024), 1056);
    }

    #[test]
    fn split_and_reject() {
        let mut v = Vec::new();
        put_message(&mut v, 0x77, &[5u8; 2048], 1024);
        assert_eq!(v.len(), 1044 + 1046);
        let (pk, used) = split_packets(&v, 1056).unwrap();
        assert_eq!(used, v.len());
        assert_eq!(pk.len(), 2);
        assert!(matches!(
            pk[0],
            Packet::Msg {
                channel_id: 0x77,
                eof: 0,
                ..
            }
        ));
        assert!(matches!(
            pk[1],
            Packet::Msg {
                channel_id: 0x77,
                eof: 1,
                ..
            }
        ));
        let (pk, used) = split_packets(&v[..1500], 1056).unwrap();
        assert_eq!((pk.len(), used), (1, 1044));
        assert!(split_packets(&v, 1000).is_err());
        // channel 256 does not fit in uint8
        let bad = amino::any_sized(MSG_URL, &[0x08, 0x80, 0x02]);
        assert!(split_packets(&bad, 1056).is_err());
        // unknown field 4
        let bad = amino::any_sized(MSG_URL, &[0x20, 0x01]);
        assert!(split_packets(&bad, 1056).is_err());
        // unknown type
        let bad = amino::any_sized("/p2p.Pang", &[]);
        assert!(split_packets(&bad, 1056).is_err());
    }
}
