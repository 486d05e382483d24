"""Switch events (gno ``p2p/events``): PeerConnected and PeerDisconnected.

``subscribe(filter)`` returns an async iterator with its own bounded buffer.

Drop policy (as gno's, documented and counted): publishing never waits for a
subscriber. When a subscriber's buffer is full, the NEW event is dropped for
that subscriber only and its :attr:`Subscription.dropped` counter goes up; the
events already buffered are kept in order. A slow consumer therefore sees a
gap, never a stall of the switch. Leaving the ``async for`` loop (break,
return, exception) or calling :meth:`Subscription.close` unsubscribes.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from peerwire.tm2._keys import ID

__all__ = [
    "DEFAULT_EVENT_BUFFER",
    "Event",
    "EventBus",
    "EventFilter",
    "EventType",
    "PeerConnectedEvent",
    "PeerDisconnectedEvent",
    "Subscription",
]

# gno gives each subscription a 100-event buffer; we keep the same default.
DEFAULT_EVENT_BUFFER = 100
# Upper bound on a buffer a caller may ask for (memory per subscriber).
MAX_EVENT_BUFFER = 65536


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


class _Inbox:
    """What the bus holds for one subscriber (the bus never holds the iterator itself,
    so dropping the iterator lets it be finalised, which unsubscribes)."""

    __slots__ = ("_bus", "buf", "closed", "dropped", "filter", "maxsize", "wakeup")

    def __init__(self, bus: EventBus, flt: EventFilter | None, maxsize: int) -> None:
        self._bus = bus
        self.filter = flt
        self.buf: deque[Event] = deque()
        self.maxsize = maxsize
        self.wakeup = asyncio.Event()
        self.closed = False
        self.dropped = 0

    def offer(self, ev: Event) -> None:
        if self.closed:
            return
        if self.filter is not None and not self.filter(ev):
            return
        if len(self.buf) >= self.maxsize:
            self.dropped += 1
            return
        self.buf.append(ev)
        self.wakeup.set()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._bus._remove(self)
            self.wakeup.set()


class Subscription:
    """An async iterator of the events that pass the filter; see the module doc for drops.

    Use ``async for ev in sub`` (leaving the loop unsubscribes once the iterator is
    dropped), or ``async with sw.subscribe(...) as sub`` to unsubscribe at a known point.
    """

    def __init__(self, inbox: _Inbox) -> None:
        self._inbox = inbox

    @property
    def dropped(self) -> int:
        """Events dropped because this subscriber's buffer was full."""
        return self._inbox.dropped

    def close(self) -> None:
        """Unsubscribe; a pending ``__anext__`` ends the iteration."""
        self._inbox.close()

    @property
    def closed(self) -> bool:
        return self._inbox.closed

    def __len__(self) -> int:
        return len(self._inbox.buf)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        inbox = self._inbox
        while not inbox.buf:
            if inbox.closed:
                raise StopAsyncIteration
            inbox.wakeup.clear()
            try:
                await inbox.wakeup.wait()
            except BaseException:
                inbox.close()
                raise
        return inbox.buf.popleft()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # An abandoned iterator (loop left with break/return) still unsubscribes.
        self._inbox.close()


class EventBus:
    def __init__(self) -> None:
        self._subs: list[_Inbox] = []

    def subscribe(self, flt: EventFilter | None = None, maxsize: int = DEFAULT_EVENT_BUFFER) -> Subscription:
        if not 1 <= maxsize <= MAX_EVENT_BUFFER:
            raise ValueError(f"event buffer must be in 1..{MAX_EVENT_BUFFER}")
        inbox = _Inbox(self, flt, maxsize)
        self._subs.append(inbox)
        return Subscription(inbox)

    def publish(self, ev: Event) -> None:
        for sub in list(self._subs):
            try:
                sub.offer(ev)
            except Exception:  # a raising filter must not break the switch
                sub.dropped += 1

    def _remove(self, sub: _Inbox) -> None:
        with contextlib.suppress(ValueError):
            self._subs.remove(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subs)
