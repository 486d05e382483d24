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
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from tests.conftest import go_harness  # noqa: F401  (the fixture, for this module)
from tests.interop.test_tm2_switch import GnoNode
from tests.tm2.tcpnode import TcpNode, wait_for

from peerwire import tm2
from peerwire._clock import FakeClock
from peerwire.testing.tm2 import MemoryNetwork, MemoryTransport
from peerwire.tm2 import discovery

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


def _key(name: str) -> tm2.NodeKey:
    return tm2.NodeKey.from_secret(name.encode())


def _nid(name: str) -> tm2.ID:
    return _key(name).id


async def _star(n_peers: int) -> tuple[tm2.MultiplexSwitch, list[Counter], list[tm2.MultiplexSwitch]]:
    net = MemoryNetwork(FakeClock())
    hub_t = MemoryTransport(net, _key("hub"), channels=bytes([CH]), backlog=n_peers)
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
        t = MemoryTransport(net, _key(f"p{i}"), channels=bytes([CH]))
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
            await s.transport.close()

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
    seed_t = MemoryTransport(net, _key("seed"), channels=bytes([discovery.CHANNEL]))
    seed_addr = str(seed_t.net_address())
    transports = [seed_t] + [
        MemoryTransport(net, _key(f"m{i}"), channels=bytes([discovery.CHANNEL])) for i in range(n - 1)
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
        await s.transport.close()
    return took, steps


def bench_mesh_32_from_one_seed(benchmark: BenchmarkFixture) -> None:
    benchmark.group = "tm2 network formation"
    took, _ = benchmark.pedantic(lambda: asyncio.run(_mesh(32)), rounds=1, iterations=1)
    assert took < 60
    benchmark.extra_info["protocol_seconds_to_10_peers_each"] = took
    print(f"\n32 nodes, one seed: every node has 10 peers after {took:.2f} s of protocol time")


class _Sinks:
    """The harness's ``tm2-sink``: N gno nodes in one Go process, all dialing one hub."""

    def __init__(self, harness: Path, hub: str, n: int) -> None:
        self.args = [str(harness), "tm2-sink", "-n", str(n), "-hub", hub]
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert await self._line() == "ready"

    async def _line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 150)
        return str(json.loads(line)["event"])

    async def wait(self, total: int) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(f"wait {total}\n".encode())
        assert await self._line() == "done"

    async def close(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            await self.proc.wait()


@pytest.mark.parametrize("hub_impl", ["peerwire", "gno"])
def bench_broadcast_1kib_to_100_gno_sinks_tcp(
    benchmark: BenchmarkFixture,
    go_harness: Path,  # noqa: F811
    hub_impl: str,
) -> None:
    """One hub (peerwire or gno) broadcasting 1 KiB messages over loopback TCP to N gno peers
    (the same ``tm2-sink`` process for both hubs): msgs/s until every peer has every message."""
    n = 10 if benchmark.disabled else 100
    batch = 20 if benchmark.disabled else 100
    msg = b"b" * 1024
    loop = asyncio.new_event_loop()
    state = {"sent": 0}

    async def setup() -> tuple[Any, _Sinks]:
        if hub_impl == "peerwire":
            hub: Any = TcpNode(
                "bench-hub-pw",
                tm2.with_max_inbound_peers(n + 10),
                with_discovery=False,
                max_inbound_handshakes=n + 10,  # all sinks dial at once, and only once
            )
            await hub.start()
            addr = hub.addr
        else:
            hub = GnoNode(go_harness, "bench-hub-gno", discovery="false", max_in=str(n + 10))
            await hub.start()
            addr = hub.addr
        sinks = _Sinks(go_harness, addr, n)
        await sinks.start()
        if hub_impl == "peerwire":
            await wait_for(lambda: len(hub.sw.peers()) == n, 30, "hub sees every sink")
        return hub, sinks

    hub, sinks = loop.run_until_complete(setup())

    async def burst() -> None:
        for _ in range(batch):
            if hub_impl == "peerwire":
                assert hub.sw.broadcast(0x77, msg) == n
            else:
                hub.command("broadcast " + msg.decode())
        state["sent"] += batch
        await sinks.wait(state["sent"])

    loop.run_until_complete(burst())  # checked once before timing
    benchmark.group = f"tm2 broadcast 1 KiB to {n} gno peers over loopback TCP"
    benchmark.extra_info["messages_per_round"] = batch
    benchmark.pedantic(lambda: loop.run_until_complete(burst()), rounds=5, iterations=1)
    if benchmark.stats is not None:
        benchmark.extra_info["msgs_per_s"] = batch / benchmark.stats.stats.mean
        print(f"\n{hub_impl} hub -> {n} gno peers: {batch / benchmark.stats.stats.mean:.0f} msgs/s")

    async def close() -> None:
        await sinks.close()
        if hub_impl == "peerwire":
            await hub.stop()
        else:
            await hub.quit()

    loop.run_until_complete(close())
    loop.close()


async def _mesh_tcp(n: int) -> float:
    """Wall seconds until n peerwire nodes over loopback TCP, each told one seed and allowed
    n - 1 outbound peers, form a full mesh (all in this one Python process)."""
    out = tm2.with_max_outbound_peers(n - 1)
    seed = await TcpNode(f"tcpmesh-{n}-seed", out, max_inbound_handshakes=2 * n).start()
    nodes = [seed]
    t0 = asyncio.get_running_loop().time()
    try:
        for i in range(n - 1):
            nodes.append(await TcpNode(f"tcpmesh-{n}-{i}", out, seeds=[seed.addr]).start())
        await wait_for(lambda: all(len(x.sw.peers()) == n - 1 for x in nodes), 60, "full mesh")
        return asyncio.get_running_loop().time() - t0
    finally:
        for x in nodes:
            await x.stop()


def bench_mesh_32_full_over_tcp(benchmark: BenchmarkFixture) -> None:
    n = 6 if benchmark.disabled else 32
    benchmark.group = "tm2 network formation"
    took = benchmark.pedantic(lambda: asyncio.run(_mesh_tcp(n)), rounds=1, iterations=1)
    assert took < 60
    benchmark.extra_info["seconds_to_full_mesh"] = took
    print(f"\n{n} nodes over loopback TCP, one seed: full mesh after {took:.2f} s")
