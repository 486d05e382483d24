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
    ├── InvalidArgumentError         bad input from this side's user (also ValueError)
    ├── RefusedError                 refused by policy, ours or the remote's (too many peers,
    │                                already connected, self): nobody broke a rule
    ├── DialError (.reason)          a dial failed; ``reason`` is a DialFailureReason
    ├── TimeoutError                 a network wait ran out (also builtins.TimeoutError)
    ├── ConnectionClosedError        the connection is gone (also ConnectionError)
    └── InternalError                a bug in peerwire, e.g. a Rust panic

``disconnect_reason`` carries the devp2p ``DiscReason`` code to send (or that
was received) where one applies, else ``None`` (h2's ``error_code`` idea).

Errors have a direction: ``RemoteProtocolError`` and its subclasses mean the
remote misbehaved; ``LocalProtocolError`` and ``InvalidArgumentError`` mean this
side's code or user did; ``RefusedError`` means nobody misbehaved (a policy said no).
"""

from __future__ import annotations

import builtins

from peerwire.events import DialFailureReason

__all__ = [
    "ConnectionClosedError",
    "DecodeError",
    "DialError",
    "FrameError",
    "HandshakeError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidKeyError",
    "LocalProtocolError",
    "PeerwireError",
    "ProtocolError",
    "RefusedError",
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


class InvalidArgumentError(PeerwireError, ValueError):
    """Bad input from the user of the API: a malformed enode URL, address, or config value.

    Nobody remote is at fault (compare :class:`DecodeError`, for bytes a peer sent).
    """


class RefusedError(PeerwireError):
    """A connection refused by policy: too many peers, already connected, connected to self...

    Not a protocol error: nobody broke a rule. ``disconnect_reason`` is the devp2p
    ``DiscReason`` code sent (``by_remote`` false: we refused) or received (``by_remote``
    true: the remote refused us), or ``None`` when no Disconnect was involved.
    """

    def __init__(
        self, message: str = "", *, disconnect_reason: int | None = None, by_remote: bool = False
    ) -> None:
        super().__init__(message)
        self.disconnect_reason = disconnect_reason
        self.by_remote = by_remote


class DialError(PeerwireError):
    """An outbound dial failed; ``reason`` (:class:`peerwire.events.DialFailureReason`) says why.

    ``reason`` given as text (older callers) is read as the enum member with that
    value or one of the short names in ``_LEGACY_DIAL_REASONS``, else ``OTHER``:
    the attribute is always the enum (or ``None``), so callers decide on it, never on text.
    """

    def __init__(self, message: str = "", reason: DialFailureReason | str | None = None) -> None:
        super().__init__(message)
        self.reason: DialFailureReason | None = _dial_reason(reason)


_LEGACY_DIAL_REASONS = {
    "refused": DialFailureReason.CONNECT_REFUSED,
    "connect failed": DialFailureReason.CONNECT_REFUSED,
    "resolve": DialFailureReason.RESOLVE_FAILED,
    "id mismatch": DialFailureReason.ID_MISMATCH,
    "stopped": DialFailureReason.STOPPED,
}


def _dial_reason(reason: DialFailureReason | str | None) -> DialFailureReason | None:
    if reason is None or isinstance(reason, DialFailureReason):
        return reason
    try:
        return DialFailureReason(reason)
    except ValueError:
        return _LEGACY_DIAL_REASONS.get(reason, DialFailureReason.OTHER)


class TimeoutError(PeerwireError, builtins.TimeoutError):
    """A network wait ran past its deadline."""


class ConnectionClosedError(PeerwireError, ConnectionError):
    """The connection was closed (by either side) before the operation finished."""


class InternalError(PeerwireError):
    """A bug in peerwire: an invariant broke, or the Rust core panicked."""
