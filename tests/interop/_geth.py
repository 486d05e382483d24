"""Run a real go-ethereum ``geth`` on 127.0.0.1 with a private genesis (nothing leaves the machine).

The binary is ``.cache/bin/geth`` (``make geth``); when missing it is built here with
``go install`` at the harness's go-ethereum version. Without Go the tests fail, never skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
GETH_VERSION = "v1.17.5"
GETH_BIN = ROOT / ".cache" / "bin" / "geth"


def geth_binary() -> Path:
    go = shutil.which("go")  # checked even with a cached binary: without Go these tests fail
    if go is None:
        pytest.fail("Go is required to build geth for the eth interop tests", pytrace=False)
    if GETH_BIN.exists():
        return GETH_BIN
    GETH_BIN.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [go, "install", f"github.com/ethereum/go-ethereum/cmd/geth@{GETH_VERSION}"],
        env={**os.environ, "GOBIN": str(GETH_BIN.parent)},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"building geth failed:\n{proc.stderr}", pytrace=False)
    return GETH_BIN


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = int(t.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


class Geth:
    """One geth process: ``enode``, ``rpc(method, *params)``, ``log_text()``."""

    def __init__(self, proc: subprocess.Popen[bytes], http_port: int, log: Path) -> None:
        self.proc = proc
        self.http_port = http_port
        self.log = log
        self.enode = ""

    def rpc(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            out = json.loads(resp.read())
        if "error" in out:
            raise RuntimeError(out["error"])
        return out["result"]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def peer(self, node_id: bytes) -> dict[str, Any] | None:
        """geth's ``admin_peers`` entry for ``node_id``, or None."""
        for p in self.rpc("admin_peers"):
            if p["id"] == node_id.hex():
                return dict(p)
        return None

    def wait_peer(self, node_id: bytes, protocol: str | None, within: float = 10.0) -> dict[str, Any]:
        """The entry once geth lists ``node_id`` and, unless ``protocol`` is None, has finished
        that protocol's handshake with it.

        Our side can see the eth Status exchange done before geth has registered the peer:
        until then geth lists the protocol as the string ``"handshake"`` (p2p/peer.go Info).
        """
        deadline = time.monotonic() + within
        while True:
            seen = self.peer(node_id)
            if seen is not None and (protocol is None or isinstance(seen["protocols"].get(protocol), dict)):
                return seen
            if time.monotonic() >= deadline:
                raise AssertionError(f"geth has no {protocol} peer {node_id.hex()[:16]}: {seen}")
            time.sleep(0.1)


@contextlib.contextmanager
def run_geth(
    genesis: dict[str, Any],
    workdir: Path,
    *,
    network_id: int,
    bootnodes: list[str] = (),  # type: ignore[assignment]
    extra_args: Sequence[str] = (),
) -> Iterator[Geth]:
    binary = geth_binary()
    datadir = workdir / "geth"
    gfile = workdir / "genesis.json"
    gfile.write_text(json.dumps(genesis))
    subprocess.run(
        [str(binary), "--datadir", str(datadir), "init", str(gfile)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    port, http_port, auth_port = free_port(), free_port(), free_port()
    log = workdir / "geth.log"
    args = [
        str(binary),
        "--datadir", str(datadir),
        "--networkid", str(network_id),
        "--port", str(port),
        "--nat", "none",
        "--netrestrict", "127.0.0.0/8",
        "--discovery.dns", "",
        "--bootnodes", ",".join(bootnodes),
        "--http", "--http.addr", "127.0.0.1", "--http.port", str(http_port),
        "--http.api", "admin,eth,net,web3",
        "--authrpc.addr", "127.0.0.1", "--authrpc.port", str(auth_port),
        "--ipcdisable",
        "--maxpeers", "10",
        "--verbosity", "4",
        *extra_args,
    ]  # fmt: skip
    with open(log, "wb") as logf:
        proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT)
    g = Geth(proc, http_port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"geth exited ({proc.returncode}):\n{g.log_text()[-4000:]}")
            with contextlib.suppress(OSError, RuntimeError):
                g.enode = g.rpc("admin_nodeInfo")["enode"]
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"geth did not start:\n{g.log_text()[-4000:]}")
            time.sleep(0.3)
        yield g
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
