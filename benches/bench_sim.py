"""Simulator speed: simulated seconds per wall second, and memory per node.

* ``bench_discovery_speed``: discovery-v4-only nodes (real signing, decoding, node DB) with a
  random lookup every 10 s per node. N = ``SIM_NODES`` (default 1000 enabled, 12 disabled).
* ``bench_full_node_speed``: devp2p full nodes (Server over RLPx, real crypto, ~10 peers) with
  gossip every 2 s. N = ``SIM_FULL_NODES`` (default 200 enabled, 8 disabled).

Each times one run and asserts its outcome (tables filled, every message delivered);
``extra_info`` holds nodes, simulated and wall seconds, the ratio and peak RSS growth per node.
The issue's targets (10,000 discovery nodes >= 50x real time; 1,000 full nodes for 10 simulated
minutes in < 10 real minutes) are far larger than the default run.
"""

from __future__ import annotations

import os
import resource
import time

from pytest_benchmark.fixture import BenchmarkFixture

from peerwire import sim


def _run(benchmark: BenchmarkFixture, scenario: sim.Scenario) -> tuple[sim.Result, dict[str, float]]:
    """One timed run (pytest-benchmark times it; a simulation is too long to repeat)."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result: sim.Result = benchmark.pedantic(sim.run, args=(scenario, 1), rounds=1, iterations=1)
    wall = time.perf_counter() - started
    grown = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024
    return result, {
        "nodes": scenario.nodes,
        "simulated_s": scenario.duration,
        "wall_s": wall,
        "sim_per_wall": scenario.duration / wall,
        "peak_rss_growth_per_node_bytes": grown / scenario.nodes,
    }


def bench_discovery_speed(benchmark: BenchmarkFixture) -> None:
    n = int(os.environ.get("SIM_NODES", "12" if benchmark.disabled else "1000"))
    scenario = sim.Scenario(
        name="bench-discovery",
        nodes=n,
        duration=60.0 if benchmark.disabled else 300.0,
        sample_interval=30.0,
        join_over=10.0 if benchmark.disabled else 60.0,
        lookup_interval=10.0,
    )
    result, info = _run(benchmark, scenario)
    assert result.last("live") == n
    assert result.last("table_mean") >= min(16, n - 1) * 0.8, result.summary()
    benchmark.extra_info.update(info)


def bench_full_node_speed(benchmark: BenchmarkFixture) -> None:
    n = int(os.environ.get("SIM_FULL_NODES", "8" if benchmark.disabled else "200"))
    scenario = sim.Scenario(
        name="bench-full",
        nodes=n,
        duration=40.0 if benchmark.disabled else 180.0,
        sample_interval=20.0,
        join_over=10.0 if benchmark.disabled else 30.0,
        full=True,
        max_peers=4 if benchmark.disabled else 10,
        traffic_start=15.0 if benchmark.disabled else 60.0,
        traffic_interval=5.0 if benchmark.disabled else 2.0,
    )
    result, info = _run(benchmark, scenario)
    assert result.messages and result.coverage() == 1.0, result.summary()
    assert result.last("peers_min") >= 1
    info["gossip_p90_s"] = result.delay_quantile(0.9) or 0.0
    benchmark.extra_info.update(info)
