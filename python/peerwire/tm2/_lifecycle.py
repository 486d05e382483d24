"""How the TM2 switch's errors map onto :mod:`peerwire.events` reasons.

By error type, never by text. The switch publishes on the
:class:`peerwire._lifecycle.LifecycleFeed` built by :func:`lifecycle_feed`.
"""

from __future__ import annotations

from peerwire._lifecycle import LifecycleFeed, caused_by
from peerwire.errors import (
    ConnectionClosedError,
    DialError,
    FrameError,
    HandshakeError,
    LocalProtocolError,
    RemoteProtocolError,
)
from peerwire.events import DialFailureReason, DropReason, HandshakeFailureReason
from peerwire.tm2._nodeinfo import NodeInfoError

__all__ = ["dial_failure_reason", "drop_reason", "host_port", "lifecycle_feed"]


def host_port(addr: object) -> str:
    """``host:port`` of a TM2 address (``NetAddress`` / ``PeerAddress`` or their ``id@host:port`` text)."""
    dial_string = getattr(addr, "dial_string", None)
    if callable(dial_string):
        return str(dial_string())
    return str(addr).rpartition("@")[2]


def dial_failure_reason(err: BaseException) -> DialFailureReason:
    """The reason for an error raised by resolve + ``transport.dial`` (connect and handshakes)."""
    if isinstance(err, DialError):
        if isinstance(err.reason, DialFailureReason):
            return err.reason
        if err.reason == "resolve":
            return DialFailureReason.RESOLVE_FAILED
        return (
            DialFailureReason.CONNECT_REFUSED
            if err.reason or caused_by(err, ConnectionRefusedError)
            else (DialFailureReason.OTHER)
        )
    if isinstance(err, NodeInfoError):
        return DialFailureReason.INCOMPATIBLE_NODE_INFO
    if isinstance(err, (HandshakeError, FrameError, RemoteProtocolError, ConnectionClosedError)):
        return DialFailureReason.HANDSHAKE_FAILED
    if isinstance(err, TimeoutError):  # today the switch bounds connect + handshakes together
        return DialFailureReason.CONNECT_TIMEOUT
    if isinstance(err, OSError):
        return DialFailureReason.CONNECT_REFUSED
    return DialFailureReason.OTHER


def _handshake_failure_reason(err: BaseException) -> HandshakeFailureReason:
    if isinstance(err, NodeInfoError):
        return HandshakeFailureReason.INCOMPATIBLE_NODE_INFO
    if isinstance(err, TimeoutError):
        return HandshakeFailureReason.TIMEOUT
    if isinstance(err, (ConnectionClosedError, OSError)):
        return HandshakeFailureReason.CONNECTION_CLOSED
    return HandshakeFailureReason.FAILED


def drop_reason(
    err: BaseException | None, *, stopping: bool, duplicate: type[BaseException] | None = None
) -> DropReason:
    """The reason a registered peer was torn down, from the error it was stopped for.

    ``duplicate``: the error type the switch stops a peer with when a simultaneous
    connection replaces it.
    """
    if stopping:
        return DropReason.STOPPED
    if err is None:
        return DropReason.REQUESTED
    if duplicate is not None and isinstance(err, duplicate):
        return DropReason.DUPLICATE
    if isinstance(err, TimeoutError):
        return DropReason.TIMEOUT
    if isinstance(err, (ConnectionClosedError, ConnectionError, EOFError)):
        return DropReason.CONNECTION_CLOSED
    if isinstance(err, RemoteProtocolError):
        return DropReason.PROTOCOL_ERROR
    if isinstance(err, LocalProtocolError):
        return DropReason.REQUESTED
    return DropReason.SERVICE_ERROR


def lifecycle_feed() -> LifecycleFeed:
    """The switch's feed (``transport.dial`` covers the handshakes, so a dial failure in one
    also publishes the handshake failure)."""
    return LifecycleFeed(
        dial_reason=dial_failure_reason,
        handshake_reason=_handshake_failure_reason,
        dial_failure_implies_handshake=True,
    )
