//! Mempool (channel 0x30, gno v1.7.1 `tm2/pkg/bft/mempool`) and blockchain
//! (channel 0x40, `tm2/pkg/bft/blockchain`) messages, amino package `tm`:
//! `/tm.TxMessage`, `/tm.BlockRequest`, `/tm.BlockResponse`,
//! `/tm.NoBlockResponse`, `/tm.StatusRequest`, `/tm.StatusResponse`.
use super::amino::{any, decode_any, Fields};
use super::consensus::{tm_name, TM_PREFIX};
use super::consensus_types::{
    invalid, put_sint, put_struct, sint, unknown, BlockId, Timestamp, Vote, MAX_ADDRESS_LEN,
    MAX_VOTES_COUNT,
};
use crate::error::CoreResult;

pub const MEMPOOL_CHANNEL: u8 = 0x30;
pub const BLOCKCHAIN_CHANNEL: u8 = 0x40;

/// gno's mempool `MaxTxBytes` default (1 MiB): a larger TxMessage cannot be
/// admitted by any default-configured node, so we refuse to buffer it.
pub const MAX_TX_BYTES: usize = 1_048_576;
/// `types.MaxBlockDataBytesLimit` (8 MiB) + `maxBlockMsgOverhead` (64 KiB):
/// gno's blockchain `maxMsgSize`, the largest block response any chain sends.
pub const MAX_BLOCKCHAIN_MSG_SIZE: usize = (8 << 20) + (64 << 10);
/// gno's `maxSmallMsgSize`: every blockchain message but a block response
/// carries one height and fits in 64 bytes.
pub const MAX_SMALL_BLOCKCHAIN_MSG_SIZE: usize = 64;
/// Bound on txs decoded out of one block: each costs at least 2 bytes on the
/// wire, so this is implied by the message size; it caps the Vec growth.
pub const MAX_TXS_PER_BLOCK: usize = MAX_BLOCKCHAIN_MSG_SIZE / 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MempoolTx(pub Vec<u8>);

/// Decode a `/tm.TxMessage` from the mempool channel.
pub fn decode_mempool(bz: &[u8]) -> CoreResult<MempoolTx> {
    if bz.len() > MAX_TX_BYTES + 64 {
        return Err(invalid(format!(
            "mempool message of {} bytes exceeds {MAX_TX_BYTES} + envelope",
            bz.len()
        )));
    }
    let (full, value) = decode_any(bz)?;
    let name = tm_name(full)?;
    if name != "TxMessage" {
        return Err(invalid(format!("unknown mempool message type {name:?}")));
    }
    let mut tx = Vec::new();
    let mut f = Fields::new(value);
    while let Some((num, v)) = f.next_field()? {
        match num {
            1 => tx = v.bytes("TxMessage.tx")?.to_vec(),
            n => return Err(unknown(n, "TxMessage")),
        }
    }
    if tx.is_empty() {
        return Err(invalid("empty tx"));
    }
    Ok(MempoolTx(tx))
}

pub fn encode_mempool(tx: &MempoolTx) -> Vec<u8> {
    let mut b = Vec::new();
    super::amino::put_bytes_field(&mut b, 1, &tx.0);
    any(&format!("{TM_PREFIX}TxMessage"), &b)
}

/// The block header fields an observer needs (`types.Header`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub version: String,
    pub chain_id: String,
    pub height: i64,
    pub time: Timestamp,
    pub num_txs: i64,
    pub total_txs: i64,
    pub app_version: String,
    pub last_block_id: BlockId,
    /// fields 9..=15 in order: last_commit, data, validators, next_validators,
    /// consensus, app, last_results hashes.
    pub hashes: [Vec<u8>; 7],
    pub proposer_address: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Block {
    pub header: Header,
    pub txs: Vec<Vec<u8>>,
    pub last_commit_block_id: BlockId,
    /// precommits in validator order; `None` for an absent vote.
    pub last_commit: Vec<Option<Vote>>,
}

fn short_string(v: super::amino::Value<'_>, what: &str) -> CoreResult<String> {
    let s = v.string(what)?;
    if s.len() > MAX_ADDRESS_LEN * 4 {
        return Err(invalid(format!("{what}: too long")));
    }
    Ok(s.to_owned())
}

impl Header {
    fn decode(body: &[u8]) -> CoreResult<Self> {
        let mut h = Header::default();
        let mut f = Fields::new(body);
        while let Some((num, v)) = f.next_field()? {
            match num {
                1 => h.version = short_string(v, "Header.version")?,
                2 => h.chain_id = short_string(v, "Header.chain_id")?,
                3 => h.height = sint(v, "Header.height")?,
                4 => h.time = Timestamp::decode(v.bytes("Header.time")?)?,
                5 => h.num_txs = sint(v, "Header.num_txs")?,
                6 => h.total_txs = sint(v, "Header.total_txs")?,
                7 => h.app_version = short_string(v, "Header.app_version")?,
                8 => h.last_block_id = BlockId::decode(v.bytes("Header.last_block_id")?)?,
                9..=15 => h.hashes[(num - 9) as usize] = v.bytes("Header hash")?.to_vec(),
                16 => h.proposer_address = short_string(v, "Header.proposer_address")?,
                n => return Err(unknown(n, "Header")),
            }
        }
        if h.height < 0 {
            return Err(invalid(format!("negative block height {}", h.height)));
        }
        Ok(h)
    }
}

impl Block {
    pub fn decode(body: &[u8]) -> CoreResult<Self> {
        let mut b = Block::default();
        let mut f = Fields::new(body);
        while let Some((num, v)) = f.next_field()? {
            match num {
                1 => b.header = Header::decode(v.bytes("Block.header")?)?,
                2 => {
                    let mut d = Fields::with_repeated(v.bytes("Block.data")?, &[1]);
                    while let Some((n, tv)) = d.next_field()? {
                        if n != 1 {
                            return Err(unknown(n, "Data"));
                        }
                        if b.txs.len() >= MAX_TXS_PER_BLOCK {
                            return Err(invalid("too many txs in block"));
                        }
                        b.txs.push(tv.bytes("Data.txs")?.to_vec());
                    }
                }
                3 => {
                    let mut c = Fields::with_repeated(v.bytes("Block.last_commit")?, &[2]);
                    while let Some((n, cv)) = c.next_field()? {
                        match n {
                            1 => {
                                b.last_commit_block_id =
                                    BlockId::decode(cv.bytes("Commit.block_id")?)?
                            }
                            2 => {
                                if b.last_commit.len() as i64 >= MAX_VOTES_COUNT {
                                    return Err(invalid(
                                        "commit has more precommits than validators can exist",
                                    ));
                                }
                                let body = cv.bytes("Commit.precommits")?;
                                b.last_commit.push(if body.is_empty() {
                                    None
                                } else {
                                    Some(Vote::decode_raw(body)?)
                                });
                            }
                            n => return Err(unknown(n, "Commit")),
                        }
                    }
                }
                n => return Err(unknown(n, "Block")),
            }
        }
        Ok(b)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockchainMessage {
    BlockRequest { height: i64 },
    BlockResponse(Box<Block>),
    NoBlockResponse { height: i64 },
    StatusRequest { height: i64 },
    StatusResponse { height: i64 },
}

impl BlockchainMessage {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::BlockRequest { .. } => "BlockRequest",
            Self::BlockResponse(_) => "BlockResponse",
            Self::NoBlockResponse { .. } => "NoBlockResponse",
            Self::StatusRequest { .. } => "StatusRequest",
            Self::StatusResponse { .. } => "StatusResponse",
        }
    }
}

fn height_only(value: &[u8], what: &str) -> CoreResult<i64> {
    let mut height = 0;
    let mut f = Fields::new(value);
    while let Some((num, v)) = f.next_field()? {
        match num {
            1 => height = sint(v, "height")?,
            n => return Err(unknown(n, what)),
        }
    }
    if height < 0 {
        return Err(invalid(format!("{what}: negative height {height}")));
    }
    Ok(height)
}

/// Decode a blockchain-channel message.
pub fn decode_blockchain(bz: &[u8]) -> CoreResult<BlockchainMessage> {
    if bz.len() > MAX_BLOCKCHAIN_MSG_SIZE {
        return Err(invalid(format!(
            "msg exceeds max size ({} > {MAX_BLOCKCHAIN_MSG_SIZE})",
            bz.len()
        )));
    }
    let (full, value) = decode_any(bz)?;
    let name = tm_name(full)?;
    if name != "BlockResponse" && bz.len() > MAX_SMALL_BLOCKCHAIN_MSG_SIZE {
        return Err(invalid(format!(
            "{name} of {} bytes exceeds {MAX_SMALL_BLOCKCHAIN_MSG_SIZE}",
            bz.len()
        )));
    }
    Ok(match name {
        "BlockRequest" => BlockchainMessage::BlockRequest {
            height: height_only(value, name)?,
        },
        "NoBlockResponse" => BlockchainMessage::NoBlockResponse {
            height: height_only(value, name)?,
        },
        "StatusRequest" => BlockchainMessage::StatusRequest {
            height: height_only(value, name)?,
        },
        "StatusResponse" => BlockchainMessage::StatusResponse {
            height: height_only(value, name)?,
        },
        "BlockResponse" => {
            let mut block = None;
            let mut f = Fields::new(value);
            while let Some((num, v)) = f.next_field()? {
                match num {
                    1 => block = Some(Block::decode(v.bytes("BlockResponse.block")?)?),
                    n => return Err(unknown(n, name)),
                }
            }
            BlockchainMessage::BlockResponse(Box::new(
                block.ok_or_else(|| invalid("BlockResponse without a block"))?,
            ))
        }
        other => {
            return Err(invalid(format!(
                "unknown blockchain message type {other:?}"
            )))
        }
    })
}

/// Encode the height-only blockchain messages (a block response is never sent by us).
pub fn encode_blockchain(msg: &BlockchainMessage) -> Vec<u8> {
    let mut b = Vec::new();
    match msg {
        BlockchainMessage::BlockRequest { height }
        | BlockchainMessage::NoBlockResponse { height }
        | BlockchainMessage::StatusRequest { height }
        | BlockchainMessage::StatusResponse { height } => put_sint(&mut b, 1, *height),
        BlockchainMessage::BlockResponse(block) => {
            let mut body = Vec::new();
            let mut h = Vec::new();
            put_sint(&mut h, 3, block.header.height);
            put_struct(&mut body, 1, &h, false);
            put_struct(&mut b, 1, &body, true);
        }
    }
    any(&format!("{TM_PREFIX}{}", msg.type_name()), &b)
}
