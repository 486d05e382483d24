"""The one exception hierarchy of peerwire.

Defined in Python and raised from Rust too (``peerwire._core`` imports these
classes), so a handler never needs to know which side of the boundary failed::

    PeerwireError
    ├── ProtocolError (.disconnect_reason)
    │   ├── RemoteProtocolError      the peer misbehaved
    │   │   ├── HandshakeError       bad auth/ack, MAC, signature, sizes
    │   │   ├── FrameError           bad frame MAC, oversize frame, bad snappy
    │   │   └── DecodeError          bytes that do not decode (RLP, amino, ...)
    │   └── LocalProtocolError       this side misused the API
    ├── InvalidKeyError              malformed key, off-curve point, bad signature
    ├── DialError (.reason)          a dial was refused or failed
    ├── TimeoutError                 a network wait ran out (also builtins.TimeoutError)
    ├── ConnectionClosedError        the connection is gone (also ConnectionError)
    └── InternalError                a bug in peerwire, e.g. a Rust panic

``disconnect_reason`` carries the devp2p ``DiscReason`` code to send (or that
was received) where one applies, else ``None`` (h2's ``error_code`` idea).
"""

from __future__ import annotations

import builtins

__all__ = [
    "ConnectionClosedError",
    "DecodeError",
    "DialError",
    "FrameError",
    "HandshakeError",
    "InternalError",
    "InvalidKeyError",
    "LocalProtocolError",
    "PeerwireError",
    "ProtocolError",
    "RemoteProtocolError",
    "TimeoutError",
]

# devp2p DiscReason codes used as defaults below (see peerwire.devp2p.DiscReason).
_DISC_PROTOCOL_ERROR = 0x02
_DISC_SUBPROTOCOL_ERROR = 0x10


class PeerwireError(Exception):
    """Base class of every exception peerwire raises on purpose."""


class ProtocolError(PeerwireError):
    """A protocol rule was broken; ``disconnect_reason`` says what to tell the peer."""

    default_reason: int | None = _DISC_PROTOCOL_ERROR

    def __init__(self, message: str = "", disconnect_reason: int | None = None) -> None:
        super().__init__(message)
        self.disconnect_reason: int | None = (
            disconnect_reason if disconnect_reason is not None else self.default_reason
        )


class RemoteProtocolError(ProtocolError):
    """The remote peer sent something that breaks the protocol."""


class LocalProtocolError(ProtocolError):
    """This side used the API in a way the protocol does not allow."""


class HandshakeError(RemoteProtocolError):
    """The cryptographic handshake failed (bad MAC, signature, size or point)."""


class FrameError(RemoteProtocolError):
    """A transport frame failed authentication, broke a size limit or did not decompress."""


class DecodeError(RemoteProtocolError, ValueError):
    """Bytes that do not decode (RLP, amino, ENR, discovery packets...)."""


class InvalidKeyError(PeerwireError, ValueError):
    """A key, point or signature is malformed or invalid."""


class DialError(PeerwireError):
    """An outbound connection was refused by policy or failed; ``reason`` says which."""

    def __init__(self, message: str = "", reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class TimeoutError(PeerwireError, builtins.TimeoutError):
    """A network wait ran past its deadline."""


class ConnectionClosedError(PeerwireError, ConnectionError):
    """The connection was closed (by either side) before the operation finished."""


class InternalError(PeerwireError):
    """A bug in peerwire: an invariant broke, or the Rust core panicked."""
