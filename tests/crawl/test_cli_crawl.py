"""``peerwire crawl`` and ``peerwire crawl export`` as a user runs them, plus inbound probing."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from peerwire import crawl, devp2p, eth
from peerwire.crawl._devp2p import Devp2pEngine
from peerwire.devp2p import discover
from tests.eth.test_chain import _private_genesis

CHAIN = eth.Chain.hoodi()


async def _cli(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "peerwire.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def test_cli_crawl_then_export_json_and_csv(tmp_path: Path) -> None:
    async def main() -> None:
        async with contextlib.AsyncExitStack() as tmp:
            boot = await tmp.enter_async_context(
                discover.listen(devp2p.PrivateKey.generate(), "127.0.0.1:0", v4=True, v5=True)
            )
            enode = boot.self_node().enode_url()
            proto = eth.Protocol(CHAIN)
            key = devp2p.PrivateKey.generate()
            cfg = devp2p.Config(
                private_key=key, name="peerwire-cli-target", listen_addr="127.0.0.1:0",
                protocols=proto.protocols(), no_discovery=False, bootstrap_nodes=[enode],
                net_restrict=["127.0.0.0/8"],
            )  # fmt: skip
            await tmp.enter_async_context(devp2p.Server(cfg))
            db = str(tmp_path / "c.sqlite")
            server_id = key.public_key.node_id.hex()
            for _ in range(6):
                summary = await _cli(
                    "crawl", "--bootnodes", enode, "--db", db, "--listen", "127.0.0.1:0",
                    "--duration", "20", "--until-idle", "--no-live",
                )  # fmt: skip
                assert "found" in summary and "dialable" in summary
                rows = json.loads(await _cli("crawl", "export", "--db", db, "--format", "json"))
                if any(r["id"] == server_id and r["genesis"] for r in rows):
                    break
            ids = {r["id"] for r in rows}
            assert {server_id, boot.self_node().id.hex()} <= ids
            assert "peerwire-cli-target" in summary  # the client distribution
            text = await _cli(
                "crawl",
                "export",
                "--db",
                db,
                "--format",
                "csv",
                "--network",
                str(CHAIN.network_id),
                "--dialable",
            )
            table = list(csv.DictReader(io.StringIO(text)))
            assert [r["id"] for r in table] == [server_id]
            assert (
                table[0]["client"] == "peerwire-cli-target"
                and table[0]["genesis"] == CHAIN.genesis_hash.hex()
            )
            none = json.loads(await _cli("crawl", "export", "--db", db, "--client", "Geth"))
            assert none == []

    asyncio.run(main())


def test_inbound_connections_are_probed(tmp_path: Path) -> None:
    """A node that dials the crawler (as a node behind NAT would) gets its Hello and Status recorded."""

    async def main() -> None:
        cfg = crawl.CrawlConfig(db=tmp_path / "in.sqlite", listen="127.0.0.1:0", random_lookups=False)
        async with crawl.Crawler(cfg) as c:
            run = asyncio.ensure_future(c.run(duration=30))
            engine = await c.wait_ready()
            assert isinstance(engine, Devp2pEngine)
            crawler_node = engine.self_node()
            proto = eth.Protocol(CHAIN)
            key = devp2p.PrivateKey.generate()
            scfg = devp2p.Config(
                private_key=key, name="behind-nat", listen_addr=None, protocols=proto.protocols(),
                static_nodes=[crawler_node],
            )  # fmt: skip
            async with devp2p.Server(scfg):
                nid = key.public_key.node_id.hex()
                assert c.store is not None
                for _ in range(200):
                    rows = list(c.store.rows("WHERE id=? AND genesis IS NOT NULL", (nid,)))
                    if rows:
                        break
                    await asyncio.sleep(0.1)
                assert rows, "the inbound node was not recorded"
                r = rows[0]
                assert r["client"] == "behind-nat" and r["inbound"] == 1 and r["dial_ok"] == 1
                assert r["network_id"] == str(CHAIN.network_id) and r["genesis"] == CHAIN.genesis_hash.hex()
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run

    asyncio.run(main())


def test_cli_crawl_with_chain_dials_that_chain_and_checks_status(tmp_path: Path) -> None:
    """``--chain``: a preset or a genesis.json; only nodes whose ENR eth entry fits the chain are
    dialed, they are answered with the chain's Status; ``--probe-all`` dials the others too, whose
    mismatched Status is recorded with the error."""
    genesis = tmp_path / "genesis.json"
    genesis.write_text(json.dumps(_private_genesis(shanghaiTime=0, cancunTime=0)))
    private = eth.Chain.from_genesis_json(genesis)
    sepolia = eth.Chain.sepolia()

    async def crawl_until(db: str, chain: str, ready: set[str], *extra: str) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for _ in range(6):
            await _cli(
                "crawl", "--bootnodes", enode, "--db", db, "--listen", "127.0.0.1:0", "--chain", chain,
                "--duration", "20", "--until-idle", "--no-live", *extra,
            )  # fmt: skip
            rows = {r["id"]: r for r in json.loads(await _cli("crawl", "export", "--db", db))}
            if all(rows.get(i, {}).get("genesis") for i in ready):
                break
        return rows

    async def main() -> None:
        nonlocal enode
        async with contextlib.AsyncExitStack() as tmp:
            boot = await tmp.enter_async_context(
                discover.listen(devp2p.PrivateKey.generate(), "127.0.0.1:0", v4=True, v5=True)
            )
            enode = boot.self_node().enode_url()
            ids = {}
            for name, chain in (("on-sepolia", sepolia), ("on-private", private)):
                key = devp2p.PrivateKey.generate()
                cfg = devp2p.Config(
                    private_key=key, name=name, listen_addr="127.0.0.1:0",
                    protocols=eth.Protocol(chain).protocols(), no_discovery=False,
                    bootstrap_nodes=[enode], net_restrict=["127.0.0.0/8"],
                )  # fmt: skip
                await tmp.enter_async_context(devp2p.Server(cfg))
                ids[name] = key.public_key.node_id.hex()
            rows = await crawl_until(str(tmp_path / "a.sqlite"), "sepolia", {ids["on-sepolia"]})
            ok = rows[ids["on-sepolia"]]
            assert ok["client"] == "on-sepolia" and ok["dial_ok"] == 1 and ok["last_error"] is None, ok
            assert ok["genesis"] == sepolia.genesis_hash.hex()
            assert ok["fork_hash"] == sepolia.fork_id(0, sepolia.genesis_time).hash.hex()
            other = rows[ids["on-private"]]  # found, its record read, but not of this chain: not dialed
            assert other["enr"] and other["client"] is None and other["dialed_at"] is None, other

            rows = await crawl_until(
                str(tmp_path / "b.sqlite"), str(genesis), set(ids.values()), "--probe-all"
            )
            mine = rows[ids["on-private"]]
            assert mine["genesis"] == private.genesis_hash.hex() and mine["last_error"] is None, mine
            assert mine["network_id"] == str(private.network_id)
            wrong = rows[ids["on-sepolia"]]  # dialed anyway; its Status is kept, with why it failed
            assert wrong["genesis"] == sepolia.genesis_hash.hex()
            assert "EthHandshakeError" in wrong["last_error"] and "network ID mismatch" in wrong["last_error"]

    enode = ""
    asyncio.run(main())
