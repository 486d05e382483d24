"""Virtual time: an asyncio event loop whose clock jumps to the next timer.

The loop is asyncio's own selector loop with a selector that does no I/O:
when the loop would block for ``timeout`` seconds, ``select`` moves virtual
time forward by that much instead, so the next timer is due at once. All
real sockets are replaced by the simulated network (:mod:`peerwire.sim._network`),
which the loop reaches through its ``create_connection`` / ``create_server`` /
``create_datagram_endpoint`` methods, the same calls the library makes on a
real loop. Nothing here reads the wall clock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import selectors
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, TypeVarTuple

from peerwire._clock import LoopDeadline

__all__ = ["SimClock", "SimulationStalled", "VirtualLoop"]

#: Wall-clock reading (UNIX seconds) at virtual time 0: a fixed date, so record
#: sequence numbers and packet expirations are the same in every run.
WALL_EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z

#: Timers closer than this to "now" count as due; virtual time is exact, this only
#: absorbs float rounding of ``now + (when - now)``.
_RESOLUTION = 1e-9


_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")


class SimulationStalled(RuntimeError):
    """The loop has nothing ready and no timer: the awaited result can never come."""


class _VirtualSelector(selectors.BaseSelector):
    """A selector over no file descriptors whose ``select`` advances virtual time."""

    def __init__(self, loop_time: list[float]) -> None:
        self._now = loop_time
        self._keys: dict[int, selectors.SelectorKey] = {}

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._keys[fd] = key
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        return self._keys.pop(fd)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        self.unregister(fileobj)
        return self.register(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            raise SimulationStalled("no task is ready and no timer is pending")
        if timeout > 0:
            self._now[0] += timeout
        return []

    def close(self) -> None:
        self._keys.clear()

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return dict(self._keys)


class VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time; ``network`` serves its socket calls."""

    def __init__(self, network: Any = None) -> None:
        self._now_cell = [0.0]
        super().__init__(_VirtualSelector(self._now_cell))
        self._clock_resolution = _RESOLUTION
        self.network = network

    def time(self) -> float:
        return self._now_cell[0]

    # The simulated network answers every socket call; the loop has no real sockets.
    async def create_connection(
        self, protocol_factory: Any, host: Any = None, port: Any = None, **kw: Any
    ) -> Any:
        return await self._net().open_stream(protocol_factory, str(host), int(port))

    async def create_server(
        self, protocol_factory: Any, host: Any = None, port: Any = None, **kw: Any
    ) -> Any:
        h = host[0] if isinstance(host, list | tuple) else host
        return self._net().listen_stream(protocol_factory, str(h or "0.0.0.0"), int(port or 0))

    async def create_datagram_endpoint(
        self, protocol_factory: Any, local_addr: Any = None, remote_addr: Any = None, **kw: Any
    ) -> Any:
        host, port = local_addr if local_addr is not None else ("0.0.0.0", 0)
        return self._net().open_datagram(protocol_factory, str(host), int(port))

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[[*_Ts], _T],
        *args: *_Ts,
    ) -> asyncio.Future[_T]:
        # No threads: their results would arrive in real time, between virtual instants, and
        # through the self-pipe this loop never polls. The work runs here, taking no virtual time.
        fut: asyncio.Future[_T] = self.create_future()
        try:
            fut.set_result(func(*args))
        except Exception as e:
            fut.set_exception(e)
        return fut

    async def getaddrinfo(self, *args: Any, **kw: Any) -> Any:
        raise OSError("name resolution is not simulated: use IP addresses")

    def _net(self) -> Any:
        if self.network is None:
            raise RuntimeError("this VirtualLoop has no simulated network")
        return self.network


class SimClock:
    """The :class:`peerwire._clock.Clock` of a simulation: the running loop's virtual time."""

    def __init__(self, loop: VirtualLoop) -> None:
        self._loop = loop

    def monotonic(self) -> float:
        return self._loop.time()

    def time(self) -> float:
        return WALL_EPOCH + self._loop.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def timeout(self, seconds: float | None) -> LoopDeadline:
        return LoopDeadline(None if seconds is None else self._loop.time() + seconds)

    def deadline_at(self, when: float | None) -> LoopDeadline:
        return LoopDeadline(when)  # on the loop's own (virtual) clock
