//! peerwire-core: the sans-IO heart of peerwire.
//!
//! # Theory of operation
//! Every protocol machine here takes bytes (and, where time matters, a `now`
//! supplied by the caller) and returns bytes and events. Nothing in this crate
//! opens a socket, spawns a thread or reads a clock: the Python driver owns
//! I/O and time, this crate owns protocol state and every byte on the wire.
//! That split keeps the hot path (ciphers, MACs, codecs) native and lets the
//! tests drive any state machine deterministically.
//!
//! # Rules of this crate
//! * No PyO3: `peerwire-bindings` is the only crate that knows about Python.
//! * No panics on peer input: every length read from the wire is checked
//!   against a named limit before it is used, and every failure is a typed
//!   [`error::CoreError`].
#![forbid(unsafe_code)]

pub mod discv4;
pub mod enr;
pub mod error;
pub mod eth;
pub mod hash;
pub mod kad;
pub mod keys;
pub mod p2p_base;
pub mod rlp;
pub mod rlpx;
pub mod tm2;

pub use error::{CoreError, CoreResult};
