"""``crawl --stack tm2`` on a loopback network of gno switches (Go harness, gno's PEX)
and peerwire switches."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from peerwire import crawl
from tests.interop.test_tm2_switch import GnoNode
from tests.tm2.tcpnode import TcpNode

pytestmark = pytest.mark.interop

GNO_NODES = 3
PEERWIRE_NODES = 3


def test_tm2_crawl_records_every_node_info(go_harness: Path, tmp_path: Path) -> None:
    async def main() -> None:
        gno: list[GnoNode] = []
        pw: list[TcpNode] = []
        try:
            seed = await GnoNode(go_harness, "crawl-gno-0", book=str(tmp_path / "g0.json")).start()
            gno.append(seed)
            for i in range(1, GNO_NODES):
                book = str(tmp_path / f"g{i}.json")
                gno.append(await GnoNode(go_harness, f"crawl-gno-{i}", seeds=seed.addr, book=book).start())
            for i in range(PEERWIRE_NODES):
                pw.append(await TcpNode(f"crawl-pw-{i}", seeds=[seed.addr]).start())
            everyone = {str(n.id) for n in gno} | {str(n.id) for n in pw}
            # the crawl itself does not wait for the mesh: it walks what PEX answers, round after round
            cfg = crawl.CrawlConfig(stack="tm2", bootnodes=[gno[1].addr], db=tmp_path / "crawl.sqlite")
            have: set[str] = set()
            for _ in range(10):
                async with crawl.Crawler(cfg) as c:
                    await c.run(duration=20, until_idle=True)
                    assert c.store is not None
                    have = {r["id"] for r in c.store.rows("WHERE info IS NOT NULL")}
                if everyone <= have:
                    break
                await asyncio.sleep(1)
            assert everyone <= have, f"missing {everyone - have}"
            store = crawl.Store(cfg.db)
            rows = {r["id"]: r for r in crawl.select(store, crawl.ExportFilter(dialable=True))}
            store.close()
            for n in gno + pw:
                info = rows[str(n.id)]["info"]
                assert info["network"] == "interop" and isinstance(info["version_set"], list), info
                assert info["net_address"].startswith(str(n.id)) and info["version"], info
                assert "50" in [info["channels"][i : i + 2] for i in range(0, len(info["channels"]), 2)]
                assert rows[str(n.id)]["client"], rows[str(n.id)]
            assert {rows[str(n.id)]["info"]["moniker"] for n in gno} == {
                f"gno-crawl-gno-{i}" for i in range(GNO_NODES)
            }
            assert {rows[str(n.id)]["info"]["moniker"] for n in pw} == {
                f"pw-crawl-pw-{i}" for i in range(PEERWIRE_NODES)
            }
        finally:
            for n in pw:
                await n.stop()
            for g in gno:
                await g.quit()

    asyncio.run(main())
