"""Full devp2p nodes in the simulation: the real Server (RLPx, real crypto) dialing what
discovery finds, the simgossip demo protocol and the traffic generator on top."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from peerwire import sim
from peerwire.cli import main as cli_main
from peerwire.sim import Fault, Scenario
from peerwire.sim._gossip import decode_gossip, encode_gossip

FULL = Scenario(
    name="full",
    nodes=16,
    duration=60.0,
    sample_interval=10.0,
    join_over=10.0,
    full=True,
    max_peers=6,
    traffic_interval=2.0,
    traffic_start=25.0,
    traffic_size=300,
)


def test_full_nodes_connect_gossip_reaches_every_node_and_the_trace_replays() -> None:
    a = sim.run(FULL, seed=3)
    b = sim.run(FULL, seed=3)
    assert a.trace_hash == b.trace_hash
    assert a.series == b.series and a.propagation_delays == b.propagation_delays
    last = a.series[-1]
    # Every node found peers through discovery and the dial scheduler, within max_peers.
    assert last["peers_min"] >= 1 and max(a.final_peer_counts) <= FULL.max_peers
    assert last["peers_mean"] >= 4, a.summary()
    assert a.counters["tcp_established"] >= 16 * 2
    # The generator ran from 25 s to (60 - grace) s, every message reached every other node.
    assert len(a.messages) == len(range(25, 51, 2))
    assert a.coverage() == 1.0, a.summary()
    assert all(m["eligible"] == 15 for m in a.messages)
    # A hop costs one link latency (10-100 ms) plus the frame: p50 of a 16-node mesh is a few hops.
    p50, p99 = a.delay_quantile(0.5), a.delay_quantile(0.99)
    assert p50 is not None and p99 is not None
    assert 0.01 <= p50 <= p99 < 1.0, a.summary()
    assert a.counters["honest_dropped_flood"] == 0


def test_another_seed_gives_another_full_node_trace() -> None:
    short = replace(FULL, nodes=8, duration=30.0, traffic_start=10.0)
    assert sim.run(short, seed=1).trace_hash != sim.run(short, seed=2).trace_hash


def test_gossip_recovers_after_a_partition_heals() -> None:
    sc = replace(
        FULL,
        nodes=12,
        duration=150.0,
        traffic_start=20.0,
        traffic_interval=5.0,
        lookup_interval=10.0,
        faults=(Fault(at=40.0, kind="partition", groups=2), Fault(at=80.0, kind="heal")),
    )
    r = sim.run(sc, seed=6)
    at = {s["t"]: s for s in r.series}
    assert r.counters["tcp_resets"] > 0  # the cut connections died
    by_time = {m["t"]: m for m in r.messages}
    cut = [m for t, m in by_time.items() if 45.0 <= t < 80.0]
    after = [m for t, m in by_time.items() if t >= 120.0]
    # While cut, a message reaches at most its own half (6 of 12, 5 besides the origin).
    assert cut and all(m["reached"] <= 5 for m in cut), r.messages
    # Within 40 s of healing, discovery and the dialer have joined the halves again.
    assert after and all(m["reached"] == m["eligible"] for m in after), r.messages
    assert at[150.0]["peers_min"] >= 1


def test_gossip_payload_round_trip() -> None:
    for size in (16, 40, 300, 70_000):
        payload = encode_gossip(7, 12.345678, size)
        assert decode_gossip(payload) == (7, pytest.approx(12.345678))
    with pytest.raises(ValueError):
        decode_gossip(b"\x83abc")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[traffic]\ninterval = "1s"', "needs full nodes"),
        ("[nodes]\nfull = true\n[network]\nbandwidth = 1e6", "bandwidth is not simulated"),
        ("[nodes]\nfull = true\n[traffic]\nsize = 8", "16 <= size"),
        ('[traffic]\nrate = "1s"', r"unknown \[traffic\] keys"),
        ("[attack]\ncount = 600\nsubnets = 2", "at most 254 hosts"),
    ],
)
def test_bad_full_node_scenarios_are_refused(toml: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scenario.from_dict(tomllib.loads(toml))


def test_shipped_broadcast_scenario_has_full_nodes_and_traffic() -> None:
    sc = Scenario.load("broadcast")
    assert sc.full and sc.traffic_interval > 0 and sc.max_peers == 10


def test_cli_full_node_run_writes_the_propagation_cdf(tmp_path: Path) -> None:
    scenario = tmp_path / "b.toml"
    scenario.write_text(
        'name = "b"\nduration = "40s"\n[nodes]\ncount = 8\nfull = true\nmax_peers = 4\n'
        '[traffic]\nstart = "15s"\ninterval = "5s"\nsize = 64\n'
    )
    out = tmp_path / "out"
    assert cli_main(["sim", str(scenario), "--out", str(out), "--no-live"]) == 0
    data = json.loads((out / "result.json").read_text())
    delays = data["distributions"]["propagation_delay"]
    assert data["messages"] and len(delays) == sum(m["reached"] for m in data["messages"])
    assert delays == sorted(delays) and delays[0] > 0
    assert len(data["distributions"]["peer_count"]) == 8
    pytest.importorskip("matplotlib")
    assert (out / "propagation.png").exists()


TM2 = replace(FULL, name="tm2", stack="tm2", full=False, nodes=12, max_peers=4)


def test_tm2_switches_mesh_through_pex_and_gossip_reaches_every_node() -> None:
    a = sim.run(TM2, seed=3)
    b = sim.run(TM2, seed=3)
    assert a.trace_hash == b.trace_hash and a.propagation_delays == b.propagation_delays
    last = a.series[-1]
    # Only the seed is configured: every node found the others through PEX.
    assert last["peers_min"] >= TM2.max_peers, a.summary()
    assert last["table_mean"] >= 4  # PEX address book entries
    assert a.messages and a.coverage() == 1.0, a.summary()
    p50 = a.delay_quantile(0.5)
    assert p50 is not None and 0.01 < p50 < 1.0
    assert a.counters.get("udp_sent", 0) == 0 and a.counters["tcp_established"] > 0  # no UDP in TM2


def test_tm2_switch_under_partition_keeps_each_half_and_stays_split_after_healing() -> None:
    # Found by this scenario: gno's discovery (which peerwire follows) dials the seeds only
    # when a node has no peer at all, and a PEX answer lists connected peers only. After a
    # partition heals, each half is a healthy mesh that never hears of the other half again
    # unless persistent peers are configured. This pins that behaviour.
    sc = replace(
        TM2,
        duration=140.0,
        traffic_start=20.0,
        traffic_interval=5.0,
        faults=(Fault(at=40.0, kind="partition", groups=2), Fault(at=80.0, kind="heal")),
    )
    r = sim.run(sc, seed=6)
    by_time = {m["t"]: m for m in r.messages}
    assert all(m["reached"] == m["eligible"] for t, m in by_time.items() if t < 40.0)
    assert r.counters["tcp_resets"] > 0
    later = [m for t, m in by_time.items() if t >= 45.0]
    assert later and all(m["reached"] == 5 for m in later), r.messages  # the origin's half
    assert all(s["peers_min"] == 5 for s in r.series if s["t"] >= 50.0)


V5 = replace(FULL, name="v5", discovery=("v5",), nodes=10, duration=50.0, max_peers=5, lookup_interval=10.0)


def test_discovery_v5_nodes_fill_tables_feed_the_servers_and_replay() -> None:
    a = sim.run(V5, seed=4)
    b = sim.run(V5, seed=4)
    assert a.trace_hash == b.trace_hash and a.series == b.series
    last = a.series[-1]
    assert last["table_min"] >= 5, a.summary()  # v5 tables (kad.Table) found most of the 9 others
    assert last["peers_min"] >= 1 and last["peers_mean"] >= 2, a.summary()  # servers dialed what v5 found
    assert a.messages and a.coverage() == 1.0, a.summary()
    assert a.counters["udp_delivered"] > 0


def test_discovery_v4_and_v5_on_one_socket_fill_both_tables_and_replay() -> None:
    # geth's shape: both protocols share each node's UDP port; the server dials from both
    # random walks (FairMix). Each protocol's table is recorded beside the union.
    sc = replace(V5, name="v4v5", discovery=("v4", "v5"))
    a = sim.run(sc, seed=4)
    b = sim.run(sc, seed=4)
    assert a.trace_hash == b.trace_hash and a.series == b.series
    last = a.series[-1]
    assert last["table_v4_min"] >= 5 and last["table_v5_min"] >= 5, a.summary()
    assert last["table_min"] >= max(last["table_v4_min"], last["table_v5_min"])
    assert last["peers_min"] >= 1 and a.messages and a.coverage() == 1.0, a.summary()
    assert "v5 table mean" in a.summary()
    assert "table_v5_mean" not in sim.run(replace(sc, discovery=("v5",)), seed=4).series[-1]


def test_discovery_v5_scenarios_are_validated() -> None:
    with pytest.raises(ValueError, match="discovery must be"):
        Scenario.from_dict(tomllib.loads('[nodes]\ndiscovery = ["v4", "v6"]'))
    with pytest.raises(ValueError, match="v4 only"):
        Scenario.from_dict(tomllib.loads('[nodes]\ndiscovery = ["v5"]\n[attack]\ncount = 4'))
    with pytest.raises(ValueError, match="v4 only"):
        Scenario.from_dict(tomllib.loads('[nodes]\ndiscovery = ["v4", "v5"]\n[attack]\ncount = 4'))
    assert Scenario.from_dict(tomllib.loads('[nodes]\ndiscovery = ["v5"]')).discovery == ("v5",)
    both = Scenario.from_dict(tomllib.loads('[nodes]\ndiscovery = ["v4", "v5"]'))
    assert both.discovery == ("v4", "v5")


def test_tm2_persistent_seed_is_redialed_and_joins_the_halves_after_healing() -> None:
    # The redial side of the switch: with the seed as a persistent peer, the half that lost it
    # keeps redialing (with backoff) through the cut and is back within seconds of healing.
    sc = replace(
        TM2,
        duration=130.0,
        traffic_start=20.0,
        traffic_interval=5.0,
        persistent_seeds=True,
        faults=(Fault(at=40.0, kind="partition", groups=2), Fault(at=80.0, kind="heal")),
    )
    r = sim.run(sc, seed=6)
    by_time = {m["t"]: m for m in r.messages}
    assert all(m["reached"] <= 5 for t, m in by_time.items() if 45.0 <= t < 80.0), r.messages
    healed = [m for t, m in by_time.items() if t >= 95.0]
    assert healed and all(m["reached"] == m["eligible"] for m in healed), r.messages
    assert r.series[-1]["peers_min"] > 5  # links across the former cut
    with pytest.raises(ValueError, match="TM2 setting"):
        replace(FULL, persistent_seeds=True)


def test_tm2_with_a_bandwidth_model_replays_and_big_messages_take_longer() -> None:
    # Secret-connection handshakes have fixed sizes, so TM2 may use the bandwidth model.
    sc = replace(TM2, nodes=8, duration=45.0, traffic_start=20.0, traffic_interval=5.0, max_peers=3)
    small = replace(sc, bandwidth=200_000.0, traffic_size=100)
    big = replace(sc, bandwidth=200_000.0, traffic_size=8_000)
    a, b = sim.run(big, seed=2), sim.run(big, seed=2)
    assert a.trace_hash == b.trace_hash and a.coverage() == 1.0
    s = sim.run(small, seed=2)
    fast, slow = s.delay_quantile(0.5), a.delay_quantile(0.5)
    assert fast is not None and slow is not None
    assert slow > fast + 0.03  # 8 kB at 200 kB/s is 40 ms per hop more than 100 B
