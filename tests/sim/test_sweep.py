"""Sweeps: a local process pool by default, a Dask cluster when given; results per parameter."""

from __future__ import annotations

import pytest

from peerwire import sim
from peerwire.sim import Scenario

TINY = Scenario(name="tiny", nodes=6, duration=30.0, sample_interval=10.0, join_over=5.0)


def test_parse_sweep() -> None:
    assert sim.parse_sweep("seed=1..4") == ("seed", [1, 2, 3, 4])
    assert sim.parse_sweep("loss=0,0.05") == ("loss", [0, 0.05])
    assert sim.parse_sweep("latency=10ms,uniform(10ms, 50ms)")[1][0] == "10ms"
    with pytest.raises(ValueError):
        sim.parse_sweep("seed")


def test_process_pool_sweep_matches_single_runs() -> None:
    results = sim.sweep(TINY, "seed", [1, 2, 1], workers=2)
    assert [r.seed for r in results] == [1, 2, 1]
    assert results[0].trace_hash == results[2].trace_hash == sim.run(TINY, 1).trace_hash
    assert results[1].trace_hash != results[0].trace_hash
    agg = sim.aggregate(results, "seed", [1, 2, 1])
    assert [row["seed"] for row in agg["rows"]] == [1, 2]
    assert agg["rows"][0]["runs"] == 2 and len(agg["rows"][0]["trace_hashes"]) == 1


def test_parameter_sweep_on_a_dask_local_cluster() -> None:
    import distributed  # the sim extra, part of the dev install

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        results = sim.sweep(TINY, "loss", [0.0, 0.3], seed=4, dask=client)
    assert [r.scenario for r in results] == ["tiny", "tiny"]
    local = sim.run(TINY.with_param("loss", 0.3), 4)
    assert results[1].trace_hash == local.trace_hash  # where a run executes does not change it
    assert results[1].counters["udp_dropped"] > results[0].counters.get("udp_dropped", 0)
    agg = sim.aggregate(results, "loss", [0.0, 0.3])
    assert [row["loss"] for row in agg["rows"]] == [0.0, 0.3]
