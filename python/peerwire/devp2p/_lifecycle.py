"""The devp2p server's typed lifecycle feed (:mod:`peerwire.events`) and how its errors map onto reasons.

The server calls these at the points where a dial starts, a setup fails, a peer
is added and a peer ends; consumers subscribe with
:meth:`peerwire.devp2p.Server.subscribe_lifecycle`. Reasons come from the
``DiscReason`` an error carries (sent or received) and from the error's type,
never from its text.
"""

from __future__ import annotations

from peerwire._pubsub import PubSub
from peerwire.devp2p._base import DiscReason
from peerwire.errors import DialError, PeerwireError, RefusedError
from peerwire.events import (
    DialFailed,
    DialFailureReason,
    DialStarted,
    Direction,
    DropReason,
    Event,
    HandshakeFailed,
    HandshakeFailureReason,
    PeerAdded,
    PeerDropped,
)

__all__ = ["LifecycleFeed", "dial_failure_reason", "drop_reason", "handshake_failure_reason"]

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

_HANDSHAKE_TO_DIAL = {
    HandshakeFailureReason.TIMEOUT: DialFailureReason.HANDSHAKE_TIMEOUT,
    HandshakeFailureReason.FAILED: DialFailureReason.HANDSHAKE_FAILED,
    HandshakeFailureReason.PROTOCOL_MISMATCH: DialFailureReason.PROTOCOL_MISMATCH,
    HandshakeFailureReason.INCOMPATIBLE_NODE_INFO: DialFailureReason.INCOMPATIBLE_NODE_INFO,
    HandshakeFailureReason.ID_MISMATCH: DialFailureReason.ID_MISMATCH,
    HandshakeFailureReason.ALREADY_CONNECTED: DialFailureReason.ALREADY_CONNECTED,
    HandshakeFailureReason.TOO_MANY_PEERS: DialFailureReason.TOO_MANY_PEERS,
    HandshakeFailureReason.SELF: DialFailureReason.SELF,
    HandshakeFailureReason.NET_RESTRICTED: DialFailureReason.NET_RESTRICTED,
    HandshakeFailureReason.CONNECTION_CLOSED: DialFailureReason.HANDSHAKE_FAILED,
    HandshakeFailureReason.STOPPED: DialFailureReason.STOPPED,
}


def _refused(err: BaseException) -> bool:
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


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
    if _refused(err):
        return DialFailureReason.CONNECT_REFUSED
    return _HANDSHAKE_TO_DIAL.get(handshake_failure_reason(err), DialFailureReason.OTHER)


def drop_reason(reason: DiscReason, remote_requested: bool) -> DropReason:
    """The reason a running peer ended, from its final ``DiscReason``."""
    if remote_requested:
        return DropReason.REMOTE_DISCONNECT
    return {
        DiscReason.REQUESTED: DropReason.REQUESTED,
        DiscReason.QUITTING: DropReason.STOPPED,
        DiscReason.NETWORK_ERROR: DropReason.CONNECTION_CLOSED,
        DiscReason.PROTOCOL_ERROR: DropReason.PROTOCOL_ERROR,
        DiscReason.SUBPROTOCOL_ERROR: DropReason.SERVICE_ERROR,
        DiscReason.READ_TIMEOUT: DropReason.TIMEOUT,
        DiscReason.ALREADY_CONNECTED: DropReason.DUPLICATE,
    }.get(reason, DropReason.OTHER)


def _direction(inbound: bool) -> Direction:
    return Direction.INBOUND if inbound else Direction.OUTBOUND


class LifecycleFeed(PubSub[Event]):
    """The server's :class:`PubSub` of :mod:`peerwire.events`, with one method per fact."""

    __slots__ = ()

    def dial_started(self, node_id: bytes, address: str) -> None:
        self.publish(DialStarted(node_id.hex(), address))

    def dial_failed(self, node_id: bytes, address: str, err: BaseException) -> None:
        self.publish(DialFailed(node_id.hex(), address, dial_failure_reason(err), str(err)))

    def handshake_failed(
        self, node_id: bytes | None, address: str, inbound: bool, err: BaseException
    ) -> None:
        self.publish(
            HandshakeFailed(
                None if node_id is None else node_id.hex(),
                address,
                _direction(inbound),
                handshake_failure_reason(err),
                str(err),
            )
        )

    def inbound_refused(self, address: str, reason: HandshakeFailureReason, detail: str) -> None:
        """An accepted socket refused before its handshake (net_restrict, inbound throttle)."""
        self.publish(HandshakeFailed(None, address, Direction.INBOUND, reason, detail))

    def peer_added(self, node_id: bytes, address: str, inbound: bool) -> None:
        self.publish(PeerAdded(node_id.hex(), address, _direction(inbound)))

    def peer_dropped(
        self, node_id: bytes, address: str, inbound: bool, reason: DropReason, detail: str
    ) -> None:
        self.publish(PeerDropped(node_id.hex(), address, _direction(inbound), reason, detail))
