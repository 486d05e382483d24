//! The send half of an MConnection, sans-IO (no socket, no clock): bounded
//! per-channel queues, gno's scheduler (`sendPacketMsg`: the pending channel
//! with the least `recentlySent / priority` as float32, first in descriptor
//! order on a tie), packets cut in batches of `numBatchPacketMsgs` into one
//! write buffer. The driver makes one [`Sender::cut`] call per event-loop
//! turn instead of one call per packet or message; it owns timing (flush
//! throttle, keepalive, the rate-limit window) and passes the rate budget in.
use std::collections::VecDeque;

use super::packet::{put_msg, put_ping, put_pong};
use crate::error::{CoreError, CoreResult};

/// Packets per scheduler batch (gno `numBatchPacketMsgs`): the rate budget is
/// checked before each batch, as gno's `sendSomePacketMsgs` calls `Limit` once per batch.
pub const NUM_BATCH_PACKET_MSGS: usize = 10;
/// Size at which the write buffer is handed out (gno `minWriteBufferSize`):
/// bounds the bytes one connection holds between flushes.
pub const WRITE_BUFFER_SIZE: usize = 65536;

struct Channel {
    id: u8,
    priority: u32,
    /// Messages waiting behind the one being sent (gno's `sendQueue` capacity).
    capacity: usize,
    queue: VecDeque<Vec<u8>>,
    /// The message being cut and how much of it is already in packets.
    sending: Option<(Vec<u8>, usize)>,
    /// Packet bytes written recently, decayed by [`Sender::decay`] (gno `recentlySent`).
    recently_sent: i64,
}

impl Channel {
    /// gno `isSendPending`, except that an empty message cannot be skipped.
    fn pending(&mut self) -> bool {
        if self.sending.is_none() {
            match self.queue.pop_front() {
                Some(msg) => self.sending = Some((msg, 0)),
                None => return false,
            }
        }
        true
    }

    fn ratio(&self) -> f32 {
        // gno: float32(recentlySent) / float32(priority)
        self.recently_sent as f32 / self.priority as f32
    }
}

/// What one [`Sender::cut`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cut {
    /// Packet bytes appended to the write buffer.
    pub bytes: usize,
    /// Messages whose last packet was cut (their queue slots are free again).
    pub completed: usize,
}

/// Send-side state of one MConnection.
pub struct Sender {
    max_payload: usize,
    channels: Vec<Channel>,
    /// Index into `channels` by channel id.
    index: Vec<Option<usize>>,
    wbuf: Vec<u8>,
    /// Message bytes queued or not yet cut, over all channels.
    queued_bytes: usize,
    /// Bound on `admitted` (0: none; gno v1.7.1 `MaxSendBufferBytes`): a
    /// reactor that outpaces a slow peer cannot make the connection hold
    /// every channel's queue full of maximum-size messages.
    budget: usize,
    /// Bytes of messages queued or being cut, each counted whole until its
    /// last packet is cut (gno releases a message's reservation on its EOF).
    admitted: usize,
}

impl Sender {
    /// `channels` lists (channel id, priority, send queue capacity) in descriptor order.
    pub fn new(channels: &[(u8, u32, usize)], max_payload: usize) -> CoreResult<Self> {
        if max_payload == 0 {
            return Err(CoreError::local("max packet payload size must be positive"));
        }
        let mut index = vec![None; 256];
        let mut table = Vec::with_capacity(channels.len());
        for (i, &(id, priority, capacity)) in channels.iter().enumerate() {
            if priority == 0 || capacity == 0 {
                return Err(CoreError::local(format!(
                    "channel {id:#x}: priority and send queue capacity must be positive"
                )));
            }
            let slot = &mut index[usize::from(id)];
            if slot.is_some() {
                return Err(CoreError::local(format!("duplicate channel {id:#x}")));
            }
            *slot = Some(i);
            table.push(Channel {
                id,
                priority,
                capacity,
                queue: VecDeque::new(),
                sending: None,
                recently_sent: 0,
            });
        }
        Ok(Sender {
            max_payload,
            channels: table,
            index,
            wbuf: Vec::new(),
            queued_bytes: 0,
            budget: 0,
            admitted: 0,
        })
    }

    /// Bound the bytes of admitted messages over all channels (0: only each
    /// channel's queue capacity bounds them).
    pub fn with_budget(mut self, max_send_buffer: usize) -> Self {
        self.budget = max_send_buffer;
        self
    }

    /// Bytes of messages queued or being cut.
    pub fn admitted(&self) -> usize {
        self.admitted
    }

    /// Whether a message of `len` bytes can ever be admitted (it fits the budget alone).
    pub fn can_admit(&self, len: usize) -> bool {
        self.budget == 0 || len <= self.budget
    }

    fn channel(&self, id: u8) -> Option<&Channel> {
        self.index[usize::from(id)].map(|i| &self.channels[i])
    }

    /// Whether `id` is one of this connection's channels.
    pub fn has_channel(&self, id: u8) -> bool {
        self.channel(id).is_some()
    }

    /// Queue `msg` on channel `id` if its queue has room; false if it has not
    /// (or the channel is unknown). Never blocks, never drops a queued message.
    pub fn push(&mut self, id: u8, msg: &[u8]) -> bool {
        let Some(i) = self.index[usize::from(id)] else {
            return false;
        };
        let ch = &mut self.channels[i];
        if ch.queue.len() >= ch.capacity {
            return false;
        }
        let admitted = self.admitted.saturating_add(msg.len());
        if self.budget > 0 && admitted > self.budget {
            return false;
        }
        ch.queue.push_back(msg.to_vec());
        self.queued_bytes = self.queued_bytes.saturating_add(msg.len());
        self.admitted = admitted;
        true
    }

    /// Messages waiting in channel `id`'s queue (the one being cut not counted).
    pub fn queue_len(&self, id: u8) -> usize {
        self.channel(id).map_or(0, |c| c.queue.len())
    }

    /// Whether any channel has a message queued or partly cut.
    pub fn pending(&self) -> bool {
        self.channels
            .iter()
            .any(|c| c.sending.is_some() || !c.queue.is_empty())
    }

    /// Message bytes not yet cut into packets.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// Bytes in the write buffer.
    pub fn buffered(&self) -> usize {
        self.wbuf.len()
    }

    /// Cut packets into the write buffer: batches of [`NUM_BATCH_PACKET_MSGS`]
    /// while `allowance` bytes of rate budget are left when the batch starts,
    /// until nothing is pending or the buffer holds [`WRITE_BUFFER_SIZE`] bytes.
    pub fn cut(&mut self, allowance: usize) -> Cut {
        let mut done = Cut::default();
        while done.bytes < allowance && self.wbuf.len() < WRITE_BUFFER_SIZE {
            for _ in 0..NUM_BATCH_PACKET_MSGS {
                if self.wbuf.len() >= WRITE_BUFFER_SIZE {
                    return done;
                }
                match self.send_packet() {
                    Some((n, eof)) => {
                        done.bytes = done.bytes.saturating_add(n);
                        done.completed = done.completed.saturating_add(usize::from(eof));
                    }
                    None => return done,
                }
            }
        }
        done
    }

    /// gno `sendPacketMsg`: one packet from the least recently sent channel.
    /// Returns the packet's size and whether it ended its message.
    fn send_packet(&mut self) -> Option<(usize, bool)> {
        let mut best: Option<(usize, f32)> = None;
        for (i, ch) in self.channels.iter_mut().enumerate() {
            if !ch.pending() {
                continue;
            }
            let ratio = ch.ratio();
            if best.is_none_or(|(_, least)| ratio < least) {
                best = Some((i, ratio));
            }
        }
        let (i, _) = best?;
        let max_payload = self.max_payload;
        let ch = &mut self.channels[i];
        let (msg, pos) = ch.sending.as_mut()?;
        let end = msg.len().min(pos.saturating_add(max_payload));
        let eof = end == msg.len();
        let before = self.wbuf.len();
        put_msg(&mut self.wbuf, ch.id, u8::from(eof), &msg[*pos..end]);
        let n = self.wbuf.len().saturating_sub(before);
        self.queued_bytes = self.queued_bytes.saturating_sub(end.saturating_sub(*pos));
        *pos = end;
        if eof {
            self.admitted = self.admitted.saturating_sub(msg.len());
            ch.sending = None;
        }
        ch.recently_sent = ch
            .recently_sent
            .saturating_add(i64::try_from(n).unwrap_or(i64::MAX));
        Some((n, eof))
    }

    /// Append a Ping packet to the write buffer; returns its size.
    pub fn put_ping(&mut self) -> usize {
        let before = self.wbuf.len();
        put_ping(&mut self.wbuf);
        self.wbuf.len().saturating_sub(before)
    }

    /// Append a Pong packet to the write buffer; returns its size.
    pub fn put_pong(&mut self) -> usize {
        let before = self.wbuf.len();
        put_pong(&mut self.wbuf);
        self.wbuf.len().saturating_sub(before)
    }

    /// Hand out the write buffer's bytes, leaving it empty.
    pub fn take_into(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.wbuf);
        self.wbuf.clear();
        if self.wbuf.capacity() > 2 * WRITE_BUFFER_SIZE {
            self.wbuf = Vec::new();
        }
    }

    /// The write buffer's bytes (then [`Sender::clear_buffer`]).
    pub fn buffer(&self) -> &[u8] {
        &self.wbuf
    }

    /// Empty the write buffer.
    pub fn clear_buffer(&mut self) {
        self.wbuf.clear();
        if self.wbuf.capacity() > 2 * WRITE_BUFFER_SIZE {
            self.wbuf = Vec::new();
        }
    }

    /// gno `updateStats`: `recentlySent = int64(float64(recentlySent) * 0.8)`.
    pub fn decay(&mut self) {
        for ch in &mut self.channels {
            ch.recently_sent = (ch.recently_sent as f64 * 0.8) as i64;
        }
    }

    /// (channel id, queued messages, recently sent bytes) in descriptor order.
    pub fn stats(&self) -> Vec<(u8, usize, i64)> {
        self.channels
            .iter()
            .map(|c| (c.id, c.queue.len(), c.recently_sent))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tm2::packet::{put_message, split_packets, Packet};

    fn channels_of(wire: &[u8]) -> Vec<(u8, u8)> {
        let (pk, used) = split_packets(wire, 2000).unwrap();
        assert_eq!(used, wire.len());
        pk.iter()
            .map(|p| match p {
                Packet::Msg {
                    channel_id, eof, ..
                } => (*channel_id, *eof),
                _ => (0, 9),
            })
            .collect()
    }

    #[test]
    fn send_budget_counts_a_message_whole_until_its_last_packet() {
        let mut s = Sender::new(&[(1, 1, 10), (2, 1, 10)], 1024)
            .unwrap()
            .with_budget(50_000);
        assert!(s.push(1, &[1u8; 30_000]));
        assert!(s.push(2, &[2u8; 20_000]));
        assert_eq!(s.admitted(), 50_000);
        assert!(!s.push(2, b"x"), "over the budget across channels");
        assert!(s.can_admit(50_000) && !s.can_admit(50_001));
        // One batch of 10 packets from both: nothing completed, nothing released.
        assert_eq!(s.cut(1).completed, 0);
        assert_eq!(s.admitted(), 50_000);
        assert!(!s.push(1, b"x"));
        let mut completed = 0;
        while s.pending() {
            completed += s.cut(usize::MAX).completed;
            s.clear_buffer();
        }
        assert_eq!(completed, 2);
        assert_eq!(s.admitted(), 0);
        assert!(s.push(1, &[0u8; 50_000]));
        assert_eq!(Sender::new(&[(1, 1, 1)], 1024).unwrap().admitted(), 0);
    }

    #[test]
    fn single_channel_stream_is_the_message_cut() {
        let mut s = Sender::new(&[(0x77, 1, 2)], 1024).unwrap();
        assert!(s.push(0x77, &[1u8; 3000]));
        assert!(s.push(0x77, b""));
        assert!(!s.push(0x77, b"x"), "two waiting fill a capacity of 2");
        let cut = s.cut(usize::MAX);
        let mut want = Vec::new();
        put_message(&mut want, 0x77, &[1u8; 3000], 1024);
        put_message(&mut want, 0x77, b"", 1024);
        assert_eq!(s.buffer(), &want[..]);
        assert_eq!(
            cut,
            Cut {
                bytes: want.len(),
                completed: 2
            }
        );
        assert!(!s.pending());
        assert_eq!(s.queued_bytes(), 0);
        assert!(!s.push(0x12, b"x"), "unknown channel");
    }

    #[test]
    fn scheduler_least_recently_sent_over_priority() {
        let mut s = Sender::new(&[(0x10, 1, 5), (0x12, 10, 5)], 1024).unwrap();
        for _ in 0..5 {
            assert!(s.push(0x10, &[0u8; 102_400]));
            assert!(s.push(0x12, &[0u8; 102_400]));
        }
        let mut order = Vec::new();
        for _ in 0..6 {
            s.cut(1);
            order.extend(channels_of(s.buffer()));
            s.clear_buffer();
        }
        assert_eq!(
            order.len(),
            60,
            "one batch of ten per cut with a small allowance"
        );
        // first packet from 0x10 (tie at 0 goes to descriptor order), then ten of 0x12 per 0x10
        assert_eq!(order[0].0, 0x10);
        let lo = order.iter().filter(|p| p.0 == 0x10).count();
        assert!(order.len() - lo >= 8 * lo && lo > 0, "{order:?}");
        let stats = s.stats();
        assert!(stats[1].2 > 0 && stats[0].2 > 0);
        s.decay();
        assert_eq!(s.stats()[0].2, (stats[0].2 as f64 * 0.8) as i64);
    }

    #[test]
    fn cut_stops_at_the_write_buffer_and_the_allowance() {
        let mut s = Sender::new(&[(1, 1, 200)], 1024).unwrap();
        for _ in 0..200 {
            assert!(s.push(1, &[9u8; 1024]));
        }
        let cut = s.cut(usize::MAX);
        assert!(s.buffered() >= WRITE_BUFFER_SIZE && s.buffered() < WRITE_BUFFER_SIZE + 1100);
        assert_eq!(cut.completed, channels_of(s.buffer()).len());
        let mut out = Vec::new();
        s.take_into(&mut out);
        assert_eq!(s.buffered(), 0);
        // allowance of one byte: one batch of ten packets
        assert_eq!(s.cut(1).completed, 10);
        s.clear_buffer();
        assert_eq!(s.cut(0), Cut::default());
        assert!(s.pending());
        assert_eq!(s.put_ping() + s.put_pong(), 24);
    }

    #[test]
    fn bad_descriptors() {
        assert!(Sender::new(&[(1, 1, 1), (1, 2, 1)], 1024).is_err());
        assert!(Sender::new(&[(1, 0, 1)], 1024).is_err());
        assert!(Sender::new(&[(1, 1, 0)], 1024).is_err());
        assert!(Sender::new(&[(1, 1, 1)], 0).is_err());
    }
}
