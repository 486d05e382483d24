"""discv4 against go-ethereum's p2p/discover (harness subcommand ``discv4``)."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from peerwire import devp2p
from peerwire.devp2p.discover import UDPv4, listen_v4

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]


def run_async(fn: Callable[[Path], Coroutine[Any, Any, None]]) -> Callable[[Path], None]:
    @functools.wraps(fn)
    def wrapper(go_harness: Path) -> None:
        asyncio.run(fn(go_harness))

    return wrapper


class GethDisc:
    """A go-ethereum discv4 node in a subprocess, one JSON command per line."""

    def __init__(self, proc: asyncio.subprocess.Process, hello: dict[str, Any]) -> None:
        self.proc = proc
        self.enr = devp2p.ENR.decode(hello["enr"])
        self.node = devp2p.Node.parse(hello["enr"])
        self._lock = asyncio.Lock()

    @classmethod
    async def start(cls, binary: Path, *, bootnodes: list[str] | None = None) -> GethDisc:
        args = [str(binary), "discv4", "-addr", "127.0.0.1:0"]
        if bootnodes:
            args += ["-bootnodes", ",".join(bootnodes)]
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
async def test_ping_and_enr_request_both_ways(go_harness: Path) -> None:
    key = devp2p.PrivateKey.generate()
    geth = await GethDisc.start(go_harness)
    try:
        async with listen_v4(key, "127.0.0.1:0") as disc:
            me = disc.self_node()
            assert me.record is not None
            # peerwire -> geth
            assert await disc.ping(geth.node) == geth.enr.seq
            rec = await disc.request_enr(geth.node)
            rec.verify()
            assert rec == geth.enr and rec.node_id == geth.node.id
            # geth -> peerwire (geth bonds with us first, then asks)
            ans = await geth.call("ping", node=str(me.record))
            assert ans.get("ok"), ans
            assert ans["enr_seq"] == me.record.seq
            ans = await geth.call("requestENR", node=str(me.record))
            assert ans.get("ok"), ans
            assert ans["enr"] == str(me.record)
            assert bytes.fromhex(ans["id"]) == key.public_key.node_id
            # geth (enode.Parse) verified our record; so do we, byte for byte
            assert devp2p.ENR.decode(ans["enr"]) == me.record
    finally:
        await geth.close()


async def _converge(binary: Path, *, geth_boot: bool) -> None:
    n = 8
    async with AsyncExitStack() as stack:
        geths: list[GethDisc] = []
        ours: list[UDPv4] = []
        if geth_boot:
            boot_g = await GethDisc.start(binary)
            geths.append(boot_g)
            boot = boot_g.node
        else:
            d = await stack.enter_async_context(listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0"))
            ours.append(d)
            boot = d.self_node()
        assert boot.record is not None
        try:
            while len(geths) < n:
                geths.append(await GethDisc.start(binary, bootnodes=[str(boot.record)]))
            while len(ours) < n:
                ours.append(
                    await stack.enter_async_context(
                        listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0", bootnodes=[boot])
                    )
                )
            all_ids = {g.node.id for g in geths} | {d.self_node().id for d in ours}
            need = int(0.9 * (len(all_ids) - 1) + 0.999)

            async def coverage() -> list[int]:
                counts = [len((await g.table_ids()) & all_ids) for g in geths]
                counts += [len({x.id for x in d.table_nodes()} & all_ids) for d in ours]
                return counts

            deadline = time.monotonic() + 60
            counts = await coverage()
            while time.monotonic() < deadline and min(counts) < need:
                await asyncio.gather(
                    *(g.call("lookup") for g in geths),
                    *(d.lookup(None) for d in ours),
                )
                counts = await coverage()
            assert min(counts) >= need, f"tables did not converge: {counts} (need {need})"
            # RandomNodes both ways
            geth_ids = {g.node.id for g in geths}
            our_ids = {d.self_node().id for d in ours}
            ans = await geths[1].call("randomNodes", n=40, timeout=10)
            seen = {devp2p.Node.parse(t).id for t in ans["nodes"]}
            assert seen & our_ids, "geth's RandomNodes never yielded a peerwire node"
            got: set[bytes] = set()
            it = ours[1].random_nodes()
            async with asyncio.timeout(20):
                async for node in it:
                    got.add(node.id)
                    if got & geth_ids:
                        break
            assert got & geth_ids
        finally:
            for g in geths:
                await g.close()


@pytest.mark.slow
@run_async
async def test_mixed_network_converges_peerwire_bootnode(go_harness: Path) -> None:
    await _converge(go_harness, geth_boot=False)


@pytest.mark.slow
@run_async
async def test_mixed_network_converges_geth_bootnode(go_harness: Path) -> None:
    await _converge(go_harness, geth_boot=True)
