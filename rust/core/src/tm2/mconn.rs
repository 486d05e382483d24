//! The per-byte half of the MConnection receive path: split the decrypted
//! stream into sized packets (each bounded by the receiver's
//! `max_packet_msg_size`), decode them, and reassemble `Msg` chunks per
//! channel, bounded by each channel's `recv_message_capacity` and, across all
//! channels, by the connection's receive budget (gno v1.7.1
//! `MaxRecvBufferBytes`). The caller passes `now` with each buffer so the
//! start of every incomplete message is known (gno `RecvAssemblyTimeout`);
//! the timers and the rest of the policy stay in the Python driver.
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
    /// When the first packet of the incomplete message in `recving` arrived,
    /// moved later by [`Reassembler::extend_assembly`].
    assembling_since: Option<f64>,
}

/// Receive-side state of one MConnection.
pub struct Reassembler {
    max_packet: usize,
    /// Bytes of an incomplete packet (bounded by `max_packet`).
    buf: Vec<u8>,
    channels: Vec<Option<Channel>>,
    /// Bound on `buffered` (0: none). One peer can otherwise fill every
    /// channel's `recv_message_capacity` at once (gno: ~38 MB on a full node).
    budget: usize,
    /// Bytes of incomplete messages over all channels.
    buffered: usize,
    /// Channels with an incomplete message.
    assembling: usize,
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
                assembling_since: None,
            });
        }
        Ok(Reassembler {
            max_packet,
            buf: Vec::new(),
            channels: table,
            budget: 0,
            buffered: 0,
            assembling: 0,
        })
    }

    /// Bound the bytes of incomplete messages over all channels (gno
    /// `MaxRecvBufferBytes`; 0: only each channel's capacity bounds them).
    pub fn with_budget(mut self, max_recv_buffer: usize) -> Self {
        self.budget = max_recv_buffer;
        self
    }

    /// Bytes of incomplete messages held over all channels.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// How many channels hold an incomplete message.
    pub fn assembling(&self) -> usize {
        self.assembling
    }

    /// The channel whose incomplete message started first, and when (as
    /// moved by [`Reassembler::extend_assembly`]); None if none is incomplete.
    pub fn oldest_assembly(&self) -> Option<(u8, f64)> {
        if self.assembling == 0 {
            return None;
        }
        let mut oldest: Option<(u8, f64)> = None;
        for (id, ch) in self.channels.iter().enumerate() {
            if let Some(since) = ch.as_ref().and_then(|c| c.assembling_since) {
                if oldest.is_none_or(|(_, t)| since < t) {
                    oldest = Some((u8::try_from(id).unwrap_or(u8::MAX), since));
                }
            }
        }
        oldest
    }

    /// Move every incomplete message's start later by `by` seconds: time the
    /// driver spent in a handler, not reading, is not the peer's to answer for
    /// (gno `extendRecvAssemblyDeadline`).
    pub fn extend_assembly(&mut self, by: f64) {
        if self.assembling == 0 || by.is_nan() || by <= 0.0 {
            return;
        }
        for ch in self.channels.iter_mut().flatten() {
            if let Some(since) = ch.assembling_since.as_mut() {
                *since += by;
            }
        }
    }

    /// Feed decrypted bytes that arrived at `now` (the caller's clock, in
    /// seconds); append what they complete to `out`.
    /// Any error is fatal for the connection.
    pub fn feed(&mut self, data: &[u8], now: f64, out: &mut Vec<Event>) -> CoreResult<()> {
        if self.buf.is_empty() {
            let used = self.parse(data, now, out)?;
            self.buf.extend_from_slice(&data[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.buf);
            buf.extend_from_slice(data);
            let used = self.parse(&buf, now, out)?;
            buf.drain(..used);
            self.buf = buf;
        }
        Ok(())
    }

    fn parse(&mut self, data: &[u8], now: f64, out: &mut Vec<Event>) -> CoreResult<usize> {
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
                    // gno checks every packet, the last one of a message included.
                    let total = self.buffered.saturating_add(bytes.len());
                    if self.budget > 0 && total > self.budget {
                        return Err(CoreError::decode(format!(
                            "total recving buffer budget exceeded: {total} > {}",
                            self.budget
                        )));
                    }
                    if eof == 1 {
                        let msg = if ch.recving.is_empty() {
                            bytes.to_vec()
                        } else {
                            self.buffered = self.buffered.saturating_sub(ch.recving.len());
                            ch.recving.extend_from_slice(bytes);
                            std::mem::take(&mut ch.recving)
                        };
                        if ch.assembling_since.take().is_some() {
                            self.assembling = self.assembling.saturating_sub(1);
                        }
                        out.push(Event::Message(channel_id, msg));
                    } else {
                        ch.recving.extend_from_slice(bytes);
                        self.buffered = total;
                        // Anchored to the first partial packet, not moved by later ones.
                        if ch.assembling_since.is_none() {
                            ch.assembling_since = Some(now);
                            self.assembling = self.assembling.saturating_add(1);
                        }
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
                r.feed(piece, 0.0, &mut out).unwrap();
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
            .feed(&wire, 0.0, &mut Vec::new())
            .unwrap_err()
            .message()
            .contains("unknown channel 3"));
        let mut wire = Vec::new();
        put_message(&mut wire, 1, &[0u8; 11], 4);
        let mut r = Reassembler::new(&[(1, 10)], 1056).unwrap();
        assert!(r
            .feed(&wire, 0.0, &mut Vec::new())
            .unwrap_err()
            .message()
            .contains("capacity"));
        let mut wire = Vec::new();
        put_message(&mut wire, 1, &[0u8; 1100], 2000);
        let mut r = Reassembler::new(&[(1, 10_000)], 1056).unwrap();
        assert!(r
            .feed(&wire[..3], 0.0, &mut Vec::new())
            .unwrap_err()
            .message()
            .contains("read overflow"));
        assert!(Reassembler::new(&[(1, 1), (1, 2)], 1056).is_err());
    }

    #[test]
    fn receive_budget_spans_channels_and_counts_the_last_packet() {
        // Two channels each assembling 1,500 bytes: 3,000 buffered within a 3,000 budget.
        let mut r = Reassembler::new(&[(1, 10_000), (2, 10_000)], 1056)
            .unwrap()
            .with_budget(3000);
        let mut wire = Vec::new();
        crate::tm2::packet::put_msg(&mut wire, 1, 0, &[1u8; 1000]);
        crate::tm2::packet::put_msg(&mut wire, 2, 0, &[2u8; 1000]);
        crate::tm2::packet::put_msg(&mut wire, 1, 0, &[1u8; 500]);
        crate::tm2::packet::put_msg(&mut wire, 2, 0, &[2u8; 500]);
        let mut out = Vec::new();
        r.feed(&wire, 5.0, &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(r.buffered(), 3000);
        assert_eq!(r.assembling(), 2);
        // One more byte, even in a message's last packet, is over (as gno).
        let mut more = Vec::new();
        crate::tm2::packet::put_msg(&mut more, 1, 1, b"x");
        let err = r.feed(&more, 6.0, &mut out).unwrap_err();
        assert!(
            err.message().contains("budget exceeded: 3001 > 3000"),
            "{err}"
        );

        // Completing a message frees its bytes for the others.
        let mut r = Reassembler::new(&[(1, 10_000), (2, 10_000)], 1056)
            .unwrap()
            .with_budget(3000);
        let mut wire = Vec::new();
        crate::tm2::packet::put_msg(&mut wire, 1, 0, &[1u8; 1000]);
        crate::tm2::packet::put_msg(&mut wire, 1, 1, &[1u8; 1000]);
        crate::tm2::packet::put_msg(&mut wire, 2, 0, &[2u8; 1000]);
        crate::tm2::packet::put_msg(&mut wire, 2, 0, &[2u8; 1000]);
        let mut out = Vec::new();
        r.feed(&wire, 0.0, &mut out).unwrap();
        assert_eq!(out, vec![Event::Message(1, vec![1u8; 2000])]);
        assert_eq!(r.buffered(), 2000);
        assert_eq!(r.assembling(), 1);
    }

    #[test]
    fn assembly_start_is_the_first_partial_packet() {
        let mut r = Reassembler::new(&[(1, 10_000), (7, 10_000)], 1056).unwrap();
        let mut out = Vec::new();
        assert_eq!(r.oldest_assembly(), None);
        // A whole message in one packet starts no assembly.
        let mut one = Vec::new();
        crate::tm2::packet::put_msg(&mut one, 1, 1, b"whole");
        r.feed(&one, 1.0, &mut out).unwrap();
        assert_eq!(r.oldest_assembly(), None);
        let mut part = Vec::new();
        crate::tm2::packet::put_msg(&mut part, 7, 0, b"a");
        r.feed(&part, 2.0, &mut out).unwrap();
        let mut part1 = Vec::new();
        crate::tm2::packet::put_msg(&mut part1, 1, 0, b"b");
        r.feed(&part1, 3.0, &mut out).unwrap();
        // Later packets of the same message do not move its start.
        r.feed(&part, 4.0, &mut out).unwrap();
        assert_eq!(r.oldest_assembly(), Some((7, 2.0)));
        r.extend_assembly(0.5);
        assert_eq!(r.oldest_assembly(), Some((7, 2.5)));
        let mut end = Vec::new();
        crate::tm2::packet::put_msg(&mut end, 7, 1, b"z");
        r.feed(&end, 5.0, &mut out).unwrap();
        assert_eq!(r.oldest_assembly(), Some((1, 3.5)));
        assert_eq!(r.assembling(), 1);
        assert_eq!(out.last(), Some(&Event::Message(7, b"aaz".to_vec())));
    }
}
