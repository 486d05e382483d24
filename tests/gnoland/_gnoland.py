"""Drive a real ``gnoland`` (gno v1.7.1) one-validator chain on 127.0.0.1 in a temp dir.

Built once per run by ``make gnoland`` (``go install …/gno.land/cmd/gnoland@v1.7.1`` into
``.cache/bin``), or here if missing. Nothing leaves the machine: P2P and RPC listen on
loopback, no seeds, no persistent peers unless a test sets them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
GNO_VERSION = "v1.7.1"
GNOLAND_BIN = ROOT / ".cache" / "bin" / "gnoland"
#: A fresh lazy chain loads gno's examples into genesis before its first block (~15 s here).
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def build_gnoland() -> Path:
    """The gnoland binary, built with ``go install`` if missing. Fails (never skips) without Go."""
    if GNOLAND_BIN.exists():
        return GNOLAND_BIN
    go = shutil.which("go")
    if go is None:
        pytest.fail(
            "Go is required to build gnoland for the gno.land interop tests (run `make gnoland`)",
            pytrace=False,
        )
    GNOLAND_BIN.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [go, "install", f"github.com/gnolang/gno/gno.land/cmd/gnoland@{GNO_VERSION}"],
        env={**os.environ, "GOBIN": str(GNOLAND_BIN.parent)},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"building gnoland failed:\n{proc.stderr}", pytrace=False)
    return GNOLAND_BIN


class Gnoland:
    """One gnoland process; ``start()`` / ``kill()`` / ``start()`` again keeps its data dir."""

    def __init__(self, binary: Path, workdir: Path, *, moniker: str = "gnotest") -> None:
        self.binary = binary
        self.workdir = workdir
        self.data_dir = workdir / "gnoland-data"
        self.config = self.data_dir / "config" / "config.toml"
        self.genesis = workdir / "genesis.json"
        self.p2p_port = free_port()
        self.rpc_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "gnoland.log"
        self._run("config", "init", "--config-path", str(self.config))
        for key, value in (
            ("p2p.laddr", f"tcp://127.0.0.1:{self.p2p_port}"),
            ("rpc.laddr", f"tcp://127.0.0.1:{self.rpc_port}"),
            ("consensus.timeout_commit", "1s"),
            ("moniker", moniker),
        ):
            self.set_config(key, value)

    def _run(self, *args: str) -> str:
        proc = subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, timeout=60, check=False
        )
        if proc.returncode != 0:
            raise AssertionError(f"gnoland {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def set_config(self, key: str, value: str) -> None:
        self._run("config", "set", "--config-path", str(self.config), key, value)

    @property
    def rpc(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                "start",
                "--lazy",
                "--skip-failing-genesis-txs",
                "--chainid",
                "dev",
                "--data-dir",
                str(self.data_dir),
                "--genesis",
                str(self.genesis),
                "--log-level",
                "info",
                "--log-format",
                "json",
            ],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_height(self, height: int, timeout: float = START_TIMEOUT) -> int:
        """Wait until the chain has committed ``height``; returns the latest height."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.tail_log()
            try:
                h = int(self.call("status")["sync_info"]["latest_block_height"])
            except (OSError, ValueError, KeyError):
                h = -1
            if h >= height:
                return h
            time.sleep(0.5)
        raise AssertionError(f"gnoland did not reach height {height} in {timeout} s\n{self.tail_log()}")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One JSON-RPC call on gnoland's RPC port; the ``result`` object."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        req = urllib.request.Request(self.rpc, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:  # loopback only
            out: dict[str, Any] = json.loads(resp.read())
        if out.get("error"):
            raise OSError(f"{method}: {out['error']}")
        result: dict[str, Any] = out["result"]
        return result

    def node_id(self) -> str:
        return str(self.call("status")["node_info"]["net_address"]).split("@")[0]

    @property
    def p2p_address(self) -> str:
        return f"{self.node_id()}@127.0.0.1:{self.p2p_port}"

    def peer_monikers(self) -> list[str]:
        return [str(p["node_info"]["moniker"]) for p in self.call("net_info")["peers"]]

    def block_hash(self, height: int) -> bytes:
        import base64

        res = self.call("block", height=str(height))
        return base64.b64decode(res["block_meta"]["block_id"]["hash"])

    def kill(self) -> None:
        """SIGKILL (a crash), keeping the data dir for a restart."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail_log(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
