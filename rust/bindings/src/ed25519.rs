//! `peerwire._core.ed25519`: TM2's curve. The secret key is an opaque object
//! that signs (and runs the secret connection handshake) inside Rust.
use peerwire_core::keys;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{guard, IntoPyResult};

/// An Ed25519 private key held by the Rust core (zeroized when dropped): Python
/// code sees the seed only when it exports it (`to_bytes`, `to_go_bytes`).
#[pyclass(module = "peerwire._core.ed25519", name = "Ed25519SecretKey", frozen)]
pub(crate) struct PyEd25519Secret {
    pub(crate) inner: keys::Ed25519SigningKey,
}

#[pymethods]
impl PyEd25519Secret {
    /// From a 32-byte seed.
    #[new]
    fn new(seed: &[u8]) -> PyResult<Self> {
        guard(|| {
            Ok(PyEd25519Secret {
                inner: keys::ed25519_from_seed(seed).py_err()?,
            })
        })
    }

    /// A new random key.
    #[staticmethod]
    fn generate() -> Self {
        PyEd25519Secret {
            inner: keys::ed25519_generate(),
        }
    }

    /// Import Go's 64-byte seed||pub layout (the public half is checked).
    #[staticmethod]
    fn from_go(go_key: &[u8]) -> PyResult<Self> {
        guard(|| {
            Ok(PyEd25519Secret {
                inner: keys::ed25519_from_go(go_key).py_err()?,
            })
        })
    }

    /// The 32-byte public key.
    fn public_key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.verifying_key().as_bytes())
    }

    /// The 64-byte Ed25519 signature of `msg`.
    fn sign<'py>(&self, py: Python<'py>, msg: &[u8]) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &keys::ed25519_sign(&self.inner, msg))
    }

    /// Export the 32-byte seed.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.as_bytes())
    }

    /// Export Go's 64-byte seed||pub layout (gno's `node_key.json` holds it).
    fn to_go_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_keypair_bytes())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyEd25519Secret>()
            .map(|o| o.get().inner == self.inner)
            .unwrap_or(false)
    }

    fn __hash__(&self) -> u64 {
        // The public key identifies the secret without revealing it.
        let pk = self.inner.verifying_key().to_bytes();
        u64::from_le_bytes(pk[..8].try_into().unwrap_or([0; 8]))
    }

    fn __repr__(&self) -> &'static str {
        "<Ed25519SecretKey>"
    }
}

/// Whether `signature` is a valid Ed25519 signature of `msg` by `public`.
#[pyfunction]
fn verify(public: &[u8], msg: &[u8], signature: &[u8]) -> bool {
    keys::ed25519_verify(public, msg, signature)
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEd25519Secret>()?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    Ok(())
}
