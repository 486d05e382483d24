//! `peerwire._core.keccak`: Keccak-256, the hash under devp2p node IDs, discv4 and RLPx.
use peerwire_core::hash;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Inputs at least this long hash with the interpreter released.
const DETACH_THRESHOLD: usize = 64 * 1024;

/// Keccak-256 (legacy Ethereum sha3) of `data`.
#[pyfunction]
fn keccak256<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    let digest = if data.len() >= DETACH_THRESHOLD {
        py.detach(|| hash::keccak256(data))
    } else {
        hash::keccak256(data)
    };
    PyBytes::new(py, &digest)
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(keccak256, m)?)?;
    Ok(())
}
