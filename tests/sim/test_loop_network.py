"""The virtual-time loop and the simulated network, on their own."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from peerwire import errors
from peerwire.sim import Distribution, LinkModel, Network, SimClock, SimulationStalled, VirtualLoop
from peerwire.sim._network import CONNECT_GIVE_UP, CURRENT_HOST


def _run(coro_fn: Any, *, latency: str = "10ms", loss: float = 0.0, seed: int = 1) -> Any:
    loop = VirtualLoop()
    net = Network(loop, random.Random(seed), LinkModel(latency=Distribution.parse(latency), loss=loss))
    loop.network = net
    try:
        return loop.run_until_complete(coro_fn(loop, net))
    finally:
        loop.close()


def test_time_jumps_to_the_next_timer_without_waiting() -> None:
    async def body(loop: VirtualLoop, net: Network) -> float:
        await asyncio.sleep(3600)
        return loop.time()

    started = time.perf_counter()
    assert _run(body) == pytest.approx(3600.0)
    assert time.perf_counter() - started < 1.0


def test_a_wait_nothing_can_end_is_reported_not_hung() -> None:
    async def body(loop: VirtualLoop, net: Network) -> None:
        await loop.create_future()

    with pytest.raises(SimulationStalled):
        _run(body)


def test_sim_clock_timeout_is_peerwire_timeout_on_virtual_time() -> None:
    async def body(loop: VirtualLoop, net: Network) -> float:
        clock = SimClock(loop)
        with pytest.raises(errors.TimeoutError):
            async with clock.timeout(5.0):
                await clock.sleep(10.0)
        assert clock.time() - clock.monotonic() > 1e9  # a fixed wall epoch
        return clock.monotonic()

    assert _run(body) == pytest.approx(5.0)


class _Sink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: list[tuple[float, bytes, Any]] = []

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.got.append((asyncio.get_running_loop().time(), data, addr))


async def _two_udp(loop: VirtualLoop, net: Network, *, nat_b: bool = False) -> tuple[Any, _Sink, Any, _Sink]:
    a = net.add_host("20.0.0.1")
    b = net.add_host("20.0.1.1", nat=nat_b)
    ta, pa = a.context.run(net.open_datagram, _Sink, "20.0.0.1", 1000)
    tb, pb = b.context.run(net.open_datagram, _Sink, "20.0.1.1", 1000)
    return ta, pa, tb, pb


def test_datagrams_arrive_after_the_latency_and_not_across_a_partition() -> None:
    async def body(loop: VirtualLoop, net: Network) -> None:
        ta, _pa, _tb, pb = await _two_udp(loop, net)
        ta.sendto(b"one", ("20.0.1.1", 1000))
        await asyncio.sleep(1)
        assert [(round(t, 6), d, a) for t, d, a in pb.got] == [(0.01, b"one", ("20.0.0.1", 1000))]
        net.partition([["20.0.0.1"], ["20.0.1.1"]])
        ta.sendto(b"two", ("20.0.1.1", 1000))
        await asyncio.sleep(1)
        assert len(pb.got) == 1
        net.heal()
        ta.sendto(b"three", ("20.0.1.1", 1000))
        await asyncio.sleep(1)
        assert [d for _, d, _ in pb.got] == [b"one", b"three"]

    _run(body)


def test_datagram_loss_follows_the_rate() -> None:
    async def body(loop: VirtualLoop, net: Network) -> int:
        ta, _, _, pb = await _two_udp(loop, net)
        for _ in range(2000):
            ta.sendto(b"x", ("20.0.1.1", 1000))
        await asyncio.sleep(1)
        return len(pb.got)

    assert 1500 < _run(body, loss=0.2) < 1700


def test_nat_host_gets_datagrams_only_from_addresses_it_sent_to() -> None:
    async def body(loop: VirtualLoop, net: Network) -> None:
        ta, _pa, tb, pb = await _two_udp(loop, net, nat_b=True)
        ta.sendto(b"unsolicited", ("20.0.1.1", 1000))
        await asyncio.sleep(1)
        assert pb.got == []
        tb.sendto(b"hello", ("20.0.0.1", 1000))
        await asyncio.sleep(1)
        ta.sendto(b"reply", ("20.0.0.1", 1000) and ("20.0.1.1", 1000))
        await asyncio.sleep(1)
        assert [d for _, d, _ in pb.got] == [b"reply"]
        assert net.counters["udp_nat_dropped"] == 1

    _run(body)


async def _echo_server(net: Network, ip: str, port: int) -> Any:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        while data := await r.read(65536):
            w.write(data)
        w.close()

    host = net.hosts[ip]
    return await host.context.run(asyncio.ensure_future, asyncio.start_server(handle, ip, port))


def test_streams_deliver_in_order_with_latency_and_bandwidth() -> None:
    async def body(loop: VirtualLoop, net: Network) -> None:
        net.link.bandwidth = 1_000_000.0
        net.add_host("20.0.0.1")
        net.add_host("20.0.1.1")
        await _echo_server(net, "20.0.1.1", 80)
        CURRENT_HOST.set("20.0.0.1")
        t0 = loop.time()
        r, w = await asyncio.open_connection("20.0.1.1", 80)
        assert loop.time() - t0 == pytest.approx(0.02, abs=1e-3)  # SYN + SYN-ACK
        payload = bytes(range(256)) * 4000  # 1 MB: ~1 s each way at 1 MB/s
        t1 = loop.time()
        w.write(payload)
        got = await r.readexactly(len(payload))
        assert got == payload
        assert loop.time() - t1 == pytest.approx(2.04, abs=0.05)
        w.close()
        assert await r.read() == b""

    _run(body)


def test_stream_loss_is_delay_not_corruption() -> None:
    async def body(loop: VirtualLoop, net: Network) -> None:
        net.add_host("20.0.0.1")
        net.add_host("20.0.1.1")
        await _echo_server(net, "20.0.1.1", 80)
        CURRENT_HOST.set("20.0.0.1")
        r, w = await asyncio.open_connection("20.0.1.1", 80)
        for i in range(200):
            w.write(i.to_bytes(2, "big"))
        got = await r.readexactly(400)
        assert [int.from_bytes(got[i : i + 2], "big") for i in range(0, 400, 2)] == list(range(200))
        assert net.counters["tcp_retransmits"] > 20

    _run(body, loss=0.3)


def test_connects_refused_timed_out_and_reset_by_partition() -> None:
    async def body(loop: VirtualLoop, net: Network) -> None:
        net.add_host("20.0.0.1")
        net.add_host("20.0.1.1")
        net.add_host("20.0.2.1", nat=True)
        CURRENT_HOST.set("20.0.0.1")
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("20.0.1.1", 80)
        t0 = loop.time()
        with pytest.raises(OSError):
            await asyncio.open_connection("20.0.2.1", 80)  # NAT: inbound unreachable
        assert loop.time() - t0 == pytest.approx(CONNECT_GIVE_UP)
        await _echo_server(net, "20.0.1.1", 80)
        r, _w = await asyncio.open_connection("20.0.1.1", 80)
        net.partition([["20.0.0.1"], ["20.0.1.1"]])
        with pytest.raises(ConnectionResetError):
            await r.read()
        assert net.counters["tcp_resets"] == 2

    _run(body)


def test_executor_work_runs_inline_on_virtual_time() -> None:
    # A thread's result would arrive in real time, through a self-pipe the virtual loop never
    # polls (the TM2 address book loads through asyncio.to_thread): it runs inline instead.
    async def body(loop: VirtualLoop, net: Network) -> tuple[int, float]:
        got = await asyncio.to_thread(sum, [1, 2, 3])
        with pytest.raises(ZeroDivisionError):
            await loop.run_in_executor(None, lambda: 1 // 0)
        return got, loop.time()

    assert _run(body) == (6, 0.0)
