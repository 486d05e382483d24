//! `peerwire._core.tm2.PacketWriter`: the MConnection send path (queues,
//! scheduler, packet batching) behind one call per event-loop turn.
use peerwire_core::tm2::mconn_send;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{guard, IntoPyResult};

/// Work above this many bytes runs with the GIL released.
const DETACH_THRESHOLD: usize = 16 * 1024;

/// Send side of one MConnection: bounded per-channel queues, gno's scheduler, a write buffer.
#[pyclass(module = "peerwire._core.tm2")]
struct PacketWriter {
    inner: mconn_send::Sender,
}

#[pymethods]
impl PacketWriter {
    /// `channels`: (channel id, priority, send queue capacity) in descriptor order;
    /// `max_send_buffer`: bytes of queued messages over all channels (0: no bound).
    #[new]
    #[pyo3(signature = (channels, max_payload, max_send_buffer=0))]
    fn new(
        channels: Vec<(u8, u32, usize)>,
        max_payload: usize,
        max_send_buffer: usize,
    ) -> PyResult<Self> {
        guard(|| {
            Ok(PacketWriter {
                inner: mconn_send::Sender::new(&channels, max_payload)
                    .py_err()?
                    .with_budget(max_send_buffer),
            })
        })
    }

    /// Bytes of messages queued or being cut, each counted whole until its last packet.
    #[getter]
    fn admitted(&self) -> usize {
        self.inner.admitted()
    }

    /// Whether a message of `size` bytes fits the send budget at all.
    fn can_admit(&self, size: usize) -> bool {
        self.inner.can_admit(size)
    }

    /// Queue a message if its channel's queue and the send budget have room (False if not, or unknown channel).
    fn push(&mut self, py: Python<'_>, channel_id: u8, msg: &[u8]) -> bool {
        let inner = &mut self.inner;
        if msg.len() >= DETACH_THRESHOLD {
            py.detach(|| inner.push(channel_id, msg))
        } else {
            inner.push(channel_id, msg)
        }
    }

    /// Cut packets into the write buffer (batches of 10 while `allowance` rate-budget
    /// bytes are left, up to 64 KiB buffered): returns (packet bytes, messages completed).
    fn cut(&mut self, py: Python<'_>, allowance: usize) -> (usize, usize) {
        let inner = &mut self.inner;
        let c = if inner.queued_bytes() >= DETACH_THRESHOLD {
            py.detach(|| inner.cut(allowance))
        } else {
            inner.cut(allowance)
        };
        (c.bytes, c.completed)
    }

    /// Append a Ping; returns its size.
    fn put_ping(&mut self) -> usize {
        self.inner.put_ping()
    }

    /// Append a Pong; returns its size.
    fn put_pong(&mut self) -> usize {
        self.inner.put_pong()
    }

    /// The write buffer's bytes, leaving it empty.
    fn take<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let out = PyBytes::new(py, self.inner.buffer());
        self.inner.clear_buffer();
        out
    }

    /// Bytes in the write buffer.
    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }

    /// Whether any message is queued or partly cut.
    #[getter]
    fn pending(&self) -> bool {
        self.inner.pending()
    }

    fn has_channel(&self, channel_id: u8) -> bool {
        self.inner.has_channel(channel_id)
    }

    /// Messages waiting in a channel's queue (the one being cut not counted).
    fn queue_len(&self, channel_id: u8) -> usize {
        self.inner.queue_len(channel_id)
    }

    /// Decay every channel's recently-sent count (gno `updateStats`).
    fn decay(&mut self) {
        self.inner.decay();
    }

    /// (channel id, queued messages, recently sent bytes) per channel, in descriptor order.
    fn stats(&self) -> Vec<(u8, usize, i64)> {
        self.inner.stats()
    }
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PacketWriter>()?;
    m.add("NUM_BATCH_PACKET_MSGS", mconn_send::NUM_BATCH_PACKET_MSGS)?;
    m.add("WRITE_BUFFER_SIZE", mconn_send::WRITE_BUFFER_SIZE)?;
    Ok(())
}
