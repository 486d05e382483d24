//! Kademlia helpers and the routing table as `peerwire._core.kad`.
use std::net::IpAddr;

use peerwire_core::kad::{self, table};
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{guard, DecodeError};

fn id32(b: &[u8]) -> PyResult<[u8; 32]> {
    b.try_into()
        .map_err(|_| DecodeError::new_err("node IDs must be 32 bytes"))
}

fn ip_of(s: &str) -> PyResult<IpAddr> {
    s.parse()
        .map_err(|_| DecodeError::new_err(format!("invalid IP address {s:?}")))
}

/// 256 − leading zero bits of `a XOR b` (0 when equal).
#[pyfunction]
fn log_distance(a: &[u8], b: &[u8]) -> PyResult<u16> {
    Ok(kad::log_distance(&id32(a)?, &id32(b)?))
}

/// Log distances from `target` to N packed 32-byte IDs read through the
/// buffer protocol; returns N native-endian uint16 values as bytes.
///
/// The IDs are read in place, with the GIL held, rather than copied out first:
/// a 1M-ID array is 32 MiB, and that copy (an mmapped block under the fixed
/// mmap threshold of `alloc.rs`) cost twice the distance computation itself.
#[pyfunction]
fn log_distances<'py>(
    py: Python<'py>,
    target: &[u8],
    ids: PyBuffer<u8>,
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let t = id32(target)?;
        if !ids.is_c_contiguous() {
            return Err(DecodeError::new_err("ids must be a C-contiguous buffer"));
        }
        let len = ids.len_bytes();
        if len % 32 != 0 {
            return Err(DecodeError::new_err(
                "ids buffer length must be a multiple of 32",
            ));
        }
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: the buffer is C-contiguous with `len` bytes of `u8`
            // items (PyBuffer<u8> checked the format), and the exporter keeps
            // it alive and unresized while `ids` holds it. The GIL stays held
            // while we read: a writer would have to be native code that
            // released the GIL on purpose, racing with any reader.
            unsafe { std::slice::from_raw_parts(ids.buf_ptr().cast::<u8>(), len) }
        };
        let d = kad::log_distances(&t, data);
        PyBytes::new_with(py, d.len() * 2, |out| {
            for (slot, v) in out.chunks_exact_mut(2).zip(&d) {
                slot.copy_from_slice(&v.to_ne_bytes());
            }
            Ok(())
        })
    })
}

/// The Kademlia routing table (IDs and IPs; the caller keeps node objects).
/// What `Table.add` did with a node.
#[pyclass(module = "peerwire._core.kad", name = "AddResult", eq, eq_int, frozen)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum AddResult {
    #[pyo3(name = "ADDED")]
    Added,
    #[pyo3(name = "UPDATED")]
    Updated,
    #[pyo3(name = "REPLACEMENT")]
    Replacement,
    #[pyo3(name = "REJECTED_OWN_ID")]
    RejectedOwnId,
    #[pyo3(name = "REJECTED_INVALID_IP")]
    RejectedInvalidIp,
    #[pyo3(name = "REJECTED_NOT_INITIALISED")]
    RejectedNotInitialised,
    #[pyo3(name = "REJECTED_IP_LIMIT")]
    RejectedIpLimit,
    #[pyo3(name = "REJECTED_OTHER")]
    RejectedOther,
}

impl AddResult {
    /// The core names its refusals with fixed texts; each maps to one member.
    fn rejected(why: &str) -> Self {
        match why {
            "own id" => AddResult::RejectedOwnId,
            "invalid ip" => AddResult::RejectedInvalidIp,
            "table not initialised" => AddResult::RejectedNotInitialised,
            "ip limit" => AddResult::RejectedIpLimit,
            _ => AddResult::RejectedOther,
        }
    }
}

#[pymethods]
impl AddResult {
    /// Whether the node is now in the table or its replacement list.
    #[getter]
    fn accepted(&self) -> bool {
        matches!(
            self,
            AddResult::Added | AddResult::Updated | AddResult::Replacement
        )
    }
}

#[pyclass(module = "peerwire._core.kad", name = "Table")]
pub(crate) struct PyTable {
    inner: table::Table,
}

fn ids_out(py: Python<'_>, ids: Vec<[u8; 32]>) -> Vec<Bound<'_, PyBytes>> {
    ids.iter().map(|i| PyBytes::new(py, i)).collect()
}

#[pymethods]
impl PyTable {
    #[new]
    #[pyo3(signature = (self_id, seed=0, bucket_size=16, max_replacements=10, bucket_ip_limit=2, table_ip_limit=10))]
    fn new(
        self_id: &[u8],
        seed: u64,
        bucket_size: usize,
        max_replacements: usize,
        bucket_ip_limit: usize,
        table_ip_limit: usize,
    ) -> PyResult<Self> {
        Ok(PyTable {
            inner: table::Table::with_limits(
                id32(self_id)?,
                seed,
                bucket_size,
                max_replacements,
                bucket_ip_limit,
                table_ip_limit,
            ),
        })
    }

    /// Add or update; the outcome as an `AddResult` member.
    #[pyo3(signature = (id, ip, now, inbound=false))]
    fn add(&mut self, id: &[u8], ip: &str, now: f64, inbound: bool) -> PyResult<AddResult> {
        Ok(match self.inner.add(id32(id)?, ip_of(ip)?, now, inbound) {
            table::AddResult::Added => AddResult::Added,
            table::AddResult::Updated => AddResult::Updated,
            table::AddResult::Replacement => AddResult::Replacement,
            table::AddResult::Rejected(why) => AddResult::rejected(why),
        })
    }

    fn remove<'py>(&mut self, py: Python<'py>, id: &[u8]) -> PyResult<Option<Bound<'py, PyBytes>>> {
        Ok(self.inner.remove(&id32(id)?).map(|r| PyBytes::new(py, &r)))
    }

    fn __contains__(&self, id: &[u8]) -> PyResult<bool> {
        Ok(self.inner.contains(&id32(id)?))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn bucket_index(&self, id: &[u8]) -> PyResult<Option<usize>> {
        Ok(self.inner.bucket_index(&id32(id)?))
    }

    fn nodes<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyBytes>> {
        ids_out(py, self.inner.nodes())
    }

    fn replacements<'py>(&self, py: Python<'py>, id: &[u8]) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        Ok(ids_out(py, self.inner.replacements(&id32(id)?)))
    }

    #[pyo3(signature = (target, k=16, prefer_live=false))]
    fn closest<'py>(
        &self,
        py: Python<'py>,
        target: &[u8],
        k: usize,
        prefer_live: bool,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        Ok(ids_out(
            py,
            self.inner.closest(&id32(target)?, k, prefer_live),
        ))
    }

    fn random_nodes<'py>(&mut self, py: Python<'py>, n: usize) -> Vec<Bound<'py, PyBytes>> {
        ids_out(py, self.inner.random_nodes(n))
    }

    fn liveness(&self, id: &[u8]) -> PyResult<Option<u32>> {
        Ok(self.inner.liveness(&id32(id)?))
    }

    fn mark_live(&mut self, id: &[u8]) -> PyResult<bool> {
        Ok(self.inner.mark_live(&id32(id)?))
    }

    fn mark_dead<'py>(
        &mut self,
        py: Python<'py>,
        id: &[u8],
    ) -> PyResult<(bool, Option<Bound<'py, PyBytes>>)> {
        let (removed, rep) = self.inner.mark_dead(&id32(id)?);
        Ok((removed, rep.map(|r| PyBytes::new(py, &r))))
    }

    fn due_revalidations<'py>(&mut self, py: Python<'py>, now: f64) -> Vec<Bound<'py, PyBytes>> {
        ids_out(py, self.inner.due_revalidations(now))
    }

    fn next_revalidation(&self) -> f64 {
        self.inner.next_revalidation()
    }

    fn refresh_due(&self, now: f64) -> bool {
        self.inner.refresh_due(now)
    }

    fn refresh_done(&mut self, now: f64) -> f64 {
        self.inner.refresh_done(now)
    }

    #[getter]
    fn init_done(&self) -> bool {
        self.inner.init_done()
    }

    #[getter]
    fn self_id<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.self_id())
    }
}

/// Is `ip` exempt from the table's IP limits (loopback, private, link-local)?
#[pyfunction]
fn is_lan(ip: &str) -> PyResult<bool> {
    Ok(table::is_lan(&ip_of(ip)?))
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AddResult>()?;
    m.add_function(wrap_pyfunction!(log_distance, m)?)?;
    m.add_function(wrap_pyfunction!(log_distances, m)?)?;
    m.add_function(wrap_pyfunction!(is_lan, m)?)?;
    m.add_class::<PyTable>()?;
    m.add("BUCKET_SIZE", table::BUCKET_SIZE)?;
    m.add("N_BUCKETS", table::N_BUCKETS)?;
    m.add("MAX_REPLACEMENTS", table::MAX_REPLACEMENTS)?;
    Ok(())
}
