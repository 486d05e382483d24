"""Issue 12 items 1 and 7: accepted means delivered (backpressure, not drops), and a peer that
stops reading is dropped by the write deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from peerwire import tm2
from peerwire._clock import FakeClock
from peerwire.testing.tm2 import MEMORY_MCONFIG, MemoryNetwork, MemoryTransport

CH = 0x77
TOTAL = 100_000


async def settle_until(cond: Callable[[], bool], rounds: int = 10_000) -> None:
    for _ in range(rounds):
        if cond():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


class SlowCounter(tm2.BaseReactor):
    """Naps 2 ms every 250 messages: far slower than the link, so its queue fills again and again."""

    def __init__(self) -> None:
        super().__init__("count")
        self.seen: list[int] = []
        self.done = asyncio.Event()

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(id=CH, send_queue_capacity=100)]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        self.seen.append(int.from_bytes(msg, "big"))
        if len(self.seen) % 250 == 0:
            await asyncio.sleep(0.002)
        if len(self.seen) == TOTAL:
            self.done.set()


def test_100k_messages_through_a_slow_reactor_all_arrive_in_order() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        ka, kb = tm2.NodeKey.from_secret(b"sender"), tm2.NodeKey.from_secret(b"receiver")
        ta = MemoryTransport(net, ka, channels=bytes([CH]))
        tb = MemoryTransport(net, kb, channels=bytes([CH]))
        await ta.listen()
        await tb.listen()
        counter = SlowCounter()
        a = tm2.MultiplexSwitch(ta, reactors={"count": SlowCounter()}, clock=net.clock)
        # A small dispatch queue, so the reactor's naps fill it again and again.
        cfg = tm2.SwitchConfig(dispatch_queue_size=64)
        b = tm2.MultiplexSwitch(tb, reactors={"count": counter}, config=cfg, clock=net.clock)
        async with a, b:
            a.dial_peers(str(tb.net_address()))
            await settle_until(lambda: a.peers().has(kb.id) and b.peers().has(ka.id))
            to_b = a.peers().get(kb.id)
            assert to_b is not None
            t0 = time.monotonic()
            accepted = 0
            for i in range(TOTAL):
                accepted += await to_b.send(CH, i.to_bytes(4, "big"))
            t_sent = time.monotonic() - t0
            assert accepted == TOTAL  # the API accepted every one...
            await asyncio.wait_for(counter.done.wait(), 180)  # a bound for a loaded CI box; ~4 s normally
            took = time.monotonic() - t0
            assert counter.seen == list(range(TOTAL))  # ...and every one arrived, in order
            assert b.stats.dispatch_waits > 0  # the slow reactor did push back
            assert b.stats.dispatch_dropped == 0 and b.peers().has(ka.id)
            waits = b.stats.dispatch_waits
            print(f"100k messages: sent in {t_sent:.2f} s, all received in {took:.2f} s, {waits} pauses")

    asyncio.run(main())


def test_peer_that_never_reads_is_dropped_by_the_write_deadline() -> None:
    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock, pipe_capacity=64 * 1024)
        victim_key, lazy_key = tm2.NodeKey.from_secret(b"victim"), tm2.NodeKey.from_secret(b"lazy")
        cfg = tm2.MConnConfig(
            send_rate=1 << 40, recv_rate=1 << 40, flush_throttle=0.0, ping_interval=1e9, pong_timeout=1e9 - 1
        )
        assert cfg.write_timeout == 20.0  # the default
        victim_t = MemoryTransport(net, victim_key, channels=bytes([CH]), mconfig=cfg)
        lazy_t = MemoryTransport(net, lazy_key, channels=bytes([CH]), mconfig=MEMORY_MCONFIG)
        await victim_t.listen()
        await lazy_t.listen()
        victim = tm2.MultiplexSwitch(victim_t, reactors={"count": SlowCounter()}, clock=clock)
        async with victim:
            drops = victim.subscribe(lambda e: e.type == tm2.EventType.PEER_DISCONNECTED)
            # The lazy peer handshakes, then never starts its connection: it never reads a byte.
            lazy = await lazy_t.dial(victim_t.net_address(), victim.behavior)
            await settle_until(lambda: victim.peers().has(lazy_key.id))
            to_lazy = victim.peers().get(lazy_key.id)
            assert to_lazy is not None

            queued = [0]

            async def flood() -> None:  # 4 MiB: far more than the pipe and the lazy reader's buffer
                for _ in range(4096):
                    if not await to_lazy.send(CH, b"x" * 1024):
                        return
                    queued[0] += 1

            flooding = asyncio.create_task(flood())
            while True:  # until the victim's writes are stuck (nothing more gets queued)
                before = queued[0]
                for _ in range(500):
                    await asyncio.sleep(0)
                if queued[0] == before:
                    break
            assert 0 < queued[0] < 4096
            assert victim.peers().has(lazy_key.id)  # stuck in a write, not yet dropped
            await clock.advance(19.0)
            assert victim.peers().has(lazy_key.id)
            await clock.advance(1.5)
            ev = await asyncio.wait_for(anext(drops), 5)
            assert isinstance(ev, tm2.PeerDisconnectedEvent) and ev.peer_id == lazy_key.id
            assert isinstance(ev.reason, tm2.WriteTimeoutError) and ev.reason.disconnect_reason is None
            assert not victim.peers().has(lazy_key.id)
            await flooding
            await lazy.close_conn()
        await victim_t.close()
        await lazy_t.close()

    asyncio.run(main())
