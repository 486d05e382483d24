"""devp2p server: connection setups per second and idle-peer memory, against go-ethereum.

Measured in the same run:

* ``bench_setups_python``: two peerwire Servers over loopback TCP, sequential
  full setups (TCP + RLPx + Hello + admission checks), each peer dropped and
  gone from both sides before the next one starts.
* ``bench_setups_geth``: the same with two go-ethereum ``p2p.Server`` in one Go
  process (harness ``p2p-bench-setups``, ``SetupConn``).
* ``bench_idle_peers_rss``: a Go process (harness ``p2p-hold``) opens N idle
  devp2p connections (RLPx + Hello, answers Pings) to a peerwire Server in this
  process, then to a geth ``p2p.Server`` (harness ``p2pserver``); RSS growth
  per peer of each server process. N = 500 with ``--benchmark-enable``, 100
  in the default (disabled) run so it stays quick.

``python -m benches.bench_p2p_server`` prints the figures recorded in benches/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pytest_benchmark.fixture import BenchmarkFixture
from tests.conftest import go_harness as go_harness  # re-exported fixture

from peerwire.bench import Comparison, record
from peerwire.devp2p import Config, ConnFlag, MsgReadWriter, Peer, PeerEventType, PrivateKey, Protocol, Server

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / ".cache" / "peerwire-interop"


async def _idle(peer: Peer, rw: MsgReadWriter) -> None:
    while True:
        await rw.read_msg()


def _server(max_peers: int = 100, listen: bool = True) -> Server:
    return Server(
        Config(
            private_key=PrivateKey.generate(),
            name="bench",
            listen_addr="127.0.0.1:0" if listen else None,
            max_peers=max_peers,
            protocols=[Protocol("echo", 1, 2, _idle)],
        )
    )


async def _until(cond: Any) -> None:
    async with asyncio.timeout(10):
        while not cond():  # noqa: ASYNC110 - state spread over tasks
            await asyncio.sleep(0.0005)


async def python_setups(n: int) -> float:
    a, b = _server(), _server(listen=False)
    async with a, b:
        node = a.self_node()
        a_events, b_events = a.subscribe_events(), b.subscribe_events()
        t0 = time.perf_counter()
        for _ in range(n):
            await b._dial_and_set_up(node, "127.0.0.1", ConnFlag.DYN_DIALED)
            assert (await anext(b_events)).type is PeerEventType.ADD
            assert (await anext(a_events)).type is PeerEventType.ADD
            b.peers()[0].disconnect()
            assert (await anext(a_events)).type is PeerEventType.DROP
            assert (await anext(b_events)).type is PeerEventType.DROP
        assert a.peer_count() == 0 and b.peer_count() == 0
        return n / (time.perf_counter() - t0)


def geth_setups(harness: Path, n: int) -> float:
    out = subprocess.run(
        [str(harness), "p2p-bench-setups", "-n", str(n)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(json.loads(out.stdout)["per_second"])


def _rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def _hold(harness: Path, enode: str, n: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        str(harness), "p2p-hold", "-target", enode, "-n", str(n),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    res = json.loads(line)
    assert res["connected"] == n, res
    return proc


async def _release(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    await asyncio.wait_for(proc.wait(), 30)


async def python_rss_per_peer(harness: Path, n: int) -> float:
    srv = _server(max_peers=2 * n)
    async with srv:
        await asyncio.sleep(0.2)
        gc.collect()
        before = _rss_kib()
        proc = await _hold(harness, srv.self_node().enode_url(), n)
        await _until(lambda: srv.peer_count() == n)
        await asyncio.sleep(0.5)
        gc.collect()
        after = _rss_kib()
        await _release(proc)
    return (after - before) / n


async def geth_rss_per_peer(harness: Path, n: int) -> float:
    go = await asyncio.create_subprocess_exec(
        str(harness), "p2pserver", "-maxpeers", str(2 * n), "-protos", "echo/1/2",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert go.stdout is not None and go.stdin is not None
    ready = json.loads(await asyncio.wait_for(go.stdout.readline(), 20))
    await asyncio.sleep(0.2)
    before = _rss_kib(go.pid)
    proc = await _hold(harness, ready["enode"], n)
    await asyncio.sleep(1.0)
    after = _rss_kib(go.pid)
    await _release(proc)
    go.stdin.close()
    await asyncio.wait_for(go.wait(), 30)
    return (after - before) / n


def bench_setups_python(benchmark: BenchmarkFixture, go_harness: Path) -> None:
    n = 20 if benchmark.disabled else 200
    rate = asyncio.run(python_setups(5))
    assert rate > 0
    ours = benchmark.pedantic(lambda: asyncio.run(python_setups(n)), rounds=1, iterations=1)
    benchmark.extra_info["setups_per_second"] = ours
    geth = geth_setups(go_harness, n)  # right after, so both see the same machine
    record(benchmark.extra_info, Comparison("devp2p full setups", "setups/s", ours, geth, "go-ethereum"))


def bench_setups_geth(benchmark: BenchmarkFixture, go_harness: Path) -> None:
    n = 20 if benchmark.disabled else 200
    assert geth_setups(go_harness, 5) > 0
    benchmark.extra_info["setups_per_second"] = benchmark.pedantic(
        lambda: geth_setups(go_harness, n), rounds=1, iterations=1
    )


def bench_idle_peers_rss(benchmark: BenchmarkFixture, go_harness: Path) -> None:
    n = 100 if benchmark.disabled else 500

    def measure() -> tuple[float, float]:
        return asyncio.run(python_rss_per_peer(go_harness, n)), asyncio.run(geth_rss_per_peer(go_harness, n))

    py, go = benchmark.pedantic(measure, rounds=1, iterations=1)
    assert py > 0
    benchmark.extra_info.update(py_kib_per_peer=py, geth_kib_per_peer=go)
    record(
        benchmark.extra_info, Comparison(f"RSS per idle peer ({n} peers)", "KiB/peer", py, go, "go-ethereum")
    )


def main() -> None:
    subprocess.run(["make", "-s", "harness"], cwd=ROOT, check=True)
    py = asyncio.run(python_setups(200))
    go = geth_setups(HARNESS, 200)
    print(f"setups/s: peerwire {py:.0f}  geth {go:.0f}  ratio {py / go:.2f}x")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    py_rss = asyncio.run(python_rss_per_peer(HARNESS, n))
    go_rss = asyncio.run(geth_rss_per_peer(HARNESS, n))
    print(
        f"RSS per idle peer ({n} peers): peerwire {py_rss:.1f} KiB  geth {go_rss:.1f} KiB  "
        f"ratio {py_rss / go_rss:.2f}x"
    )


if __name__ == "__main__":
    main()
