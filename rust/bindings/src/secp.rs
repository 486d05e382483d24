//! `peerwire._core.secp256k1`: devp2p's curve. The secret key is an opaque
//! object; the functions here take only public keys and signatures.
use peerwire_core::keys;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{guard, IntoPyResult};

fn hash32(b: &[u8]) -> PyResult<[u8; 32]> {
    b.try_into()
        .map_err(|_| crate::errors::DecodeError::new_err("hash must be 32 bytes"))
}

/// A secp256k1 secret key held by the Rust core: Python code sees the secret
/// only when it exports it (`to_bytes`), never through `repr` or attributes.
#[pyclass(
    module = "peerwire._core.secp256k1",
    name = "Secp256k1SecretKey",
    frozen
)]
pub(crate) struct PySecpSecret {
    pub(crate) inner: secp256k1::SecretKey,
}

#[pymethods]
impl PySecpSecret {
    #[new]
    fn new(secret: &[u8]) -> PyResult<Self> {
        guard(|| {
            Ok(PySecpSecret {
                inner: keys::secp_secret(secret).py_err()?,
            })
        })
    }

    /// A new random key.
    #[staticmethod]
    fn generate() -> Self {
        PySecpSecret {
            inner: keys::secp_generate(),
        }
    }

    /// The 64-byte X||Y public key.
    fn public_key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &keys::secp_public64(&self.inner))
    }

    /// Recoverable ECDSA (RFC 6979, low S) over a 32-byte hash: 65 bytes r||s||v.
    fn sign_recoverable<'py>(
        &self,
        py: Python<'py>,
        msg_hash: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            Ok(PyBytes::new(
                py,
                &keys::secp_sign_recoverable(&self.inner, &hash32(msg_hash)?),
            ))
        })
    }

    /// Raw ECDH: the 32-byte X coordinate of secret x public (as go-ethereum's ECIES uses it).
    fn ecdh<'py>(&self, py: Python<'py>, public: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let pk = keys::secp_public(public).py_err()?;
            Ok(PyBytes::new(py, &keys::secp_ecdh_x(&self.inner, &pk)))
        })
    }

    /// Export the 32-byte secret (the one way it reaches Python).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.secret_bytes())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PySecpSecret>()
            .map(|o| o.get().inner == self.inner)
            .unwrap_or(false)
    }

    fn __hash__(&self) -> u64 {
        // The public key identifies the secret without revealing it.
        let pk = keys::secp_public64(&self.inner);
        u64::from_le_bytes(pk[..8].try_into().unwrap_or([0; 8]))
    }

    fn __repr__(&self) -> &'static str {
        "<Secp256k1SecretKey>"
    }
}

/// A secret key argument: the Rust key object, or 32 raw bytes.
#[derive(FromPyObject)]
pub(crate) enum SecretArg<'py> {
    Key(Bound<'py, PySecpSecret>),
    Raw(Vec<u8>),
}

impl SecretArg<'_> {
    pub(crate) fn secret(&self) -> PyResult<secp256k1::SecretKey> {
        match self {
            SecretArg::Key(k) => Ok(k.get().inner),
            SecretArg::Raw(b) => keys::secp_secret(b).py_err(),
        }
    }
}

/// Validate a 33, 64 or 65-byte public key and return its 64-byte form.
#[pyfunction]
fn normalize_public<'py>(py: Python<'py>, public: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let pk = keys::secp_public(public).py_err()?;
        Ok(PyBytes::new(py, &keys::pub64(&pk)))
    })
}

/// 33-byte compressed form of a public key.
#[pyfunction]
fn compress<'py>(py: Python<'py>, public: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let pk = keys::secp_public(public).py_err()?;
        Ok(PyBytes::new(py, &pk.serialize()))
    })
}

/// Recover the 64-byte public key that made a 65-byte signature.
#[pyfunction]
fn recover<'py>(
    py: Python<'py>,
    msg_hash: &[u8],
    signature: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let pk = keys::secp_recover(&hash32(msg_hash)?, signature).py_err()?;
        Ok(PyBytes::new(py, &keys::pub64(&pk)))
    })
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySecpSecret>()?;
    m.add_function(wrap_pyfunction!(normalize_public, m)?)?;
    m.add_function(wrap_pyfunction!(compress, m)?)?;
    m.add_function(wrap_pyfunction!(recover, m)?)?;
    Ok(())
}
