//! Discovery v5 wire and session codec as `peerwire._core.discv5`.
//!
//! A message crosses the boundary as `(kind, req_id, args)` where `args` is
//! PING `(enr_seq,)`, PONG `(enr_seq, ip, port)`, FINDNODE `(distances,)`,
//! NODES `(total, records)`, TALKREQ `(protocol, request)`, TALKRESP
//! `(response,)`.
use peerwire_core::discv5::{crypto, message, packet, session, Codec, Message, Packet};
use peerwire_core::keys;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::errors::{guard, DecodeError, IntoPyResult, LocalProtocolError};
use crate::secp::SecretArg;

type PyMsg = (u8, Vec<u8>, Py<PyTuple>);

fn id32(b: &[u8]) -> PyResult<[u8; 32]> {
    b.try_into()
        .map_err(|_| DecodeError::new_err("node IDs must be 32 bytes"))
}

fn fixed<const N: usize>(b: &[u8], what: &str) -> PyResult<[u8; N]> {
    b.try_into()
        .map_err(|_| LocalProtocolError::new_err(format!("{what} must be {N} bytes")))
}

fn to_msg(kind: u8, req_id: Vec<u8>, args: &Bound<'_, PyTuple>) -> PyResult<Message> {
    let arg = |i: usize| args.get_item(i);
    Ok(match kind {
        message::PING => Message::Ping {
            req_id,
            enr_seq: arg(0)?.extract()?,
        },
        message::PONG => Message::Pong {
            req_id,
            enr_seq: arg(0)?.extract()?,
            ip: arg(1)?.extract()?,
            port: arg(2)?.extract()?,
        },
        message::FINDNODE => Message::FindNode {
            req_id,
            distances: arg(0)?.extract()?,
        },
        message::NODES => Message::Nodes {
            req_id,
            total: arg(0)?.extract()?,
            records: arg(1)?.extract()?,
        },
        message::TALKREQ => Message::TalkReq {
            req_id,
            protocol: arg(0)?.extract()?,
            request: arg(1)?.extract()?,
        },
        message::TALKRESP => Message::TalkResp {
            req_id,
            response: arg(0)?.extract()?,
        },
        k => {
            return Err(LocalProtocolError::new_err(format!(
                "unknown message type {k}"
            )))
        }
    })
}

fn from_msg(py: Python<'_>, m: &Message) -> PyResult<PyMsg> {
    let b = |x: &[u8]| PyBytes::new(py, x).into_any();
    let args = match m {
        Message::Ping { enr_seq, .. } => PyTuple::new(py, [enr_seq.into_pyobject(py)?.into_any()])?,
        Message::Pong {
            enr_seq, ip, port, ..
        } => PyTuple::new(
            py,
            [
                enr_seq.into_pyobject(py)?.into_any(),
                b(ip),
                port.into_pyobject(py)?.into_any(),
            ],
        )?,
        Message::FindNode { distances, .. } => {
            PyTuple::new(py, [distances.clone().into_pyobject(py)?.into_any()])?
        }
        Message::Nodes { total, records, .. } => {
            let recs: Vec<Bound<'_, PyBytes>> =
                records.iter().map(|r| PyBytes::new(py, r)).collect();
            PyTuple::new(
                py,
                [
                    total.into_pyobject(py)?.into_any(),
                    recs.into_pyobject(py)?.into_any(),
                ],
            )?
        }
        Message::TalkReq {
            protocol, request, ..
        } => PyTuple::new(py, [b(protocol), b(request)])?,
        Message::TalkResp { response, .. } => PyTuple::new(py, [b(response)])?,
    };
    Ok((m.kind(), m.req_id().to_vec(), args.unbind()))
}

/// Encode a message plaintext (`type || RLP`).
#[pyfunction]
fn encode_message<'py>(
    py: Python<'py>,
    kind: u8,
    req_id: Vec<u8>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| Ok(PyBytes::new(py, &to_msg(kind, req_id, args)?.encode())))
}

/// Decode a message plaintext into `(kind, req_id, args)`.
#[pyfunction]
fn decode_message(py: Python<'_>, plaintext: &[u8]) -> PyResult<PyMsg> {
    guard(|| from_msg(py, &Message::decode(plaintext).py_err()?))
}

/// A flag-0 packet sealed with `key` (explicit IV and nonce, for vectors).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn encode_message_packet<'py>(
    py: Python<'py>,
    dest_id: &[u8],
    src_id: &[u8],
    iv: &[u8],
    nonce: &[u8],
    key: &[u8],
    kind: u8,
    req_id: Vec<u8>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let msg = to_msg(kind, req_id, args)?;
        let pkt = packet::encode_message(
            &id32(dest_id)?,
            &id32(src_id)?,
            &fixed(iv, "iv")?,
            &fixed(nonce, "nonce")?,
            &fixed(key, "key")?,
            &msg,
        )
        .py_err()?;
        Ok(PyBytes::new(py, &pkt))
    })
}

/// A WHOAREYOU packet (explicit IV, for vectors).
#[pyfunction]
fn encode_whoareyou_packet<'py>(
    py: Python<'py>,
    dest_id: &[u8],
    iv: &[u8],
    nonce: &[u8],
    id_nonce: &[u8],
    enr_seq: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let auth = packet::whoareyou_authdata(&fixed(id_nonce, "id_nonce")?, enr_seq);
        let head = packet::header_data(
            &fixed(iv, "iv")?,
            packet::FLAG_WHOAREYOU,
            &fixed(nonce, "nonce")?,
            &auth,
        )
        .py_err()?;
        Ok(PyBytes::new(
            py,
            &packet::finish_packet(&id32(dest_id)?, head, &[]).py_err()?,
        ))
    })
}

/// A handshake packet with explicit randomness (for vectors); returns
/// `(packet, initiator_key, recipient_key)`.
#[pyfunction]
#[pyo3(signature = (local_key, dest_pubkey, challenge_data, eph_key, record, iv, nonce, kind, req_id, args))]
#[allow(clippy::too_many_arguments)]
fn encode_handshake_packet<'py>(
    py: Python<'py>,
    local_key: &[u8],
    dest_pubkey: &[u8],
    challenge_data: &[u8],
    eph_key: &[u8],
    record: Option<Vec<u8>>,
    iv: &[u8],
    nonce: &[u8],
    kind: u8,
    req_id: Vec<u8>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<(
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
)> {
    guard(|| {
        let sk = keys::secp_secret(local_key).py_err()?;
        let eph = keys::secp_secret(eph_key).py_err()?;
        let pk = keys::secp_public(dest_pubkey).py_err()?;
        let local_id = keys::node_id(&keys::secp_public64(&sk));
        let dest_id = keys::node_id(&keys::pub64(&pk));
        let inp = packet::HandshakeInput {
            local_key: &sk,
            local_id: &local_id,
            dest_id: &dest_id,
            dest_pubkey: &pk,
            challenge_data,
            eph_key: &eph,
            record: record.as_deref(),
            iv: &fixed(iv, "iv")?,
            nonce: &fixed(nonce, "nonce")?,
        };
        let (pkt, k) = packet::encode_handshake(&inp, &to_msg(kind, req_id, args)?).py_err()?;
        Ok((
            PyBytes::new(py, &pkt),
            PyBytes::new(py, &k.initiator_key),
            PyBytes::new(py, &k.recipient_key),
        ))
    })
}

/// Compressed ECDH secret (33 bytes).
#[pyfunction]
fn ecdh<'py>(
    py: Python<'py>,
    secret_key: &[u8],
    public_key: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let sk = keys::secp_secret(secret_key).py_err()?;
    let pk = keys::secp_public(public_key).py_err()?;
    Ok(PyBytes::new(py, &crypto::ecdh(&sk, &pk)))
}

/// Session keys `(initiator_key, recipient_key)`.
#[pyfunction]
fn derive_keys<'py>(
    py: Python<'py>,
    eph_key: &[u8],
    dest_pubkey: &[u8],
    node_id_a: &[u8],
    node_id_b: &[u8],
    challenge_data: &[u8],
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let sk = keys::secp_secret(eph_key).py_err()?;
    let pk = keys::secp_public(dest_pubkey).py_err()?;
    let k = crypto::derive_keys(
        &sk,
        &pk,
        &id32(node_id_a)?,
        &id32(node_id_b)?,
        challenge_data,
    );
    Ok((
        PyBytes::new(py, &k.initiator_key),
        PyBytes::new(py, &k.recipient_key),
    ))
}

/// The 64-byte ID-nonce signature.
#[pyfunction]
fn id_signature<'py>(
    py: Python<'py>,
    static_key: &[u8],
    challenge_data: &[u8],
    eph_pubkey: &[u8],
    dest_id: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let sk = keys::secp_secret(static_key).py_err()?;
    let sig = crypto::make_id_signature(&sk, challenge_data, eph_pubkey, &id32(dest_id)?);
    Ok(PyBytes::new(py, &sig))
}

/// AES-128-GCM seal (ciphertext || tag).
#[pyfunction]
fn encrypt_gcm<'py>(
    py: Python<'py>,
    key: &[u8],
    nonce: &[u8],
    pt: &[u8],
    ad: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(
        py,
        &crypto::encrypt_gcm(&fixed(key, "key")?, &fixed(nonce, "nonce")?, pt, ad),
    ))
}

/// Decode result: `(kind, src_id, nonce, payload, node)` with kind one of
/// "message" (payload = message tuple; node = record if a handshake just
/// completed), "unknown" (answer with `whoareyou`), "whoareyou" (payload =
/// `(id_nonce, enr_seq, challenge_data)`) or "not_discv5" (header did not
/// unmask: hand the datagram to the next protocol on the socket).
type PyDecoded = (
    &'static str,
    Vec<u8>,
    Vec<u8>,
    Option<Py<PyAny>>,
    Option<Vec<u8>>,
);

/// The discv5 codec of one local node (sessions and handshakes).
#[pyclass(module = "peerwire._core.discv5", name = "Codec")]
pub(crate) struct PyCodec {
    inner: Codec,
}

#[pymethods]
impl PyCodec {
    #[new]
    fn new(key: SecretArg<'_>, record: &[u8]) -> PyResult<Self> {
        Ok(PyCodec {
            inner: Codec::with_key(key.secret()?, record).py_err()?,
        })
    }

    #[getter]
    fn local_id<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.local_id())
    }

    fn set_local_record(&mut self, record: &[u8]) -> PyResult<()> {
        self.inner.set_local_record(record).py_err()
    }

    fn set_whoareyou_limit(&mut self, burst: f64, per_second: f64) {
        self.inner.set_whoareyou_limit(burst, per_second);
    }

    fn decode(&mut self, py: Python<'_>, data: &[u8], addr: &str, now: f64) -> PyResult<PyDecoded> {
        guard(|| {
            let p = match self.inner.decode(data, addr, now) {
                Ok(p) => p,
                Err(e) if packet::is_invalid_header(&e) => {
                    return Ok(("not_discv5", vec![], vec![], None, None))
                }
                Err(e) => return Err(crate::errors::to_py(e)),
            };
            Ok(match p {
                Packet::Message {
                    src_id,
                    nonce,
                    message,
                    node,
                } => {
                    let m = from_msg(py, &message)?
                        .into_pyobject(py)?
                        .into_any()
                        .unbind();
                    ("message", src_id.to_vec(), nonce.to_vec(), Some(m), node)
                }
                Packet::Unknown { src_id, nonce } => {
                    ("unknown", src_id.to_vec(), nonce.to_vec(), None, None)
                }
                Packet::Whoareyou(w) => {
                    let payload = (
                        PyBytes::new(py, &w.id_nonce),
                        w.enr_seq,
                        PyBytes::new(py, &w.challenge_data),
                    );
                    let p = payload.into_pyobject(py)?.into_any().unbind();
                    ("whoareyou", vec![], w.nonce.to_vec(), Some(p), None)
                }
            })
        })
    }

    /// Encode a message to (id, addr); returns `(packet, nonce)`. Without a
    /// session this is a random packet that asks the peer for WHOAREYOU.
    fn encode<'py>(
        &mut self,
        py: Python<'py>,
        id: &[u8],
        addr: &str,
        kind: u8,
        req_id: Vec<u8>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        guard(|| {
            let msg = to_msg(kind, req_id, args)?;
            let (pkt, nonce) = self.inner.encode(&id32(id)?, addr, &msg).py_err()?;
            Ok((PyBytes::new(py, &pkt), PyBytes::new(py, &nonce)))
        })
    }

    /// Answer a WHOAREYOU with `msg` in a handshake packet, to the node of
    /// `remote_record`, or (`remote_is_key`) of a bare public key (an
    /// `enode:` URL's 64 bytes, or 33 compressed).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (id, addr, kind, req_id, args, challenge, remote, remote_is_key=false))]
    fn encode_handshake<'py>(
        &mut self,
        py: Python<'py>,
        id: &[u8],
        addr: &str,
        kind: u8,
        req_id: Vec<u8>,
        args: &Bound<'py, PyTuple>,
        challenge: (Vec<u8>, Vec<u8>, u64, Vec<u8>),
        remote: &[u8],
        remote_is_key: bool,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        guard(|| {
            let msg = to_msg(kind, req_id, args)?;
            let (nonce, id_nonce, enr_seq, challenge_data) = challenge;
            let w = session::Whoareyou {
                nonce: fixed(&nonce, "nonce")?,
                id_nonce: fixed(&id_nonce, "id_nonce")?,
                enr_seq,
                challenge_data,
            };
            let id = id32(id)?;
            let (pkt, n) = if remote_is_key {
                self.inner
                    .encode_handshake_to_key(&id, addr, &msg, &w, remote)
            } else {
                self.inner.encode_handshake(&id, addr, &msg, &w, remote)
            }
            .py_err()?;
            Ok((PyBytes::new(py, &pkt), PyBytes::new(py, &n)))
        })
    }

    /// The WHOAREYOU for an "unknown" packet, or None (stay silent).
    #[pyo3(signature = (id, addr, nonce, known_record, trigger_len, now))]
    #[allow(clippy::too_many_arguments)]
    fn whoareyou<'py>(
        &mut self,
        py: Python<'py>,
        id: &[u8],
        addr: &str,
        nonce: &[u8],
        known_record: Option<Vec<u8>>,
        trigger_len: usize,
        now: f64,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        guard(|| {
            let out = self
                .inner
                .whoareyou(
                    &id32(id)?,
                    addr,
                    &fixed(nonce, "nonce")?,
                    known_record.as_deref(),
                    trigger_len,
                    now,
                )
                .py_err()?;
            Ok(out.map(|p| PyBytes::new(py, &p)))
        })
    }

    fn has_session(&self, id: &[u8], addr: &str) -> PyResult<bool> {
        Ok(self.inner.has_session(&id32(id)?, addr))
    }

    fn session_record<'py>(
        &self,
        py: Python<'py>,
        id: &[u8],
        addr: &str,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        Ok(self
            .inner
            .session_record(&id32(id)?, addr)
            .map(|r| PyBytes::new(py, r)))
    }

    fn drop_session(&mut self, id: &[u8], addr: &str) -> PyResult<()> {
        self.inner.drop_session(&id32(id)?, addr);
        Ok(())
    }

    fn store_session(
        &mut self,
        id: &[u8],
        addr: &str,
        write_key: &[u8],
        read_key: &[u8],
        record: &[u8],
    ) -> PyResult<()> {
        self.inner.store_session(
            &id32(id)?,
            addr,
            fixed(write_key, "key")?,
            fixed(read_key, "key")?,
            record,
        );
        Ok(())
    }

    #[pyo3(signature = (id, addr, challenge_data, record, now))]
    fn store_challenge(
        &mut self,
        id: &[u8],
        addr: &str,
        challenge_data: &[u8],
        record: Option<Vec<u8>>,
        now: f64,
    ) -> PyResult<()> {
        self.inner
            .store_challenge(&id32(id)?, addr, challenge_data, record.as_deref(), now)
            .py_err()
    }

    fn session_count(&self) -> usize {
        self.inner.session_count()
    }

    fn challenge_count(&self) -> usize {
        self.inner.challenge_count()
    }
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode_message, m)?)?;
    m.add_function(wrap_pyfunction!(decode_message, m)?)?;
    m.add_function(wrap_pyfunction!(encode_message_packet, m)?)?;
    m.add_function(wrap_pyfunction!(encode_whoareyou_packet, m)?)?;
    m.add_function(wrap_pyfunction!(encode_handshake_packet, m)?)?;
    m.add_function(wrap_pyfunction!(ecdh, m)?)?;
    m.add_function(wrap_pyfunction!(derive_keys, m)?)?;
    m.add_function(wrap_pyfunction!(id_signature, m)?)?;
    m.add_function(wrap_pyfunction!(encrypt_gcm, m)?)?;
    m.add_class::<PyCodec>()?;
    m.add("MIN_PACKET_SIZE", packet::MIN_PACKET_SIZE)?;
    m.add("MAX_PACKET_SIZE", packet::MAX_PACKET_SIZE)?;
    m.add("MAX_REQUEST_ID", message::MAX_REQUEST_ID)?;
    m.add("SESSION_CACHE_SIZE", session::SESSION_CACHE_SIZE)?;
    m.add("MAX_PENDING_CHALLENGES", session::MAX_PENDING_CHALLENGES)?;
    m.add("WHOAREYOU_SIZE", session::WHOAREYOU_SIZE)?;
    Ok(())
}
