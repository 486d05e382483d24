"""How the devp2p server's errors map onto :mod:`peerwire.events` reasons.

By the ``DiscReason`` an error carries (sent or received) and by its type, never
by its text. The server publishes on a :class:`peerwire._lifecycle.LifecycleFeed`
built by :func:`lifecycle_feed`.
"""

from __future__ import annotations

from peerwire._lifecycle import LifecycleFeed, caused_by, dial_reason_for
from peerwire.devp2p._base import DiscReason
from peerwire.errors import DialError, PeerwireError, RefusedError
from peerwire.events import DialFailureReason, DropReason, HandshakeFailureReason

__all__ = ["dial_failure_reason", "drop_reason", "handshake_failure_reason", "lifecycle_feed"]

_DISC_TO_HANDSHAKE = {
    DiscReason.TOO_MANY_PEERS: HandshakeFailureReason.TOO_MANY_PEERS,
    DiscReason.ALREADY_CONNECTED: HandshakeFailureReason.ALREADY_CONNECTED,
    DiscReason.SELF: HandshakeFailureReason.SELF,
    DiscReason.USELESS_PEER: HandshakeFailureReason.PROTOCOL_MISMATCH,
    DiscReason.INCOMPATIBLE_VERSION: HandshakeFailureReason.PROTOCOL_MISMATCH,
    DiscReason.UNEXPECTED_IDENTITY: HandshakeFailureReason.ID_MISMATCH,
    DiscReason.INVALID_IDENTITY: HandshakeFailureReason.ID_MISMATCH,
    DiscReason.QUITTING: HandshakeFailureReason.STOPPED,
    DiscReason.NETWORK_ERROR: HandshakeFailureReason.CONNECTION_CLOSED,
}

_DISC_TO_DROP = {
    DiscReason.REQUESTED: DropReason.REQUESTED,
    DiscReason.QUITTING: DropReason.STOPPED,
    DiscReason.NETWORK_ERROR: DropReason.CONNECTION_CLOSED,
    DiscReason.PROTOCOL_ERROR: DropReason.PROTOCOL_ERROR,
    DiscReason.SUBPROTOCOL_ERROR: DropReason.SERVICE_ERROR,
    DiscReason.READ_TIMEOUT: DropReason.TIMEOUT,
    DiscReason.ALREADY_CONNECTED: DropReason.DUPLICATE,
}


def handshake_failure_reason(err: BaseException) -> HandshakeFailureReason:
    """The reason for an error raised between TCP connect and an added peer (by type and code)."""
    disc = getattr(err, "disconnect_reason", None)
    if isinstance(err, PeerwireError) and disc is not None:
        mapped = _DISC_TO_HANDSHAKE.get(DiscReason.from_wire(int(disc)))
        if mapped is not None:
            return mapped
    if isinstance(err, TimeoutError):  # peerwire's TimeoutError is also the builtin one
        return HandshakeFailureReason.TIMEOUT
    if isinstance(err, DialError) and err.reason is DialFailureReason.STOPPED:
        return HandshakeFailureReason.STOPPED
    if isinstance(err, PeerwireError) and not isinstance(err, ConnectionError | RefusedError):
        return HandshakeFailureReason.FAILED
    if isinstance(err, OSError):
        return HandshakeFailureReason.CONNECTION_CLOSED
    return HandshakeFailureReason.OTHER


def dial_failure_reason(err: BaseException) -> DialFailureReason:
    """The reason for an error that ended an outbound dial (by type and code, never by text)."""
    if isinstance(err, DialError) and err.reason is not None:
        return err.reason
    if caused_by(err, ConnectionRefusedError):
        return DialFailureReason.CONNECT_REFUSED
    return dial_reason_for(handshake_failure_reason(err))


def drop_reason(reason: DiscReason, remote_requested: bool) -> DropReason:
    """The reason a running peer ended, from its final ``DiscReason``."""
    if remote_requested:
        return DropReason.REMOTE_DISCONNECT
    return _DISC_TO_DROP.get(reason, DropReason.OTHER)


def lifecycle_feed() -> LifecycleFeed:
    """The server's feed (it reports handshake failures itself, before the dial's)."""
    return LifecycleFeed(dial_reason=dial_failure_reason, handshake_reason=handshake_failure_reason)
