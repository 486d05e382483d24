//! Tendermint2 (gno `tm2/pkg/p2p`) wire formats and state machines.
//!
//! * [`amino`]: the proto3-compatible amino subset used on the wire.
//! * [`consensus`], [`consensus_chain`], [`consensus_types`]: bft reactor messages
//!   (consensus, mempool, blockchain) as gno.land gossips them.
//! * [`mconn`]: MConnection receive path (packet split, decode, per-channel reassembly).
//! * [`mconn_send`]: MConnection send path (bounded queues, scheduler, packet batching).
//! * [`packet`]: MConnection packets (Ping/Pong/Msg in an `Any`).
//! * [`pex`]: peer-discovery Request/Response on channel 0x50.
//! * [`nodeinfo`]: the NodeInfo exchanged after the secret handshake.
//! * [`secret`]: the STS secret connection (X25519, HKDF, ChaCha20-Poly1305).
pub mod amino;
pub mod consensus;
pub mod consensus_chain;
#[cfg(test)]
mod consensus_tests;
pub mod consensus_types;
pub mod mconn;
pub mod mconn_send;
pub mod nodeinfo;
pub mod packet;
pub mod pex;
pub mod secret;
