"""``peerwire ping`` against go-ethereum's p2p.Server and gno's MultiplexTransport (Go harness)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.interop

PEERWIRE = Path(sys.executable).parent / "peerwire"


def _first_line(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, "the Go peer exited before it was ready"
    ev: dict[str, Any] = json.loads(line)
    return ev


def _ping(*args: str) -> dict[str, Any]:
    res = subprocess.run(
        [str(PEERWIRE), "ping", *args, "--json"], capture_output=True, text=True, timeout=60, check=False
    )
    assert res.returncode == 0, res.stderr
    info: dict[str, Any] = json.loads(res.stdout)
    return info


def test_ping_geth_server_prints_its_hello(go_harness: Path) -> None:
    proc = subprocess.Popen(
        [str(go_harness), "p2pserver", "-name", "geth-ping-target", "-protos", "echo/1/2,other/3/4"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready = _first_line(proc)
        assert ready["event"] == "ready"
        info = _ping(ready["enode"])
        assert info["id"] == ready["id"]
        assert info["name"] == "geth-ping-target"
        assert info["caps"] == ["echo/1", "other/3"]
        assert info["version"] == 5
    finally:
        proc.kill()
        proc.communicate(timeout=10)


def test_ping_gno_transport_prints_its_node_info(go_harness: Path) -> None:
    proc = subprocess.Popen(
        [str(go_harness), "tm2-transport", "-listen-port", "0", "-seed", "11" * 32, "-moniker", "gno-target"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ev = _first_line(proc)
        assert ev["event"] == "listening"
        node_id = ev["addr"].split("@")[0]
        info = _ping(ev["addr"], "--network", "interop")
        assert info["id"] == node_id
        assert info["moniker"] == "gno-target" and info["network"] == "interop"
        assert info["version"] == "v1.0.0-rc.0" and info["channels"] == "77"
        assert info["rpc_address"] == "tcp://127.0.0.1:26657" and info["tx_index"] == "off"
        assert info["net_address"] == ev["addr"]
    finally:
        proc.kill()
        proc.communicate(timeout=10)
