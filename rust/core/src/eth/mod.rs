//! The `eth` wire protocol (go-ethereum `eth/protocols/eth`), sans-IO: fork
//! IDs (EIP-2124), block headers and genesis hashing, and the message codecs.
pub mod announce;
pub mod forkid;
pub mod genesis;
pub mod header;
pub mod messages;
pub mod receipts_cells;
