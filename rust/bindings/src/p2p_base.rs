//! The devp2p base protocol codecs: Hello, Disconnect, capability matching.
use peerwire_core::p2p_base::{self, Cap, Hello, LocalProto};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{guard, IntoPyResult};

/// A decoded Hello (`protoHandshake`). Names keep their raw bytes for
/// matching; the `str` views replace invalid UTF-8.
#[pyclass(module = "peerwire._core.p2p_base", frozen)]
struct DecodedHello {
    inner: Hello,
}

#[pymethods]
impl DecodedHello {
    #[getter]
    fn version(&self) -> u64 {
        self.inner.version
    }
    #[getter]
    fn name(&self) -> String {
        String::from_utf8_lossy(&self.inner.name).into_owned()
    }
    #[getter]
    fn caps(&self) -> Vec<(String, u64)> {
        self.inner
            .caps
            .iter()
            .map(|c| (String::from_utf8_lossy(&c.name).into_owned(), c.version))
            .collect()
    }
    #[getter]
    fn listen_port(&self) -> u64 {
        self.inner.listen_port
    }
    #[getter]
    fn id<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.id)
    }
    /// 64 bytes and not all zero.
    fn id_is_valid(&self) -> bool {
        self.inner.id_is_valid()
    }
    /// Match against local protocols `(name, version, length)`: a list of
    /// `(local_index, absolute_offset)` in code order.
    fn match_protocols(&self, local: Vec<(String, u64, u64)>) -> Vec<(usize, u64)> {
        let local: Vec<LocalProto> = local
            .into_iter()
            .map(|(name, version, length)| LocalProto {
                name: name.into_bytes(),
                version,
                length,
            })
            .collect();
        p2p_base::match_protocols(&local, &self.inner.caps)
            .into_iter()
            .map(|m| (m.local_index, m.offset))
            .collect()
    }
}

/// Decode a Hello payload (≤ 2048 bytes; extra elements ignored).
#[pyfunction]
fn decode_hello(payload: &[u8]) -> PyResult<DecodedHello> {
    guard(|| {
        Ok(DecodedHello {
            inner: Hello::decode(payload).py_err()?,
        })
    })
}

/// Encode a Hello payload; caps are sorted by (name, version).
#[pyfunction]
fn encode_hello<'py>(
    py: Python<'py>,
    version: u64,
    name: &str,
    caps: Vec<(String, u64)>,
    listen_port: u64,
    id: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let hello = Hello {
            version,
            name: name.as_bytes().to_vec(),
            caps: caps
                .into_iter()
                .map(|(n, v)| Cap {
                    name: n.into_bytes(),
                    version: v,
                })
                .collect(),
            listen_port,
            id: id.to_vec(),
        };
        Ok(PyBytes::new(py, &hello.encode()))
    })
}

/// Encode a Disconnect payload `[reason]`.
#[pyfunction]
fn encode_disconnect(py: Python<'_>, reason: u8) -> Bound<'_, PyBytes> {
    PyBytes::new(py, &p2p_base::encode_disconnect(reason))
}

/// Decode a Disconnect payload (list or bare value); 0xff if undecodable.
#[pyfunction]
fn decode_disconnect(payload: &[u8]) -> u8 {
    p2p_base::decode_disconnect(payload)
}

/// Snappy block decompression with the 16 MiB declared-length check of the
/// RLPx codec, for messages that were decoded before snappy was switched on.
#[pyfunction]
fn snappy_decompress<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let out = peerwire_core::rlpx::frame::decompress(data).py_err()?;
        Ok(PyBytes::new(py, &out))
    })
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("BASE_PROTOCOL_VERSION", p2p_base::BASE_PROTOCOL_VERSION)?;
    m.add("SNAPPY_PROTOCOL_VERSION", p2p_base::SNAPPY_PROTOCOL_VERSION)?;
    m.add("BASE_PROTOCOL_LENGTH", p2p_base::BASE_PROTOCOL_LENGTH)?;
    m.add("MAX_HELLO_SIZE", p2p_base::MAX_HELLO_SIZE)?;
    m.add("DISC_INVALID", p2p_base::DISC_INVALID)?;
    m.add_class::<DecodedHello>()?;
    m.add_function(wrap_pyfunction!(decode_hello, m)?)?;
    m.add_function(wrap_pyfunction!(encode_hello, m)?)?;
    m.add_function(wrap_pyfunction!(encode_disconnect, m)?)?;
    m.add_function(wrap_pyfunction!(decode_disconnect, m)?)?;
    m.add_function(wrap_pyfunction!(snappy_decompress, m)?)?;
    Ok(())
}
