"""NetMetrics: counters, bounded labels, exposition (mirrors python/peerwire/_metrics.py)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from peerwire._metrics import MAX_LABEL_VALUES, NetMetrics


def _samples(m: NetMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(m.exposition().decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_counts_flow_to_snapshot_and_exposition() -> None:
    m = NetMetrics("tm2", version="1.2.3")
    m.peer_added(inbound=True)
    m.peer_added(inbound=True)
    m.peer_added(inbound=False)
    m.peer_removed(inbound=True, reason="timeout")
    m.dial_attempt()
    m.dial_attempt()
    m.dial_result("success")
    m.dial_result("connection refused")
    m.handshake_failure("bad mac")
    m.message_in("0x40", 100)
    m.message_in("0x40", 50, count=2)
    m.message_out("0x30", 7)
    snap = m.snapshot()
    assert (snap.peers_inbound, snap.peers_outbound, snap.peers) == (1, 1, 2)
    assert (snap.dials, snap.dial_failures, snap.handshake_failures, snap.disconnects) == (2, 1, 1, 1)
    assert (snap.messages_in, snap.bytes_in, snap.messages_out, snap.bytes_out) == (3, 150, 1, 7)
    s = _samples(m)
    assert s[("peerwire_peers", (("direction", "inbound"), ("stack", "tm2")))] == 1.0
    assert s[("peerwire_peers", (("direction", "outbound"), ("stack", "tm2")))] == 1.0
    assert s[("peerwire_dials_total", (("stack", "tm2"),))] == 2.0
    assert s[("peerwire_dial_results_total", (("result", "connection refused"), ("stack", "tm2")))] == 1.0
    assert s[("peerwire_handshake_failures_total", (("reason", "bad mac"), ("stack", "tm2")))] == 1.0
    key = ("peerwire_disconnects_total", (("direction", "inbound"), ("reason", "timeout"), ("stack", "tm2")))
    assert s[key] == 1.0
    inb = (("direction", "in"), ("protocol", "0x40"), ("stack", "tm2"))
    assert s[("peerwire_messages_total", inb)] == 3.0
    assert s[("peerwire_message_bytes_total", inb)] == 150.0
    assert s[("peerwire_build_info", (("stack", "tm2"), ("version", "1.2.3")))] == 1.0


def test_label_values_are_bounded() -> None:
    m = NetMetrics("devp2p")
    for i in range(MAX_LABEL_VALUES + 50):
        m.handshake_failure(f"made-up reason {i}")
    reasons = {labels for (name, labels) in _samples(m) if name == "peerwire_handshake_failures_total"}
    assert len(reasons) == MAX_LABEL_VALUES + 1  # the first 64 and "other"
    other = (("reason", "other"), ("stack", "devp2p"))
    assert _samples(m)[("peerwire_handshake_failures_total", other)] == 50.0
    assert m.snapshot().handshake_failures == MAX_LABEL_VALUES + 50


def test_registries_are_separate() -> None:
    a, b = NetMetrics("devp2p"), NetMetrics("devp2p")
    a.peer_added(inbound=False)
    assert a.snapshot().peers == 1 and b.snapshot().peers == 0
    assert b"peerwire_peers" in b.exposition()


def test_traffic_protocols_are_bounded_and_summed() -> None:
    m = NetMetrics("tm2")
    for i in range(MAX_LABEL_VALUES + 30):
        m.message_out(f"0x{i:02x}", 10)
        m.message_out(f"0x{i:02x}", 5, count=2)
    traffic = m.traffic()
    assert len(traffic) == MAX_LABEL_VALUES + 1
    assert traffic[("out", "other")] == (30 * 3, 30 * 15)
    assert traffic[("out", "0x00")] == (3, 15)
    snap = m.snapshot()
    assert (snap.messages_out, snap.bytes_out, snap.messages_in) == (
        (MAX_LABEL_VALUES + 30) * 3,
        (MAX_LABEL_VALUES + 30) * 15,
        0,
    )
    s = _samples(m)
    other = (("direction", "out"), ("protocol", "other"), ("stack", "tm2"))
    assert s[("peerwire_message_bytes_total", other)] == 450.0
