"""Switch events: gno's ``p2p/events`` (PeerConnected / PeerDisconnected) and the shared lifecycle feed.

``sw.subscribe(filter)`` is gno's API: :class:`PeerConnectedEvent` /
:class:`PeerDisconnectedEvent` with :class:`EventType`. ``sw.lifecycle(filter)``
is the feed both stacks share (:mod:`peerwire.events`: ``DialStarted``,
``DialFailed``, ``HandshakeFailed``, ``PeerAdded``, ``PeerDropped``, each with a
direction and a typed reason). Both are :class:`peerwire._pubsub.PubSub`
subscriptions: publishing never waits; a full subscriber buffer drops the new
event for that subscriber only and counts it (:attr:`Subscription.dropped`).

This module also maps TM2 errors to the shared reason enums, so consumers
decide on a reason, never on error text.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from peerwire._core import identity as _id
from peerwire._pubsub import DEFAULT_EVENT_BUFFER, MAX_EVENT_BUFFER, PubSub, Subscription
from peerwire.errors import (
    ConnectionClosedError,
    DialError,
    FrameError,
    HandshakeError,
    RemoteProtocolError,
)
from peerwire.errors import TimeoutError as PeerwireTimeoutError
from peerwire.events import (
    DialFailureReason,
    Direction,
    DropReason,
    HandshakeFailed,
    HandshakeFailureReason,
    PeerAdded,
    PeerDropped,
)
from peerwire.tm2._contracts import PeerConn
from peerwire.tm2._errors import (
    NodeInfoError,
    PeerRefusedError,
    PongTimeoutError,
    RefusalReason,
    WriteTimeoutError,
)
from peerwire.tm2._keys import ID

__all__ = [
    "DEFAULT_EVENT_BUFFER",
    "MAX_EVENT_BUFFER",
    "Event",
    "EventFilter",
    "EventType",
    "PeerConnectedEvent",
    "PeerDisconnectedEvent",
    "PubSub",
    "Subscription",
    "dial_failure_reason",
    "drop_reason",
    "event_peer_id",
    "handshake_failed_event",
    "handshake_failure_reason",
    "peer_added_event",
    "peer_dropped_event",
]


class EventType(enum.Enum):
    PEER_CONNECTED = "PeerConnected"
    PEER_DISCONNECTED = "PeerDisconnected"


@dataclass(frozen=True, slots=True)
class PeerConnectedEvent:
    peer_id: ID
    address: str
    type: EventType = EventType.PEER_CONNECTED


@dataclass(frozen=True, slots=True)
class PeerDisconnectedEvent:
    peer_id: ID
    address: str
    reason: BaseException | None
    type: EventType = EventType.PEER_DISCONNECTED


Event = PeerConnectedEvent | PeerDisconnectedEvent
EventFilter = Callable[[Event], bool]


def event_peer_id(node_id: str) -> str:
    """The lifecycle feed's ``peer_id`` of a TM2 node: the 40-hex-digit address under the bech32 ID."""
    return _id.tm2_id_decode(node_id).hex()


_REFUSAL_HANDSHAKE = {
    RefusalReason.INBOUND_FULL: HandshakeFailureReason.TOO_MANY_PEERS,
    RefusalReason.DUPLICATE: HandshakeFailureReason.ALREADY_CONNECTED,
    RefusalReason.SELF: HandshakeFailureReason.SELF,
    RefusalReason.STOPPING: HandshakeFailureReason.STOPPED,
    RefusalReason.ID_MISMATCH: HandshakeFailureReason.ID_MISMATCH,
    RefusalReason.REPLACED: HandshakeFailureReason.ALREADY_CONNECTED,
}


def handshake_failure_reason(err: BaseException) -> HandshakeFailureReason:
    """Why a connection did not become a peer (transport or switch policy)."""
    if isinstance(err, PeerRefusedError):
        return _REFUSAL_HANDSHAKE[err.reason]
    if isinstance(err, PeerwireTimeoutError | TimeoutError):
        return HandshakeFailureReason.TIMEOUT
    if isinstance(err, NodeInfoError):
        text = str(err)
        if "does not match" in text:
            return HandshakeFailureReason.ID_MISMATCH
        if "no common channels" in text:
            return HandshakeFailureReason.PROTOCOL_MISMATCH
        return HandshakeFailureReason.INCOMPATIBLE_NODE_INFO
    if isinstance(err, HandshakeError | FrameError | RemoteProtocolError):
        return HandshakeFailureReason.CRYPTO
    if isinstance(err, ConnectionClosedError | OSError):
        return HandshakeFailureReason.CONNECTION_CLOSED
    return HandshakeFailureReason.OTHER


_HANDSHAKE_DIAL = {
    HandshakeFailureReason.TIMEOUT: DialFailureReason.HANDSHAKE_TIMEOUT,
    HandshakeFailureReason.CRYPTO: DialFailureReason.HANDSHAKE_FAILED,
    HandshakeFailureReason.PROTOCOL_MISMATCH: DialFailureReason.PROTOCOL_MISMATCH,
    HandshakeFailureReason.INCOMPATIBLE_NODE_INFO: DialFailureReason.INCOMPATIBLE_NODE_INFO,
    HandshakeFailureReason.ID_MISMATCH: DialFailureReason.ID_MISMATCH,
    HandshakeFailureReason.ALREADY_CONNECTED: DialFailureReason.ALREADY_CONNECTED,
    HandshakeFailureReason.TOO_MANY_PEERS: DialFailureReason.TOO_MANY_PEERS,
    HandshakeFailureReason.SELF: DialFailureReason.SELF,
    HandshakeFailureReason.CONNECTION_CLOSED: DialFailureReason.HANDSHAKE_FAILED,
    HandshakeFailureReason.STOPPED: DialFailureReason.STOPPED,
}


def dial_failure_reason(err: BaseException) -> DialFailureReason:
    """Why a dial ended without a peer."""
    if isinstance(err, DialError):
        try:
            return DialFailureReason(str(err.reason))
        except ValueError:
            return DialFailureReason.OTHER
    return _HANDSHAKE_DIAL.get(handshake_failure_reason(err), DialFailureReason.OTHER)


def drop_reason(err: BaseException | None, *, stopping: bool) -> DropReason:
    """Why an active peer went away."""
    if err is None:
        return DropReason.STOPPED if stopping else DropReason.REQUESTED
    if isinstance(err, PeerRefusedError):
        return DropReason.DUPLICATE if err.reason is RefusalReason.REPLACED else DropReason.REQUESTED
    if isinstance(err, PeerwireTimeoutError | TimeoutError | PongTimeoutError | WriteTimeoutError):
        return DropReason.TIMEOUT
    if isinstance(err, ConnectionClosedError | OSError):
        return DropReason.CONNECTION_CLOSED
    if isinstance(err, RemoteProtocolError):
        return DropReason.PROTOCOL_ERROR
    return DropReason.SERVICE_ERROR


def _direction(outbound: bool) -> Direction:
    return Direction.OUTBOUND if outbound else Direction.INBOUND


def peer_added_event(peer: PeerConn) -> PeerAdded:
    return PeerAdded(event_peer_id(peer.id), peer.socket_addr.dial_string(), _direction(peer.is_outbound))


def peer_dropped_event(peer: PeerConn, err: BaseException | None, *, stopping: bool) -> PeerDropped:
    return PeerDropped(
        event_peer_id(peer.id),
        peer.socket_addr.dial_string(),
        _direction(peer.is_outbound),
        drop_reason(err, stopping=stopping),
        "" if err is None else str(err),
    )


def handshake_failed_event(
    peer: PeerConn | None, address: str, outbound: bool, err: BaseException
) -> HandshakeFailed:
    peer_id = event_peer_id(peer.id) if peer is not None else None
    return HandshakeFailed(peer_id, address, _direction(outbound), handshake_failure_reason(err), str(err))
