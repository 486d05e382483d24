//! Node Discovery v5.1 wire protocol (go-ethereum `p2p/discover/v5wire`).
//!
//! * [`packet`]: masking, static header, the three flags and their authdata.
//! * [`crypto`]: AES-GCM, ECDH, HKDF session keys, the ID-nonce signature.
//! * [`message`]: PING, PONG, FINDNODE, NODES, TALKREQ, TALKRESP in RLP.
//! * [`session`]: the stateful codec (sessions, pending challenges, limits).
//!
//! Sans-IO like the rest of the crate: the Python service owns the socket,
//! the clock and the request/response bookkeeping.
pub mod crypto;
mod lru;
pub mod message;
pub mod packet;
pub mod session;

pub use message::Message;
pub use session::{Codec, Packet, Whoareyou};

#[cfg(test)]
mod tests;
