//! `peerwire._core.tm2_consensus`: the bft reactor message codecs (consensus,
//! mempool, blockchain). A decoded message crosses as `(type_name, dict)`;
//! encoding takes the same dict back, so every decode round-trips.
use peerwire_core::tm2::consensus::{self, ConsensusMessage};
use peerwire_core::tm2::consensus_chain::{self as chain, BlockchainMessage, MempoolTx};
use peerwire_core::tm2::consensus_types::*;
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::errors::{guard, IntoPyResult};

// ------------------------------------------------------------------ to Python

fn ts<'py>(py: Python<'py>, t: &Timestamp) -> PyResult<Bound<'py, PyAny>> {
    Ok((t.seconds, t.nanos).into_pyobject(py)?.into_any())
}

fn psh<'py>(py: Python<'py>, p: &PartSetHeader) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("total", p.total)?;
    d.set_item("hash", PyBytes::new(py, &p.hash))?;
    Ok(d)
}

fn bid<'py>(py: Python<'py>, b: &BlockId) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("hash", PyBytes::new(py, &b.hash))?;
    d.set_item("parts", psh(py, &b.parts)?)?;
    Ok(d)
}

fn bits<'py>(py: Python<'py>, b: &BitArray) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("bits", b.bits)?;
    d.set_item("elems", b.elems.clone())?;
    Ok(d)
}

fn vote_dict<'py>(py: Python<'py>, v: &Vote) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("type", v.msg_type)?;
    d.set_item("height", v.height)?;
    d.set_item("round", v.round)?;
    d.set_item("block_id", bid(py, &v.block_id)?)?;
    d.set_item("timestamp", ts(py, &v.timestamp)?)?;
    d.set_item("validator_address", &v.validator_address)?;
    d.set_item("validator_index", v.validator_index)?;
    d.set_item("signature", PyBytes::new(py, &v.signature))?;
    Ok(d)
}

fn consensus_dict<'py>(py: Python<'py>, m: &ConsensusMessage) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match m {
        ConsensusMessage::NewRoundStep {
            height,
            round,
            step,
            seconds_since_start_time,
            last_commit_round,
        } => {
            d.set_item("height", height)?;
            d.set_item("round", round)?;
            d.set_item("step", step)?;
            d.set_item("seconds_since_start_time", seconds_since_start_time)?;
            d.set_item("last_commit_round", last_commit_round)?;
        }
        ConsensusMessage::NewValidBlock {
            height,
            round,
            block_parts_header,
            block_parts,
            is_commit,
        } => {
            d.set_item("height", height)?;
            d.set_item("round", round)?;
            d.set_item("block_parts_header", psh(py, block_parts_header)?)?;
            d.set_item("block_parts", bits(py, block_parts)?)?;
            d.set_item("is_commit", is_commit)?;
        }
        ConsensusMessage::Proposal(p) => {
            d.set_item("type", p.msg_type)?;
            d.set_item("height", p.height)?;
            d.set_item("round", p.round)?;
            d.set_item("pol_round", p.pol_round)?;
            d.set_item("block_id", bid(py, &p.block_id)?)?;
            d.set_item("timestamp", ts(py, &p.timestamp)?)?;
            d.set_item("signature", PyBytes::new(py, &p.signature))?;
        }
        ConsensusMessage::ProposalPol {
            height,
            proposal_pol_round,
            proposal_pol,
        } => {
            d.set_item("height", height)?;
            d.set_item("proposal_pol_round", proposal_pol_round)?;
            d.set_item("proposal_pol", bits(py, proposal_pol)?)?;
        }
        ConsensusMessage::BlockPart {
            height,
            round,
            part,
        } => {
            d.set_item("height", height)?;
            d.set_item("round", round)?;
            d.set_item("index", part.index)?;
            d.set_item("bytes", PyBytes::new(py, &part.bytes))?;
            d.set_item("proof_total", part.proof.total)?;
            d.set_item("proof_index", part.proof.index)?;
            d.set_item("leaf_hash", PyBytes::new(py, &part.proof.leaf_hash))?;
            let aunts: Vec<Bound<'py, PyBytes>> = part
                .proof
                .aunts
                .iter()
                .map(|a| PyBytes::new(py, a))
                .collect();
            d.set_item("aunts", aunts)?;
        }
        ConsensusMessage::Vote(v) => return vote_dict(py, v),
        ConsensusMessage::HasVote {
            height,
            round,
            vote_type,
            index,
        } => {
            d.set_item("height", height)?;
            d.set_item("round", round)?;
            d.set_item("type", vote_type)?;
            d.set_item("index", index)?;
        }
        ConsensusMessage::VoteSetMaj23 {
            height,
            round,
            vote_type,
            block_id,
        } => {
            d.set_item("height", height)?;
            d.set_item("round", round)?;
            d.set_item("type", vote_type)?;
            d.set_item("block_id", bid(py, block_id)?)?;
        }
        ConsensusMessage::VoteSetBits {
            height,
            round,
            vote_type,
            block_id,
            votes,
        } => {
            d.set_item("height", height)?;
            d.set_item("round", round)?;
            d.set_item("type", vote_type)?;
            d.set_item("block_id", bid(py, block_id)?)?;
            d.set_item("votes", bits(py, votes)?)?;
        }
    }
    Ok(d)
}

// ---------------------------------------------------------------- from Python

fn get<'py, T>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<T>
where
    T: pyo3::conversion::FromPyObjectOwned<'py>,
    for<'a> <T as FromPyObject<'a, 'py>>::Error: Into<PyErr>,
{
    d.get_item(key)?
        .ok_or_else(|| PyKeyError::new_err(key.to_owned()))?
        .extract()
        .map_err(Into::into)
}

fn get_dict<'py>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyDict>> {
    Ok(d.get_item(key)?
        .ok_or_else(|| PyKeyError::new_err(key.to_owned()))?
        .cast_into::<PyDict>()?)
}

fn to_psh(d: &Bound<'_, PyDict>) -> PyResult<PartSetHeader> {
    Ok(PartSetHeader {
        total: get(d, "total")?,
        hash: get(d, "hash")?,
    })
}

fn to_bid(d: &Bound<'_, PyDict>) -> PyResult<BlockId> {
    Ok(BlockId {
        hash: get(d, "hash")?,
        parts: to_psh(&get_dict(d, "parts")?)?,
    })
}

fn to_bits(d: &Bound<'_, PyDict>) -> PyResult<BitArray> {
    Ok(BitArray {
        bits: get(d, "bits")?,
        elems: get(d, "elems")?,
    })
}

fn to_ts(d: &Bound<'_, PyDict>) -> PyResult<Timestamp> {
    let (seconds, nanos): (i64, i32) = get(d, "timestamp")?;
    Ok(Timestamp { seconds, nanos })
}

fn to_vote(d: &Bound<'_, PyDict>) -> PyResult<Vote> {
    Ok(Vote {
        msg_type: get(d, "type")?,
        height: get(d, "height")?,
        round: get(d, "round")?,
        block_id: to_bid(&get_dict(d, "block_id")?)?,
        timestamp: to_ts(d)?,
        validator_address: get(d, "validator_address")?,
        validator_index: get(d, "validator_index")?,
        signature: get(d, "signature")?,
    })
}

fn to_consensus(name: &str, d: &Bound<'_, PyDict>) -> PyResult<ConsensusMessage> {
    let hr = || -> PyResult<(i64, i64)> { Ok((get(d, "height")?, get(d, "round")?)) };
    Ok(match name {
        "NewRoundStepMessage" => ConsensusMessage::NewRoundStep {
            height: get(d, "height")?,
            round: get(d, "round")?,
            step: get(d, "step")?,
            seconds_since_start_time: get(d, "seconds_since_start_time")?,
            last_commit_round: get(d, "last_commit_round")?,
        },
        "NewValidBlockMessage" => ConsensusMessage::NewValidBlock {
            height: get(d, "height")?,
            round: get(d, "round")?,
            block_parts_header: to_psh(&get_dict(d, "block_parts_header")?)?,
            block_parts: to_bits(&get_dict(d, "block_parts")?)?,
            is_commit: get(d, "is_commit")?,
        },
        "ProposalMessage" => ConsensusMessage::Proposal(Proposal {
            msg_type: get(d, "type")?,
            height: get(d, "height")?,
            round: get(d, "round")?,
            pol_round: get(d, "pol_round")?,
            block_id: to_bid(&get_dict(d, "block_id")?)?,
            timestamp: to_ts(d)?,
            signature: get(d, "signature")?,
        }),
        "ProposalPOLMessage" => ConsensusMessage::ProposalPol {
            height: get(d, "height")?,
            proposal_pol_round: get(d, "proposal_pol_round")?,
            proposal_pol: to_bits(&get_dict(d, "proposal_pol")?)?,
        },
        "BlockPartMessage" => {
            let (height, round) = hr()?;
            ConsensusMessage::BlockPart {
                height,
                round,
                part: Part {
                    index: get(d, "index")?,
                    bytes: get(d, "bytes")?,
                    proof: SimpleProof {
                        total: get(d, "proof_total")?,
                        index: get(d, "proof_index")?,
                        leaf_hash: get(d, "leaf_hash")?,
                        aunts: get(d, "aunts")?,
                    },
                },
            }
        }
        "VoteMessage" => ConsensusMessage::Vote(to_vote(d)?),
        "HasVoteMessage" => {
            let (height, round) = hr()?;
            ConsensusMessage::HasVote {
                height,
                round,
                vote_type: get(d, "type")?,
                index: get(d, "index")?,
            }
        }
        "VoteSetMaj23Message" => {
            let (height, round) = hr()?;
            ConsensusMessage::VoteSetMaj23 {
                height,
                round,
                vote_type: get(d, "type")?,
                block_id: to_bid(&get_dict(d, "block_id")?)?,
            }
        }
        "VoteSetBitsMessage" => {
            let (height, round) = hr()?;
            ConsensusMessage::VoteSetBits {
                height,
                round,
                vote_type: get(d, "type")?,
                block_id: to_bid(&get_dict(d, "block_id")?)?,
                votes: to_bits(&get_dict(d, "votes")?)?,
            }
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown consensus message type {other:?}"
            )))
        }
    })
}

// ------------------------------------------------------------------ functions

/// Decode a consensus-channel message: `(type name, fields)`.
#[pyfunction]
fn decode_consensus<'py>(
    py: Python<'py>,
    bz: &[u8],
) -> PyResult<(&'static str, Bound<'py, PyDict>)> {
    guard(|| {
        let m = consensus::decode(bz).py_err()?;
        Ok((m.type_name(), consensus_dict(py, &m)?))
    })
}

/// Encode a consensus message from the dict `decode_consensus` returns (no validation).
#[pyfunction]
fn encode_consensus<'py>(
    py: Python<'py>,
    name: &str,
    fields: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let m = to_consensus(name, fields)?;
        Ok(PyBytes::new(py, &consensus::encode(&m)))
    })
}

/// Decode a mempool-channel message: the tx bytes.
#[pyfunction]
fn decode_mempool<'py>(py: Python<'py>, bz: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| Ok(PyBytes::new(py, &chain::decode_mempool(bz).py_err()?.0)))
}

/// `/tm.TxMessage` carrying `tx`.
#[pyfunction]
fn encode_mempool<'py>(py: Python<'py>, tx: Vec<u8>) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &chain::encode_mempool(&MempoolTx(tx)))
}

fn block_dict<'py>(py: Python<'py>, b: &chain::Block) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let h = &b.header;
    d.set_item("height", h.height)?;
    d.set_item("chain_id", &h.chain_id)?;
    d.set_item("time", ts(py, &h.time)?)?;
    d.set_item("num_txs", h.num_txs)?;
    d.set_item("total_txs", h.total_txs)?;
    d.set_item("app_version", &h.app_version)?;
    d.set_item("last_block_id", bid(py, &h.last_block_id)?)?;
    d.set_item("app_hash", PyBytes::new(py, &h.hashes[5]))?;
    d.set_item("proposer_address", &h.proposer_address)?;
    let txs: Vec<Bound<'py, PyBytes>> = b.txs.iter().map(|t| PyBytes::new(py, t)).collect();
    d.set_item("txs", txs)?;
    d.set_item("last_commit_block_id", bid(py, &b.last_commit_block_id)?)?;
    let commits = PyList::empty(py);
    for c in &b.last_commit {
        match c {
            Some(v) => commits.append(vote_dict(py, v)?)?,
            None => commits.append(py.None())?,
        }
    }
    d.set_item("last_commit", commits)?;
    Ok(d)
}

/// Decode a blockchain-channel message: `(type name, fields)`.
#[pyfunction]
fn decode_blockchain<'py>(
    py: Python<'py>,
    bz: &[u8],
) -> PyResult<(&'static str, Bound<'py, PyDict>)> {
    guard(|| {
        let m = chain::decode_blockchain(bz).py_err()?;
        let d = match &m {
            BlockchainMessage::BlockResponse(b) => block_dict(py, b)?,
            BlockchainMessage::BlockRequest { height }
            | BlockchainMessage::NoBlockResponse { height }
            | BlockchainMessage::StatusRequest { height }
            | BlockchainMessage::StatusResponse { height } => {
                let d = PyDict::new(py);
                d.set_item("height", height)?;
                d
            }
        };
        Ok((m.type_name(), d))
    })
}

/// Decode a block from its joined proposal parts (`amino.MarshalSized(block)`).
#[pyfunction]
fn decode_part_set_block<'py>(py: Python<'py>, bz: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let (body, _) = peerwire_core::tm2::amino::take_sized(bz, chain::MAX_BLOCKCHAIN_MSG_SIZE)
            .py_err()?
            .ok_or_else(|| crate::errors::DecodeError::new_err("incomplete block"))?;
        block_dict(py, &chain::Block::decode(body).py_err()?)
    })
}

/// Encode a height-only blockchain message (`BlockRequest`, `NoBlockResponse`,
/// `StatusRequest`, `StatusResponse`).
#[pyfunction]
fn encode_blockchain<'py>(
    py: Python<'py>,
    name: &str,
    height: i64,
) -> PyResult<Bound<'py, PyBytes>> {
    let m = match name {
        "BlockRequest" => BlockchainMessage::BlockRequest { height },
        "NoBlockResponse" => BlockchainMessage::NoBlockResponse { height },
        "StatusRequest" => BlockchainMessage::StatusRequest { height },
        "StatusResponse" => BlockchainMessage::StatusResponse { height },
        other => {
            return Err(PyValueError::new_err(format!(
                "not a height-only blockchain message: {other:?}"
            )))
        }
    };
    Ok(PyBytes::new(py, &chain::encode_blockchain(&m)))
}

pub(crate) fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_consensus, m)?)?;
    m.add_function(wrap_pyfunction!(encode_consensus, m)?)?;
    m.add_function(wrap_pyfunction!(decode_mempool, m)?)?;
    m.add_function(wrap_pyfunction!(encode_mempool, m)?)?;
    m.add_function(wrap_pyfunction!(decode_blockchain, m)?)?;
    m.add_function(wrap_pyfunction!(encode_blockchain, m)?)?;
    m.add_function(wrap_pyfunction!(decode_part_set_block, m)?)?;
    m.add("STATE_CHANNEL", consensus::STATE_CHANNEL)?;
    m.add("DATA_CHANNEL", consensus::DATA_CHANNEL)?;
    m.add("VOTE_CHANNEL", consensus::VOTE_CHANNEL)?;
    m.add("VOTE_SET_BITS_CHANNEL", consensus::VOTE_SET_BITS_CHANNEL)?;
    m.add("MEMPOOL_CHANNEL", chain::MEMPOOL_CHANNEL)?;
    m.add("BLOCKCHAIN_CHANNEL", chain::BLOCKCHAIN_CHANNEL)?;
    m.add("MAX_CONSENSUS_MSG_SIZE", consensus::MAX_CONSENSUS_MSG_SIZE)?;
    m.add("MAX_BLOCKCHAIN_MSG_SIZE", chain::MAX_BLOCKCHAIN_MSG_SIZE)?;
    m.add("MAX_TX_BYTES", chain::MAX_TX_BYTES)?;
    m.add("BLOCK_PART_SIZE_BYTES", BLOCK_PART_SIZE_BYTES)?;
    m.add("MAX_VOTES_COUNT", MAX_VOTES_COUNT)?;
    m.add("MAX_BLOCK_PARTS_COUNT", MAX_BLOCK_PARTS_COUNT)?;
    Ok(())
}
