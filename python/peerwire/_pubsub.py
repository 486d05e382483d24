"""One bounded publish/subscribe, shared by both stacks (generic over the event type).

``pubsub.subscribe(filter, maxsize=...)`` returns an async iterator with its own
bounded buffer.

Drop policy (gno's ``p2p/events``, documented and counted): publishing never
waits for a subscriber. When a subscriber's buffer is full, the NEW event is
dropped for that subscriber only and its :attr:`Subscription.dropped` counter
goes up; the events already buffered are kept in order. A slow consumer
therefore sees a gap, never a stall of the publisher. A filter that raises
counts as a drop for that subscriber and does not reach the publisher.
Leaving the ``async for`` loop (break, return, exception), ``async with``, or
calling :meth:`Subscription.close` unsubscribes; :meth:`PubSub.close` ends every
subscription after its buffered events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

__all__ = ["DEFAULT_EVENT_BUFFER", "MAX_EVENT_BUFFER", "PubSub", "Subscription"]

E = TypeVar("E")

# gno gives each subscription a 100-event buffer; we keep the same default.
DEFAULT_EVENT_BUFFER = 100
# Upper bound on the buffer a caller may ask for: memory per subscriber stays bounded
# even if a subscriber never reads.
MAX_EVENT_BUFFER = 65536


class _Inbox(Generic[E]):
    """What the bus holds for one subscriber (the bus never holds the iterator itself,
    so dropping the iterator lets it be finalised, which unsubscribes)."""

    __slots__ = ("_bus", "buf", "closed", "dropped", "filter", "maxsize", "wakeup")

    def __init__(self, bus: PubSub[E], flt: Callable[[E], bool] | None, maxsize: int) -> None:
        self._bus = bus
        self.filter = flt
        self.buf: deque[E] = deque()
        self.maxsize = maxsize
        self.wakeup = asyncio.Event()
        self.closed = False
        self.dropped = 0

    def offer(self, ev: E) -> None:
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


class Subscription(Generic[E]):
    """An async iterator of the events that pass the filter; see the module doc for drops.

    Use ``async for ev in sub`` (leaving the loop unsubscribes once the iterator is
    dropped), or ``async with bus.subscribe(...) as sub`` to unsubscribe at a known point.
    """

    __slots__ = ("__weakref__", "_inbox")

    def __init__(self, inbox: _Inbox[E]) -> None:
        self._inbox = inbox

    @property
    def dropped(self) -> int:
        """Events dropped because this subscriber's buffer was full (or its filter raised)."""
        return self._inbox.dropped

    @property
    def closed(self) -> bool:
        return self._inbox.closed

    def close(self) -> None:
        """Unsubscribe; a pending ``__anext__`` ends the iteration once the buffer is drained."""
        self._inbox.close()

    def get_nowait(self) -> E | None:
        """The next buffered event, or ``None`` when the buffer is empty (never waits)."""
        buf = self._inbox.buf
        return buf.popleft() if buf else None

    def __len__(self) -> int:
        return len(self._inbox.buf)

    def __aiter__(self) -> Subscription[E]:
        return self

    async def __anext__(self) -> E:
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

    async def __aenter__(self) -> Subscription[E]:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # An abandoned iterator (loop left with break/return) still unsubscribes.
        self._inbox.close()


class PubSub(Generic[E]):
    """Fan-out of events of type ``E`` to bounded subscriptions; :meth:`publish` never blocks."""

    __slots__ = ("_closed", "_subs")

    def __init__(self) -> None:
        self._subs: list[_Inbox[E]] = []
        self._closed = False

    def subscribe(
        self, flt: Callable[[E], bool] | None = None, maxsize: int = DEFAULT_EVENT_BUFFER
    ) -> Subscription[E]:
        """A new subscription with a ``maxsize``-event buffer (see the module doc for drops).

        Raises:
            ValueError: ``maxsize`` outside ``1..MAX_EVENT_BUFFER``.
        """
        if not 1 <= maxsize <= MAX_EVENT_BUFFER:
            raise ValueError(f"event buffer must be in 1..{MAX_EVENT_BUFFER}, got {maxsize}")
        inbox = _Inbox(self, flt, maxsize)
        if self._closed:
            inbox.closed = True
        else:
            self._subs.append(inbox)
        return Subscription(inbox)

    def publish(self, ev: E) -> None:
        """Offer ``ev`` to every subscriber; never waits, never raises."""
        for sub in list(self._subs):
            try:
                sub.offer(ev)
            except Exception:  # a raising filter must not break the publisher
                sub.dropped += 1

    def close(self) -> None:
        """End every subscription (after its buffered events); later subscriptions start closed."""
        self._closed = True
        for sub in list(self._subs):
            sub.close()

    def _remove(self, sub: _Inbox[E]) -> None:
        with contextlib.suppress(ValueError):
            self._subs.remove(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subs)
