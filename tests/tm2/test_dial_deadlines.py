"""The dial timeout bounds the connect only, as gno (v1.7.1 ``switch.go`` defaultDialTimeout wraps
``transport.Dial`` -> ``addr.DialContext(ctx)``; ``processConn`` then gives the STS step and the
NodeInfo step ``defaultHandshakeTimeout`` each). All on the fake clock."""

from __future__ import annotations

import asyncio
from collections import deque

import pytest

from peerwire import tm2
from peerwire._clock import FakeClock
from peerwire.testing.tm2 import MemoryNetwork, MemoryTransport
from peerwire.tm2._secret import Reader, Writer

CH = 0x77


class DelayedWriter:
    """Forwards writes in order; write number ``i`` (0-based) leaves ``delays[i]`` s of clock time late."""

    def __init__(self, inner: Writer, clock: FakeClock, delays: dict[int, float]) -> None:
        self._inner = inner
        self._clock = clock
        self._delays = delays
        self._n = 0
        self._queue: deque[tuple[bytes, float]] = deque()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._forward())

    def write(self, data: bytes) -> None:
        self._queue.append((bytes(data), self._delays.get(self._n, 0.0)))
        self._n += 1
        self._wake.set()

    async def _forward(self) -> None:
        while True:
            while not self._queue:
                self._wake.clear()
                await self._wake.wait()
            data, delay = self._queue.popleft()
            if delay:
                await self._clock.sleep(delay)
            self._inner.write(data)

    async def drain(self) -> None:
        await self._inner.drain()

    def close(self) -> None:
        self._task.cancel()
        self._inner.close()

    async def wait_closed(self) -> None:
        await self._inner.wait_closed()

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self._inner.get_extra_info(name, default)


class SlowListener(MemoryTransport):
    """Answers the STS ephemeral key (write 0) and its NodeInfo (write 2) late."""

    def __init__(self, net: MemoryNetwork, sts: float, node_info: float) -> None:
        super().__init__(net, tm2.NodeKey.from_secret(b"slow"), channels=bytes([CH]))
        self._clock = net.clock
        self.delays = {0: sts, 2: node_info}

    def handle_connection(self, reader: Reader, writer: Writer) -> None:
        assert isinstance(self._clock, FakeClock)
        super().handle_connection(reader, DelayedWriter(writer, self._clock, self.delays))


class SlowConnect(MemoryTransport):
    def __init__(self, net: MemoryNetwork, connect: float) -> None:
        super().__init__(net, tm2.NodeKey.from_secret(b"dialer"), channels=bytes([CH]))
        self.connect_delay = connect

    async def _connect(self, addr: tm2.NetAddress) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        await self.network.clock.sleep(self.connect_delay)
        return await super()._connect(addr)


class Echo(tm2.BaseReactor):
    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(id=CH)]


async def _dial(connect: float, sts: float, node_info: float) -> tuple[bool, float, tm2.MultiplexSwitch]:
    clock = FakeClock()
    net = MemoryNetwork(clock)
    slow = SlowListener(net, sts, node_info)
    dialer = SlowConnect(net, connect)
    await slow.listen()
    await dialer.listen()
    a = tm2.MultiplexSwitch(dialer, reactors={"e": Echo()}, clock=clock)
    b = tm2.MultiplexSwitch(slow, reactors={"e": Echo()}, clock=clock)
    async with a, b:
        a.dial_peers(str(slow.net_address()))
        for _ in range(120):
            if a.peers().has(slow.net_address().id) or a.stats.dial_failures:
                break
            await clock.advance(0.1)
        return a.peers().has(slow.net_address().id), clock.monotonic(), a


def test_peer_slow_at_each_step_but_within_each_deadline_is_accepted() -> None:
    """connect, STS and NodeInfo take 1.5 s each: 4.5 s in all, over the 3 s dial timeout."""
    connected, elapsed, sw = asyncio.run(_dial(1.5, 1.5, 1.5))
    assert connected and sw.stats.dial_failures == 0
    assert elapsed >= 4.5  # the whole dial took longer than the dial timeout


@pytest.mark.parametrize(("connect", "sts", "node_info"), [(3.5, 0, 0), (0, 3.5, 0), (0, 0, 3.5)])
def test_each_step_keeps_its_own_deadline(connect: float, sts: float, node_info: float) -> None:
    connected, elapsed, sw = asyncio.run(_dial(connect, sts, node_info))
    assert not connected and sw.stats.dial_failures == 1
    assert elapsed < 3.5  # cut at 3 s, not after the slow step ended
