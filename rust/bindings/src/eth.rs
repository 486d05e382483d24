//! The `eth` capability's codecs and fork IDs as `peerwire._core.eth`.
use peerwire_core::error::CoreError;
use peerwire_core::eth::{announce, forkid, genesis, header, messages, receipts_cells};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{guard, IntoPyResult};

type Py32 = [u8; 32];

fn h32(b: &[u8], what: &str) -> PyResult<Py32> {
    b.try_into()
        .map_err(|_| CoreError::local(format!("{what} must be 32 bytes")))
        .py_err()
}

fn h4(b: &[u8]) -> PyResult<[u8; 4]> {
    b.try_into()
        .map_err(|_| CoreError::local("fork hash must be 4 bytes"))
        .py_err()
}

fn bytes<'py>(py: Python<'py>, b: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, b)
}

/// EIP-2124 fork ID at (head, time): returns (hash, next).
#[pyfunction]
fn fork_id<'py>(
    py: Python<'py>,
    genesis_hash: &[u8],
    block_forks: Vec<u64>,
    time_forks: Vec<u64>,
    genesis_time: u64,
    head: u64,
    time: u64,
) -> PyResult<(Bound<'py, PyBytes>, u64)> {
    guard(|| {
        let forks = forkid::Forks::gather(&block_forks, &time_forks, genesis_time);
        let id = forkid::new_id(&h32(genesis_hash, "genesis hash")?, &forks, head, time);
        Ok((bytes(py, &id.hash), id.next))
    })
}

/// geth's forkid.Filter for one chain.
#[pyclass(module = "peerwire._core.eth", name = "ForkFilter", frozen)]
struct PyForkFilter {
    inner: forkid::ForkFilter,
}

#[pymethods]
impl PyForkFilter {
    #[new]
    fn new(
        genesis_hash: &[u8],
        block_forks: Vec<u64>,
        time_forks: Vec<u64>,
        genesis_time: u64,
    ) -> PyResult<Self> {
        let forks = forkid::Forks::gather(&block_forks, &time_forks, genesis_time);
        Ok(PyForkFilter {
            inner: forkid::ForkFilter::new(&h32(genesis_hash, "genesis hash")?, &forks),
        })
    }

    /// None when compatible, else geth's error text.
    fn validate(
        &self,
        hash: &[u8],
        next: u64,
        head: u64,
        time: u64,
    ) -> PyResult<Option<&'static str>> {
        let id = forkid::ForkId {
            hash: h4(hash)?,
            next,
        };
        Ok(self
            .inner
            .validate(&id, head, time)
            .err()
            .map(forkid::ForkIdError::message))
    }
}

#[pyfunction]
fn encode_enr_entry<'py>(py: Python<'py>, hash: &[u8], next: u64) -> PyResult<Bound<'py, PyBytes>> {
    let id = forkid::ForkId {
        hash: h4(hash)?,
        next,
    };
    Ok(bytes(py, &forkid::encode_enr_entry(&id)))
}

#[pyfunction]
fn decode_enr_entry<'py>(py: Python<'py>, data: &[u8]) -> PyResult<(Bound<'py, PyBytes>, u64)> {
    guard(|| {
        let id = forkid::decode_enr_entry(data).py_err()?;
        Ok((bytes(py, &id.hash), id.next))
    })
}

/// Genesis state root of (address, nonce, balance big-endian, code, [(slot, value)]).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn state_root<'py>(
    py: Python<'py>,
    accounts: Vec<(Vec<u8>, u64, Vec<u8>, Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>,
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let mut accs = Vec::with_capacity(accounts.len());
        for (address, nonce, balance, code, storage) in accounts {
            let address: [u8; 20] = address
                .as_slice()
                .try_into()
                .map_err(|_| CoreError::local("address must be 20 bytes"))
                .py_err()?;
            if balance.len() > 32 {
                return Err(CoreError::local("balance above 256 bits")).py_err();
            }
            let storage = storage
                .iter()
                .map(|(k, v)| Ok((h32(k, "storage key")?, h32(v, "storage value")?)))
                .collect::<PyResult<Vec<_>>>()?;
            accs.push(genesis::Account {
                address,
                nonce,
                balance,
                code,
                storage,
            });
        }
        Ok(bytes(py, &genesis::state_root(&accs)))
    })
}

/// A block header (types.Header); big integers are Python ints.
#[pyclass(module = "peerwire._core.eth", name = "Header", frozen)]
struct PyHeader {
    inner: header::Header,
    raw: Vec<u8>,
}

/// Minimal big-endian bytes of an integer (difficulty and base fee fit 128 bits in practice).
fn big_bytes(n: u128) -> Vec<u8> {
    let be = n.to_be_bytes();
    let skip = be.iter().take_while(|&&b| b == 0).count();
    be[skip..].to_vec()
}

fn to_int(b: &[u8]) -> u128 {
    b.iter().fold(0u128, |a, &x| (a << 8) | u128::from(x))
}

#[pymethods]
impl PyHeader {
    #[new]
    #[pyo3(signature = (*, parent_hash=None, coinbase=None, state_root=None, difficulty=0,
        number=0, gas_limit=0, gas_used=0, time=0, extra=vec![], mix_digest=None, nonce=0,
        base_fee=None, withdrawals_root=None, blob_gas_used=None, excess_blob_gas=None,
        parent_beacon_root=None, requests_hash=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        parent_hash: Option<Vec<u8>>,
        coinbase: Option<Vec<u8>>,
        state_root: Option<Vec<u8>>,
        difficulty: u128,
        number: u64,
        gas_limit: u64,
        gas_used: u64,
        time: u64,
        extra: Vec<u8>,
        mix_digest: Option<Vec<u8>>,
        nonce: u64,
        base_fee: Option<u128>,
        withdrawals_root: Option<Vec<u8>>,
        blob_gas_used: Option<u64>,
        excess_blob_gas: Option<u64>,
        parent_beacon_root: Option<Vec<u8>>,
        requests_hash: Option<Vec<u8>>,
    ) -> PyResult<Self> {
        let opt32 = |v: Option<Vec<u8>>, what: &str| v.map(|b| h32(&b, what)).transpose();
        let mut h = header::Header {
            difficulty: big_bytes(difficulty),
            number,
            gas_limit,
            gas_used,
            time,
            extra,
            nonce: nonce.to_be_bytes(),
            base_fee: base_fee.map(big_bytes),
            withdrawals_root: opt32(withdrawals_root, "withdrawals root")?,
            blob_gas_used,
            excess_blob_gas,
            parent_beacon_root: opt32(parent_beacon_root, "beacon root")?,
            requests_hash: opt32(requests_hash, "requests hash")?,
            ..header::Header::default()
        };
        if let Some(p) = opt32(parent_hash, "parent hash")? {
            h.parent_hash = p;
        }
        if let Some(r) = opt32(state_root, "state root")? {
            h.state_root = r;
        }
        if let Some(m) = opt32(mix_digest, "mix digest")? {
            h.mix_digest = m;
        }
        if let Some(c) = coinbase {
            h.coinbase = c
                .as_slice()
                .try_into()
                .map_err(|_| CoreError::local("coinbase must be 20 bytes"))
                .py_err()?;
        }
        let raw = h.encode();
        Ok(PyHeader { inner: h, raw })
    }

    /// Decode one header's RLP (the hash is keccak256 of exactly these bytes).
    #[staticmethod]
    fn decode(data: &[u8]) -> PyResult<Self> {
        guard(|| {
            Ok(PyHeader {
                inner: header::Header::decode(data).py_err()?,
                raw: data.to_vec(),
            })
        })
    }

    fn encode<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, &self.raw)
    }
    #[getter]
    fn hash<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, &peerwire_core::hash::keccak256(&self.raw))
    }
    #[getter]
    fn parent_hash<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, &self.inner.parent_hash)
    }
    #[getter]
    fn state_root<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, &self.inner.state_root)
    }
    #[getter]
    fn number(&self) -> u64 {
        self.inner.number
    }
    #[getter]
    fn time(&self) -> u64 {
        self.inner.time
    }
    #[getter]
    fn gas_limit(&self) -> u64 {
        self.inner.gas_limit
    }
    #[getter]
    fn difficulty(&self) -> u128 {
        to_int(&self.inner.difficulty)
    }
    #[getter]
    fn base_fee(&self) -> Option<u128> {
        self.inner.base_fee.as_deref().map(to_int)
    }
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, &self.inner.extra)
    }
}

/// A decoded Status (eth/68 fills td/head, eth/69+ the block range).
#[pyclass(module = "peerwire._core.eth", name = "Status", frozen, get_all)]
struct PyStatus {
    version: u32,
    network_id: u64,
    genesis: Vec<u8>,
    fork_hash: Vec<u8>,
    fork_next: u64,
    td: Vec<u8>,
    head: Vec<u8>,
    earliest: u64,
    latest: u64,
    latest_hash: Vec<u8>,
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn encode_status<'py>(
    py: Python<'py>,
    version: u32,
    network_id: u64,
    genesis: &[u8],
    fork_hash: &[u8],
    fork_next: u64,
    td: Vec<u8>,
    head: &[u8],
    earliest: u64,
    latest: u64,
    latest_hash: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let s = messages::Status {
        version,
        network_id,
        genesis: h32(genesis, "genesis")?,
        fork_id: forkid::ForkId {
            hash: h4(fork_hash)?,
            next: fork_next,
        },
        td,
        head: h32(head, "head")?,
        earliest,
        latest,
        latest_hash: h32(latest_hash, "latest hash")?,
    };
    Ok(bytes(py, &s.encode()))
}

#[pyfunction]
fn decode_status(version: u32, data: &[u8]) -> PyResult<PyStatus> {
    guard(|| {
        let s = messages::Status::decode(version, data).py_err()?;
        Ok(PyStatus {
            version: s.version,
            network_id: s.network_id,
            genesis: s.genesis.to_vec(),
            fork_hash: s.fork_id.hash.to_vec(),
            fork_next: s.fork_id.next,
            td: s.td,
            head: s.head.to_vec(),
            earliest: s.earliest,
            latest: s.latest,
            latest_hash: s.latest_hash.to_vec(),
        })
    })
}

/// (request_id, origin as int or 32 bytes, amount, skip, reverse).
#[pyfunction]
fn decode_get_block_headers(
    py: Python<'_>,
    data: &[u8],
) -> PyResult<(u64, Py<PyAny>, u64, u64, bool)> {
    guard(|| {
        let q = messages::GetBlockHeaders::decode(data).py_err()?;
        let origin = match q.origin {
            messages::Origin::Hash(h) => bytes(py, &h).into_any().unbind(),
            messages::Origin::Number(n) => n.into_pyobject(py)?.into_any().unbind(),
        };
        Ok((q.request_id, origin, q.amount, q.skip, q.reverse))
    })
}

#[pyfunction]
fn encode_get_block_headers<'py>(
    py: Python<'py>,
    request_id: u64,
    origin: &Bound<'py, PyAny>,
    amount: u64,
    skip: u64,
    reverse: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let origin = if let Ok(b) = origin.cast::<PyBytes>() {
        messages::Origin::Hash(h32(b.as_bytes(), "origin hash")?)
    } else {
        messages::Origin::Number(origin.extract()?)
    };
    let q = messages::GetBlockHeaders {
        request_id,
        origin,
        amount,
        skip,
        reverse,
    };
    Ok(bytes(py, &q.encode()))
}

#[pyfunction]
fn decode_id_and_raw_list<'py>(
    py: Python<'py>,
    data: &[u8],
    limit: usize,
) -> PyResult<(u64, Vec<Bound<'py, PyBytes>>)> {
    guard(|| {
        let (id, items) = messages::decode_id_and_raw_list(data, limit).py_err()?;
        Ok((id, items.into_iter().map(|i| bytes(py, i)).collect()))
    })
}

#[pyfunction]
fn encode_id_and_raw_list<'py>(
    py: Python<'py>,
    request_id: u64,
    items: Vec<Vec<u8>>,
) -> Bound<'py, PyBytes> {
    let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
    bytes(py, &messages::encode_id_and_raw_list(request_id, &refs))
}

#[pyfunction]
fn decode_hash_request<'py>(
    py: Python<'py>,
    data: &[u8],
    limit: usize,
) -> PyResult<(u64, Vec<Bound<'py, PyBytes>>)> {
    guard(|| {
        let (id, hashes) = messages::decode_hash_request(data, limit).py_err()?;
        Ok((id, hashes.iter().map(|h| bytes(py, h)).collect()))
    })
}

#[pyfunction]
fn encode_hash_request<'py>(
    py: Python<'py>,
    request_id: u64,
    hashes: Vec<Vec<u8>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let hs = hashes
        .iter()
        .map(|h| h32(h, "hash"))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(bytes(py, &messages::encode_hash_request(request_id, &hs)))
}

#[pyfunction]
fn decode_block_range<'py>(
    py: Python<'py>,
    data: &[u8],
) -> PyResult<(u64, u64, Bound<'py, PyBytes>)> {
    guard(|| {
        let (e, l, h) = messages::decode_block_range(data).py_err()?;
        Ok((e, l, bytes(py, &h)))
    })
}

#[pyfunction]
fn encode_block_range<'py>(
    py: Python<'py>,
    earliest: u64,
    latest: u64,
    latest_hash: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(bytes(
        py,
        &messages::encode_block_range(earliest, latest, &h32(latest_hash, "latest hash")?),
    ))
}

/// None when valid, else geth's reason.
#[pyfunction]
fn validate_block_range(
    earliest: u64,
    latest: u64,
    latest_hash: &[u8],
) -> PyResult<Option<&'static str>> {
    Ok(messages::validate_block_range(earliest, latest, &h32(latest_hash, "latest hash")?).err())
}

/// NewPooledTransactionHashes: (types, sizes, hashes, eth/72 mask as raw RLP or None).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn decode_tx_announcement<'py>(
    py: Python<'py>,
    version: u32,
    data: &[u8],
) -> PyResult<(
    Bound<'py, PyBytes>,
    Vec<u32>,
    Vec<Bound<'py, PyBytes>>,
    Option<Bound<'py, PyBytes>>,
)> {
    guard(|| {
        let a = announce::TxAnnouncement::decode(version, data).py_err()?;
        Ok((
            bytes(py, &a.types),
            a.sizes,
            a.hashes.iter().map(|h| bytes(py, h)).collect(),
            a.mask.as_deref().map(|m| bytes(py, m)),
        ))
    })
}

/// eth/68 NewBlockHashes: [(hash, number)].
#[pyfunction]
fn decode_new_block_hashes<'py>(
    py: Python<'py>,
    data: &[u8],
) -> PyResult<Vec<(Bound<'py, PyBytes>, u64)>> {
    guard(|| {
        let l = announce::decode_new_block_hashes(data).py_err()?;
        Ok(l.iter().map(|(h, n)| (bytes(py, h), *n)).collect())
    })
}

/// eth/70+ GetReceipts: (request_id, first_block_receipt_index, hashes).
#[pyfunction]
fn decode_get_receipts70<'py>(
    py: Python<'py>,
    data: &[u8],
    limit: usize,
) -> PyResult<(u64, u64, Vec<Bound<'py, PyBytes>>)> {
    guard(|| {
        let (id, first, hashes) = receipts_cells::decode_get_receipts70(data, limit).py_err()?;
        Ok((id, first, hashes.iter().map(|h| bytes(py, h)).collect()))
    })
}

#[pyfunction]
fn encode_receipts70<'py>(
    py: Python<'py>,
    request_id: u64,
    last_incomplete: bool,
    items: Vec<Vec<u8>>,
) -> Bound<'py, PyBytes> {
    let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
    bytes(
        py,
        &receipts_cells::encode_receipts70(request_id, last_incomplete, &refs),
    )
}

/// eth/72 GetCells: (request_id, hashes, custody mask).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn decode_get_cells<'py>(
    py: Python<'py>,
    data: &[u8],
    limit: usize,
) -> PyResult<(u64, Vec<Bound<'py, PyBytes>>, Bound<'py, PyBytes>)> {
    guard(|| {
        let (id, hashes, mask) = receipts_cells::decode_get_cells(data, limit).py_err()?;
        Ok((
            id,
            hashes.iter().map(|h| bytes(py, h)).collect(),
            bytes(py, &mask),
        ))
    })
}

#[pyfunction]
fn encode_cells<'py>(
    py: Python<'py>,
    request_id: u64,
    hashes: Vec<Vec<u8>>,
    cell_lists: Vec<Vec<u8>>,
    mask: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let hs = hashes
        .iter()
        .map(|h| h32(h, "hash"))
        .collect::<PyResult<Vec<_>>>()?;
    let mask: [u8; receipts_cells::CUSTODY_BITMAP_SIZE] = mask
        .try_into()
        .map_err(|_| CoreError::local("custody mask must be 16 bytes"))
        .py_err()?;
    let refs: Vec<&[u8]> = cell_lists.iter().map(Vec::as_slice).collect();
    Ok(bytes(
        py,
        &receipts_cells::encode_cells(request_id, &hs, &refs, &mask),
    ))
}

#[pyfunction]
fn protocol_length(version: u32) -> Option<u64> {
    messages::protocol_length(version)
}

#[pyfunction]
fn code_allowed(version: u32, code: u64) -> bool {
    messages::code_allowed(version, code)
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyForkFilter>()?;
    m.add_class::<PyHeader>()?;
    m.add_class::<PyStatus>()?;
    m.add_function(wrap_pyfunction!(fork_id, m)?)?;
    m.add_function(wrap_pyfunction!(encode_enr_entry, m)?)?;
    m.add_function(wrap_pyfunction!(decode_enr_entry, m)?)?;
    m.add_function(wrap_pyfunction!(state_root, m)?)?;
    m.add_function(wrap_pyfunction!(encode_status, m)?)?;
    m.add_function(wrap_pyfunction!(decode_status, m)?)?;
    m.add_function(wrap_pyfunction!(decode_get_block_headers, m)?)?;
    m.add_function(wrap_pyfunction!(encode_get_block_headers, m)?)?;
    m.add_function(wrap_pyfunction!(decode_id_and_raw_list, m)?)?;
    m.add_function(wrap_pyfunction!(encode_id_and_raw_list, m)?)?;
    m.add_function(wrap_pyfunction!(decode_hash_request, m)?)?;
    m.add_function(wrap_pyfunction!(encode_hash_request, m)?)?;
    m.add_function(wrap_pyfunction!(decode_block_range, m)?)?;
    m.add_function(wrap_pyfunction!(encode_block_range, m)?)?;
    m.add_function(wrap_pyfunction!(validate_block_range, m)?)?;
    m.add_function(wrap_pyfunction!(decode_tx_announcement, m)?)?;
    m.add_function(wrap_pyfunction!(decode_new_block_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(decode_get_receipts70, m)?)?;
    m.add_function(wrap_pyfunction!(encode_receipts70, m)?)?;
    m.add_function(wrap_pyfunction!(decode_get_cells, m)?)?;
    m.add_function(wrap_pyfunction!(encode_cells, m)?)?;
    m.add_function(wrap_pyfunction!(protocol_length, m)?)?;
    m.add_function(wrap_pyfunction!(code_allowed, m)?)?;
    m.add("MAX_MESSAGE_SIZE", messages::MAX_MESSAGE_SIZE)?;
    m.add("SOFT_RESPONSE_LIMIT", messages::SOFT_RESPONSE_LIMIT)?;
    m.add("MAX_HEADERS_SERVE", messages::MAX_HEADERS_SERVE)?;
    m.add("MAX_BODIES_SERVE", messages::MAX_BODIES_SERVE)?;
    m.add("MAX_RECEIPTS_SERVE", messages::MAX_RECEIPTS_SERVE)?;
    m.add("MAX_LIST_ITEMS", messages::MAX_LIST_ITEMS)?;
    Ok(())
}
