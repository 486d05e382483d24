"""``crawl.Crawler``: the engine of one stack, the store, the stats; the CLI is a thin layer over it."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import Callable
from types import TracebackType

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire.crawl._config import CrawlConfig, CrawlStats
from peerwire.crawl._devp2p import Devp2pEngine
from peerwire.crawl._store import Store
from peerwire.crawl._tm2 import Tm2Engine

__all__ = ["Crawler"]

#: How long nothing may be in flight before ``run(until_idle=True)`` returns.
IDLE_GRACE = 1.0
#: How often ``run`` checks its stop conditions (seconds).
POLL = 0.2


class Crawler:
    """``async with Crawler(config) as c: await c.run(duration=60); c.stats``.

    ``clock`` drives every deadline, poll and timestamp of the crawl (a fake one in tests).
    """

    def __init__(self, config: CrawlConfig, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config
        self.clock = clock
        self.store: Store | None = None
        self._engine: Devp2pEngine | Tm2Engine | None = None
        self._started = 0.0
        self._elapsed = 0.0
        self._changed = asyncio.Event()

    async def __aenter__(self) -> Crawler:
        self.store = Store(self.config.db, clock=self.clock.time)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    async def wait_ready(self) -> Devp2pEngine | Tm2Engine:
        """Wait until :meth:`run` has its engine up (discovery listening); returns the engine."""
        while self._engine is None:
            await self._changed.wait()
            self._changed.clear()
        await self._engine.ready.wait()
        return self._engine

    @property
    def engine(self) -> Devp2pEngine | Tm2Engine | None:
        """The running engine (``engine.self_node()`` on devp2p), None outside :meth:`run`."""
        return self._engine

    async def run(
        self,
        duration: float | None = 60.0,
        *,
        until_idle: bool = False,
        stop_when: Callable[[CrawlStats], bool] | None = None,
    ) -> CrawlStats:
        """Crawl for ``duration`` seconds (None: until cancelled), or until nothing is left to do
        (``until_idle``), or until ``stop_when(stats)`` holds (checked every ``POLL`` seconds)."""
        if self.store is None:
            raise RuntimeError("use 'async with Crawler(...)'")
        store = self.store
        stop = asyncio.Event()
        engine: Devp2pEngine | Tm2Engine
        if self.config.stack == "devp2p":
            engine = Devp2pEngine(self.config, store, self._changed.set, self.clock)
        else:
            engine = Tm2Engine(self.config, store, self._changed.set, self.clock)
        self._engine = engine
        self._changed.set()
        self._started = self.clock.monotonic()
        runner = asyncio.ensure_future(engine.run(stop))
        try:
            with contextlib.suppress(builtins.TimeoutError):
                async with self.clock.timeout(duration):
                    await self._wait(runner, until_idle, stop_when)
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
            self._elapsed = self.clock.monotonic() - self._started
            store.commit()
            self._engine = None
        return self.stats

    async def _wait(
        self, runner: asyncio.Future[None], until_idle: bool, stop_when: Callable[[CrawlStats], bool] | None
    ) -> None:
        idle_since: float | None = None
        while not runner.done():
            await self.clock.sleep(POLL)
            if self.store is not None:
                self.store.maybe_commit()
            if stop_when is not None and stop_when(self.stats):
                return
            engine = self._engine
            if until_idle and engine is not None and engine.idle():
                idle_since = idle_since or self.clock.monotonic()
                if self.clock.monotonic() - idle_since >= IDLE_GRACE:
                    return
            else:
                idle_since = None
        runner.result()

    @property
    def stats(self) -> CrawlStats:
        if self.store is None:
            return CrawlStats(elapsed=self._elapsed)
        c = self.store.counts()
        e = self._engine
        elapsed = self.clock.monotonic() - self._started if e is not None else self._elapsed
        return CrawlStats(
            found=c["found"],
            probed=c["probed"],
            dialable=c["dialable"],
            with_status=c["with_status"],
            queries=e.queries if e is not None else 0,
            query_failures=e.query_failures if e is not None else 0,
            inbound=e.inbound if e is not None else 0,
            elapsed=elapsed,
            clients=dict(self.store.client_distribution()),
        )
