"""Switch events as gno's ``p2p/events`` has them: PeerConnected and PeerDisconnected.

``sw.subscribe(filter)`` returns a :class:`peerwire._pubsub.Subscription`:
publishing never waits; a full subscriber buffer drops the new event for that
subscriber only and counts it (:attr:`Subscription.dropped`). The typed feed
shared with devp2p is ``sw.subscribe_lifecycle()`` (see ``_lifecycle``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from peerwire._pubsub import DEFAULT_EVENT_BUFFER, MAX_EVENT_BUFFER, PubSub, Subscription
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
