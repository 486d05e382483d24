//! Ethereum Node Records ("v4" scheme) as `peerwire._core.enr.Record`.
use peerwire_core::{enr, keys};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{guard, IntoPyResult};
use crate::secp::SecretArg;

/// A decoded (not necessarily verified) node record.
#[pyclass(module = "peerwire._core.enr", name = "Record", frozen)]
pub(crate) struct PyRecord {
    pub(crate) inner: enr::Record,
}

#[pymethods]
impl PyRecord {
    /// Decode the RLP form (structure checks only, no signature check).
    #[staticmethod]
    fn decode(data: &[u8]) -> PyResult<Self> {
        guard(|| {
            Ok(PyRecord {
                inner: enr::Record::decode(data).py_err()?,
            })
        })
    }

    /// Decode the `enr:` text form (structure checks only).
    #[staticmethod]
    fn from_text(text: &str) -> PyResult<Self> {
        guard(|| {
            Ok(PyRecord {
                inner: enr::Record::from_text(text).py_err()?,
            })
        })
    }

    /// Build and sign a v4 record from (key, raw RLP value) pairs.
    #[staticmethod]
    fn sign_v4(secret: SecretArg<'_>, seq: u64, pairs: Vec<(Vec<u8>, Vec<u8>)>) -> PyResult<Self> {
        guard(|| {
            let sk = secret.secret()?;
            Ok(PyRecord {
                inner: enr::Record::sign_v4(&sk, seq, &pairs).py_err()?,
            })
        })
    }

    /// Check the v4 signature; returns the signer's 64-byte public key.
    fn verify_v4<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| Ok(PyBytes::new(py, &self.inner.verify_v4().py_err()?)))
    }

    /// The 64-byte key of the `secp256k1` entry (unverified).
    fn public_key<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let pk = self.inner.public_key().py_err()?;
            Ok(PyBytes::new(py, &keys::pub64(&pk)))
        })
    }

    fn node_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| Ok(PyBytes::new(py, &self.inner.node_id().py_err()?)))
    }

    #[getter]
    fn seq(&self) -> u64 {
        self.inner.seq()
    }

    #[getter]
    fn signature<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.signature())
    }

    /// The encoded record.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.raw())
    }

    fn to_text(&self) -> String {
        self.inner.to_text()
    }

    /// (key, raw RLP value) pairs in key order.
    fn pairs(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.inner.pairs().to_vec()
    }

    /// The raw RLP value of `key`, or None.
    fn raw_value<'py>(&self, py: Python<'py>, key: &[u8]) -> Option<Bound<'py, PyBytes>> {
        self.inner.get_raw(key).map(|v| PyBytes::new(py, v))
    }

    /// A uint16 entry (tcp, udp, tcp6, udp6), or None.
    fn get_port(&self, key: &[u8]) -> PyResult<Option<u16>> {
        guard(|| self.inner.get_port(key).py_err())
    }

    /// The `ip` (4 bytes) or `ip6` (16 bytes) entry, or None.
    fn get_ip<'py>(&self, py: Python<'py>, key: &[u8]) -> PyResult<Option<Bound<'py, PyBytes>>> {
        guard(|| {
            let len = if key == b"ip6" { 16 } else { 4 };
            Ok(self
                .inner
                .get_ip(key, len)
                .py_err()?
                .map(|v| PyBytes::new(py, &v)))
        })
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyRecord>()
            .is_ok_and(|o| o.get().inner.raw() == self.inner.raw())
    }

    fn __hash__(&self) -> u64 {
        let h = peerwire_core::hash::keccak256(self.inner.raw());
        u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
    }
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRecord>()?;
    m.add("SIZE_LIMIT", enr::SIZE_LIMIT)?;
    Ok(())
}
