"""The testnet runner, view and exit codes (mirrors python/peerwire/cli/_testnet.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from peerwire.cli._testnet import Testnet, TestnetSummary, live_table, summary_table, testnet_stacks

from ._loopstack import LoopStack
from .conftest import run_cli

HERE = Path(__file__).resolve().parent


def test_runner_collects_rates_and_summary(tmp_path: Path) -> None:
    stack = LoopStack()
    ticks: list[int] = []

    async def main() -> TestnetSummary:
        net = Testnet([stack], nodes=4, duration=1.0, refresh=0.2)
        return await net.run(tmp_path, on_tick=lambda rows, t: ticks.append(len(rows)))

    summary = asyncio.run(main())
    assert summary.all_connected and not summary.errors and not summary.interrupted
    rows = summary.rows
    assert [r.name for r in rows] == ["loop-0", "loop-1", "loop-2", "loop-3"]
    assert rows[0].max_peers == 3 and all(r.max_peers == 1 for r in rows[1:])
    assert all(r.totals is not None and r.totals.messages_in > 0 for r in rows)
    assert ticks and set(ticks) == {4}
    assert all(n.stopped for n in stack.nodes)
    console = Console(width=200, record=True)
    console.print(summary_table(summary))
    console.print(live_table(rows, 1.0, 1.0))
    text = console.export_text()
    assert "testnet summary (finished" in text and text.count("yes") == 4


def test_runner_stops_early_and_reports_start_failures(tmp_path: Path) -> None:
    async def early() -> TestnetSummary:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        return await Testnet([LoopStack()], nodes=2, duration=30.0).run(tmp_path / "a", stop)

    t0 = time.monotonic()
    summary = asyncio.run(early())
    assert time.monotonic() - t0 < 5
    assert summary.interrupted

    stack = LoopStack(fail_index=2)

    async def failing() -> TestnetSummary:
        return await Testnet([stack], nodes=3, duration=5.0).run(tmp_path / "b")

    summary = asyncio.run(failing())
    assert summary.errors == ["loop-2: start failed: cannot bind"]
    assert stack.nodes[0].stopped and stack.nodes[1].stopped


def test_real_testnet_both_stacks_every_node_connected(peerwire_bin: Path) -> None:
    """The README's main job with its defaults (8 devp2p + 8 TM2 nodes), shortened to 5 s."""
    assert set(testnet_stacks()) >= {"devp2p", "tm2"}
    res = run_cli("testnet", "--duration", "5", timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "testnet summary (finished" in res.stdout
    assert "16/16 nodes connected" in res.stdout
    rows = [line for line in res.stdout.splitlines() if line.startswith("│ ")]
    assert len(rows) == 16
    for line in rows:
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        name, stack, peers_in, peers_out, _max, msgs_in, msgs_out = cells[:7]
        assert stack in ("devp2p", "tm2") and name.startswith(stack + "-")
        assert int(peers_in) + int(peers_out) >= 1, line
        assert int(msgs_in) > 0 and int(msgs_out) > 0, line  # the demo protocol / reactor ran
        assert cells[-1] == "yes", line


def test_unknown_stack_is_a_usage_error(peerwire_bin: Path) -> None:
    res = run_cli("testnet", "--stack", "nope")
    assert res.returncode == 2 and "invalid choice" in res.stderr


_SCRIPT = f"""
import os, sys
from pathlib import Path
sys.path.insert(0, {str(HERE)!r})
from _loopstack import LoopStack
from peerwire.cli import main, register_testnet_stack

class ReadyStack(LoopStack):
    # writes $READY_FILE once every node has started, so a test knows when to press Ctrl-C
    async def create(self, count, workdir):
        nodes = await super().create(count, workdir)
        last, start = nodes[-1], nodes[-1].start
        async def started():
            await start()
            if os.environ.get("READY_FILE"):
                Path(os.environ["READY_FILE"]).write_text("ok")
        last.start = started
        return nodes

register_testnet_stack("devp2p", ReadyStack)
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_stops_cleanly_with_summary(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, "testnet", "--stack", "devp2p", "--nodes", "3", "--duration", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", "READY_FILE": str(ready)},
    )
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert ready.exists(), "the testnet did not start its nodes"
    time.sleep(1.0)  # let the nodes connect
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "testnet summary (interrupted" in out
    assert "3/3 nodes connected" in out


def test_duration_run_exits_zero() -> None:
    res = subprocess.run(
        [sys.executable, "-c", _SCRIPT, "testnet", "--stack", "devp2p", "--nodes", "2", "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "testnet summary (finished" in res.stdout and "2/2 nodes connected" in res.stdout


def test_rates_per_node_even_with_repeated_names(tmp_path: Path) -> None:
    seen: list[list[float]] = []

    async def main() -> None:
        net = Testnet([LoopStack(), LoopStack()], nodes=2, duration=1.0, refresh=0.25)
        await net.run(tmp_path, on_tick=lambda rows, t: seen.append([r.msgs_in_rate for r in rows]))

    asyncio.run(main())
    assert seen and len(seen[-1]) == 4
    assert all(rate > 0 for rate in seen[-1]), seen[-1]


def test_real_testnet_ctrl_c_stops_cleanly(peerwire_bin: Path) -> None:
    proc = subprocess.Popen(
        [str(peerwire_bin), "testnet", "--nodes", "3", "--duration", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    time.sleep(8)  # start, discover, connect (with margin for a loaded CI machine)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, out + err
    assert "testnet summary (interrupted" in out
    assert "6/6 nodes connected" in out
