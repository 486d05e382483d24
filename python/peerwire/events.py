"""Typed peer-lifecycle events, the same for both stacks.

A devp2p ``Server`` and a TM2 ``MultiplexSwitch`` publish these on a bounded
:class:`peerwire._pubsub.PubSub` (non-blocking, drop-and-count). Consumers (the
CLI, metrics, a crawler) read facts, never error text::

    DialStarted ─┬─> DialFailed(reason)                              (no connection)
                 ├─> HandshakeFailed(OUTBOUND, reason) ─> DialFailed(reason)
                 └─> PeerAdded(OUTBOUND) ─> PeerDropped(reason)
    (accept) ──────┬─> HandshakeFailed(INBOUND, reason)
                   └─> PeerAdded(INBOUND)  ─> PeerDropped(reason)

Outbound, every :class:`DialStarted` is followed by exactly one
:class:`DialFailed` or :class:`PeerAdded` for that dial. A connection (either
direction) that fails after the TCP connect publishes :class:`HandshakeFailed`
(an outbound one then also its :class:`DialFailed`); refusals by policy after
the handshake (too many peers, already connected) are handshake failures with a
policy reason (``reason.is_policy_refusal``).

Every event names the peer by ``peer_id``: the lowercase hex node ID (devp2p: the
64-character keccak256 of the public key; TM2: the 40-character address), or
``None`` when it is not known yet (a failed inbound handshake). ``address`` is the
remote ``host:port`` (``[v6]:port`` for IPv6). ``detail`` is human text for logs;
decisions are taken on the ``reason`` enum, never on ``detail``.

The reason enums are :class:`enum.StrEnum`, so a reason can be passed where
older code expects a string (``DialError.reason``) and prints as readable text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "POLICY_REFUSALS",
    "DialFailed",
    "DialFailureReason",
    "DialStarted",
    "Direction",
    "DropReason",
    "Event",
    "HandshakeFailed",
    "HandshakeFailureReason",
    "PeerAdded",
    "PeerDropped",
]


class Direction(enum.Enum):
    """Who opened the connection."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"

    @property
    def inbound(self) -> bool:
        return self is Direction.INBOUND


class DialFailureReason(enum.StrEnum):
    """Why an outbound dial did not produce a peer."""

    ALREADY_CONNECTED = "already connected"
    ALREADY_DIALING = "already dialing"
    TOO_MANY_PEERS = "too many peers"
    SELF = "connected to self"
    NET_RESTRICTED = "not contained in netrestrict list"
    RECENTLY_DIALED = "recently dialed"
    RESOLVE_FAILED = "resolve failed"
    CONNECT_REFUSED = "connection refused"
    CONNECT_TIMEOUT = "connect timeout"
    HANDSHAKE_FAILED = "handshake failed"
    HANDSHAKE_TIMEOUT = "handshake timeout"
    PROTOCOL_MISMATCH = "useless peer"  # no capability / channel in common
    INCOMPATIBLE_NODE_INFO = "incompatible node info"
    ID_MISMATCH = "unexpected identity"  # the remote is not the node we dialed
    STOPPED = "stopped"  # the server/switch is shutting down
    OTHER = "other"

    @property
    def is_policy_refusal(self) -> bool:
        """A refusal by policy (not a failure of the remote): harmless, expected in a busy network."""
        return self.value in POLICY_REFUSALS


class HandshakeFailureReason(enum.StrEnum):
    """Why a connection (either direction) failed between TCP and becoming a peer."""

    TIMEOUT = "handshake timeout"
    FAILED = "handshake failed"  # bad auth/ack, MAC, signature, Hello / NodeInfo that breaks the protocol
    PROTOCOL_MISMATCH = "useless peer"
    INCOMPATIBLE_NODE_INFO = "incompatible node info"
    ID_MISMATCH = "unexpected identity"
    ALREADY_CONNECTED = "already connected"
    TOO_MANY_PEERS = "too many peers"
    SELF = "connected to self"
    NET_RESTRICTED = "not contained in netrestrict list"
    CONNECTION_CLOSED = "connection closed"
    THROTTLED = "too many attempts"  # the same IP connected again too soon
    STOPPED = "stopped"
    OTHER = "other"

    @property
    def is_policy_refusal(self) -> bool:
        """A refusal by policy (not a failure of the remote): harmless, expected in a busy network."""
        return self.value in POLICY_REFUSALS


#: Reason values (shared by both enums) that are refusals by local policy.
POLICY_REFUSALS: frozenset[str] = frozenset(
    {
        "already connected",
        "already dialing",
        "too many peers",
        "connected to self",
        "not contained in netrestrict list",
        "recently dialed",
        "too many attempts",
    }
)


class DropReason(enum.StrEnum):
    """Why an established peer went away."""

    REQUESTED = "requested"  # this side asked (stop_peer, remove_peer, API disconnect)
    REMOTE_DISCONNECT = "remote disconnect"  # the remote sent Disconnect / closed cleanly
    PROTOCOL_ERROR = "protocol error"  # the remote broke a protocol rule
    SERVICE_ERROR = "service error"  # a subprotocol / reactor failed or asked to stop the peer
    TIMEOUT = "timeout"  # read/ping deadline
    CONNECTION_CLOSED = "connection closed"  # socket error / EOF without a goodbye
    DUPLICATE = "duplicate connection"
    STOPPED = "stopped"  # the server/switch is shutting down
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class DialStarted:
    """An outbound dial began (after policy checks let it through)."""

    peer_id: str | None
    address: str


@dataclass(frozen=True, slots=True)
class DialFailed:
    """An outbound dial ended without a peer; ``reason`` is the decision input."""

    peer_id: str | None
    address: str
    reason: DialFailureReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class HandshakeFailed:
    """A connection was accepted or dialed but did not become a peer."""

    peer_id: str | None
    address: str
    direction: Direction
    reason: HandshakeFailureReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PeerAdded:
    """A peer completed every handshake and runs its protocols/reactors."""

    peer_id: str
    address: str
    direction: Direction


@dataclass(frozen=True, slots=True)
class PeerDropped:
    """A peer that had been added is gone."""

    peer_id: str
    address: str
    direction: Direction
    reason: DropReason
    detail: str = ""


#: Everything a stack publishes on its lifecycle feed.
Event = DialStarted | DialFailed | HandshakeFailed | PeerAdded | PeerDropped
