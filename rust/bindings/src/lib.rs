//! `peerwire._core`: thin PyO3 wrappers over `peerwire-core`.
//!
//! This file is the one place that declares the Python module tree: each
//! `add_submodule` line maps a Rust module onto `peerwire._core.<name>`, with a
//! hand-written stub at `python/peerwire/_core/<name>.pyi`. Wrappers only
//! convert types and errors; protocol logic lives in the core crate.
#![deny(clippy::undocumented_unsafe_blocks)]

use pyo3::prelude::*;

mod alloc;
mod discv4;
mod discv5;
mod ed25519;
mod enr;
mod errors;
mod eth;
mod kad;
mod keccak;
mod p2p_base;
mod rlp;
mod rlpx;
mod secp;
mod tm2;
mod tm2_consensus;
mod tm2_mconn;

/// Register `child` as `peerwire._core.<name>` so `import peerwire._core.<name>`
/// and stubtest both find it.
fn add_submodule(
    parent: &Bound<'_, PyModule>,
    name: &str,
    init: impl FnOnce(&Bound<'_, PyModule>) -> PyResult<()>,
) -> PyResult<()> {
    let py = parent.py();
    let child = PyModule::new(py, name)?;
    init(&child)?;
    let qualified = format!("peerwire._core.{name}");
    child.setattr("__name__", &qualified)?;
    parent.add_submodule(&child)?;
    py.import("sys")?
        .getattr("modules")?
        .set_item(qualified, &child)?;
    Ok(())
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    alloc::return_big_buffers_to_os();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "build_profile",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    )?;
    m.add_function(wrap_pyfunction!(errors::_panic_for_tests, m)?)?;
    add_submodule(m, "keccak", keccak::init)?;
    add_submodule(m, "rlp", rlp::init)?;
    add_submodule(m, "secp256k1", secp::init)?;
    add_submodule(m, "ed25519", ed25519::init)?;
    add_submodule(m, "p2p_base", p2p_base::init)?;
    add_submodule(m, "rlpx", rlpx::init)?;
    add_submodule(m, "enr", enr::init)?;
    add_submodule(m, "discv4", discv4::init)?;
    add_submodule(m, "discv5", discv5::init)?;
    add_submodule(m, "kad", kad::init)?;
    add_submodule(m, "tm2", tm2::init)?;
    add_submodule(m, "tm2_consensus", tm2_consensus::init)?;
    add_submodule(m, "eth", eth::init)?;
    Ok(())
}
