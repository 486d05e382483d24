"""Crawl a loopback network of real geth v1.17.5 nodes and peerwire nodes: every node found,
every geth's client name and eth Status recorded (private genesis, net restricted to 127.0.0.0/8)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from peerwire import crawl, devp2p, eth
from peerwire.devp2p import discover
from tests.crawl.test_crawl_devp2p import crawl_until
from tests.eth.test_chain import _private_genesis
from tests.interop._geth import run_geth
from tests.interop.test_eth_genesis import FORK_SETS

pytestmark = [pytest.mark.interop, pytest.mark.slow]

NETWORK_ID = 73572
GENESIS = _private_genesis(chainId=NETWORK_ID, **FORK_SETS["prague+future-osaka"])
CHAIN = eth.Chain.from_genesis(GENESIS)
GETH_NODES = 2


def test_crawl_mixed_geth_peerwire_network(tmp_path: Path) -> None:
    async def main() -> None:
        async with contextlib.AsyncExitStack() as tmp:
            boot_key = devp2p.PrivateKey.generate()
            boot = await tmp.enter_async_context(discover.listen(boot_key, "127.0.0.1:0", v4=True, v5=True))
            boot_enode = boot.self_node().enode_url()
            geth_ids: set[str] = set()
            for i in range(GETH_NODES):
                d = tmp_path / f"g{i}"
                d.mkdir()
                cm = run_geth(GENESIS, d, network_id=NETWORK_ID, bootnodes=[boot_enode])
                g = await asyncio.to_thread(cm.__enter__)  # the loop keeps answering geth's pings
                tmp.push(cm.__exit__)
                geth_ids.add(devp2p.Node.parse(g.enode).id.hex())
            peerwire_ids = {boot_key.public_key.node_id.hex()}
            for i in range(2):
                proto = eth.Protocol(CHAIN)
                key = devp2p.PrivateKey.generate()
                cfg = devp2p.Config(
                    private_key=key,
                    name=f"peerwire-eth-{i}",
                    listen_addr="127.0.0.1:0",
                    protocols=proto.protocols(),
                    no_discovery=False,
                    bootstrap_nodes=[boot_enode],
                    net_restrict=["127.0.0.0/8"],
                )
                await tmp.enter_async_context(devp2p.Server(cfg))
                peerwire_ids.add(key.public_key.node_id.hex())
            db = tmp_path / "crawl.sqlite"
            ccfg = crawl.CrawlConfig(
                bootnodes=[boot_enode], db=db, listen="127.0.0.1:0", net_restrict=["127.0.0.0/8"]
            )
            await crawl_until(ccfg, peerwire_ids | geth_ids, geth_ids, rounds=12)
            store = crawl.Store(db)
            rows = {r["id"]: r for r in crawl.select(store, crawl.ExportFilter())}
            store.close()
            missing = (peerwire_ids | geth_ids) - set(rows)
            assert not missing, f"not found: {missing}"
            for gid in geth_ids:
                r = rows[gid]
                assert r["client"].startswith("Geth/v1.17.5"), r
                assert "eth/72" in r["caps"] and "snap/1" in r["caps"]
                assert r["eth_version"] == 72 and r["network_id"] == str(NETWORK_ID)
                assert r["genesis"] == CHAIN.genesis_hash.hex()
                assert r["fork_hash"] == CHAIN.fork_id(0, 0).hash.hex()
                assert r["dial_ok"] == 1 and r["enr"]

    asyncio.run(main())
