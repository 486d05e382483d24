"""Every script in examples/ runs as a subprocess and does what its docstring says."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(*args: str, timeout: float = 60, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, input=stdin, check=False
    )


def test_echo_protocol() -> None:
    res = _run(str(EXAMPLES / "echo_protocol.py"), "--messages", "4")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "connected to 'echo-server' caps=['echo/1']"
    assert [ln.split(" in ")[0] for ln in lines[1:5]] == [f"echo {i}: 'ping {i}'" for i in range(4)]
    assert lines[5].startswith("4 echoes, mean ")


def test_discv4_crawler_finds_every_local_node() -> None:
    res = _run(str(EXAMPLES / "discv4_crawler.py"), "--local", "6", "--duration", "20", "--expect", "6")
    assert res.returncode == 0, res.stderr
    found = re.findall(r"^\s*\d+ (enode://[0-9a-f]{128}@127\.0\.0\.1:\d+\?discport=\d+)$", res.stdout, re.M)
    assert len(set(found)) == 6, res.stdout
    assert res.stdout.rstrip().endswith("crawl done: 6 nodes")


def test_discv4_crawler_needs_a_start() -> None:
    res = _run(str(EXAMPLES / "discv4_crawler.py"), "--duration", "1")
    assert res.returncode == 2 and "give --bootnode" in res.stdout


def test_tm2_chat_two_nodes() -> None:
    alice = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "tm2_chat.py"), "--name", "alice", "--duration", "30"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert alice.stdout is not None and alice.stdin is not None
        first = alice.stdout.readline()
        assert first.startswith("listening g1"), first
        addr = first.split()[1]
        bob = _run(
            str(EXAMPLES / "tm2_chat.py"),
            "--name",
            "bob",
            "--peer",
            addr,
            "--duration",
            "1.5",
            stdin="hello alice\nsecond line\n",
        )
        assert bob.returncode == 0, bob.stderr
        assert bob.stdout.splitlines()[1].startswith("* alice joined (")
        deadline = time.monotonic() + 10
        seen: list[str] = []
        while "bob: second line" not in seen and time.monotonic() < deadline:
            seen.append(alice.stdout.readline().rstrip("\n"))
        assert seen[:3] == [seen[0], "bob: hello alice", "bob: second line"], seen
        assert seen[0].startswith("* bob joined (")
    finally:
        alice.kill()
        alice.communicate(timeout=10)
