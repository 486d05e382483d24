"""discv4 packet handling and Kademlia distance throughput, baselines in the same run.

* ``bench_decode_verify``: packets decoded and signature-verified per second by the Rust codec
  (``peerwire._core.discv4.decode``), one Python call per packet; go-ethereum's
  ``v4wire.Decode`` rate over the same kind of packets (harness ``discv4-decode-bench``, run
  just before in the same process tree) goes into ``extra_info``.
* ``bench_service_receive``: the same through the Python service's ``datagram_received``
  (limiter, decode+verify, expiry check, reply matching) for unsolicited Pongs from many sources.
* ``bench_log_distances``: ``kad.log_distances`` over N IDs against a numpy-vectorised and a
  pure-Python baseline. N is 1,000,000 with ``--benchmark-enable`` and 10,000 in the default
  single execution, so the test run stays fast.
* ``bench_lookup_latency``: one lookup (random target) in an N-node loopback network of
  peerwire nodes; go-ethereum's latency in the same topology comes from the harness
  (``discv4-lookup-bench``) run concurrently, and is stored in ``extra_info``. N = 64 with
  ``--benchmark-enable``, 4 otherwise.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from tests.conftest import go_harness as go_harness  # the fixture, shared with the interop tests

from peerwire import devp2p, kad
from peerwire._core import discv4 as wire
from peerwire.bench import Comparison, record
from peerwire.devp2p._nodedb import NodeDB
from peerwire.devp2p.discover import UDPv4, listen_v4

N_PACKETS = 1000
LO = (b"\x7f\x00\x00\x01", 30303, 30303)


def _pongs() -> list[bytes]:
    keys = [devp2p.PrivateKey.generate() for _ in range(16)]
    exp = int(time.time()) + 3600
    return [wire.encode_pong(keys[i % 16].to_bytes(), LO, bytes(32), exp, i)[0] for i in range(N_PACKETS)]


def _geth_decode_rate(binary: Path, rounds: int) -> dict[str, float]:
    """go-ethereum's v4wire.Decode over the same kind of packets, measured in this run."""
    out = subprocess.run(
        [str(binary), "discv4-decode-bench", "-n", str(N_PACKETS), "-rounds", str(rounds)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    res: dict[str, float] = json.loads(out)
    assert res["packets"] == N_PACKETS and res["best_per_s"] > 0
    return res


def bench_decode_verify(benchmark: BenchmarkFixture, go_harness: Path) -> None:
    geth = _geth_decode_rate(go_harness, 1 if benchmark.disabled else 10)
    benchmark.extra_info["geth_best_per_s"] = geth["best_per_s"]
    benchmark.extra_info["geth_mean_per_s"] = geth["mean_per_s"]
    pkts = _pongs()
    assert all(wire.decode(p)[0] == 2 for p in pkts)

    def run() -> int:
        n = 0
        for p in pkts:
            wire.decode(p)
            n += 1
        return n

    benchmark.group = "discv4 receive"
    benchmark.extra_info["packets_per_round"] = N_PACKETS
    assert benchmark(run) == N_PACKETS
    if benchmark.stats is not None:
        ours = N_PACKETS / benchmark.stats.stats.mean
        record(
            benchmark.extra_info,
            Comparison("discv4 decode+verify", "packets/s", ours, geth["mean_per_s"], "go-ethereum"),
        )


def bench_service_receive(benchmark: BenchmarkFixture) -> None:
    pkts = _pongs()
    # distinct LAN hosts, 100 per /24, so each packet goes through the per-source limiter
    # (inside its budgets) rather than the loopback exemption
    addrs = [(f"10.0.{i // 100}.{i % 100 + 1}", 20000 + i) for i in range(N_PACKETS)]

    def fresh() -> tuple[tuple[UDPv4], dict[str, object]]:
        # a new service per round (untimed): a round spends each source's flood budget
        return (UDPv4(devp2p.PrivateKey.generate(), db=NodeDB()),), {}

    def run(svc: UDPv4) -> int:
        for p, a in zip(pkts, addrs, strict=True):
            svc.datagram_received(p, a)
        return svc.stats.dropped_unsolicited

    benchmark.group = "discv4 receive"
    benchmark.extra_info["packets_per_round"] = N_PACKETS
    # every packet passed hash, signature and expiry checks and reached reply matching
    assert benchmark.pedantic(run, setup=fresh, rounds=20) == N_PACKETS


_BITLEN = np.array([i.bit_length() for i in range(256)], dtype=np.uint16)


def numpy_log_distances(target: bytes, ids: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint16]:
    x = ids ^ np.frombuffer(target, dtype=np.uint8)
    nz = x != 0
    first = nz.argmax(axis=1)
    byte = x[np.arange(len(x)), first]
    d = ((31 - first) * 8 + _BITLEN[byte]).astype(np.uint16)
    d[~nz.any(axis=1)] = 0
    return d


def python_log_distances(target: bytes, ids: npt.NDArray[np.uint8]) -> list[int]:
    t = int.from_bytes(target, "big")
    raw = ids.tobytes()
    return [(int.from_bytes(raw[i : i + 32], "big") ^ t).bit_length() for i in range(0, len(raw), 32)]


IMPLS: dict[str, Callable[[bytes, npt.NDArray[np.uint8]], object]] = {
    "peerwire": kad.log_distances,
    "numpy-vectorised": numpy_log_distances,
    "pure-python": python_log_distances,
}


@pytest.mark.parametrize("impl", list(IMPLS), ids=list(IMPLS))
def bench_log_distances(benchmark: BenchmarkFixture, impl: str) -> None:
    n = 10_000 if benchmark.disabled else 1_000_000
    rng = np.random.default_rng(7)
    ids = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    ids[0] = 0  # one ID equal to the target: distance 0
    target = bytes(32)
    want = python_log_distances(target, ids)
    got = IMPLS[impl](target, ids)
    assert list(np.asarray(got).tolist()) == want
    benchmark.group = f"log_distances N={n}"
    benchmark.extra_info["ids"] = n
    benchmark(IMPLS[impl], target, ids)


async def _peerwire_network(n: int) -> tuple[AsyncExitStack, list[UDPv4]]:
    stack = AsyncExitStack()
    boot = await stack.enter_async_context(listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0"))
    nodes = [boot]
    while len(nodes) < n:
        nodes.append(
            await stack.enter_async_context(
                listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0", bootnodes=[boot.self_node()])
            )
        )
    # warm-up as on the Go side: one random lookup per node
    await asyncio.gather(*(d.lookup(None) for d in nodes))
    return stack, nodes


def bench_lookup_latency(benchmark: BenchmarkFixture, go_harness: Path) -> None:
    """Lookup latency in an N-node loopback network; go-ethereum's figure from the same run."""
    n, k = (4, 1) if benchmark.disabled else (64, 10)
    go = subprocess.Popen(
        [str(go_harness), "discv4-lookup-bench", "-nodes", str(n), "-lookups", str(k)],
        stdout=subprocess.PIPE,
        text=True,
    )
    loop = asyncio.new_event_loop()
    stack: AsyncExitStack | None = None
    results: list[int] = []
    try:
        stack, nodes = loop.run_until_complete(_peerwire_network(n))
        src = nodes[1]

        def one() -> None:
            results.append(len(loop.run_until_complete(src.lookup(None))))

        one()
        benchmark.group = f"discv4 lookup, {n} nodes"
        benchmark.pedantic(one, rounds=k, iterations=1)
    finally:
        if stack is not None:
            loop.run_until_complete(stack.aclose())
        loop.close()
        out, _ = go.communicate(timeout=120)
    # lookups return (nearly) full result sets: 16, or everyone else in a tiny network
    assert sum(results) / len(results) >= min(n - 2, 12), results
    benchmark.extra_info["results_mean"] = sum(results) / len(results)
    geth = json.loads(out)
    assert geth["results_mean"] >= min(n - 2, 16)
    benchmark.extra_info["geth_mean_ms"] = geth["mean_ms"]
    benchmark.extra_info["geth_median_ms"] = geth["median_ms"]
    benchmark.extra_info["geth_min_ms"] = geth["min_ms"]
    if benchmark.stats is not None:
        mean_ms = benchmark.stats.stats.mean * 1000
        benchmark.extra_info["ratio_vs_geth_mean"] = mean_ms / geth["mean_ms"]
        record(
            benchmark.extra_info,
            Comparison(f"discv4 lookup, {n} nodes (mean)", "ms", mean_ms, geth["mean_ms"], "go-ethereum"),
        )
