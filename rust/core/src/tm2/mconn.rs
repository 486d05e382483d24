//! The per-byte half of the MConnection receive path: split the decrypted
//! stream into sized packets (each bounded by the receiver's
//! `max_packet_msg_size`), decode them, and reassemble `Msg` chunks per
//! channel, bounded by each channel's `recv_message_capacity`. Timing and
//! policy (keepalive, rate limits, scheduling) stay in the Python driver.
use super::amino;
use super::packet::{decode_packet, Packet};
use crate::error::{CoreError, CoreResult};

/// What one fed buffer produced, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Ping,
    Pong,
    /// A complete message on a channel.
    Message(u8, Vec<u8>),
}

struct Channel {
    capacity: usize,
    recving: Vec<u8>,
}

/// Receive-side state of one MConnection.
pub struct Reassembler {
    max_packet: usize,
    /// Bytes of an incomplete packet (bounded by `max_packet`).
    buf: Vec<u8>,
    channels: Vec<Option<Channel>>,
}

impl Reassembler {
    /// `channels` lists (channel id, recv_message_capacity).
    pub fn new(channels: &[(u8, usize)], max_packet: usize) -> CoreResult<Self> {
        let mut table: Vec<Option<Channel>> = (0..256).map(|_| None).collect();
        for &(id, capacity) in channels {
            let slot = &mut table[usize::from(id)];
            if slot.is_some() {
                return Err(CoreError::local(format!("duplicate channel {id:#x}")));
            }
            *slot = Some(Channel {
                capacity,
                recving: Vec::new(),
            });
        }
        Ok(Reassembler {
            max_packet,
            buf: Vec::new(),
            channels: table,
        })
    }

    /// Feed decrypted bytes; append what they complete to `out`.
    /// Any error is fatal for the connection.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Event>) -> CoreResult<()> {
        if self.buf.is_empty() {
            let used = self.parse(data, out)?;
            self.buf.extend_from_slice(&data[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.buf);
            buf.extend_from_slice(data);
            let used = self.parse(&buf, out)?;
            buf.drain(..used);
            self.buf = buf;
        }
        Ok(())
    }

    fn parse(&mut self, data: &[u8], out: &mut Vec<Event>) -> CoreResult<usize> {
        let mut pos = 0;
        while let Some((body, used)) = amino::take_sized(&data[pos..], self.max_packet)? {
            match decode_packet(body)? {
                Packet::Ping => out.push(Event::Ping),
                Packet::Pong => out.push(Event::Pong),
                Packet::Msg {
                    channel_id,
                    eof,
                    bytes,
                } => {
                    let ch = self.channels[usize::from(channel_id)]
                        .as_mut()
                        .ok_or_else(|| {
                            CoreError::decode(format!("unknown channel {channel_id:X}"))
                        })?;
                    if ch.recving.len() + bytes.len() > ch.capacity {
                        return Err(CoreError::decode(
                            "received message exceeds available capacity",
                        ));
                    }
                    if eof == 1 {
                        let msg = if ch.recving.is_empty() {
                            bytes.to_vec()
                        } else {
                            ch.recving.extend_from_slice(bytes);
                            std::mem::take(&mut ch.recving)
                        };
                        out.push(Event::Message(channel_id, msg));
                    } else {
                        ch.recving.extend_from_slice(bytes);
                    }
                }
            }
            pos += used;
        }
        Ok(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tm2::packet::{put_message, put_ping, put_pong};

    #[test]
    fn reassembles_across_arbitrary_cuts() {
        let mut wire = Vec::new();
        put_ping(&mut wire);
        put_message(&mut wire, 1, &[7u8; 3000], 1024);
        put_message(&mut wire, 2, b"", 1024);
        put_pong(&mut wire);
        for cut in [1usize, 7, 100, 1046, 5000] {
            let mut r = Reassembler::new(&[(1, 10_000), (2, 10)], 1056).unwrap();
            let mut out = Vec::new();
            for piece in wire.chunks(cut) {
                r.feed(piece, &mut out).unwrap();
            }
            assert_eq!(
                out,
                vec![
                    Event::Ping,
                    Event::Message(1, vec![7u8; 3000]),
                    Event::Message(2, vec![]),
                    Event::Pong
                ]
            );
        }
    }

    #[test]
    fn limits() {
        let mut wire = Vec::new();
        put_message(&mut wire, 3, b"x", 1024);
        let mut r = Reassembler::new(&[(1, 10)], 1056).unwrap();
        assert!(r
            .feed(&wire, &mut Vec::new())
            .unwrap_err()
            .message()
            .contains("unknown channel 3"));
        let mut wire = Vec::new();
        put_message(&mut wire, 1, &[0u8; 11], 4);
        let mut r = Reassembler::new(&[(1, 10)], 1056).unwrap();
        assert!(r
            .feed(&wire, &mut Vec::new())
            .unwrap_err()
            .message()
            .contains("capacity"));
        let mut wire = Vec::new();
        put_message(&mut wire, 1, &[0u8; 1100], 2000);
        let mut r = Reassembler::new(&[(1, 10_000)], 1056).unwrap();
        assert!(r
            .feed(&wire[..3], &mut Vec::new())
            .unwrap_err()
            .message()
            .contains("read overflow"));
        assert!(Reassembler::new(&[(1, 1), (1, 2)], 1056).is_err());
    }
}
