//! `peerwire._core.rlpx`: the RLPx handshake machine and session codec.
//!
//! Each call crosses the boundary once per socket buffer or batch, never once
//! per frame; big buffers are processed with the GIL released.
use peerwire_core::hash::{Digest, Keccak256};
use peerwire_core::rlpx::{self as core, Progress};
use peerwire_core::{keys, CoreError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::errors::{guard, IntoPyResult};
use crate::secp::SecretArg;

/// Buffers at least this large are processed without holding the GIL.
const DETACH_THRESHOLD: usize = 32 * 1024;

fn arr32(b: &[u8], what: &str) -> PyResult<[u8; 32]> {
    b.try_into()
        .map_err(|_| crate::errors::to_py(CoreError::local(format!("{what} must be 32 bytes"))))
}

/// The EIP-8 handshake for one side.
#[pyclass(module = "peerwire._core.rlpx")]
struct Handshake {
    inner: core::Handshake,
}

/// A finished handshake: the bytes to send, the session and leftover bytes.
#[pyclass(module = "peerwire._core.rlpx", frozen)]
struct HandshakeDone {
    #[pyo3(get)]
    send: Py<PyBytes>,
    #[pyo3(get)]
    leftover: Py<PyBytes>,
    #[pyo3(get)]
    aes_secret: Py<PyBytes>,
    #[pyo3(get)]
    mac_secret: Py<PyBytes>,
    #[pyo3(get)]
    remote_public_key: Py<PyBytes>,
    session: std::sync::Mutex<Option<core::Session>>,
    ingress: Keccak256,
    egress: Keccak256,
}

#[pymethods]
impl HandshakeDone {
    /// Take the session (once).
    fn session(&self) -> PyResult<Session> {
        guard(|| {
            let s = self
                .session
                .lock()
                .map_err(|_| crate::errors::to_py(CoreError::local("poisoned")))?
                .take()
                .ok_or_else(|| crate::errors::to_py(CoreError::local("session already taken")))?;
            Ok(Session { inner: s })
        })
    }

    /// Digest of the initial ingress MAC state after absorbing `extra`.
    fn ingress_mac_digest<'py>(&self, py: Python<'py>, extra: &[u8]) -> Bound<'py, PyBytes> {
        let mut st = self.ingress.clone();
        Digest::update(&mut st, extra);
        PyBytes::new(py, &st.finalize())
    }

    /// Digest of the initial egress MAC state after absorbing `extra`.
    fn egress_mac_digest<'py>(&self, py: Python<'py>, extra: &[u8]) -> Bound<'py, PyBytes> {
        let mut st = self.egress.clone();
        Digest::update(&mut st, extra);
        PyBytes::new(py, &st.finalize())
    }
}

fn opt_key(b: Option<&[u8]>) -> PyResult<Option<secp256k1::SecretKey>> {
    b.map(|b| keys::secp_secret(b).py_err()).transpose()
}

#[pymethods]
impl Handshake {
    /// Start as initiator. Returns `(handshake, auth_packet)`.
    #[staticmethod]
    #[pyo3(signature = (private_key, remote_public_key, ephemeral_key=None, nonce=None))]
    fn initiator<'py>(
        py: Python<'py>,
        private_key: SecretArg<'_>,
        remote_public_key: &[u8],
        ephemeral_key: Option<&[u8]>,
        nonce: Option<&[u8]>,
    ) -> PyResult<(Handshake, Bound<'py, PyBytes>)> {
        guard(|| {
            let sk = private_key.secret()?;
            let remote = keys::secp_public(remote_public_key).py_err()?;
            let (hs, auth) = match (opt_key(ephemeral_key)?, nonce) {
                (None, None) => core::Handshake::initiator(sk, &remote),
                (eph, nonce) => {
                    let eph = eph.unwrap_or_else(keys::secp_generate);
                    let nonce = match nonce {
                        Some(n) => arr32(n, "nonce")?,
                        None => rand_nonce(),
                    };
                    core::Handshake::initiator_with(
                        &mut rand::rngs::OsRng,
                        sk,
                        &remote,
                        eph,
                        nonce,
                        None,
                    )
                }
            };
            Ok((Handshake { inner: hs }, PyBytes::new(py, &auth)))
        })
    }

    /// Start as recipient.
    #[staticmethod]
    #[pyo3(signature = (private_key, ephemeral_key=None, nonce=None))]
    fn recipient(
        private_key: SecretArg<'_>,
        ephemeral_key: Option<&[u8]>,
        nonce: Option<&[u8]>,
    ) -> PyResult<Handshake> {
        guard(|| {
            let sk = private_key.secret()?;
            let hs = match (opt_key(ephemeral_key)?, nonce) {
                (None, None) => core::Handshake::recipient(sk),
                (eph, nonce) => {
                    let eph = eph.unwrap_or_else(keys::secp_generate);
                    let nonce = match nonce {
                        Some(n) => arr32(n, "nonce")?,
                        None => rand_nonce(),
                    };
                    core::Handshake::recipient_with(sk, eph, nonce, None)
                }
            };
            Ok(Handshake { inner: hs })
        })
    }

    /// Feed received bytes; returns `None` until the handshake message is
    /// complete, then a `HandshakeDone`.
    fn feed(&mut self, py: Python<'_>, data: &[u8]) -> PyResult<Option<HandshakeDone>> {
        guard(|| {
            let progress = py.detach(|| self.inner.feed(data)).py_err()?;
            match progress {
                Progress::NeedMore => Ok(None),
                Progress::Done {
                    send,
                    secrets,
                    leftover,
                } => {
                    let ingress = secrets.ingress_mac.clone();
                    let egress = secrets.egress_mac.clone();
                    Ok(Some(HandshakeDone {
                        send: PyBytes::new(py, &send).unbind(),
                        leftover: PyBytes::new(py, &leftover).unbind(),
                        aes_secret: PyBytes::new(py, &secrets.aes).unbind(),
                        mac_secret: PyBytes::new(py, &secrets.mac).unbind(),
                        remote_public_key: PyBytes::new(py, &secrets.remote).unbind(),
                        session: std::sync::Mutex::new(Some(core::Session::new(*secrets))),
                        ingress,
                        egress,
                    }))
                }
            }
        })
    }

    /// Bytes buffered while waiting for the rest of the message.
    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }
}

fn rand_nonce() -> [u8; 32] {
    use rand::RngCore;
    let mut n = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut n);
    n
}

/// An established RLPx session (frame codec for both directions).
#[pyclass(module = "peerwire._core.rlpx")]
struct Session {
    inner: core::Session,
}

fn keccak_of(seed: &[u8]) -> Keccak256 {
    let mut k = Keccak256::new();
    Digest::update(&mut k, seed);
    k
}

#[pymethods]
impl Session {
    /// A session from raw secrets (go-ethereum `InitWithSecrets`); the MAC
    /// states start as Keccak-256 having absorbed the given seed bytes.
    #[staticmethod]
    #[pyo3(signature = (aes_secret, mac_secret, egress_seed, ingress_seed, remote_public_key=None))]
    fn from_secrets(
        aes_secret: &[u8],
        mac_secret: &[u8],
        egress_seed: &[u8],
        ingress_seed: &[u8],
        remote_public_key: Option<&[u8]>,
    ) -> PyResult<Session> {
        guard(|| {
            let remote = match remote_public_key {
                Some(p) => keys::pub64(&keys::secp_public(p).py_err()?),
                None => [0u8; 64],
            };
            Ok(Session {
                inner: core::Session::new(core::Secrets {
                    aes: arr32(aes_secret, "aes secret")?,
                    mac: arr32(mac_secret, "mac secret")?,
                    egress_mac: keccak_of(egress_seed),
                    ingress_mac: keccak_of(ingress_seed),
                    remote,
                }),
            })
        })
    }

    #[getter]
    fn remote_public_key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.remote())
    }

    #[getter]
    fn snappy(&self) -> bool {
        self.inner.snappy()
    }

    #[setter]
    fn set_snappy(&mut self, on: bool) {
        self.inner.set_snappy(on);
    }

    /// Lower the largest frame accepted from the peer.
    fn set_max_frame_size(&mut self, n: usize) {
        self.inner.set_max_frame_size(n);
    }

    /// Bytes received that are not yet a complete frame.
    #[getter]
    fn buffered(&self) -> usize {
        self.inner.buffered()
    }

    /// Whether a frame is partly received.
    #[getter]
    fn mid_frame(&self) -> bool {
        self.inner.mid_frame()
    }

    /// Seal one message into its wire frame.
    fn seal<'py>(
        &mut self,
        py: Python<'py>,
        code: u64,
        payload: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let mut out = Vec::new();
            if payload.len() >= DETACH_THRESHOLD {
                py.detach(|| self.inner.seal(code, payload, &mut out))
                    .py_err()?;
            } else {
                self.inner.seal(code, payload, &mut out).py_err()?;
            }
            Ok(PyBytes::new(py, &out))
        })
    }

    /// Frame raw frame-data (no code added): emulates a misbehaving peer in tests.
    fn seal_frame_data<'py>(
        &mut self,
        py: Python<'py>,
        frame_data: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let mut out = Vec::new();
            self.inner.seal_frame_data(frame_data, &mut out).py_err()?;
            Ok(PyBytes::new(py, &out))
        })
    }

    /// Seal a sequence of `(code, payload)` into one buffer.
    fn seal_batch<'py>(
        &mut self,
        py: Python<'py>,
        msgs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let mut items: Vec<(u64, Bound<'py, PyBytes>)> = Vec::new();
            let mut total = 0usize;
            for m in msgs.try_iter()? {
                let (code, payload): (u64, Bound<'py, PyBytes>) = m?.extract()?;
                total += payload.as_bytes().len();
                items.push((code, payload));
            }
            let slices: Vec<(u64, &[u8])> = items.iter().map(|(c, p)| (*c, p.as_bytes())).collect();
            let mut out = Vec::with_capacity(total + 64 * slices.len());
            let inner = &mut self.inner;
            if total >= DETACH_THRESHOLD {
                py.detach(|| inner.seal_batch(slices, &mut out)).py_err()?;
            } else {
                inner.seal_batch(slices, &mut out).py_err()?;
            }
            Ok(PyBytes::new(py, &out))
        })
    }

    /// Feed a socket buffer; returns the list of complete `(code, payload)`.
    fn feed<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let mut msgs = Vec::new();
            if data.len() >= DETACH_THRESHOLD {
                py.detach(|| self.inner.feed(data, &mut msgs)).py_err()?;
            } else {
                self.inner.feed(data, &mut msgs).py_err()?;
            }
            let items = msgs
                .into_iter()
                .map(|m| {
                    PyTuple::new(
                        py,
                        [
                            m.code.into_pyobject(py)?.into_any(),
                            PyBytes::new(py, &m.payload).into_any(),
                        ],
                    )
                })
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)
        })
    }
}

/// RLP encoding of a message code.
#[pyfunction]
fn encode_code(py: Python<'_>, code: u64) -> Bound<'_, PyBytes> {
    let mut v = Vec::new();
    core::frame::encode_code(&mut v, code);
    PyBytes::new(py, &v)
}

/// Snappy block decode (declared length checked against 16 MiB first).
#[pyfunction]
fn decompress<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let out = core::frame::decompress(data).py_err()?;
        Ok(PyBytes::new(py, &out))
    })
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Handshake>()?;
    m.add_class::<HandshakeDone>()?;
    m.add_class::<Session>()?;
    m.add_function(wrap_pyfunction!(encode_code, m)?)?;
    m.add_function(wrap_pyfunction!(decompress, m)?)?;
    m.add("MAX_FRAME_SIZE", core::MAX_FRAME_SIZE)?;
    m.add("MAX_PAYLOAD_SIZE", core::MAX_PAYLOAD_SIZE)?;
    m.add("MAX_HANDSHAKE_SIZE", core::MAX_HANDSHAKE_SIZE)?;
    Ok(())
}
