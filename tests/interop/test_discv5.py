"""discv5 against go-ethereum's p2p/discover v1.17.5 (harness subcommand ``discv5``)."""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from peerwire import devp2p, kad
from peerwire.devp2p import Node
from peerwire.devp2p.discover import UDPv5, listen, listen_v5

pytestmark = [pytest.mark.interop, pytest.mark.timeout(240)]

PEERWIRE = Path(sys.executable).parent / "peerwire"


def run_async(fn: Callable[[Path], Coroutine[Any, Any, None]]) -> Callable[[Path], None]:
    @functools.wraps(fn)
    def wrapper(go_harness: Path) -> None:
        asyncio.run(fn(go_harness))

    return wrapper


class GethV5:
    """A go-ethereum discv5 node in a subprocess, one JSON command per line."""

    def __init__(self, proc: asyncio.subprocess.Process, hello: dict[str, Any]) -> None:
        self.proc = proc
        self.enr = devp2p.ENR.decode(hello["enr"])
        self.node = devp2p.Node.parse(hello["enr"])
        self._lock = asyncio.Lock()

    @classmethod
    async def start(cls, binary: Path, *, bootnodes: list[str] | None = None, talk: str = "") -> GethV5:
        args = [str(binary), "discv5", "-addr", "127.0.0.1:0"]
        if bootnodes:
            args += ["-bootnodes", ",".join(bootnodes)]
        if talk:
            args += ["-talk", talk]
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            limit=1 << 20,
        )
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            line = await proc.stdout.readline()
        return cls(proc, json.loads(line))

    async def call(self, cmd: str, *, wait: float = 30, **kw: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        async with self._lock, asyncio.timeout(wait):
            self.proc.stdin.write((json.dumps({"cmd": cmd, **kw}) + "\n").encode())
            await self.proc.stdin.drain()
            out: dict[str, Any] = json.loads(await self.proc.stdout.readline())
        return out

    async def table_ids(self) -> set[bytes]:
        ans = await self.call("table")
        return {devp2p.Node.parse(t).id for t in ans["nodes"]}

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()


@run_async
async def test_peerwire_to_geth(go_harness: Path) -> None:
    geth = await GethV5.start(go_harness, talk="echo")
    try:
        async with listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0") as d5:
            assert await d5.ping(geth.node) == geth.enr.seq
            rec = await d5.request_enr(geth.node)
            assert rec == geth.enr
            # geth put us in its table after the handshake; NODES answers honour distances.
            d = kad.log_distance(geth.node.id, d5.id)
            ans = await geth.call("findnode", node=str(d5.local.record), distances=[0])
            assert ans.get("ok"), ans
            assert await d5.talk_request(geth.node, b"echo", b"hello") == b"geth:hello"
            assert await d5.talk_request(geth.node, b"nope", b"x") == b""
            found = await d5.find_node(geth.node, [d])
            assert all(kad.log_distance(geth.node.id, n.id) == d for n in found)
    finally:
        await geth.close()


@run_async
async def test_geth_to_peerwire(go_harness: Path) -> None:
    geth = await GethV5.start(go_harness)
    try:
        async with listen_v5(
            devp2p.PrivateKey.generate(), "127.0.0.1:0", findnode_liveness_check=False
        ) as d5:
            me = str(d5.local.record)

            async def talk(node: Node, req: bytes) -> bytes:
                assert node.id == geth.node.id
                return b"pw:" + req

            d5.register_talk_handler(b"pw", talk)
            ans = await geth.call("ping", node=me)
            assert ans.get("ok"), ans
            assert ans["enr_seq"] == d5.local.seq and ans["ip"] == "127.0.0.1"
            ans = await geth.call("requestENR", node=me)
            assert ans.get("ok"), ans
            assert devp2p.ENR.decode(ans["enr"]) == d5.local.record
            # geth is in our table since its handshake: FINDNODE at its distance returns it.
            d = kad.log_distance(d5.id, geth.node.id)
            ans = await geth.call("findnode", node=me, distances=[d])
            assert ans.get("ok"), ans
            assert [devp2p.Node.parse(t).id for t in ans["nodes"]] == [geth.node.id]
            ans = await geth.call("talk", node=me, protocol="pw", request=b"hi".hex())
            assert ans.get("ok"), ans
            assert bytes.fromhex(ans["response"]) == b"pw:hi"
            # A new local seq is visible to geth.
            d5.local.set_extra("x", b"1")
            ans = await geth.call("ping", node=me)
            assert ans["enr_seq"] == d5.local.seq
    finally:
        await geth.close()


@run_async
async def test_geth_v5_reaches_shared_socket(go_harness: Path) -> None:
    geth = await GethV5.start(go_harness)
    try:
        async with listen(devp2p.PrivateKey.generate(), "127.0.0.1:0", v4=True, v5=True) as disc:
            assert disc.v5 is not None and disc.local is not None
            me = str(disc.local.record)
            ans = await geth.call("ping", node=me)
            assert ans.get("ok"), ans
            assert ans["enr_seq"] == disc.local.seq
            assert await disc.v5.ping(geth.node) == geth.enr.seq
    finally:
        await geth.close()


@run_async
async def test_enode_bootnodes_both_ways(go_harness: Path) -> None:
    """geth and peerwire each bootstrap v5 from the other's ``enode:`` URL (no record given)."""
    geth = await GethV5.start(go_harness)
    try:
        # peerwire -> geth: the handshake by key, then geth's record fetched from geth.
        url = geth.node.enode_url()
        assert url.startswith("enode://")
        async with listen_v5(
            devp2p.PrivateKey.generate(), "127.0.0.1:0", bootnodes=[url], findnode_liveness_check=False
        ) as pw:
            assert pw.bootnodes[0].record is None
            await pw.refresh()
            assert pw.bootnodes[0].record == geth.enr
            assert geth.node.id in {n.id for n in pw.table_nodes()}
            # geth -> peerwire: a geth started with our enode: URL finds us, and geth through us.
            geth2 = await GethV5.start(go_harness, bootnodes=[pw.self_node().enode_url()])
            try:
                # geth adds a node only when that node opens a session to it (v5_udp.go
                # handlePacket -> addInboundNode), so geth2 lists geth once geth revalidates it
                # (a ping within 0-3 s): a deadline, not ten lookups (they took 0.2 s once).
                ids: set[bytes] = set()
                deadline = time.monotonic() + 20
                while not {pw.id, geth.node.id} <= ids and time.monotonic() < deadline:
                    await geth2.call("lookup")
                    ids = await geth2.table_ids()
                    await asyncio.sleep(0.1)
                names = {pw.id: "peerwire", geth.node.id: "geth", geth2.node.id: "geth2"}
                assert {pw.id, geth.node.id} <= ids, [names.get(i, i.hex()[:16]) for i in ids]
            finally:
                await geth2.close()
    finally:
        await geth.close()


async def _converge(go_harness: Path, *, geth_boot: bool) -> None:
    n = 8
    async with AsyncExitStack() as stack:
        geths: list[GethV5] = []
        ours: list[UDPv5] = []
        if geth_boot:
            geths.append(await GethV5.start(go_harness))
            boot_enr = str(geths[0].enr)
        else:
            ours.append(
                await stack.enter_async_context(listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0"))
            )
            boot_enr = str(ours[0].local.record)
        try:
            while len(geths) < n:
                geths.append(await GethV5.start(go_harness, bootnodes=[boot_enr]))
            while len(ours) < n:
                ours.append(
                    await stack.enter_async_context(
                        listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0", bootnodes=[boot_enr])
                    )
                )
            all_ids = {g.node.id for g in geths} | {d.id for d in ours}
            need = int(0.9 * (len(all_ids) - 1) + 0.999)

            async def coverage() -> list[int]:
                counts = [len((await g.table_ids()) & all_ids) for g in geths]
                counts += [len({x.id for x in d.table_nodes()} & all_ids) for d in ours]
                return counts

            deadline = time.monotonic() + 90
            counts = await coverage()
            while time.monotonic() < deadline and min(counts) < need:
                await asyncio.gather(*(g.call("lookup") for g in geths), *(d.lookup(None) for d in ours))
                counts = await coverage()
            assert min(counts) >= need, f"tables did not converge: {counts} (need {need})"
            geth_ids = {g.node.id for g in geths}
            got: set[bytes] = set()
            async with asyncio.timeout(20):
                async for node in ours[1].random_nodes():
                    got.add(node.id)
                    if got & geth_ids:
                        break
            assert got & geth_ids
        finally:
            for g in geths:
                await g.close()


@pytest.mark.slow
@run_async
async def test_mixed_v5_network_converges_peerwire_bootnode(go_harness: Path) -> None:
    await _converge(go_harness, geth_boot=False)


@pytest.mark.slow
@run_async
async def test_mixed_v5_network_converges_geth_bootnode(go_harness: Path) -> None:
    await _converge(go_harness, geth_boot=True)


def test_cli_ping_enr_over_v5(go_harness: Path) -> None:
    """``peerwire ping enr:…`` pings a geth discv5 node and prints its record."""
    proc = subprocess.Popen(
        [str(go_harness), "discv5", "-addr", "127.0.0.1:0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        hello = json.loads(proc.stdout.readline())
        res = subprocess.run(
            [str(PEERWIRE), "ping", hello["enr"], "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert res.returncode == 0, res.stderr
        info = json.loads(res.stdout)
        assert info["protocol"] == "discv5"
        assert info["id"] == hello["id"]
        assert info["enr"] == hello["enr"]
        assert info["pong_seq"] == info["seq"] == devp2p.ENR.decode(hello["enr"]).seq
        assert info["ip"] == "127.0.0.1"
    finally:
        proc.kill()
        proc.communicate(timeout=10)
