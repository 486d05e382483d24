"""Task ownership: the switch's loops, dials and peers live in one task scope; stop() ends them all."""

from __future__ import annotations

import asyncio

from peerwire import tm2
from peerwire._clock import FakeClock
from peerwire.testing.tm2 import MemoryNetwork, MemoryTransport

CH = 0x77


class Echo(tm2.BaseReactor):
    def __init__(self) -> None:
        super().__init__("echo")
        self.got: list[bytes] = []

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(id=CH)]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        self.got.append(msg)


class BrokenInit(Echo):
    def init_peer(self, peer: tm2.PeerConn) -> tm2.PeerConn:
        raise RuntimeError("reactor bug in init_peer")


async def _until(cond: object, rounds: int = 5000) -> None:
    assert callable(cond)
    for _ in range(rounds):
        if cond():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def test_no_library_task_outlives_stop() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        me = asyncio.current_task()
        assert asyncio.all_tasks() == {me}
        ta = MemoryTransport(net, tm2.NodeKey.from_secret(b"ta"), channels=bytes([CH]))
        tb = MemoryTransport(net, tm2.NodeKey.from_secret(b"tb"), channels=bytes([CH]))
        await ta.listen()
        await tb.listen()
        ea, eb = Echo(), Echo()
        a = tm2.MultiplexSwitch(ta, reactors={"echo": ea}, clock=net.clock)
        b = tm2.MultiplexSwitch(tb, reactors={"echo": eb}, clock=net.clock)
        await a.start()
        await b.start()
        a.dial_peers(str(tb.net_address()), f"{tm2.NodeKey.from_secret(b'nobody').id}@127.0.0.9:1")
        await _until(lambda: a.peers().has(tb.net_address().id) and b.peers().has(ta.net_address().id))
        a.broadcast(CH, b"hello")
        await _until(lambda: eb.got == [b"hello"])
        assert len(asyncio.all_tasks()) > 10  # loops, dispatchers, MConnection routines...
        await a.stop()
        await b.stop()
        await ta.close()
        await tb.close()
        assert asyncio.all_tasks() == {me}, sorted(t.get_name() for t in asyncio.all_tasks())

    asyncio.run(main())


def test_an_exception_in_a_peer_task_is_not_lost() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        ta = MemoryTransport(net, tm2.NodeKey.from_secret(b"ta"), channels=bytes([CH]))
        tb = MemoryTransport(net, tm2.NodeKey.from_secret(b"tb"), channels=bytes([CH]))
        await ta.listen()
        await tb.listen()
        a = tm2.MultiplexSwitch(ta, reactors={"echo": Echo()}, clock=net.clock)
        b = tm2.MultiplexSwitch(tb, reactors={"broken": BrokenInit()}, clock=net.clock)
        async with a, b:
            a.dial_peers(str(tb.net_address()))
            await _until(lambda: bool(b.task_errors))
            [(name, err)] = b.task_errors
            assert isinstance(err, RuntimeError) and "init_peer" in str(err) and ta.net_address().id in name
            # The peer it broke on is gone on both ends, and the switch goes on.
            await _until(lambda: not a.peers().has(tb.net_address().id))
            assert len(b.peers()) == 0 and b.peer_state(ta.net_address().id) is None and b.running
        await ta.close()
        await tb.close()

    asyncio.run(main())
