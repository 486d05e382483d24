//! Discovery v4 packet codec as `peerwire._core.discv4`.
use peerwire_core::discv4::{self, Endpoint, NodeEntry, Packet};
use peerwire_core::enr;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::enr::PyRecord;
use crate::errors::{guard, IntoPyResult};
use crate::secp::SecretArg;

type PyEndpoint = (Vec<u8>, u16, u16);

fn to_ep(e: PyEndpoint) -> Endpoint {
    Endpoint {
        ip: e.0,
        udp: e.1,
        tcp: e.2,
    }
}

fn bytes_list(py: Python<'_>, rest: &[Vec<u8>]) -> Vec<Py<PyBytes>> {
    rest.iter().map(|r| PyBytes::new(py, r).unbind()).collect()
}

fn pybytes(py: Python<'_>, b: &[u8]) -> Py<PyBytes> {
    PyBytes::new(py, b).unbind()
}

/// An endpoint `[ip, udp, tcp]` as in Ping/Pong (`ip`: 4 or 16 packed bytes).
#[pyclass(module = "peerwire._core.discv4", name = "Endpoint", frozen, get_all)]
struct PyEndpointObj {
    ip: Py<PyBytes>,
    udp: u16,
    tcp: u16,
}

impl PyEndpointObj {
    fn new(py: Python<'_>, e: &Endpoint) -> Self {
        PyEndpointObj {
            ip: pybytes(py, &e.ip),
            udp: e.udp,
            tcp: e.tcp,
        }
    }
}

/// One Neighbors entry `[ip, udp, tcp, pubkey64]`.
#[pyclass(module = "peerwire._core.discv4", name = "NodeEntry", frozen, get_all)]
struct PyNodeEntry {
    ip: Py<PyBytes>,
    udp: u16,
    tcp: u16,
    id: Py<PyBytes>,
}

/// A decoded Ping (`from_`: the sender's claimed endpoint).
#[pyclass(module = "peerwire._core.discv4", name = "Ping", frozen, get_all)]
struct PyPing {
    version: u64,
    from_: Py<PyEndpointObj>,
    to: Py<PyEndpointObj>,
    expiration: u64,
    enr_seq: Option<u64>,
    rest: Vec<Py<PyBytes>>,
}

/// A decoded Pong (`reply_tok`: the hash of the Ping it answers).
#[pyclass(module = "peerwire._core.discv4", name = "Pong", frozen, get_all)]
struct PyPong {
    to: Py<PyEndpointObj>,
    reply_tok: Py<PyBytes>,
    expiration: u64,
    enr_seq: Option<u64>,
    rest: Vec<Py<PyBytes>>,
}

/// A decoded FindNode (`target`: a 64-byte public key).
#[pyclass(module = "peerwire._core.discv4", name = "FindNode", frozen, get_all)]
struct PyFindNode {
    target: Py<PyBytes>,
    expiration: u64,
    rest: Vec<Py<PyBytes>>,
}

/// A decoded Neighbors.
#[pyclass(module = "peerwire._core.discv4", name = "Neighbors", frozen, get_all)]
struct PyNeighbors {
    nodes: Vec<Py<PyNodeEntry>>,
    expiration: u64,
    rest: Vec<Py<PyBytes>>,
}

/// A decoded ENRRequest.
#[pyclass(module = "peerwire._core.discv4", name = "EnrRequest", frozen, get_all)]
struct PyEnrRequest {
    expiration: u64,
    rest: Vec<Py<PyBytes>>,
}

/// A decoded ENRResponse (it carries no expiration).
#[pyclass(
    module = "peerwire._core.discv4",
    name = "EnrResponse",
    frozen,
    get_all
)]
struct PyEnrResponse {
    reply_tok: Py<PyBytes>,
    record: Py<PyRecord>,
    rest: Vec<Py<PyBytes>>,
}

fn packet_object(py: Python<'_>, packet: Packet) -> PyResult<Py<PyAny>> {
    let ep = |e: &Endpoint| Py::new(py, PyEndpointObj::new(py, e));
    Ok(match packet {
        Packet::Ping {
            version,
            from,
            to,
            expiration,
            enr_seq,
            rest,
        } => Py::new(
            py,
            PyPing {
                version,
                from_: ep(&from)?,
                to: ep(&to)?,
                expiration,
                enr_seq,
                rest: bytes_list(py, &rest),
            },
        )?
        .into_any(),
        Packet::Pong {
            to,
            reply_tok,
            expiration,
            enr_seq,
            rest,
        } => Py::new(
            py,
            PyPong {
                to: ep(&to)?,
                reply_tok: pybytes(py, &reply_tok),
                expiration,
                enr_seq,
                rest: bytes_list(py, &rest),
            },
        )?
        .into_any(),
        Packet::FindNode {
            target,
            expiration,
            rest,
        } => Py::new(
            py,
            PyFindNode {
                target: pybytes(py, &target),
                expiration,
                rest: bytes_list(py, &rest),
            },
        )?
        .into_any(),
        Packet::Neighbors {
            nodes,
            expiration,
            rest,
        } => {
            let entries = nodes
                .iter()
                .map(|n| {
                    Py::new(
                        py,
                        PyNodeEntry {
                            ip: pybytes(py, &n.ip),
                            udp: n.udp,
                            tcp: n.tcp,
                            id: pybytes(py, &n.id),
                        },
                    )
                })
                .collect::<PyResult<Vec<_>>>()?;
            Py::new(
                py,
                PyNeighbors {
                    nodes: entries,
                    expiration,
                    rest: bytes_list(py, &rest),
                },
            )?
            .into_any()
        }
        Packet::EnrRequest { expiration, rest } => Py::new(
            py,
            PyEnrRequest {
                expiration,
                rest: bytes_list(py, &rest),
            },
        )?
        .into_any(),
        Packet::EnrResponse {
            reply_tok,
            record,
            rest,
        } => Py::new(
            py,
            PyEnrResponse {
                reply_tok: pybytes(py, &reply_tok),
                record: Py::new(py, PyRecord { inner: record })?,
                rest: bytes_list(py, &rest),
            },
        )?
        .into_any(),
    })
}

/// Check hash and signature and decode a datagram.
///
/// Returns `(type, hash, sender_pubkey64, sender_id, packet)`, `packet` one of the
/// frozen classes `Ping`, `Pong`, `FindNode`, `Neighbors`, `EnrRequest`, `EnrResponse`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn decode<'py>(
    py: Python<'py>,
    data: &[u8],
) -> PyResult<(
    u8,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Py<PyAny>,
)> {
    guard(|| {
        let d = discv4::decode(data).py_err()?;
        let kind = d.packet.kind();
        let packet = packet_object(py, d.packet)?;
        Ok((
            kind,
            PyBytes::new(py, &d.hash),
            PyBytes::new(py, &d.sender),
            PyBytes::new(py, &d.sender_id),
            packet,
        ))
    })
}

/// Check hash and signature only: `(hash, sender_pubkey64, type)`.
#[pyfunction]
fn verify_head<'py>(
    py: Python<'py>,
    data: &[u8],
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>, u8)> {
    guard(|| {
        let (h, s, t) = discv4::verify_head(data).py_err()?;
        Ok((PyBytes::new(py, &h), PyBytes::new(py, &s), t))
    })
}

fn sign<'py>(
    py: Python<'py>,
    secret: &SecretArg<'_>,
    p: &Packet,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let sk = secret.secret()?;
    let (bytes, hash) = discv4::encode(&sk, p).py_err()?;
    Ok((PyBytes::new(py, &bytes), PyBytes::new(py, &hash)))
}

/// Encode a Ping: returns `(datagram, hash)`.
#[pyfunction]
#[pyo3(signature = (secret, from_, to, expiration, enr_seq=None))]
fn encode_ping<'py>(
    py: Python<'py>,
    secret: SecretArg<'_>,
    from_: PyEndpoint,
    to: PyEndpoint,
    expiration: u64,
    enr_seq: Option<u64>,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    guard(|| {
        let p = Packet::Ping {
            version: 4,
            from: to_ep(from_),
            to: to_ep(to),
            expiration,
            enr_seq,
            rest: Vec::new(),
        };
        sign(py, &secret, &p)
    })
}

/// Encode a Pong: returns `(datagram, hash)`.
#[pyfunction]
#[pyo3(signature = (secret, to, reply_tok, expiration, enr_seq=None))]
fn encode_pong<'py>(
    py: Python<'py>,
    secret: SecretArg<'_>,
    to: PyEndpoint,
    reply_tok: Vec<u8>,
    expiration: u64,
    enr_seq: Option<u64>,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    guard(|| {
        let p = Packet::Pong {
            to: to_ep(to),
            reply_tok,
            expiration,
            enr_seq,
            rest: Vec::new(),
        };
        sign(py, &secret, &p)
    })
}

/// Encode a FindNode for a 64-byte target key.
#[pyfunction]
fn encode_findnode<'py>(
    py: Python<'py>,
    secret: SecretArg<'_>,
    target: &[u8],
    expiration: u64,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    guard(|| {
        let target: [u8; 64] = target
            .try_into()
            .map_err(|_| crate::errors::LocalProtocolError::new_err("target must be 64 bytes"))?;
        let p = Packet::FindNode {
            target,
            expiration,
            rest: Vec::new(),
        };
        sign(py, &secret, &p)
    })
}

/// Encode a Neighbors answer, split at 12 nodes (always ≥ 1 packet).
#[pyfunction]
fn encode_neighbors<'py>(
    py: Python<'py>,
    secret: SecretArg<'_>,
    nodes: Vec<(Vec<u8>, u16, u16, Vec<u8>)>,
    expiration: u64,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    guard(|| {
        let sk = secret.secret()?;
        let mut entries = Vec::with_capacity(nodes.len());
        for (ip, udp, tcp, id) in nodes {
            let id: [u8; 64] = id.as_slice().try_into().map_err(|_| {
                crate::errors::LocalProtocolError::new_err("node key must be 64 bytes")
            })?;
            entries.push(NodeEntry { ip, udp, tcp, id });
        }
        let pkts = discv4::encode_neighbors(&sk, &entries, expiration).py_err()?;
        Ok(pkts.iter().map(|p| PyBytes::new(py, p)).collect())
    })
}

/// Encode an ENRRequest.
#[pyfunction]
fn encode_enr_request<'py>(
    py: Python<'py>,
    secret: SecretArg<'_>,
    expiration: u64,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    guard(|| {
        let p = Packet::EnrRequest {
            expiration,
            rest: Vec::new(),
        };
        sign(py, &secret, &p)
    })
}

/// Encode an ENRResponse carrying the encoded record `record`.
#[pyfunction]
fn encode_enr_response<'py>(
    py: Python<'py>,
    secret: SecretArg<'_>,
    reply_tok: &[u8],
    record: &[u8],
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    guard(|| {
        let reply_tok: [u8; 32] = reply_tok.try_into().map_err(|_| {
            crate::errors::LocalProtocolError::new_err("reply token must be 32 bytes")
        })?;
        let p = Packet::EnrResponse {
            reply_tok,
            record: enr::Record::decode(record).py_err()?,
            rest: Vec::new(),
        };
        sign(py, &secret, &p)
    })
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEndpointObj>()?;
    m.add_class::<PyNodeEntry>()?;
    m.add_class::<PyPing>()?;
    m.add_class::<PyPong>()?;
    m.add_class::<PyFindNode>()?;
    m.add_class::<PyNeighbors>()?;
    m.add_class::<PyEnrRequest>()?;
    m.add_class::<PyEnrResponse>()?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(verify_head, m)?)?;
    m.add_function(wrap_pyfunction!(encode_ping, m)?)?;
    m.add_function(wrap_pyfunction!(encode_pong, m)?)?;
    m.add_function(wrap_pyfunction!(encode_findnode, m)?)?;
    m.add_function(wrap_pyfunction!(encode_neighbors, m)?)?;
    m.add_function(wrap_pyfunction!(encode_enr_request, m)?)?;
    m.add_function(wrap_pyfunction!(encode_enr_response, m)?)?;
    m.add("MAX_PACKET_SIZE", discv4::MAX_PACKET_SIZE)?;
    m.add("MAX_NEIGHBORS", discv4::MAX_NEIGHBORS)?;
    Ok(())
}
