"""Table refresh when due or on request, shared by v4 and v5 (geth ``Table.loop``).

A refresh seeds the table from the node database and the bootnodes, then
looks up self and random targets. It runs on the table's schedule (the Rust
``kad.Table`` says when one is due) and, as geth's ``tab.refresh()``, at once
when a lookup finds the table empty: after a partition every entry may have
failed revalidation, and a node without bootnodes (a bootnode itself) can only
find its way back through the nodes its database saw recently.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from peerwire import kad
from peerwire._clock import Clock
from peerwire.errors import PeerwireError, TimeoutError

__all__ = ["REFRESH_WAIT", "Refresher"]

REFRESH_WAIT = 60.0
"""How long a lookup on an empty table waits for the refresh it asked for (geth: 1 minute)."""
_POLL = 1.0
"""How often the loop checks the table's refresh schedule when nobody asks."""


class Refresher:
    """Runs ``refresh`` when ``table`` says one is due or when :meth:`wait_refilled` asks."""

    def __init__(
        self,
        table: kad.Table,
        clock: Clock,
        refresh: Callable[[], Awaitable[None]],
        *,
        tick: Callable[[], None] | None = None,
    ) -> None:
        self._table = table
        self._clock = clock
        self._refresh = refresh
        self._tick = tick
        self._wanted = asyncio.Event()
        self._next = asyncio.Event()  # set when the next refresh ends
        self._current: asyncio.Event | None = None  # set when the running one ends
        self.running = False
        #: Refreshes finished since start (scheduled and requested).
        self.count = 0
        #: Times a lookup found the table empty and asked for a refill: an observable for
        #: monitors (a sampled table size can miss the moment, as the refill is immediate).
        self.found_empty = 0

    def request(self) -> asyncio.Event:
        """Ask for a refresh now; the event is set when it (or the one running) has ended."""
        if self._current is not None:
            return self._current
        self._wanted.set()
        return self._next

    async def wait_refilled(self, size: Callable[[], int]) -> None:
        """If ``size()`` is 0, ask for a refresh and wait for it, at most :data:`REFRESH_WAIT`.

        Without the loop running (a node started without background upkeep) this returns
        at once: the caller's lookup then starts from the bootnodes alone.
        """
        if size() > 0 or not self.running:
            return
        self.found_empty += 1
        done = self.request()
        with contextlib.suppress(TimeoutError):
            async with self._clock.timeout(REFRESH_WAIT):
                await done.wait()

    async def run(self, closed: Callable[[], bool]) -> None:
        """The loop: a task of the owning service, until ``closed()``."""
        self.running = True
        try:
            while not closed():
                if self._wanted.is_set() or self._table.refresh_due(self._clock.monotonic()):
                    await self._run_once()
                if self._tick is not None:
                    self._tick()
                with contextlib.suppress(TimeoutError):
                    async with self._clock.timeout(_POLL):
                        await self._wanted.wait()
        finally:
            self.running = False

    async def _run_once(self) -> None:
        self._wanted.clear()
        self._current, self._next = self._next, asyncio.Event()
        try:
            with contextlib.suppress(PeerwireError, OSError):
                await self._refresh()
        finally:
            self._table.refresh_done(self._clock.monotonic())
            self.count += 1
            done, self._current = self._current, None
            done.set()
