//! Keys, hashes and RLP: the identity primitives of both stacks.
use peerwire_core::{hash, keys, rlp};
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::errors::{guard, IntoPyResult};

fn hash32(b: &[u8]) -> PyResult<[u8; 32]> {
    b.try_into()
        .map_err(|_| crate::errors::DecodeError::new_err("hash must be 32 bytes"))
}

/// A secp256k1 secret key held by the Rust core: Python code sees the secret
/// only when it exports it (`to_bytes`), never through `repr` or attributes.
#[pyclass(
    module = "peerwire._core.identity",
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

    /// Raw ECDH: the 32-byte X coordinate of secret x public.
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

/// Keccak-256 (legacy Ethereum sha3) of `data`.
#[pyfunction]
fn keccak256<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    // Large inputs hash without holding the interpreter.
    let digest = if data.len() >= 64 * 1024 {
        py.detach(|| hash::keccak256(data))
    } else {
        hash::keccak256(data)
    };
    PyBytes::new(py, &digest)
}

/// A new random secp256k1 secret key (32 bytes).
#[pyfunction]
fn secp256k1_generate(py: Python<'_>) -> Bound<'_, PyBytes> {
    PyBytes::new(py, &keys::secp_generate().secret_bytes())
}

/// The 64-byte X||Y public key of a 32-byte secret.
#[pyfunction]
fn secp256k1_public_key<'py>(py: Python<'py>, secret: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let sk = keys::secp_secret(secret).py_err()?;
        Ok(PyBytes::new(py, &keys::secp_public64(&sk)))
    })
}

/// Validate a 33, 64 or 65-byte public key and return its 64-byte form.
#[pyfunction]
fn secp256k1_normalize_public<'py>(
    py: Python<'py>,
    public: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let pk = keys::secp_public(public).py_err()?;
        Ok(PyBytes::new(py, &keys::pub64(&pk)))
    })
}

/// 33-byte compressed form of a public key.
#[pyfunction]
fn secp256k1_compress<'py>(py: Python<'py>, public: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let pk = keys::secp_public(public).py_err()?;
        Ok(PyBytes::new(py, &pk.serialize()))
    })
}

/// Recoverable ECDSA (RFC 6979, low S) over a 32-byte hash: 65 bytes r||s||v.
#[pyfunction]
fn secp256k1_sign_recoverable<'py>(
    py: Python<'py>,
    secret: &[u8],
    msg_hash: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let sk = keys::secp_secret(secret).py_err()?;
        Ok(PyBytes::new(
            py,
            &keys::secp_sign_recoverable(&sk, &hash32(msg_hash)?),
        ))
    })
}

/// Recover the 64-byte public key that made a 65-byte signature.
#[pyfunction]
fn secp256k1_recover<'py>(
    py: Python<'py>,
    msg_hash: &[u8],
    signature: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let pk = keys::secp_recover(&hash32(msg_hash)?, signature).py_err()?;
        Ok(PyBytes::new(py, &keys::pub64(&pk)))
    })
}

/// X coordinate of secret·public (raw ECDH, as go-ethereum's ECIES uses it).
#[pyfunction]
fn secp256k1_ecdh<'py>(
    py: Python<'py>,
    secret: &[u8],
    public: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let sk = keys::secp_secret(secret).py_err()?;
        let pk = keys::secp_public(public).py_err()?;
        Ok(PyBytes::new(py, &keys::secp_ecdh_x(&sk, &pk)))
    })
}

/// A new random Ed25519 seed (32 bytes).
#[pyfunction]
fn ed25519_generate(py: Python<'_>) -> Bound<'_, PyBytes> {
    PyBytes::new(py, keys::ed25519_generate().as_bytes())
}

/// The 32-byte public key of a 32-byte Ed25519 seed.
#[pyfunction]
fn ed25519_public_key<'py>(py: Python<'py>, seed: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let sk = keys::ed25519_from_seed(seed).py_err()?;
        Ok(PyBytes::new(py, sk.verifying_key().as_bytes()))
    })
}

/// Import Go's 64-byte seed||pub private key and return the seed.
#[pyfunction]
fn ed25519_seed_from_go<'py>(py: Python<'py>, go_key: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let sk = keys::ed25519_from_go(go_key).py_err()?;
        Ok(PyBytes::new(py, sk.as_bytes()))
    })
}

/// Ed25519 signature (64 bytes) of `msg` under `seed`.
#[pyfunction]
fn ed25519_sign<'py>(py: Python<'py>, seed: &[u8], msg: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let sk = keys::ed25519_from_seed(seed).py_err()?;
        Ok(PyBytes::new(py, &keys::ed25519_sign(&sk, msg)))
    })
}

/// Whether `signature` is a valid Ed25519 signature of `msg` by `public`.
#[pyfunction]
fn ed25519_verify(public: &[u8], msg: &[u8], signature: &[u8]) -> bool {
    keys::ed25519_verify(public, msg, signature)
}

/// TM2 node ID (bech32 "g1…") of a 32-byte Ed25519 public key.
#[pyfunction]
fn tm2_id(public: &[u8]) -> PyResult<String> {
    let pk: [u8; 32] = public.try_into().map_err(|_| {
        crate::errors::InvalidKeyError::new_err("ed25519 public key must be 32 bytes")
    })?;
    Ok(keys::tm2_id(&pk))
}

/// The 20-byte address inside a TM2 node ID; raises DecodeError if invalid.
#[pyfunction]
fn tm2_id_decode<'py>(py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &keys::tm2_id_decode(id).py_err()?))
}

fn to_item(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<rlp::Item> {
    if depth > rlp::MAX_DEPTH {
        return Err(crate::errors::DecodeError::new_err("RLP nesting too deep"));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(rlp::Item::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<pyo3::types::PyByteArray>() {
        return Ok(rlp::Item::Bytes(b.to_vec()));
    }
    if obj.is_instance_of::<pyo3::types::PyString>() {
        return Err(PyTypeError::new_err(
            "cannot RLP-encode str: encode it to bytes first",
        ));
    }
    if obj.is_instance_of::<pyo3::types::PyInt>() {
        let v = obj
            .extract::<u64>()
            .map_err(|_| PyOverflowError::new_err("RLP integers must be in [0, 2**64)"))?;
        return Ok(rlp::Item::Bytes(rlp::uint_bytes(v)));
    }
    if let Ok(seq) = obj.try_iter() {
        let mut items = Vec::new();
        for it in seq {
            items.push(to_item(&it?, depth + 1)?);
        }
        return Ok(rlp::Item::List(items));
    }
    Err(PyTypeError::new_err(format!(
        "cannot RLP-encode {}: use bytes, non-negative int < 2**64, or a list",
        obj.get_type().name()?
    )))
}

fn from_item<'py>(py: Python<'py>, item: &rlp::Item) -> PyResult<Bound<'py, PyAny>> {
    Ok(match item {
        rlp::Item::Bytes(b) => PyBytes::new(py, b).into_any(),
        rlp::Item::List(items) => {
            let list = PyList::empty(py);
            for it in items {
                list.append(from_item(py, it)?)?;
            }
            list.into_any()
        }
    })
}

/// RLP-encode bytes, unsigned ints (< 2**64) and (nested) lists of them.
#[pyfunction]
fn rlp_encode<'py>(py: Python<'py>, obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| Ok(PyBytes::new(py, &rlp::encode(&to_item(obj, 0)?))))
}

/// Decode one canonical RLP value spanning all of `data` into bytes / lists.
#[pyfunction]
fn rlp_decode<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    guard(|| from_item(py, &rlp::decode(data).py_err()?))
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySecpSecret>()?;
    m.add_function(wrap_pyfunction!(keccak256, m)?)?;
    m.add_function(wrap_pyfunction!(secp256k1_generate, m)?)?;
    m.add_function(wrap_pyfunction!(secp256k1_public_key, m)?)?;
    m.add_function(wrap_pyfunction!(secp256k1_normalize_public, m)?)?;
    m.add_function(wrap_pyfunction!(secp256k1_compress, m)?)?;
    m.add_function(wrap_pyfunction!(secp256k1_sign_recoverable, m)?)?;
    m.add_function(wrap_pyfunction!(secp256k1_recover, m)?)?;
    m.add_function(wrap_pyfunction!(secp256k1_ecdh, m)?)?;
    m.add_function(wrap_pyfunction!(ed25519_generate, m)?)?;
    m.add_function(wrap_pyfunction!(ed25519_public_key, m)?)?;
    m.add_function(wrap_pyfunction!(ed25519_seed_from_go, m)?)?;
    m.add_function(wrap_pyfunction!(ed25519_sign, m)?)?;
    m.add_function(wrap_pyfunction!(ed25519_verify, m)?)?;
    m.add_function(wrap_pyfunction!(tm2_id, m)?)?;
    m.add_function(wrap_pyfunction!(tm2_id_decode, m)?)?;
    m.add_function(wrap_pyfunction!(rlp_encode, m)?)?;
    m.add_function(wrap_pyfunction!(rlp_decode, m)?)?;
    Ok(())
}
