"""The dial queue and the redial backoff.

gno's dial loop peeks at its time-ordered queue and, when the head is not yet
due, loops again at once: one core spins for as long as every queued peer is
backed off (gnolang/gno #6052). :meth:`DialQueue.wait_due` instead sleeps on
the injected clock until the head is due, and wakes early only when a push
puts an earlier item at the head.

gno computes its backoff as ``time.Duration(1s) << attempts``, which
overflows int64 after ~34 attempts and can turn into a zero interval (dial
every tick). :func:`redial_backoff` clamps the exponent first, so any number of
attempts gives the cap.

:class:`RedialSchedule` keeps gno's schedule for persistent peers (on every redial
tick, a missing peer is queued at ``tick + backoff(attempts)``) but draws the jittered
backoff when a dial fails rather than at the tick, so the time of the next retry is
known, and reported, as soon as a dial fails.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from peerwire._clock import Clock
from peerwire.tm2._addr import NetAddress

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_JITTER",
    "BACKOFF_MAX",
    "MAX_DIAL_QUEUE",
    "DialItem",
    "DialQueue",
    "PersistentPeer",
    "RedialSchedule",
    "redial_backoff",
]

BACKOFF_BASE = 1.0  # seconds, first retry interval of a persistent peer
BACKOFF_MAX = 600.0  # 10 minutes, the ceiling
BACKOFF_JITTER = 0.10  # +-10 % of the interval, so a fleet does not redial in lockstep

# A peer can make us queue addresses (discovery responses); this bounds the
# memory and the work of a flood of them. Past it, pushes are refused.
MAX_DIAL_QUEUE = 4096


def redial_backoff(
    attempts: int,
    rng: random.Random | None = None,
    *,
    base: float = BACKOFF_BASE,
    cap: float = BACKOFF_MAX,
    jitter: float = BACKOFF_JITTER,
) -> float:
    """Seconds to wait before redial number ``attempts`` (0-based): ``min(base * 2**attempts, cap)``
    with a uniform jitter of ``+-jitter`` of that interval. Never overflows, never below 0."""
    exp = min(max(attempts, 0), 63)  # 2**63 * base is far above any cap
    interval = min(base * float(1 << exp), cap)
    r = (rng or random).uniform(-1.0, 1.0)
    return max(0.0, interval * (1.0 + jitter * r))


@dataclass(order=True, slots=True)
class DialItem:
    time: float
    seq: int
    address: NetAddress = field(compare=False)


class DialQueue:
    """Addresses to dial, ordered by due time (FIFO on ties), bounded."""

    def __init__(self, clock: Clock, max_items: int = MAX_DIAL_QUEUE) -> None:
        self._clock = clock
        self._heap: list[DialItem] = []
        self._seq = itertools.count()
        self._max = max_items
        self._changed = asyncio.Event()
        # Indexes for O(1) membership (a discovery response checks 30 addresses at once).
        self._ids: Counter[str] = Counter()
        self._dials: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, address: NetAddress, at: float | None = None) -> bool:
        """Queue ``address`` for time ``at`` (default: now). False when the queue is full."""
        if len(self._heap) >= self._max:
            return False
        when = self._clock.monotonic() if at is None else at
        heapq.heappush(self._heap, DialItem(when, next(self._seq), address))
        self._ids[address.id] += 1
        self._dials[address.dial_string()] += 1
        self._changed.set()
        return True

    def has(self, address: NetAddress) -> bool:
        """Whether an address with the same ID or the same ``ip:port`` is queued (gno's ``Same``)."""
        return self._ids[address.id] > 0 or self._dials[address.dial_string()] > 0

    def has_id(self, node_id: str) -> bool:
        return self._ids[node_id] > 0

    def peek(self) -> DialItem | None:
        return self._heap[0] if self._heap else None

    def pop(self) -> DialItem | None:
        if not self._heap:
            return None
        item = heapq.heappop(self._heap)
        for index, key in ((self._ids, item.address.id), (self._dials, item.address.dial_string())):
            index[key] -= 1
            if index[key] <= 0:
                del index[key]
        return item

    def items(self) -> list[DialItem]:
        return sorted(self._heap)

    async def wait_due(self) -> DialItem:
        """Sleep until the head item is due, then pop and return it. Never busy-waits."""
        while True:
            self._changed.clear()
            head = self.peek()
            if head is None:
                await self._changed.wait()
                continue
            delay = head.time - self._clock.monotonic()
            if delay <= 0:
                item = self.pop()
                assert item is not None
                return item
            # Sleep until the head is due, or until a push changes the head.
            sleeper = asyncio.ensure_future(self._clock.sleep(delay))
            changed = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                changed.cancel()


class PersistentPeer:
    """A persistent peer: its address and how many redials in a row failed (None: not yet dialed)."""

    __slots__ = ("address", "attempts", "next_delay")

    def __init__(self, address: NetAddress) -> None:
        self.address = address
        self.attempts: int | None = None
        #: The backoff of the next redial, drawn when the last dial failed (None: not yet).
        self.next_delay: float | None = None

    def reset(self) -> None:
        """Connected: the next loss redials at once and the backoff starts over."""
        self.attempts = None
        self.next_delay = None


class RedialSchedule:
    """The persistent peers and when each one is dialed again (gno's tick + backoff)."""

    def __init__(
        self, addresses: Iterable[NetAddress], clock: Clock, rng: random.Random, interval: float
    ) -> None:
        self.peers: dict[str, PersistentPeer] = {a.id: PersistentPeer(a) for a in addresses}
        self._clock = clock
        self._rng = rng
        self._interval = interval
        #: When the next redial tick runs (the first runs as the switch starts).
        self.next_tick = clock.monotonic()

    def _delay(self, p: PersistentPeer) -> float:
        if p.next_delay is None:
            p.next_delay = redial_backoff(p.attempts or 0, self._rng)
        return p.next_delay

    def tick(self, queue: DialQueue, busy: Callable[[str], bool]) -> None:
        """Queue every persistent peer that is not ``busy`` (dialing or connected) nor queued."""
        now = self._clock.monotonic()
        self.next_tick = now + self._interval
        for pid, p in self.peers.items():
            if busy(pid) or queue.has_id(pid):
                continue
            if p.attempts is None:
                queue.push(p.address, now)
                p.attempts = 0
            else:
                queue.push(p.address, now + self._delay(p))
                p.next_delay = None
                p.attempts += 1

    def next_retry(self, peer_id: str) -> float | None:
        """After a failed dial of ``peer_id``: when it is dialed again (None: not persistent)."""
        p = self.peers.get(peer_id)
        if p is None:
            return None
        if p.attempts is None:  # queued on the next tick, without backoff
            return self.next_tick
        return self.next_tick + self._delay(p)
