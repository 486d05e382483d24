"""Injected time: every scheduler, timeout and backoff takes a :class:`Clock`.

Production code uses :data:`SYSTEM_CLOCK`; tests use :class:`FakeClock`, whose
time moves only when the test calls :meth:`FakeClock.advance`, so schedules
are asserted exactly and tests never sleep (go-ethereum's ``mclock.Simulated``,
trio's ``MockClock``).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol, runtime_checkable

__all__ = ["SYSTEM_CLOCK", "Clock", "FakeClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Monotonic time in seconds, wall time, and sleeping on that time base."""

    def monotonic(self) -> float: ...

    def time(self) -> float:
        """UNIX wall-clock seconds (for expirations on the wire, record seqs)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: ``time.monotonic``, ``time.time`` and ``asyncio.sleep``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


SYSTEM_CLOCK: Clock = SystemClock()


class FakeClock:
    """A clock that moves only when told to.

    ``await clock.sleep(d)`` suspends until a test calls ``advance()`` past the
    wake-up time; sleepers wake in deadline order (FIFO on ties).
    """

    def __init__(self, start: float = 0.0, wall_offset: float = 1_700_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_offset
        self._seq = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._wall_offset + self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    @property
    def sleepers(self) -> int:
        """How many tasks are currently asleep on this clock."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def next_deadline(self) -> float | None:
        live = [d for d, _, f in self._sleepers if not f.done()]
        return min(live) if live else None

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking every sleeper that is due.

        Wakes sleepers one deadline at a time and lets the event loop run in
        between, so a task that goes back to sleep is scheduled correctly.
        """
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, fut = heapq.heappop(self._sleepers)
            if fut.done():
                continue
            self._now = max(self._now, deadline)
            fut.set_result(None)
            for _ in range(5):
                await asyncio.sleep(0)
        self._now = target
        for _ in range(5):
            await asyncio.sleep(0)
