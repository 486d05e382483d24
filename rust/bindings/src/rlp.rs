//! `peerwire._core.rlp`: RLP between Python values (bytes, ints, lists) and bytes.
use peerwire_core::rlp;
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::errors::{guard, IntoPyResult};

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
fn encode<'py>(py: Python<'py>, obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| Ok(PyBytes::new(py, &rlp::encode(&to_item(obj, 0)?))))
}

/// Decode one canonical RLP value spanning all of `data` into bytes / lists.
#[pyfunction]
fn decode<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    guard(|| from_item(py, &rlp::decode(data).py_err()?))
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    Ok(())
}
