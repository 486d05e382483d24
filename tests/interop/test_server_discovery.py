"""A peerwire devp2p Server with discovery v4 among go-ethereum p2p.Servers with discovery v4.

Harness subcommand ``p2pserver-disc``: a geth ``p2p.Server`` with ``DiscoveryV4`` on,
bootstrapped from the given bootnodes; ``-nodial`` makes it accept only, so a connection
to it can only have been dialed by the other side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from tests.devp2p._aio import aio
from tests.interop._goserver import GoServer

from peerwire.devp2p import (
    Config,
    ConnFlag,
    MsgReadWriter,
    Peer,
    PrivateKey,
    Protocol,
    Server,
)

pytestmark = pytest.mark.interop


class GoDiscServer(GoServer):
    """A running `peerwire-interop p2pserver-disc`: a geth server with discovery v4."""

    subcommand = "p2pserver-disc"

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        super().__init__(proc)
        self.enr = ""

    def _ready(self, ready: dict[str, Any]) -> None:
        super()._ready(ready)
        self.enr = ready["enr"]

    async def table(self) -> set[bytes]:
        return {bytes.fromhex(i) for i in (await self.cmd("table"))["nodes"]}

    async def peers(self) -> dict[bytes, bool]:
        """Peer ID -> inbound."""
        return {bytes.fromhex(p["id"]): p["inbound"] for p in (await self.cmd("peers"))["peers"]}

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


@contextlib.asynccontextmanager
async def go_servers(binary: Path, *argss: list[str]) -> AsyncIterator[list[GoDiscServer]]:
    started: list[GoDiscServer] = []
    try:
        for args in argss:
            started.append(await GoDiscServer.start(binary, *args))
        yield started
    finally:
        for g in started:
            await g.stop()


async def poll(cond: Callable[[], Any], within: float, every: float = 0.1) -> None:
    """Wait until the (async) ``cond()`` is truthy."""
    async with asyncio.timeout(within):
        while not await cond():  # noqa: ASYNC110 (polling another process)
            await asyncio.sleep(every)


def echo_protocol(echoed: asyncio.Queue[tuple[bytes, bytes]]) -> Protocol:
    async def run(peer: Peer, rw: MsgReadWriter) -> None:
        if not peer.inbound:
            await rw.write_msg(1, b"\x85hello")
            msg = await rw.read_msg()
            with contextlib.suppress(asyncio.QueueFull):
                echoed.put_nowait((peer.id, msg.payload))
        await asyncio.Event().wait()

    return Protocol("echo", 1, 2, run)


@aio
async def test_peerwire_server_finds_and_dials_geth_servers_it_was_never_told_about(
    go_harness: Path,
) -> None:
    """Told only a geth bootnode, a peerwire Server discovers three geth servers and dials them.

    The geth servers run with NoDial, so every connection to them was dialed by peerwire.
    """
    async with go_servers(go_harness, ["-nodial", "-name", "geth-boot"]) as (boot,):
        args = ["-nodial", "-bootnodes", boot.enr]
        async with go_servers(go_harness, *[[*args, "-name", f"geth-{i}"] for i in range(3)]) as gs:
            want = {g.id for g in gs}

            async def boot_knows_them() -> bool:
                return want <= await boot.table()

            await poll(boot_knows_them, 10)
            echoed: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue(maxsize=16)
            srv = Server(
                Config(
                    private_key=PrivateKey.generate(),
                    name="peerwire-disc",
                    listen_addr="127.0.0.1:0",
                    max_peers=30,
                    protocols=[echo_protocol(echoed)],
                    no_discovery=False,
                    bootstrap_nodes=[boot.enode],
                )
            )
            async with srv:

                async def connected() -> bool:
                    return want <= {p.id for p in srv.peers()}

                await poll(connected, 10)
                for p in srv.peers():
                    if p.id in want:
                        assert not p.inbound and p.flags & ConnFlag.DYN_DIALED
                        assert p.name.startswith("geth-")
                for g in gs:
                    assert (await g.peers()).get(srv.self_node().id) is True  # inbound on the geth side
                got = await asyncio.wait_for(echoed.get(), 5)
                assert got[1] == b"\x85hello"


@aio
async def test_geth_server_finds_and_dials_a_peerwire_server_through_discovery(go_harness: Path) -> None:
    """The other way: peerwire bootnode, a peerwire server that never dials, a geth server
    with discovery that finds that server through the peerwire bootnode and dials it."""
    boot = Server(
        Config(
            private_key=PrivateKey.generate(),
            name="peerwire-boot",
            listen_addr="127.0.0.1:0",
            no_discovery=False,
            no_dial=True,
            protocols=[echo_protocol(asyncio.Queue(maxsize=1))],
        )
    )
    async with boot:
        target = Server(
            Config(
                private_key=PrivateKey.generate(),
                name="peerwire-target",
                listen_addr="127.0.0.1:0",
                no_discovery=False,
                no_dial=True,
                bootstrap_nodes=[boot.self_node()],
                protocols=[echo_protocol(asyncio.Queue(maxsize=1))],
            )
        )
        async with target:
            tid = target.self_node().id
            assert boot.discovery is not None

            async def boot_knows_target() -> bool:
                assert boot.discovery is not None
                return tid in {n.id for n in boot.discovery.table_nodes()}

            await poll(boot_knows_target, 10)
            async with go_servers(go_harness, ["-bootnodes", str(boot.self_node().record)]) as (g,):

                async def dialed_by_geth() -> bool:
                    return any(p.id == g.id and p.inbound for p in target.peers())

                await poll(dialed_by_geth, 15)
                assert (await g.peers()).get(tid) is False  # outbound on the geth side


@aio
async def test_mixed_network_of_servers_with_discovery_interconnects(go_harness: Path) -> None:
    """Three geth servers and three peerwire servers, all dialing, told only a geth bootnode:
    every peerwire server ends up with geth peers and every geth server with peerwire peers.
    (That geth dials peerwire servers it discovered is the test above; here our dials are
    usually faster.)"""
    async with go_servers(go_harness, ["-nodial", "-name", "geth-boot"]) as (boot,):
        args = ["-bootnodes", boot.enr, "-maxpeers", "20"]
        async with go_servers(go_harness, *[[*args, "-name", f"geth-{i}"] for i in range(3)]) as gs:
            geth_ids = {g.id for g in gs}
            async with contextlib.AsyncExitStack() as stack:
                ours: list[Server] = []
                for i in range(3):
                    srv = Server(
                        Config(
                            private_key=PrivateKey.generate(),
                            name=f"peerwire-{i}",
                            listen_addr="127.0.0.1:0",
                            max_peers=20,
                            protocols=[echo_protocol(asyncio.Queue(maxsize=1))],
                            no_discovery=False,
                            bootstrap_nodes=[boot.enode],
                        )
                    )
                    ours.append(await stack.enter_async_context(srv))
                our_ids = {s.self_node().id for s in ours}

                async def interconnected() -> bool:
                    if not all(geth_ids & {p.id for p in s.peers()} for s in ours):
                        return False
                    for g in gs:
                        if not our_ids & set(await g.peers()):
                            return False
                    return True

                await poll(interconnected, 15, every=0.5)
                # every link is a dial of a discovered node (nobody was told about anyone but boot)
                for s in ours:
                    for p in s.peers():
                        assert p.inbound or p.flags & ConnFlag.DYN_DIALED
