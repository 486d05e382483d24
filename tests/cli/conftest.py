"""Helpers for driving the real ``peerwire`` command as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent / "peerwire"


@pytest.fixture(scope="session")
def peerwire_bin() -> Path:
    """The installed console script (``make install`` puts it in .venv/bin)."""
    if not BIN.exists():
        pytest.fail(f"the peerwire console script is missing at {BIN}: run `make install`", pytrace=False)
    return BIN


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 60.0, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


@dataclass
class RunningNode:
    proc: subprocess.Popen[str]
    url: str
    node_id: str

    def post(
        self,
        body: bytes | str,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        path: str = "/",
    ) -> tuple[int, bytes, dict[str, str]]:
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method="POST",
            headers={"Content-Type": content_type, **(headers or {})},
        )
        return _open(req)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        return _open(urllib.request.Request(self.url + path, headers=headers or {}))

    def call(self, method: str, *params: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
        status, body, _ = self.post(
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}), headers=headers
        )
        assert status == 200, (status, body)
        reply: dict[str, Any] = json.loads(body)
        assert reply["id"] == 1
        return reply

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


def _open(req: urllib.request.Request) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, e.read(), {k.lower(): v for k, v in e.headers.items()}


def start_node(*args: str, cwd: Path, timeout: float = 30.0) -> RunningNode:
    """Start ``peerwire node`` and wait for its ``rpc=… id=…`` ready line."""
    proc = subprocess.Popen(
        [str(BIN), "node", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"node printed nothing within {timeout} s; stderr:\n{err}")
    line = proc.stdout.readline()
    if not line:
        _, err = proc.communicate(timeout=10)
        raise AssertionError(f"node exited ({proc.returncode}) before it was ready; stderr:\n{err}")
    fields = dict(part.split("=", 1) for part in line.split())
    return RunningNode(proc, fields["rpc"].rstrip("/"), fields["id"])


@pytest.fixture
def node_factory() -> Iterator[Any]:
    nodes: list[RunningNode] = []

    def factory(*args: str, cwd: Path) -> RunningNode:
        n = start_node(*args, cwd=cwd)
        nodes.append(n)
        return n

    yield factory
    for n in nodes:
        if n.proc.poll() is None:
            n.proc.kill()
            n.proc.communicate(timeout=10)
