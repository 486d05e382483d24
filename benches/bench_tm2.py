"""TM2 connection stack against gno (bodies in ``peerwire.bench``; ``peerwire bench -k tm2`` from a wheel).

* the Rust frame codec (seal+open of 1 MiB) against one raw ChaCha20-Poly1305 seal+open;
* SecretConnection over loopback TCP at 1 KiB / 64 KiB / 1 MiB against gno (``tm2-sc-bench``);
* MConnection, rate limits out of the way, against gno (``tm2-mconn-bench``);
* handshakes (STS + NodeInfo) per second against gno (``tm2-handshake-bench``).

Under the default ``--benchmark-disable`` run each bench runs once on a few MB, so the suite
stays fast; ``make bench`` measures full volumes. Comparisons go to ``extra_info["comparisons"]``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from tests.conftest import run_harness

from peerwire.bench import Comparison, record
from peerwire.bench import _tm2 as body
from peerwire.bench._crypto import chacha20poly1305_roundtrip

MIB = body.MIB
SIZES = body.SIZES
GROUP_CODEC = "tm2 frame codec 1 MiB (seal+open)"


def _run(binary: Path) -> body.Run:
    return lambda *a: run_harness(binary, *a, timeout=300)


def bench_frame_codec_seal_open_1mib(benchmark: BenchmarkFixture) -> None:
    sa, sb = body.codec_sessions()
    data = bytes(range(256)) * (MIB // 256)
    assert sb.open(sa.seal(data)) == data
    benchmark.group = GROUP_CODEC
    benchmark.extra_info.update(impl="peerwire", bytes=2 * MIB)
    benchmark(lambda: sb.open(sa.seal(data)))


def bench_raw_chacha20poly1305_1mib(benchmark: BenchmarkFixture) -> None:
    """The single-core bound: one AEAD seal and one open of 1 MiB, no framing."""
    roundtrip = chacha20poly1305_roundtrip(b"\x07" * 32)
    assert roundtrip is not None, "cryptography or pycryptodome is a dev dependency"
    data = bytes(range(256)) * (MIB // 256)
    assert roundtrip(data) == data
    benchmark.group = GROUP_CODEC
    benchmark.extra_info.update(impl="ChaCha20-Poly1305 bound", bytes=2 * MIB)
    benchmark(roundtrip, data)


def _total(benchmark: BenchmarkFixture, full: int) -> int:
    return full if not benchmark.disabled else 2 * MIB


@pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))
def bench_secret_connection_vs_gno(benchmark: BenchmarkFixture, go_harness: Path, size: str) -> None:
    n = SIZES[size]
    total = _total(benchmark, 256 * MIB if n > 1024 else 64 * MIB)
    gno = body.gno_secret_connection(_run(go_harness), n, total)
    ours = benchmark.pedantic(
        lambda: asyncio.run(body.secret_connection_throughput(n, total)), rounds=1, iterations=1
    )
    benchmark.group = f"tm2 secret connection {size}"
    record(
        benchmark.extra_info,
        Comparison(f"tm2 secret connection {size}", "MB/s", ours["mb_per_s"], gno, "gno"),
    )


@pytest.mark.parametrize("size", ["1KiB", "64KiB"])
def bench_mconnection_vs_gno(benchmark: BenchmarkFixture, go_harness: Path, size: str) -> None:
    n = SIZES[size]
    total = _total(benchmark, 64 * MIB if n > 1024 else 16 * MIB)
    gno = body.gno_mconnection(_run(go_harness), n, total)
    ours = benchmark.pedantic(
        lambda: asyncio.run(body.mconnection_throughput(n, total)), rounds=1, iterations=1
    )
    benchmark.group = f"tm2 mconnection {size}"
    record(
        benchmark.extra_info,
        Comparison(f"tm2 mconnection {size}", "msgs/s", ours["msgs_per_s"], gno["msgs_per_s"], "gno"),
        Comparison(f"tm2 mconnection {size}", "MB/s", ours["mb_per_s"], gno["mb_per_s"], "gno"),
    )


def bench_handshakes_vs_gno(benchmark: BenchmarkFixture, go_harness: Path) -> None:
    count = 500 if not benchmark.disabled else 20
    gno = body.gno_handshakes(_run(go_harness), count)
    ours = benchmark.pedantic(lambda: asyncio.run(body.handshakes_one_process(count)), rounds=1, iterations=1)
    two = asyncio.run(body.handshakes_two_processes(count))
    benchmark.group = "tm2 handshakes (STS + NodeInfo)"
    record(
        benchmark.extra_info,
        Comparison("tm2 handshakes, one process", "handshakes/s", ours, gno, "gno"),
        Comparison("tm2 handshakes, listener in its own process", "handshakes/s", two, gno, "gno"),
    )
