"""A fair mix of node iterators (go-ethereum ``enode.FairMix``, ``p2p/enode/iter.go``).

The dial scheduler takes its dynamic candidates from one iterator; discovery v4,
discovery v5 and protocol-specific sources (``Config.dial_candidates``) feed it
through this mix, as geth's ``Server.discmix``:

* sources take turns (round robin);
* when the source whose turn it is has no node within its timeout, the next
  node that *any* source offers is taken instead, and that source's timeout is
  halved (reset when it delivers again), so a stalled source costs less each
  round and never blocks the others;
* a source that ends is removed from the mix;
* each source holds at most one node that the mix has not taken yet (its
  reader waits until the mix takes it), so a fast source cannot fill memory.

The readers are tasks of the mix's own :class:`~peerwire._tasks.TaskScope`:
:meth:`FairMix.aclose` cancels them and waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType

from peerwire._clock import Clock
from peerwire._tasks import TaskScope
from peerwire.devp2p._enode import Node
from peerwire.errors import TimeoutError

__all__ = ["FAIRMIX_TIMEOUT", "FairMix"]

FAIRMIX_TIMEOUT = 0.1
"""How long the mix waits for the fairly chosen source before it takes a node from any source."""
SOURCE_BUFFER = 1
"""Nodes a source may have read ahead of the mix (geth: one, in an unbuffered channel)."""


@dataclass(eq=False)
class _Source:
    name: str
    timeout: float
    nodes: asyncio.Queue[Node] = field(default_factory=lambda: asyncio.Queue(SOURCE_BUFFER))
    ended: bool = False


class FairMix:
    """Mixes several async node sources fairly; iterate it with ``async for`` (see module doc).

    ``async with FairMix(clock) as mix: mix.add_source(it); async for node in mix: …``
    (or :meth:`start` / :meth:`aclose`).
    """

    def __init__(self, clock: Clock, timeout: float = FAIRMIX_TIMEOUT) -> None:
        self._clock = clock
        self._timeout = timeout
        self._sources: list[_Source] = []
        self._changed = asyncio.Event()  # a node arrived, or a source ended
        self._turn = -1
        self._scope = TaskScope("fairmix")
        self._closed = False

    def __repr__(self) -> str:
        names = ",".join(s.name for s in self._sources)
        return f"<FairMix sources=[{names}] closed={self._closed}>"

    async def start(self) -> None:
        """Open the mix's task scope (:meth:`add_source` needs it)."""
        await self._scope.start()

    async def __aenter__(self) -> FairMix:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    @property
    def sources(self) -> list[str]:
        """Names of the sources still in the mix, in turn order."""
        return [s.name for s in self._sources]

    def add_source(self, it: AsyncIterator[Node], name: str = "") -> None:
        """Add ``it`` to the mix; it is read by a task of the mix until it ends or the mix closes.

        Raises:
            RuntimeError: the mix was not started or is closed.
        """
        if self._closed or not self._scope.running:
            raise RuntimeError("FairMix is not running (start() it, or it was closed)")
        src = _Source(name or f"source-{len(self._sources)}", self._timeout)
        self._sources.append(src)
        # A failing source is logged and counted by the scope; the mix goes on without it.
        self._scope.spawn(self._read(src, it), name=src.name)

    async def _read(self, src: _Source, it: AsyncIterator[Node]) -> None:
        try:
            async for node in it:
                await src.nodes.put(node)
                self._changed.set()
        finally:
            src.ended = True
            self._changed.set()
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    def close(self) -> None:
        """Stop iterating (see :meth:`aclose` to also wait for the readers)."""
        self._closed = True
        self._changed.set()

    async def aclose(self) -> None:
        """Cancel the source readers and wait until they are gone."""
        self.close()
        await self._scope.stop()

    def __aiter__(self) -> AsyncIterator[Node]:
        return self._iterate()

    def _drop_ended(self) -> None:
        self._sources = [s for s in self._sources if not (s.ended and s.nodes.empty())]

    def _from_any(self) -> Node | None:
        for src in self._sources:
            if not src.nodes.empty():
                return src.nodes.get_nowait()
        return None

    async def _next_from_any(self) -> Node | None:
        while not self._closed:
            self._drop_ended()
            node = self._from_any()
            if node is not None:
                return node
            self._changed.clear()
            await self._changed.wait()
        return None

    async def _next(self) -> Node | None:
        while not self._closed:
            self._drop_ended()
            if not self._sources:
                return await self._next_from_any()
            self._turn = (self._turn + 1) % len(self._sources)
            src = self._sources[self._turn]
            if not src.nodes.empty():
                src.timeout = self._timeout
                return src.nodes.get_nowait()
            if src.ended:
                continue  # dropped on the next round
            try:
                async with self._clock.timeout(src.timeout):
                    node = await self._wait_on(src)
            except TimeoutError:
                src.timeout /= 2  # geth: a stuck source costs less time each round
                return await self._next_from_any()
            if node is not None:
                src.timeout = self._timeout
                return node
        return None

    async def _wait_on(self, src: _Source) -> Node | None:
        """The next node of ``src``; ``None`` when it ended or the mix closed."""
        while not self._closed:
            if not src.nodes.empty():
                return src.nodes.get_nowait()
            if src.ended:
                return None
            self._changed.clear()
            await self._changed.wait()
        return None

    async def _iterate(self) -> AsyncIterator[Node]:
        while True:
            node = await self._next()
            if node is None:
                return
            yield node
