"""RLPx throughput (bodies in ``peerwire.bench``; ``peerwire bench -k rlpx`` runs the same from a wheel).

* ``bench_codec_seal_open`` / ``bench_bound_keccak_aes``: the Rust codec and the keccak+AES
  bound for the same bytes, one pytest-benchmark group per size (ratio of the means);
* ``bench_e2e_vs_geth``: two processes over loopback TCP through ``rlpx.dial``/``listen``
  against go-ethereum ``rlpx.Conn`` (harness ``rlpx-bench``), per size;
* ``bench_handshakes_vs_geth``: handshakes/s over loopback TCP against the same harness.

The comparisons against geth are stored in ``extra_info["comparisons"]``, which
``peerwire bench --from results.json`` reads.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from tests.conftest import go_harness as go_harness  # re-exported fixture
from tests.conftest import run_harness

from peerwire.bench import Comparison, record
from peerwire.bench import _rlpx as body

SIZES = body.SIZES


@pytest.mark.parametrize("size", list(SIZES))
def bench_codec_seal_open(benchmark: BenchmarkFixture, size: str) -> None:
    a, b = body.codec_pair()
    batch = body.make_batch(SIZES[size])
    assert b.feed(a.seal_batch(batch[:3])) == batch[:3]
    benchmark.group = f"rlpx codec {size}"
    benchmark.extra_info["impl"] = "peerwire"
    benchmark.extra_info["bytes"] = sum(len(p) for _, p in batch)
    assert benchmark(body.seal_open, a, b, batch) == len(batch)


@pytest.mark.parametrize("size", list(SIZES))
def bench_bound_keccak_aes(benchmark: BenchmarkFixture, size: str) -> None:
    bound = body.make_bound()
    assert bound is not None, "cryptography or pycryptodome is a dev dependency"
    data = os.urandom(body.BATCH_BYTES)
    benchmark.group = f"rlpx codec {size}"
    benchmark.extra_info["impl"] = "keccak+AES-CTR bound"
    benchmark.extra_info["bytes"] = len(data)
    benchmark(bound, data)


def _geth(binary: Path, quick: bool) -> dict[str, object]:
    return body.geth_figures(lambda *a: run_harness(binary, *a, timeout=300), quick)


@pytest.mark.parametrize("size", list(SIZES))
def bench_e2e_vs_geth(benchmark: BenchmarkFixture, go_harness: Path, size: str) -> None:
    n = body.e2e_count(SIZES[size], benchmark.disabled)
    geth = {s["size"]: s for s in _geth(go_harness, benchmark.disabled)["sizes"]}  # type: ignore[attr-defined]
    benchmark.group = f"rlpx e2e {size}"
    elapsed = benchmark.pedantic(lambda: asyncio.run(body.e2e_python(SIZES[size], n)), rounds=1, iterations=1)
    ours = n * SIZES[size] / elapsed / 1e6
    record(
        benchmark.extra_info,
        Comparison(f"rlpx e2e {size}", "MB/s", ours, float(geth[SIZES[size]]["mb_per_s"]), "go-ethereum"),
    )


def bench_handshakes_vs_geth(benchmark: BenchmarkFixture, go_harness: Path) -> None:
    n = 5 if benchmark.disabled else 300
    geth = _geth(go_harness, benchmark.disabled)
    benchmark.group = "rlpx handshakes"
    rate = benchmark.pedantic(lambda: asyncio.run(body.handshakes_python(n)), rounds=1, iterations=1)
    record(
        benchmark.extra_info,
        Comparison("rlpx handshakes", "handshakes/s", rate, float(geth["handshakes_per_s"]), "go-ethereum"),  # type: ignore[arg-type]
    )
