//! Errors across the boundary.
//!
//! The exception classes are defined in Python (`peerwire/errors.py`) and
//! imported here, so users catch one hierarchy wherever an error was raised.
//! [`guard`] runs a closure and turns a Rust panic into
//! `peerwire.errors.InternalError` instead of PyO3's `PanicException`, which
//! derives from `BaseException` and would escape `except Exception` handlers.
use std::panic::{catch_unwind, AssertUnwindSafe};

use peerwire_core::CoreError;
use pyo3::prelude::*;

pyo3::import_exception!(peerwire.errors, DecodeError);
pyo3::import_exception!(peerwire.errors, InvalidKeyError);
pyo3::import_exception!(peerwire.errors, HandshakeError);
pyo3::import_exception!(peerwire.errors, FrameError);
pyo3::import_exception!(peerwire.errors, LocalProtocolError);
pyo3::import_exception!(peerwire.errors, InternalError);

/// Convert a core error into the matching Python exception.
pub(crate) fn to_py(err: CoreError) -> PyErr {
    let msg = err.message().to_owned();
    match err {
        CoreError::Decode(_) => DecodeError::new_err(msg),
        CoreError::InvalidKey(_) => InvalidKeyError::new_err(msg),
        CoreError::Handshake(_) => HandshakeError::new_err(msg),
        CoreError::Frame(_) => FrameError::new_err(msg),
        CoreError::Local(_) => LocalProtocolError::new_err(msg),
    }
}

/// Extension so call sites can write `core_call().py_err()?`.
pub(crate) trait IntoPyResult<T> {
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, CoreError> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// Run `f`, converting a panic into `InternalError` (never an abort: the
/// release profile keeps `panic = "unwind"`).
pub(crate) fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(InternalError::new_err(format!(
                "bug in peerwire core (Rust panic): {what}"
            )))
        }
    }
}

/// Panics on purpose, inside [`guard`]; used by the test suite to prove that a
/// Rust panic surfaces as `peerwire.errors.InternalError`.
#[pyfunction]
pub(crate) fn _panic_for_tests(message: &str) -> PyResult<()> {
    guard(|| panic!("{}", message))
}
