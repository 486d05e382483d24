"""TM2 side of the hostile harness: a victim node, an honest echo check, a raw STS attacker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from peerwire import tm2
from peerwire._core import tm2 as core
from peerwire.tm2 import discovery
from tests.hostile._harness import Baseline, eventually
from tests.tm2.tcpnode import ECHO, NETWORK, TcpNode, free_port


@contextlib.asynccontextmanager
async def tm2_victim() -> AsyncIterator[TcpNode]:
    async with TcpNode("victim-" + os.urandom(4).hex(), with_discovery=True) as node:
        yield node


async def honest_tm2_echo(victim: TcpNode) -> float:
    """A fresh honest node dials ``victim``, sends one message and waits for its echo."""
    async with TcpNode("honest-" + os.urandom(4).hex(), with_discovery=False) as h:
        h.sw.dial_peers(victim.addr)
        await eventually(lambda: h.sw.peers().has(victim.id), "honest peer connected")
        peer = h.sw.peers().get(victim.id)
        assert peer is not None
        t0 = time.monotonic()
        assert await peer.send(ECHO, b"honest")
        await eventually(lambda: any(m == b"echo:honest" for _, m in h.echo.echoed), "echo came back")
        return time.monotonic() - t0


class RawSts:
    """A raw TM2 peer: it runs the STS handshake itself and then writes what it likes."""

    def __init__(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.reader, self.writer = r, w
        self.key = tm2.NodeKey.generate()
        self.session: core.SecretSession | None = None

    @classmethod
    async def connect(cls, victim: TcpNode, *, sts: bool = True, node_info: bool = False) -> RawSts:
        r, w = await asyncio.open_connection("127.0.0.1", victim.port)
        self = cls(r, w)
        if sts:
            await self.handshake()
        if node_info:
            await self.send_node_info()
        return self

    async def handshake(self) -> None:
        hs = core.SecretHandshake(self.key.native)
        self.writer.write(hs.ephemeral_message())
        theirs = await asyncio.wait_for(self.reader.readexactly(35), 5)
        self.writer.write(hs.read_ephemeral(theirs))
        while True:
            data = await asyncio.wait_for(self.reader.read(4096), 5)
            if not data:
                raise ConnectionError("closed during STS")
            if hs.read_auth(data):
                break
        self.session, _remote, _leftover = hs.finish()

    def node_info(self, **kw: object) -> bytes:
        fields: dict[str, object] = {
            "net_address": tm2.NetAddress(self.key.id, "127.0.0.1", free_port()),
            "network": NETWORK,
            "version": "v1.0.0-rc.0",
            "channels": bytes([ECHO, discovery.CHANNEL]),
            "moniker": "attacker",
        }
        fields.update(kw)
        return tm2.NodeInfo(**fields).encode()  # type: ignore[arg-type]

    async def send_node_info(self, raw: bytes | None = None) -> None:
        self.send(self.node_info() if raw is None else raw)
        await asyncio.wait_for(self._read_plain(), 5)  # the victim's NodeInfo

    async def _read_plain(self) -> bytes:
        assert self.session is not None
        while True:
            data = await self.reader.read(4096)
            if not data:
                raise ConnectionError("closed before the victim's NodeInfo")
            plain = self.session.open(data)
            if plain:
                return plain

    def send(self, plain: bytes) -> None:
        assert self.session is not None
        self.writer.write(self.session.seal(plain))

    async def closed_by_victim(self, timeout: float = 10.0) -> bool:  # noqa: ASYNC109
        """Whether the victim closes the connection within ``timeout`` (reading and dropping data)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                data = await asyncio.wait_for(self.reader.read(65536), left)
            except TimeoutError:
                return False
            except (ConnectionError, OSError):
                return True
            if not data:
                return True
        return False

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


async def tm2_attack_then_check(victim: TcpNode, attack: Callable[[TcpNode], Awaitable[None]]) -> None:
    await honest_tm2_echo(victim)  # warm-up
    await eventually(lambda: len(victim.sw.peers()) == 0, "warm-up peer gone")
    base = Baseline.take()
    await attack(victim)
    await eventually(lambda: len(victim.sw.peers()) == 0, "attackers dropped")
    await base.restored(rss_slack=48 << 20)
    assert await honest_tm2_echo(victim) < 5.0
