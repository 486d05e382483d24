//! `peerwire._core.tm2`: the TM2 secret connection, amino packets, NodeInfo
//! and discovery codecs. Whole buffers cross the boundary in one call; big
//! seals and opens release the GIL.
use peerwire_core::keys;
use peerwire_core::tm2::{amino, mconn, nodeinfo, packet, pex, secret};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::ed25519::PyEd25519Secret;
use crate::errors::{guard, IntoPyResult};

/// Work above this many bytes runs with the GIL released.
const DETACH_THRESHOLD: usize = 16 * 1024;
/// Largest receive scratch buffer a session keeps between calls (bounds idle memory per peer).
const SCRATCH_KEEP: usize = 2 << 20;

fn arr32(b: &[u8], what: &str) -> PyResult<[u8; 32]> {
    b.try_into()
        .map_err(|_| crate::errors::InvalidKeyError::new_err(format!("{what} must be 32 bytes")))
}

/// The handshake state machine of one secret connection.
#[pyclass(module = "peerwire._core.tm2")]
struct SecretHandshake {
    inner: Option<secret::Handshake>,
    done: Option<secret::Established>,
}

#[pymethods]
impl SecretHandshake {
    /// `node_key` signs the challenge inside Rust; `ephemeral` injects the X25519 secret (tests).
    #[new]
    #[pyo3(signature = (node_key, ephemeral=None))]
    fn new(node_key: &Bound<'_, PyEd25519Secret>, ephemeral: Option<&[u8]>) -> PyResult<Self> {
        guard(|| {
            let eph = ephemeral
                .map(|e| arr32(e, "ephemeral secret"))
                .transpose()?;
            let hs = secret::Handshake::with_key(node_key.get().inner.clone(), eph);
            Ok(SecretHandshake {
                inner: Some(hs),
                done: None,
            })
        })
    }

    /// The 35-byte plaintext ephemeral-key message to send first.
    fn ephemeral_message<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let hs = self.hs()?;
        Ok(PyBytes::new(py, &hs.ephemeral_message()))
    }

    /// Process the peer's 35-byte message; returns the sealed auth frame to send.
    fn read_ephemeral<'py>(
        &mut self,
        py: Python<'py>,
        msg: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let hs = self.hs_mut()?;
            let frame = hs.read_ephemeral(msg).py_err()?;
            Ok(PyBytes::new(py, &frame))
        })
    }

    /// Feed ciphertext after the ephemeral exchange; True once the peer is authenticated.
    fn read_auth(&mut self, data: &[u8]) -> PyResult<bool> {
        guard(|| {
            let hs = self.hs_mut()?;
            match hs.read_auth(data) {
                Ok(Some(est)) => {
                    self.inner = None;
                    self.done = Some(est);
                    Ok(true)
                }
                Ok(None) => Ok(false),
                Err(e) => {
                    self.inner = None;
                    Err(e).py_err()
                }
            }
        })
    }

    /// After `read_auth` returned True: (session, remote public key, leftover plaintext).
    fn finish<'py>(
        &mut self,
        py: Python<'py>,
    ) -> PyResult<(SecretSession, Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let est = self
            .done
            .take()
            .ok_or_else(|| crate::errors::LocalProtocolError::new_err("handshake not finished"))?;
        Ok((
            SecretSession {
                inner: est.session,
                scratch: Vec::new(),
            },
            PyBytes::new(py, &est.remote_public_key),
            PyBytes::new(py, &est.leftover),
        ))
    }
}

impl SecretHandshake {
    fn hs(&self) -> PyResult<&secret::Handshake> {
        self.inner
            .as_ref()
            .ok_or_else(|| crate::errors::LocalProtocolError::new_err("handshake is over"))
    }
    fn hs_mut(&mut self) -> PyResult<&mut secret::Handshake> {
        self.inner
            .as_mut()
            .ok_or_else(|| crate::errors::LocalProtocolError::new_err("handshake is over"))
    }
}

/// The encrypted data phase of a secret connection.
#[pyclass(module = "peerwire._core.tm2")]
struct SecretSession {
    inner: secret::Session,
    scratch: Vec<u8>,
}

#[pymethods]
impl SecretSession {
    /// Seal all of `data` into 1044-byte frames (one call, one buffer, sealed in place
    /// inside the returned `bytes`).
    fn seal<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let n = secret::Session::frames_for(data.len()) * secret::SEALED_FRAME_SIZE;
            let inner = &mut self.inner;
            PyBytes::new_with(py, n, |buf| {
                if data.len() >= DETACH_THRESHOLD {
                    py.detach(|| inner.seal_to_slice(data, buf))
                } else {
                    inner.seal_to_slice(data, buf)
                }
                .py_err()
            })
        })
    }

    /// Open every complete frame in `data` (plus any kept partial frame); returns the plaintext.
    fn open<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let inner = &mut self.inner;
            // A scratch buffer reused across calls: no fresh allocation (and page
            // faults) per socket read.
            let scratch = &mut self.scratch;
            scratch.clear();
            if data.len() >= DETACH_THRESHOLD {
                py.detach(|| inner.open_into(data, scratch))
            } else {
                inner.open_into(data, scratch)
            }
            .py_err()?;
            let out = PyBytes::new(py, scratch);
            if scratch.capacity() > SCRATCH_KEEP {
                *scratch = Vec::new();
            }
            Ok(out)
        })
    }

    /// Ciphertext bytes of an incomplete frame kept for the next `open`.
    #[getter]
    fn pending_ciphertext(&self) -> usize {
        self.inner.pending_ciphertext()
    }

    /// Test hook: set the send and receive frame counters.
    fn _set_counters(&mut self, send: u64, recv: u64) {
        self.inner.set_counters(send, recv);
    }
}

/// `(recv, send, challenge)` of the HKDF key schedule.
#[pyfunction]
fn derive_secrets<'py>(
    py: Python<'py>,
    dh: &[u8],
    loc_is_least: bool,
) -> PyResult<(
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
)> {
    let dh = arr32(dh, "DH secret")?;
    let s = secret::derive_secrets(&dh, loc_is_least);
    Ok((
        PyBytes::new(py, &s.recv),
        PyBytes::new(py, &s.send),
        PyBytes::new(py, &s.challenge),
    ))
}

/// The 12-byte frame nonce for a counter.
#[pyfunction]
fn nonce(py: Python<'_>, counter: u64) -> Bound<'_, PyBytes> {
    PyBytes::new(py, &secret::nonce_bytes(counter))
}

/// Whether a 32-byte X25519 key is on the low-order blacklist.
#[pyfunction]
fn has_small_order(point: &[u8]) -> PyResult<bool> {
    Ok(secret::has_small_order(&arr32(point, "X25519 point")?))
}

// ------------------------------------------------------------------ node IDs

/// The node ID (bech32 "g1…") of a 32-byte Ed25519 public key.
#[pyfunction]
fn node_id(public: &[u8]) -> PyResult<String> {
    Ok(keys::tm2_id(&arr32(public, "ed25519 public key")?))
}

/// The 20-byte address inside a node ID; raises DecodeError if the ID is invalid.
#[pyfunction]
fn decode_node_id<'py>(py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &keys::tm2_id_decode(id).py_err()?))
}

// ------------------------------------------------------------------ packets

/// Sized Ping packet.
#[pyfunction]
fn encode_ping(py: Python<'_>) -> Bound<'_, PyBytes> {
    let mut v = Vec::new();
    packet::put_ping(&mut v);
    PyBytes::new(py, &v)
}

/// Sized Pong packet.
#[pyfunction]
fn encode_pong(py: Python<'_>) -> Bound<'_, PyBytes> {
    let mut v = Vec::new();
    packet::put_pong(&mut v);
    PyBytes::new(py, &v)
}

/// One sized Msg packet with explicit fields.
#[pyfunction]
fn encode_msg_packet<'py>(
    py: Python<'py>,
    channel_id: u8,
    eof: u8,
    data: &[u8],
) -> Bound<'py, PyBytes> {
    let mut v = Vec::new();
    packet::put_msg(&mut v, channel_id, eof, data);
    PyBytes::new(py, &v)
}

/// A whole message cut into Msg packets of at most `max_payload` bytes.
#[pyfunction]
fn encode_message<'py>(
    py: Python<'py>,
    channel_id: u8,
    msg: &[u8],
    max_payload: usize,
) -> Bound<'py, PyBytes> {
    let mut v = Vec::new();
    packet::put_message(&mut v, channel_id, msg, max_payload);
    PyBytes::new(py, &v)
}

/// Msg packets for a slice of a message; EOF=1 on the last packet only if `last`.
#[pyfunction]
fn encode_chunks<'py>(
    py: Python<'py>,
    channel_id: u8,
    data: &[u8],
    max_payload: usize,
    last: bool,
) -> Bound<'py, PyBytes> {
    let mut v = Vec::new();
    packet::put_chunks(&mut v, channel_id, data, max_payload, last);
    PyBytes::new(py, &v)
}

/// `_maxPacketMsgSize` for a payload size.
#[pyfunction]
fn max_packet_msg_size(max_payload: usize) -> usize {
    packet::max_packet_msg_size(max_payload)
}

/// Decode every complete packet at the front of `buf`:
/// returns ([(kind, channel_id, eof, bytes)], used) with kind 0 = Ping, 1 = Pong, 2 = Msg.
#[pyfunction]
fn decode_packets<'py>(
    py: Python<'py>,
    buf: &[u8],
    max_packet_size: usize,
) -> PyResult<(Bound<'py, PyList>, usize)> {
    guard(|| {
        let (pkts, used) = packet::split_packets(buf, max_packet_size).py_err()?;
        let list = PyList::empty(py);
        for p in pkts {
            let item = match p {
                packet::Packet::Ping => (0u8, 0u8, 0u8, PyBytes::new(py, b"")),
                packet::Packet::Pong => (1, 0, 0, PyBytes::new(py, b"")),
                packet::Packet::Msg {
                    channel_id,
                    eof,
                    bytes,
                } => (2, channel_id, eof, PyBytes::new(py, bytes)),
            };
            list.append(item)?;
        }
        Ok((list, used))
    })
}

/// Split one sized message off `buf`: None if incomplete, else (body, total bytes used).
#[pyfunction]
fn take_sized<'py>(
    py: Python<'py>,
    buf: &[u8],
    max_total: usize,
) -> PyResult<Option<(Bound<'py, PyBytes>, usize)>> {
    guard(|| {
        Ok(amino::take_sized(buf, max_total)
            .py_err()?
            .map(|(body, used)| (PyBytes::new(py, body), used)))
    })
}

/// MConnection receive path: feed decrypted bytes, get pings, pongs and whole messages.
#[pyclass(module = "peerwire._core.tm2")]
struct PacketReader {
    inner: mconn::Reassembler,
}

#[pymethods]
impl PacketReader {
    /// `channels`: (channel id, recv_message_capacity) pairs; `max_packet_size`: receive limit;
    /// `max_recv_buffer`: bytes of incomplete messages over all channels (0: no bound).
    #[new]
    #[pyo3(signature = (channels, max_packet_size, max_recv_buffer=0))]
    fn new(
        channels: Vec<(u8, usize)>,
        max_packet_size: usize,
        max_recv_buffer: usize,
    ) -> PyResult<Self> {
        guard(|| {
            Ok(PacketReader {
                inner: mconn::Reassembler::new(&channels, max_packet_size)
                    .py_err()?
                    .with_budget(max_recv_buffer),
            })
        })
    }

    /// Returns [(kind, channel_id, message)] with kind 0 = Ping, 1 = Pong, 2 = message.
    /// `now` (the caller's clock, seconds) timestamps the start of incomplete messages.
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        data: &[u8],
        now: f64,
    ) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let mut events = Vec::new();
            let inner = &mut self.inner;
            if data.len() >= DETACH_THRESHOLD {
                py.detach(|| inner.feed(data, now, &mut events))
            } else {
                inner.feed(data, now, &mut events)
            }
            .py_err()?;
            let list = PyList::empty(py);
            for ev in events {
                let item = match ev {
                    mconn::Event::Ping => (0u8, 0u8, PyBytes::new(py, b"")),
                    mconn::Event::Pong => (1, 0, PyBytes::new(py, b"")),
                    mconn::Event::Message(ch, msg) => (2, ch, PyBytes::new(py, &msg)),
                };
                list.append(item)?;
            }
            Ok(list)
        })
    }

    /// Bytes of incomplete messages held over all channels.
    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }

    /// How many channels hold an incomplete message.
    #[getter]
    fn assembling(&self) -> usize {
        self.inner.assembling()
    }

    /// (channel id, start) of the incomplete message that started first, or None.
    fn oldest_assembly(&self) -> Option<(u8, f64)> {
        self.inner.oldest_assembly()
    }

    /// Move every incomplete message's start later by `by` seconds (time not spent reading).
    fn extend_assembly(&mut self, by: f64) {
        self.inner.extend_assembly(by);
    }
}

// ----------------------------------------------------------------- NodeInfo

type VersionTuple = (String, String, bool);

/// Sized amino encoding of a NodeInfo.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (version_set, net_address, network, software, version, channels, moniker, tx_index, rpc_address))]
fn encode_node_info<'py>(
    py: Python<'py>,
    version_set: Vec<VersionTuple>,
    net_address: String,
    network: String,
    software: String,
    version: String,
    channels: Vec<u8>,
    moniker: String,
    tx_index: String,
    rpc_address: String,
) -> Bound<'py, PyBytes> {
    let ni = nodeinfo::NodeInfo {
        version_set: version_set
            .into_iter()
            .map(|(name, version, optional)| nodeinfo::VersionInfo {
                name,
                version,
                optional,
            })
            .collect(),
        net_address,
        network,
        software,
        version,
        channels,
        moniker,
        tx_index,
        rpc_address,
    };
    PyBytes::new(py, &ni.encode_sized())
}

/// A decoded NodeInfo, as the wire has it (typed fields, no dict).
///
/// `version_set` holds `(name, version, optional)` tuples; `net_address` is the
/// `id@ip:port` string (Python parses and validates it).
#[pyclass(module = "peerwire._core.tm2", frozen, get_all)]
struct DecodedNodeInfo {
    version_set: Vec<VersionTuple>,
    net_address: String,
    network: String,
    software: String,
    version: String,
    channels: Py<PyBytes>,
    moniker: String,
    tx_index: String,
    rpc_address: String,
}

#[pymethods]
impl DecodedNodeInfo {
    fn __repr__(&self) -> String {
        format!(
            "DecodedNodeInfo(net_address={:?}, network={:?}, moniker={:?})",
            self.net_address, self.network, self.moniker
        )
    }
}

/// Decode an amino NodeInfo body (no size prefix).
#[pyfunction]
fn decode_node_info(py: Python<'_>, body: &[u8]) -> PyResult<DecodedNodeInfo> {
    guard(|| {
        let ni = nodeinfo::NodeInfo::decode(body).py_err()?;
        Ok(DecodedNodeInfo {
            version_set: ni
                .version_set
                .into_iter()
                .map(|v| (v.name, v.version, v.optional))
                .collect(),
            net_address: ni.net_address,
            network: ni.network,
            software: ni.software,
            version: ni.version,
            channels: PyBytes::new(py, &ni.channels).unbind(),
            moniker: ni.moniker,
            tx_index: ni.tx_index,
            rpc_address: ni.rpc_address,
        })
    })
}

// ---------------------------------------------------------------- discovery

/// Bare Any of a discovery Request.
#[pyfunction]
fn encode_pex_request(py: Python<'_>) -> Bound<'_, PyBytes> {
    PyBytes::new(py, &pex::encode(&pex::Message::Request))
}

/// Bare Any of a discovery Response with these `id@ip:port` strings.
#[pyfunction]
fn encode_pex_response(py: Python<'_>, peers: Vec<String>) -> Bound<'_, PyBytes> {
    PyBytes::new(py, &pex::encode(&pex::Message::Response(peers)))
}

/// Decode a discovery message: None for a Request, the peer list for a Response.
#[pyfunction]
fn decode_pex(bz: &[u8]) -> PyResult<Option<Vec<String>>> {
    guard(|| {
        Ok(match pex::decode(bz).py_err()? {
            pex::Message::Request => None,
            pex::Message::Response(p) => Some(p),
        })
    })
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SecretHandshake>()?;
    m.add_class::<SecretSession>()?;
    m.add_class::<PacketReader>()?;
    m.add_function(wrap_pyfunction!(node_id, m)?)?;
    m.add_function(wrap_pyfunction!(decode_node_id, m)?)?;
    crate::tm2_mconn::init(m)?;
    m.add_function(wrap_pyfunction!(derive_secrets, m)?)?;
    m.add_function(wrap_pyfunction!(nonce, m)?)?;
    m.add_function(wrap_pyfunction!(has_small_order, m)?)?;
    m.add_function(wrap_pyfunction!(encode_ping, m)?)?;
    m.add_function(wrap_pyfunction!(encode_pong, m)?)?;
    m.add_function(wrap_pyfunction!(encode_msg_packet, m)?)?;
    m.add_function(wrap_pyfunction!(encode_message, m)?)?;
    m.add_function(wrap_pyfunction!(encode_chunks, m)?)?;
    m.add_function(wrap_pyfunction!(max_packet_msg_size, m)?)?;
    m.add_function(wrap_pyfunction!(decode_packets, m)?)?;
    m.add_function(wrap_pyfunction!(take_sized, m)?)?;
    m.add_function(wrap_pyfunction!(encode_node_info, m)?)?;
    m.add_function(wrap_pyfunction!(decode_node_info, m)?)?;
    m.add_class::<DecodedNodeInfo>()?;
    m.add_function(wrap_pyfunction!(encode_pex_request, m)?)?;
    m.add_function(wrap_pyfunction!(encode_pex_response, m)?)?;
    m.add_function(wrap_pyfunction!(decode_pex, m)?)?;
    m.add("SEALED_FRAME_SIZE", secret::SEALED_FRAME_SIZE)?;
    m.add("DATA_MAX_SIZE", secret::DATA_MAX_SIZE)?;
    m.add("EPHEMERAL_MSG_SIZE", secret::EPHEMERAL_MSG_SIZE)?;
    m.add("MAX_NODE_INFO_SIZE", nodeinfo::MAX_NODE_INFO_SIZE)?;
    Ok(())
}
