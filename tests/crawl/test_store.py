"""The crawl database: sightings, endpoints, dial backoff and ban, export filters, crash safety."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from peerwire import crawl
from peerwire.crawl._store import BASE_BACKOFF


def _fill(store: crawl.Store) -> None:
    store.seen("aa", "devp2p", ip="127.0.0.1", tcp=30303, udp=30303, pubkey="p1", via="v4")
    store.seen("aa", "devp2p", ip="127.0.0.2", tcp=30304, udp=30304, via="v5")
    store.record_hello("aa", "Geth/v1.17.5-stable/linux-amd64/go1.24", ["eth/71", "eth/72", "snap/1"], 5)
    store.record_status(
        "aa",
        eth_version=72,
        network_id=1,
        genesis=b"\x01" * 32,
        fork_hash=bytes.fromhex("fc64ec04"),
        fork_next=0,
        head=b"\x02" * 32,
        head_number=7,
    )
    store.record_dial("aa", True)
    store.seen("bb", "devp2p", ip="127.0.0.1", tcp=30305, udp=30305, via="v4")
    store.record_hello("bb", "peerwire/v0.1", ["eth/72"], 5)
    store.record_dial("bb", True)
    store.seen("cc", "devp2p", ip="127.0.0.1", tcp=30306, udp=30306, via="v4")
    store.record_dial("cc", False, "TimeoutError: x")
    store.commit()


def test_endpoints_hello_status_and_filters() -> None:
    store = crawl.Store(":memory:")
    _fill(store)
    assert store.counts() == {"found": 3, "probed": 3, "dialable": 2, "with_client": 2, "with_status": 1}
    assert [e["ip"] for e in store.endpoints("aa")] == ["127.0.0.1", "127.0.0.2"]
    rows = json.loads(crawl.export_json(store, crawl.ExportFilter()))
    assert {r["id"] for r in rows} == {"aa", "bb", "cc"}
    geth = next(r for r in rows if r["id"] == "aa")
    assert geth["client"].startswith("Geth/") and geth["caps"] == ["eth/71", "eth/72", "snap/1"]
    assert geth["network_id"] == "1" and geth["fork_hash"] == "fc64ec04" and geth["head_number"] == 7
    assert len(geth["endpoints"]) == 2

    def ids(**kw: object) -> set[str]:
        return {r["id"] for r in crawl.select(store, crawl.ExportFilter(**kw))}  # type: ignore[arg-type]

    assert ids(network="1") == {"aa"}
    assert ids(client="geth") == {"aa"}
    assert ids(fork_id="0xfc64ec04") == {"aa"}
    assert ids(fork_id="fc64ec04:1") == set()
    assert ids(snap=True) == {"aa"}
    assert ids(dialable=True) == {"aa", "bb"}
    assert ids(dialable=False) == {"cc"}
    assert ids(min_age=3600) == set()
    assert ids(min_age=0) == {"aa", "bb", "cc"}
    table = list(csv.DictReader(io.StringIO(crawl.export_csv(store, crawl.ExportFilter(client="peerwire")))))
    assert [r["id"] for r in table] == ["bb"] and table[0]["caps"] == "eth/72"


def test_backoff_then_ban() -> None:
    now = [1000.0]
    store = crawl.Store(":memory:", clock=lambda: now[0])
    store.seen("dd", "devp2p", ip="127.0.0.1", tcp=1, udp=1, pubkey="p")
    assert [t.id for t in store.due_for_dial("devp2p")] == ["dd"]
    store.record_dial("dd", False, "refused")
    assert store.due_for_dial("devp2p") == []
    now[0] += BASE_BACKOFF
    assert [t.id for t in store.due_for_dial("devp2p")] == ["dd"]
    for _ in range(crawl.BAN_AFTER_FAILURES - 1):
        store.record_dial("dd", False, "refused")
    now[0] += 10**6
    assert store.due_for_dial("devp2p") == []  # banned for good
    row = next(store.rows())
    assert row["banned"] == 1 and row["fails"] == crawl.BAN_AFTER_FAILURES and row["last_error"] == "refused"


_WRITER = """
import sys, time
from peerwire import crawl
s = crawl.Store(sys.argv[1])
i = 0
while True:
    s.seen(f"{i:064x}", "devp2p", ip="127.0.0.1", tcp=1, udp=1)
    s.record_hello(f"{i:064x}", "x", [], 5)
    i += 1
    if i % 50 == 0:
        s.commit()
        print(i, flush=True)
    time.sleep(0.0005)
"""


def test_sigkill_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "crawl.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    committed = 0
    deadline = time.monotonic() + 60
    while committed < 500 and time.monotonic() < deadline:
        committed = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert committed >= 500
    store = crawl.Store(db)
    c = store.counts()
    assert c["found"] >= committed and c["with_client"] >= committed
    ids = set(store.known_ids("devp2p"))
    assert all(f"{i:064x}" in ids for i in range(committed))
    store.close()
