"""Faults across real hosts: 8 network namespaces on a bridge, one devp2p node per host.

* a static ring connects across hosts; partitioning one host drops its links,
  healing it brings the static peers back within the dial backoff bound;
* discovery v4 from one bootnode converges to a table of the others, and
  re-converges after a partition heals;
* SIGKILL during node-database and address-book writes leaves the files usable.

``tc netem`` is not available in this kernel (no sch_netem); latency, jitter and loss are
injected by the user-space router of ``_impair`` (``test_impaired.py``). Here
so faults are injected by taking links down (packets silently lost).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.netns._logs import last as _last
from tests.netns._logs import wait as _wait
from tests.netns._topology import Topology

pytestmark = [pytest.mark.netns, pytest.mark.slow]
HERE = Path(__file__).resolve().parent
NODE = str(HERE / "_node.py")
#: Read timeout (30 s) + ping interval (15 s) detects a silent partition; the first
#: redial of a static peer waits the dial history expiry / backoff (35 s).
DETECT_BOUND = 50.0
RECONNECT_BOUND = 80.0


@pytest.fixture
def topo() -> Iterator[Topology]:
    t = Topology(8)
    try:
        yield t
    finally:
        t.close()


def _start(topo: Topology, tmp: Path, i: int, *extra: str) -> Path:
    log = tmp / f"node{i}.log"
    topo.spawn(i, [NODE, str(tmp / f"key{i}"), str(tmp / f"db{i}"), topo.addr(i), *extra], log)
    return log


def _enode(log: Path) -> str:
    _wait(lambda: log.exists() and _last(log, "enode") is not None, 30, f"{log.name} started")
    return str(_last(log, "enode"))


def _peers(log: Path) -> list[str]:
    return list(_last(log, "peers") or [])  # type: ignore[call-overload]


def test_static_ring_heals_after_partition(topo: Topology, tmp_path: Path) -> None:
    from peerwire.devp2p import Node, PrivateKey

    n = len(topo.names)
    keys = [PrivateKey.generate() for _ in range(n)]
    for i, k in enumerate(keys):
        (tmp_path / f"key{i}").write_text(k.to_hex())
    enodes = [Node(k.public_key, topo.addr(i), 30303, 30303).enode_url() for i, k in enumerate(keys)]
    logs = [_start(topo, tmp_path, i, "--static", enodes[(i + 1) % n]) for i in range(n)]
    _wait(lambda: all(len(_peers(lg)) == 2 for lg in logs), 90, "ring: every host has 2 peers")
    topo.partition(0)
    took = _wait(
        lambda: len(_peers(logs[1])) == 1 and len(_peers(logs[n - 1])) == 1,
        DETECT_BOUND + 10,
        "neighbours notice the partition",
    )
    assert took <= DETECT_BOUND + 10
    topo.heal(0)
    took = _wait(lambda: all(len(_peers(lg)) == 2 for lg in logs), RECONNECT_BOUND, "ring healed")
    assert took <= RECONNECT_BOUND


def test_discovery_converges_and_reconverges(topo: Topology, tmp_path: Path) -> None:
    n = len(topo.names)
    boot_log = _start(topo, tmp_path, 0, "--discovery")
    boot = _enode(boot_log)
    logs = [boot_log] + [_start(topo, tmp_path, i, "--boot", boot) for i in range(1, n)]
    _wait(lambda: all((_last(lg, "table") or 0) >= n - 2 for lg in logs), 90, "tables converge")  # type: ignore[operator]
    topo.partition(3)
    time.sleep(2)
    topo.heal(3)
    _wait(lambda: (_last(logs[3], "table") or 0) >= n - 2, 60, "partitioned host re-converges")  # type: ignore[operator]


WRITER = r"""
import sys, time
from pathlib import Path
from peerwire.cli._keyfile import write_private_file
from peerwire.devp2p._nodedb import NodeDB
from peerwire.devp2p import Node, PrivateKey
from peerwire.tm2 import NodeKey, discovery
from peerwire.tm2 import NetAddress
d = Path(sys.argv[1])
db = NodeDB(d / "nodes.db")
book = discovery.AddressBook(d / "addrbook.json")
book.load()
keys = [PrivateKey.generate() for _ in range(64)]
tm2ids = [NodeKey.generate().id for _ in range(64)]
print("ready", flush=True)
i = 0
while True:
    k = keys[i % 64]
    db.update_node(Node(k.public_key, "10.0.0.1", 30303, 30303))
    db.update_last_pong_received(k.public_key.node_id, "10.0.0.1", time.time())
    if i % 8 == 0:
        book.add(NetAddress.parse(f"{tm2ids[i % 64]}@10.0.{i % 250}.1:26656"))
        book.save(force=True)
        write_private_file(d / "key", keys[i % 64].to_hex().encode(), overwrite=True)
    i += 1
"""


def test_sigkill_during_writes_leaves_files_intact(topo: Topology, tmp_path: Path) -> None:
    from peerwire.devp2p import PrivateKey
    from peerwire.devp2p._nodedb import NodeDB
    from peerwire.tm2 import discovery

    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    for round_ in range(5):
        log = tmp_path / f"writer{round_}.log"
        p = topo.spawn(round_ % len(topo.names), [str(script), str(tmp_path)], log)
        _wait(lambda log=log: "ready" in log.read_text(), 30, "writer ready")  # type: ignore[misc]
        time.sleep(0.3 + 0.2 * round_)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        with NodeDB(tmp_path / "nodes.db") as db:
            assert db.integrity_ok()
            assert db.query_seeds(time.time(), 5)
        PrivateKey.from_hex((tmp_path / "key").read_text())
        book = discovery.AddressBook(tmp_path / "addrbook.json")
        assert book.load() > 0


def test_netns_cleanup_leaves_nothing() -> None:
    t = Topology(2)
    names = list(t.names)
    t.close()
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert not any(n in out for n in names)
    links = subprocess.run(["ip", "link"], capture_output=True, text=True, check=True).stdout
    assert t.bridge not in links
    _ = sys
