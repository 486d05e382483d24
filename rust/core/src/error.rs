//! One error type for the whole core, split by the layer that raised it.
//!
//! The bindings map each variant onto the matching class of
//! `peerwire.errors`, so Python users catch the same exceptions whether an
//! error was raised in Rust or in Python.
use std::fmt;

/// What went wrong, and in which layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// Bytes from the peer (or a caller-supplied encoding) do not decode.
    Decode(String),
    /// A key, signature or point is malformed or invalid.
    InvalidKey(String),
    /// The cryptographic handshake failed (bad MAC, bad signature, bad size...).
    Handshake(String),
    /// A transport frame failed authentication or broke a size limit.
    Frame(String),
    /// The caller used the API wrongly (e.g. sending before the handshake).
    Local(String),
}

impl CoreError {
    /// Short constructor helpers keep call sites readable.
    pub fn decode(msg: impl Into<String>) -> Self {
        CoreError::Decode(msg.into())
    }
    pub fn invalid_key(msg: impl Into<String>) -> Self {
        CoreError::InvalidKey(msg.into())
    }
    pub fn handshake(msg: impl Into<String>) -> Self {
        CoreError::Handshake(msg.into())
    }
    pub fn frame(msg: impl Into<String>) -> Self {
        CoreError::Frame(msg.into())
    }
    pub fn local(msg: impl Into<String>) -> Self {
        CoreError::Local(msg.into())
    }

    /// The human-readable message, without the layer prefix.
    pub fn message(&self) -> &str {
        match self {
            CoreError::Decode(m)
            | CoreError::InvalidKey(m)
            | CoreError::Handshake(m)
            | CoreError::Frame(m)
            | CoreError::Local(m) => m,
        }
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layer = match self {
            CoreError::Decode(_) => "decode error",
            CoreError::InvalidKey(_) => "invalid key",
            CoreError::Handshake(_) => "handshake failed",
            CoreError::Frame(_) => "frame error",
            CoreError::Local(_) => "local protocol error",
        };
        write!(f, "{layer}: {}", self.message())
    }
}

impl std::error::Error for CoreError {}

impl From<alloy_rlp::Error> for CoreError {
    fn from(e: alloy_rlp::Error) -> Self {
        CoreError::Decode(format!("rlp: {e}"))
    }
}

/// Result alias used throughout the core.
pub type CoreResult<T> = Result<T, CoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_layer() {
        assert_eq!(
            CoreError::frame("bad header MAC").to_string(),
            "frame error: bad header MAC"
        );
        assert_eq!(CoreError::decode("x").message(), "x");
    }

    #[test]
    fn rlp_errors_become_decode_errors() {
        let e: CoreError = alloy_rlp::Error::Overflow.into();
        assert!(matches!(e, CoreError::Decode(_)));
    }
}
