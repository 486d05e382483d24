"""The SQLite node database, including a SIGKILL'd writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from peerwire import devp2p
from peerwire.devp2p._nodedb import CLEANUP_INTERVAL, NODE_EXPIRATION, SEED_MAX_AGE, NodeDB

DAY = 24 * 3600.0


def _node(i: int) -> devp2p.Node:
    key = devp2p.PrivateKey((i + 1).to_bytes(32, "big"))
    rec = devp2p.ENR.build(key, seq=i + 1, ip=f"10.0.0.{i % 250 + 1}", udp=30303, tcp=30303)
    return devp2p.Node.from_record(rec)


def test_records_and_endpoint_items(tmp_path: Path) -> None:
    n = _node(1)
    with NodeDB(tmp_path / "nodes.sqlite") as db:
        db.update_node(n)
        assert db.node(n.id) == n
        assert db.last_pong_received(n.id, "10.0.0.2") == 0.0
        db.update_last_ping_received(n.id, "10.0.0.2", 100.0)
        db.update_last_pong_received(n.id, "10.0.0.2", 200.0)
        db.update_find_fails(n.id, "10.0.0.2", 3)
        # items are per (ID, IP)
        assert db.last_pong_received(n.id, "10.0.0.9") == 0.0
        db.store_local_seq(b"\x01" * 32, 1_700_000_000_123)
    with NodeDB(tmp_path / "nodes.sqlite") as db:
        assert db.node(n.id) == n and db.node(n.id).record == n.record  # type: ignore[union-attr]
        assert db.last_ping_received(n.id, "10.0.0.2") == 100.0
        assert db.last_pong_received(n.id, "10.0.0.2") == 200.0
        assert db.find_fails(n.id, "10.0.0.2") == 3
        assert db.local_seq(b"\x01" * 32) == 1_700_000_000_123
        assert db.local_seq(b"\x02" * 32) is None


def test_seeds_and_expiry() -> None:
    now = 10 * DAY
    db = NodeDB()
    nodes = [_node(i) for i in range(40)]
    for i, n in enumerate(nodes):
        db.update_node(n)
        # 35 fresh nodes, 5 with a pong older than 5 days
        age = SEED_MAX_AGE + 10 if i >= 35 else 60.0 * i
        db.update_last_pong_received(n.id, n.ip or "", now - age)
    seeds = db.query_seeds(now)
    assert len(seeds) == 30
    assert all(s in nodes[:35] for s in seeds)
    assert {s.id for s in db.query_seeds(now, n=100)} == {n.id for n in nodes[:35]}
    # expiry: older than 24 h goes, at most once per hour
    assert db.maybe_expire(now) is not None
    assert db.maybe_expire(now + CLEANUP_INTERVAL / 2) is None
    left = [n for n in nodes if db.node(n.id) is not None]
    assert {n.id for n in left} == {
        n.id for i, n in enumerate(nodes) if 60.0 * i <= NODE_EXPIRATION and i < 35
    }


_WRITER = textwrap.dedent(
    """
    import sys
    from peerwire.devp2p._nodedb import NodeDB
    db = NodeDB(sys.argv[1])
    i = 0
    while True:
        db.update_last_pong_received(i.to_bytes(32, "big"), "10.0.0.1", float(i))
        db.store_local_seq(b"\\x00" * 32, i)
        print(i, flush=True)
        i += 1
    """
)


def test_sigkill_writer_leaves_database_intact(tmp_path: Path) -> None:
    path = tmp_path / "nodes.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    last = -1
    deadline = time.monotonic() + 20
    while last < 200 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            last = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert last >= 200, "writer made too little progress"
    with NodeDB(path) as db:
        assert db.integrity_ok()
        # every write acknowledged before the kill survived
        assert db.local_seq(b"\x00" * 32) is not None
        assert db.local_seq(b"\x00" * 32) >= last  # type: ignore[operator]
        for i in range(0, last + 1, 37):
            assert db.last_pong_received(i.to_bytes(32, "big"), "10.0.0.1") == float(i)
