"""Enumerating a loopback discv5 network of go-ethereum nodes: peerwire's walk vs geth's, same run.

The harness (``discv5-net``) starts N geth discv5 nodes in one process (FINDNODE liveness check
off so the fresh network answers at once) and lets each run one lookup. Then a fresh geth node
walks ``RandomNodes`` (the iterator geth's crawler uses) and a fresh peerwire node walks
``random_nodes()``, and then peerwire's crawler (``crawl.Crawler``, v5 only, no probes: FINDNODE
at every distance of each node it meets), each until it has met ``WANT`` of the network or the
time budget ends; counts and times go into ``extra_info``. Issue 13's target compares the
crawler's walk with geth's crawl loop. N = 1000 with ``--benchmark-enable``, 50 otherwise
(``DISCV5_CRAWL_NODES``); budget 300 s each (``DISCV5_CRAWL_BUDGET``). The network warms up with
three lookups per node, and reports how many of its nodes some table holds (``in_tables``): a
walk can meet no others.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from tests.conftest import go_harness as go_harness  # the fixture, shared with the interop tests

from peerwire import crawl, devp2p
from peerwire.devp2p.discover import listen_v5

WANT = 0.99


async def _peerwire_crawl(boot: str, ids: set[bytes], need: int, budget: float) -> tuple[int, float]:
    seen: set[bytes] = set()
    t0 = time.monotonic()
    async with listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0", bootnodes=[boot]) as d5:
        try:
            async with asyncio.timeout(budget):
                async for n in d5.random_nodes():
                    if n.id in ids:
                        seen.add(n.id)
                        if len(seen) >= need:
                            break
        except builtins.TimeoutError:
            pass
    return len(seen), time.monotonic() - t0


async def _peerwire_crawler(
    boot: str, ids: set[bytes], need: int, budget: float, db: Path
) -> tuple[int, float]:
    """The crawler's v5 walk (FINDNODE at every distance of each node met), no probing."""
    cfg = crawl.CrawlConfig(bootnodes=[boot], db=db, listen="127.0.0.1:0", v4=False, probe=False)
    t0 = time.monotonic()
    async with crawl.Crawler(cfg) as c:
        assert c.store is not None
        store = c.store
        hex_ids = {i.hex() for i in ids}

        def enough(_: crawl.CrawlStats) -> bool:
            return len(hex_ids.intersection(store.known_ids("devp2p"))) >= need

        await c.run(duration=budget, stop_when=enough)
        found = len(hex_ids.intersection(store.known_ids("devp2p")))
    return found, time.monotonic() - t0


@pytest.mark.timeout(1800)
def bench_enumerate_network(benchmark: BenchmarkFixture, go_harness: Path, tmp_path: Path) -> None:
    n, budget = (50, 20.0) if benchmark.disabled else (1000, 300.0)
    n = int(os.environ.get("DISCV5_CRAWL_NODES", n))
    budget = float(os.environ.get("DISCV5_CRAWL_BUDGET", budget))
    proc = subprocess.Popen(
        [str(go_harness), "discv5-net", "-nodes", str(n)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        hello: dict[str, Any] = json.loads(proc.stdout.readline())
        ids = {bytes.fromhex(i) for i in hello["ids"]}
        assert len(ids) == n
        need = int(WANT * n)
        proc.stdin.write(json.dumps({"cmd": "crawl", "want": WANT, "timeout": budget}) + "\n")
        proc.stdin.flush()
        geth: dict[str, Any] = json.loads(proc.stdout.readline())
        result: list[tuple[int, float]] = []

        def crawl() -> None:
            result.append(asyncio.run(_peerwire_crawl(hello["boot"], ids, need, budget)))

        benchmark.pedantic(crawl, rounds=1, iterations=1)
        # No walk meets a node no table holds: the crawler stops at what the network offers.
        reachable = min(need, int(hello["in_tables"]))
        crawler = asyncio.run(_peerwire_crawler(hello["boot"], ids, reachable, budget, tmp_path / "c.sqlite"))
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    found, secs = result[0]
    benchmark.group = f"discv5 enumeration, {n} geth nodes"
    benchmark.extra_info.update(
        {
            "nodes": n,
            "need": need,
            "found": found,
            "seconds": secs,
            "geth_found": geth["found"],
            "geth_seconds": geth["seconds"],
            "crawler_found": crawler[0],
            "crawler_seconds": crawler[1],
            # the network's nodes some table holds: all any walk can meet
            "in_tables": hello["in_tables"],
        }
    )
    assert found > 0.5 * n, (found, geth)  # the walk works; the figures are the comparison
    assert crawler[0] >= reachable, (crawler, geth, hello["in_tables"])
