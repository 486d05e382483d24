"""TM2 switch: broadcast fan-out and network formation, with gno's switch measured in the same run.

``bench_broadcast_*_memory``: our MultiplexSwitch broadcasting 1 KiB messages to
100 peers over the in-memory transport (switch + reactor dispatch cost, no
crypto, no TCP). ``bench_gno_broadcast``: gno's switch doing the same over
loopback TCP (MConnection + secret connection), run by the Go harness. Until
peerwire's TCP MultiplexTransport is wired in, the two are NOT the same
workload; see benches/RESULTS.md.

``bench_mesh_32_from_one_seed``: 32 peerwire nodes with discovery, each told
only one seed, on the memory network and fake clock; reports the protocol time
(fake seconds) until every node holds 10 peers (the default outbound quota).

Run with ``make bench``. Each bench checks its result before timing it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from pytest_benchmark.fixture import BenchmarkFixture
from tests.conftest import go_harness  # noqa: F401  (the fixture, for this module)

from peerwire import tm2
from peerwire._clock import FakeClock
from peerwire.tm2 import discovery
from peerwire.tm2._memory import MemoryNetwork, MemoryTransport

CH = 0x77
MSG = bytes(range(256)) * 4  # 1 KiB


class Counter(tm2.BaseReactor):
    def __init__(self) -> None:
        super().__init__("count")
        self.n = 0
        self.done = asyncio.Event()
        self.want = 0

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(id=CH, send_queue_capacity=100)]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        self.n += 1
        if self.n >= self.want:
            self.done.set()


def _nid(name: str) -> tm2.ID:
    return tm2.NodeKey.from_secret(name.encode()).id


async def _star(n_peers: int) -> tuple[tm2.MultiplexSwitch, list[Counter], list[tm2.MultiplexSwitch]]:
    net = MemoryNetwork(FakeClock())
    hub_t = MemoryTransport(net, _nid("hub"), channels=bytes([CH]), backlog=n_peers)
    await hub_t.listen()
    hub = tm2.MultiplexSwitch(
        hub_t,
        tm2.with_reactor("c", Counter()),
        tm2.with_clock(net.clock),
        tm2.with_max_inbound_peers(n_peers),
        tm2.with_broadcast_queue_size(4096),
    )
    await hub.start()
    counters, sws = [], []
    for i in range(n_peers):
        t = MemoryTransport(net, _nid(f"p{i}"), channels=bytes([CH]))
        await t.listen()
        c = Counter()
        sw = tm2.MultiplexSwitch(t, tm2.with_reactor("c", c), tm2.with_clock(net.clock))
        await sw.start()
        sw.dial_peers(str(hub_t.net_address()))
        counters.append(c)
        sws.append(sw)
    for _ in range(10000):
        if len(hub.peers()) == n_peers and all(len(s.peers()) == 1 for s in sws):
            break
        await asyncio.sleep(0)
    assert len(hub.peers()) == n_peers
    return hub, counters, sws


def bench_broadcast_1kib_to_100_peers_memory(benchmark: BenchmarkFixture) -> None:
    loop = asyncio.new_event_loop()
    hub, counters, sws = loop.run_until_complete(_star(100))
    batch = 50

    async def burst() -> None:
        for c in counters:
            c.want = c.n + batch
            c.done.clear()
        for _ in range(batch):
            assert hub.broadcast(CH, MSG) == 100
        await asyncio.wait_for(asyncio.gather(*(c.done.wait() for c in counters)), 30)

    loop.run_until_complete(burst())
    assert all(c.n == batch for c in counters) and hub.stats.broadcast_dropped == 0
    benchmark.group = "tm2 broadcast 1 KiB x 100 peers"
    benchmark.extra_info["messages_per_round"] = batch
    benchmark.pedantic(lambda: loop.run_until_complete(burst()), rounds=5, iterations=1)
    if benchmark.stats is not None:
        benchmark.extra_info["msgs_per_s"] = batch / benchmark.stats.stats.mean

    async def close() -> None:
        for s in [hub, *sws]:
            await s.stop()

    loop.run_until_complete(close())
    loop.close()


def bench_gno_broadcast_1kib_to_100_peers_tcp(benchmark: BenchmarkFixture, go_harness: Path) -> None:  # noqa: F811
    peers = 10 if benchmark.disabled else 100
    out = subprocess.run(
        [str(go_harness), "tm2-bench-broadcast", "-peers", str(peers), "-msgs", "200"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    res = json.loads(out)
    assert res["peers"] == peers and res["msgs"] == 200 and res["msgs_per_s"] > 0
    benchmark.group = "tm2 broadcast 1 KiB x 100 peers"
    benchmark.extra_info.update(res)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    print(f"\ngno broadcast: {res}")


async def _mesh(n: int) -> tuple[float, int]:
    clock = FakeClock()
    net = MemoryNetwork(clock)
    nodes = []
    seed_t = MemoryTransport(net, _nid("seed"), channels=bytes([discovery.CHANNEL]))
    seed_addr = str(seed_t.net_address())
    transports = [seed_t] + [
        MemoryTransport(net, _nid(f"m{i}"), channels=bytes([discovery.CHANNEL])) for i in range(n - 1)
    ]
    for i, t in enumerate(transports):
        await t.listen()
        r = discovery.Reactor(seeds=[] if i == 0 else [seed_addr])
        sw = tm2.MultiplexSwitch(t, tm2.with_reactor("d", r), tm2.with_clock(clock))
        await sw.start()
        nodes.append(sw)
    want = min(10, n - 1)
    steps = 0
    while not all(len(s.peers()) >= want for s in nodes):
        steps += 1
        assert clock.monotonic() < 600, "network did not form in 10 minutes of protocol time"
        for _ in range(50):
            await asyncio.sleep(0)
        await clock.advance(0.25)
    took = clock.monotonic()
    for s in nodes:
        await s.stop()
    return took, steps


def bench_mesh_32_from_one_seed(benchmark: BenchmarkFixture) -> None:
    benchmark.group = "tm2 network formation"
    took, _ = benchmark.pedantic(lambda: asyncio.run(_mesh(32)), rounds=1, iterations=1)
    assert took < 60
    benchmark.extra_info["protocol_seconds_to_10_peers_each"] = took
    print(f"\n32 nodes, one seed: every node has 10 peers after {took:.2f} s of protocol time")
