"""Dial diagnostics against a real gnoland (v1.7.1): the issue's silent failure, now explained.

``peerwire node`` with a p2p-only version set (what peerwire advertised before profiles) and
gnoland as its persistent peer: gnoland refuses it. The node says why, in the words of
``tm2.profiles.explain_incompatibility``: once at WARNING in its log (then again only at
escalating attempts, with the next retry), in ``admin_dialFailures`` with the last error and
the next retry, and in ``peerwire_dial_failures_total{reason="incompatible"}``.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from tests.gnoland._gnoland import Gnoland, free_port

pytestmark = [pytest.mark.interop, pytest.mark.slow]

PEERWIRE = Path(sys.executable).parent / "peerwire"
#: What the issue's node lacked: gnoland (moniker "gnotest" in the fixture) names the entries.
REASON = "gnotest requires version set entries abci, app, bft, blockchain"


def _rpc(url: str, method: str) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["result"]


def _metric(url: str, name: str, labels: dict[str, str]) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_gnoland_refusal_is_explained_in_the_log_the_rpc_and_the_metrics(
    gnoland: Gnoland, tmp_path: Path
) -> None:
    port = free_port()
    cfg = tmp_path / "node.toml"
    cfg.write_text(
        f'stack = "tm2"\nnetwork = "dev"\nmoniker = "pw-diag"\ndata_dir = "data"\n'
        f'[rpc]\nlisten = "127.0.0.1:{free_port()}"\n'
        f'[p2p]\nladdr = "tcp://127.0.0.1:{port}"\npersistent_peers = ["{gnoland.p2p_address}"]\n'
        "pex = false\n"
        '[node_info]\nversion_set = { p2p = "v1.0.0-rc.0" }\n'
    )
    proc = subprocess.Popen(
        [str(PEERWIRE), "node", "--config", str(cfg)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = ""
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(30), "peerwire node printed nothing"
        fields = dict(part.split("=", 1) for part in proc.stdout.readline().split())
        rpc = fields["rpc"].rstrip("/")
        gno_id = gnoland.node_id()
        # redials: tick every 5 s + 1, 2, 4 s backoff -> the 4th dial ~19 s after start
        deadline = time.monotonic() + 60
        entry: dict[str, Any] = {}
        while time.monotonic() < deadline:
            failures = _rpc(rpc, "admin_dialFailures")
            if failures and failures[0]["attempts"] >= 4:
                entry = failures[0]
                break
            time.sleep(0.5)
        assert entry, f"no 4 failed dials within 60 s: {_rpc(rpc, 'admin_dialFailures')}"
        assert entry["id"] == gno_id and entry["address"] == f"127.0.0.1:{gnoland.p2p_port}"
        assert entry["reason"] == "incompatible" and entry["direction"] == "outbound"
        assert entry["message"] == REASON
        assert entry["lastError"].startswith(
            f"IncompatibleNodeInfoError: {REASON} (incompatible version sets"
        )
        assert entry["persistent"] is True and entry["backoff"] > 0
        # the next retry is the last failure plus the backoff, in the future of the last failure
        assert entry["nextRetry"] > entry["lastFailure"] > entry["firstFailure"]
        assert _metric(
            rpc,
            "peerwire_dial_failures_total",
            {"stack": "tm2", "direction": "outbound", "reason": "incompatible"},
        ) >= float(entry["attempts"])
        assert _rpc(rpc, "net_info")["n_peers"] == "0"
        assert all(p["node_info"]["moniker"] != "pw-diag" for p in gnoland.call("net_info")["peers"])
        attempts = entry["attempts"]
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr[-3000:]
    warns = [ln for ln in stderr.splitlines() if "level=warning" in ln and "logger=peerwire.tm2.dial" in ln]
    first = [ln for ln in warns if f"{REASON} (incompatible; persistent peer, attempt 1, next retry in" in ln]
    assert len(first) == 1, stderr[-3000:]  # logged once at WARNING ...
    assert f"dial {gno_id}@127.0.0.1:{gnoland.p2p_port} failed: {REASON}" in first[0]
    escalated = [ln for ln in warns if "still failing after" in ln]
    # ... then only on attempts 2, 4, 8 ..., each with its next retry
    want = [n for n in (2, 4, 8, 16) if n <= attempts]
    assert [int(ln.split("still failing after ")[1].split(" ")[0]) for ln in escalated][: len(want)] == want
    assert all(REASON in ln and "next retry in" in ln for ln in escalated)
    assert len(warns) == 1 + len(escalated), "\n".join(warns)
