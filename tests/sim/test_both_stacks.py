"""Stack "both": every host runs a devp2p node and a TM2 node on the same address and links."""

from __future__ import annotations

import json
import logging
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from peerwire import sim
from peerwire.cli import main as cli_main
from peerwire.sim import Fault, Scenario

BOTH = Scenario(
    name="both",
    stack="both",
    nodes=12,
    duration=60.0,
    sample_interval=10.0,
    join_over=10.0,
    full=True,
    max_peers=4,
    traffic_interval=4.0,
    traffic_start=25.0,
    traffic_size=200,
)


def test_both_stacks_mesh_gossip_on_each_and_the_trace_replays() -> None:
    a = sim.run(BOTH, seed=5)
    b = sim.run(BOTH, seed=5)
    assert a.trace_hash == b.trace_hash and a.series == b.series
    assert a.delays_by_stack == b.delays_by_stack
    assert a.trace_hash != sim.run(BOTH, seed=6).trace_hash
    last = a.series[-1]
    # devp2p side: discovery v4 tables and Server peers; TM2 side: PEX books and switch peers.
    assert last["live"] == BOTH.nodes and last["table_min"] >= 8, a.summary()
    assert last["peers_min"] >= 1 and max(a.final_peer_counts) <= BOTH.max_peers, a.summary()
    assert last["tm2_book_min"] >= 8 and last["tm2_peers_min"] >= BOTH.max_peers, a.summary()
    assert len(a.final_tm2_peer_counts) == BOTH.nodes
    # One message per stack each interval, each judged on its own stack.
    assert a.stacks == ["devp2p", "tm2"]
    per_stack = {s: [m for m in a.messages if m["stack"] == s] for s in a.stacks}
    assert len(per_stack["devp2p"]) == len(per_stack["tm2"]) >= 5
    assert a.coverage("devp2p") == a.coverage("tm2") == 1.0, a.summary()
    assert sum(len(v) for v in a.delays_by_stack.values()) == len(a.propagation_delays)
    for stack in a.stacks:
        p50 = a.delay_quantile(0.5, stack)
        assert p50 is not None and 0.01 < p50 < 1.0
    summary = a.summary()
    assert "devp2p gossip:" in summary and "tm2 gossip:" in summary and "tm2: address book" in summary


def test_a_partition_cuts_both_stacks_of_a_host_alike() -> None:
    # The stacks share each host's links: a cut between hosts splits both meshes, and
    # neither side's messages cross it.
    sc = replace(
        BOTH,
        duration=70.0,
        traffic_start=20.0,
        traffic_interval=5.0,
        faults=(Fault(at=35.0, kind="partition", groups=2),),
    )
    r = sim.run(sc, seed=2)
    before = [m for m in r.messages if m["t"] < 35.0]
    during = [m for m in r.messages if m["t"] >= 40.0]
    assert before and all(m["reached"] == m["eligible"] for m in before), r.messages
    assert {m["stack"] for m in during} == {"devp2p", "tm2"}
    half = sc.nodes // 2 - 1  # the origin's half, less the origin
    assert all(m["reached"] <= half for m in during), r.messages


def test_both_without_full_nodes_gossips_on_tm2_and_discovers_on_devp2p() -> None:
    sc = replace(BOTH, full=False, duration=45.0, traffic_start=20.0)
    r = sim.run(sc, seed=1)
    last = r.series[-1]
    assert "peers_mean" not in last  # no devp2p Server without full nodes
    assert last["table_min"] >= 8 and last["tm2_peers_min"] >= 1, r.summary()
    assert r.stacks == ["tm2"] and r.coverage() == 1.0
    assert r.counters["udp_delivered"] > 0 and r.counters["tcp_established"] > 0


def test_single_stack_results_have_no_tm2_side() -> None:
    r = sim.run(replace(BOTH, stack="devp2p", duration=40.0, traffic_start=20.0), seed=1)
    assert r.stacks == ["devp2p"] and not r.final_tm2_peer_counts
    assert all("tm2_peers_mean" not in s for s in r.series)
    assert "propagation_delay_by_stack" not in r.to_json()["distributions"]


def test_both_accepts_tm2_and_devp2p_settings() -> None:
    sc = Scenario.from_dict(
        tomllib.loads(
            'stack = "both"\n[nodes]\npersistent_seeds = true\nfull = true\n'
            '[attack]\ncount = 4\nsubnets = 1\n[traffic]\ninterval = "2s"'
        )
    )
    assert sc.runs_devp2p and sc.runs_tm2 and sc.gossip_stacks == ("devp2p", "tm2")
    assert Scenario(stack="both").gossip_stacks == ("tm2",)
    assert Scenario(stack="devp2p", full=True).gossip_stacks == ("devp2p",)
    with pytest.raises(ValueError, match="devp2p or both"):
        Scenario(stack="tm2", attackers=4)
    shipped = Scenario.load("both_stacks")
    assert shipped.stack == "both" and shipped.full and shipped.traffic_interval > 0


def test_cli_writes_each_stacks_distributions(tmp_path: Path) -> None:
    scenario = tmp_path / "both.toml"
    scenario.write_text(
        'name = "b"\nstack = "both"\nduration = "40s"\n[nodes]\ncount = 6\nfull = true\n'
        'max_peers = 3\njoin_over = "5s"\n[traffic]\nstart = "20s"\ninterval = "5s"\nsize = 64\n'
    )
    out = tmp_path / "out"
    assert cli_main(["sim", str(scenario), "--out", str(out), "--no-live"]) == 0
    data = json.loads((out / "result.json").read_text())
    by_stack = data["distributions"]["propagation_delay_by_stack"]
    assert set(by_stack) == {"devp2p", "tm2"} and all(by_stack.values())
    assert len(data["distributions"]["tm2_peer_count"]) == 6
    assert {m["stack"] for m in data["messages"]} == {"devp2p", "tm2"}


def test_simulated_nodes_do_not_log_below_error_unless_asked(caplog: pytest.LogCaptureFixture) -> None:
    sc = replace(BOTH, nodes=8, max_peers=2, duration=30.0, traffic_interval=0.0)
    with caplog.at_level(logging.DEBUG, logger="peerwire.devp2p.dial"):  # the user's own level: kept
        sim.run(sc, seed=1)
    asked = [r for r in caplog.records if r.name.startswith("peerwire")]
    assert asked, "a level set by the user keeps the library's lines"
    caplog.clear()
    sim.run(sc, seed=1)
    assert not [r for r in caplog.records if r.name.startswith("peerwire") and r.levelno < logging.ERROR]
    assert logging.getLogger("peerwire").level == logging.NOTSET  # restored


def test_sweep_aggregates_each_stacks_coverage() -> None:
    def result(seed: int, reached: dict[str, int]) -> sim.Result:
        r = sim.Result(scenario="both", seed=seed)
        for i, (stack, k) in enumerate(reached.items()):
            r.add_message(i, 1.0, 4, [0.1] * k, stack=stack)
        return r

    runs = [result(1, {"devp2p": 4, "tm2": 2}), result(2, {"devp2p": 4, "tm2": 4})]
    row = sim.aggregate(runs, "seed", [7, 7])["rows"][0]
    assert row["gossip_coverage_by_stack"] == {"devp2p": 1.0, "tm2": 0.75}
    single = sim.aggregate([result(1, {"tm2": 2})], "seed", [7])["rows"][0]
    assert "gossip_coverage_by_stack" not in single and single["gossip_coverage_mean"] == 0.5
