//! Discovery v4 packet codec as `peerwire._core.discv4`.
use peerwire_core::discv4::{self, Endpoint, NodeEntry, Packet};
use peerwire_core::{enr, keys};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::enr::PyRecord;
use crate::errors::{guard, IntoPyResult};

type PyEndpoint = (Vec<u8>, u16, u16);

fn ep(e: &Endpoint) -> (Vec<u8>, u16, u16) {
    (e.ip.clone(), e.udp, e.tcp)
}

fn to_ep(e: PyEndpoint) -> Endpoint {
    Endpoint {
        ip: e.0,
        udp: e.1,
        tcp: e.2,
    }
}

fn rest_list<'py>(py: Python<'py>, rest: &[Vec<u8>]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, rest.iter().map(|r| PyBytes::new(py, r)))
}

/// Check hash and signature and decode a datagram.
///
/// Returns `(type, hash, sender_pubkey64, sender_id, fields)`.
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
    Bound<'py, PyDict>,
)> {
    guard(|| {
        let d = discv4::decode(data).py_err()?;
        let f = PyDict::new(py);
        let kind = d.packet.kind();
        match d.packet {
            Packet::Ping {
                version,
                from,
                to,
                expiration,
                enr_seq,
                rest,
            } => {
                f.set_item("version", version)?;
                f.set_item("from", ep(&from))?;
                f.set_item("to", ep(&to))?;
                f.set_item("expiration", expiration)?;
                f.set_item("enr_seq", enr_seq)?;
                f.set_item("rest", rest_list(py, &rest)?)?;
            }
            Packet::Pong {
                to,
                reply_tok,
                expiration,
                enr_seq,
                rest,
            } => {
                f.set_item("to", ep(&to))?;
                f.set_item("reply_tok", PyBytes::new(py, &reply_tok))?;
                f.set_item("expiration", expiration)?;
                f.set_item("enr_seq", enr_seq)?;
                f.set_item("rest", rest_list(py, &rest)?)?;
            }
            Packet::FindNode {
                target,
                expiration,
                rest,
            } => {
                f.set_item("target", PyBytes::new(py, &target))?;
                f.set_item("expiration", expiration)?;
                f.set_item("rest", rest_list(py, &rest)?)?;
            }
            Packet::Neighbors {
                nodes,
                expiration,
                rest,
            } => {
                let l = PyList::empty(py);
                for n in &nodes {
                    l.append((
                        PyBytes::new(py, &n.ip),
                        n.udp,
                        n.tcp,
                        PyBytes::new(py, &n.id),
                    ))?;
                }
                f.set_item("nodes", l)?;
                f.set_item("expiration", expiration)?;
                f.set_item("rest", rest_list(py, &rest)?)?;
            }
            Packet::EnrRequest { expiration, rest } => {
                f.set_item("expiration", expiration)?;
                f.set_item("rest", rest_list(py, &rest)?)?;
            }
            Packet::EnrResponse {
                reply_tok,
                record,
                rest,
            } => {
                f.set_item("reply_tok", PyBytes::new(py, &reply_tok))?;
                f.set_item("record", PyRecord { inner: record })?;
                f.set_item("rest", rest_list(py, &rest)?)?;
            }
        }
        Ok((
            kind,
            PyBytes::new(py, &d.hash),
            PyBytes::new(py, &d.sender),
            PyBytes::new(py, &d.sender_id),
            f,
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
    secret: &[u8],
    p: &Packet,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let sk = keys::secp_secret(secret).py_err()?;
    let (bytes, hash) = discv4::encode(&sk, p).py_err()?;
    Ok((PyBytes::new(py, &bytes), PyBytes::new(py, &hash)))
}

/// Encode a Ping: returns `(datagram, hash)`.
#[pyfunction]
#[pyo3(signature = (secret, from_, to, expiration, enr_seq=None))]
fn encode_ping<'py>(
    py: Python<'py>,
    secret: &[u8],
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
        sign(py, secret, &p)
    })
}

/// Encode a Pong: returns `(datagram, hash)`.
#[pyfunction]
#[pyo3(signature = (secret, to, reply_tok, expiration, enr_seq=None))]
fn encode_pong<'py>(
    py: Python<'py>,
    secret: &[u8],
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
        sign(py, secret, &p)
    })
}

/// Encode a FindNode for a 64-byte target key.
#[pyfunction]
fn encode_findnode<'py>(
    py: Python<'py>,
    secret: &[u8],
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
        sign(py, secret, &p)
    })
}

/// Encode a Neighbors answer, split at 12 nodes (always ≥ 1 packet).
#[pyfunction]
fn encode_neighbors<'py>(
    py: Python<'py>,
    secret: &[u8],
    nodes: Vec<(Vec<u8>, u16, u16, Vec<u8>)>,
    expiration: u64,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    guard(|| {
        let sk = keys::secp_secret(secret).py_err()?;
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
    secret: &[u8],
    expiration: u64,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    guard(|| {
        let p = Packet::EnrRequest {
            expiration,
            rest: Vec::new(),
        };
        sign(py, secret, &p)
    })
}

/// Encode an ENRResponse carrying the encoded record `record`.
#[pyfunction]
fn encode_enr_response<'py>(
    py: Python<'py>,
    secret: &[u8],
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
        sign(py, secret, &p)
    })
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
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
