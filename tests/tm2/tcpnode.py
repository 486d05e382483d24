"""Helpers: peerwire TM2 nodes over the real TCP MultiplexTransport on 127.0.0.1 (not a test module)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

from peerwire import tm2
from peerwire.tm2 import discovery

ECHO = 0x77
NETWORK = "interop"


def free_port() -> int:
    """A free 127.0.0.1 port (NodeInfo must advertise the real port, so port 0 will not do)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Echo(tm2.BaseReactor):
    """Replies ``echo:<m>`` to every ``m`` on 0x77 that is not itself an echo; records both."""

    def __init__(self) -> None:
        super().__init__("echo")
        self.received: list[tuple[str, bytes]] = []
        self.echoed: list[tuple[str, bytes]] = []

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [
            tm2.ChannelDescriptor(ECHO, priority=1, send_queue_capacity=100, recv_message_capacity=1 << 20)
        ]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        if msg.startswith(b"echo:"):
            self.echoed.append((peer.id, msg))
            return
        self.received.append((peer.id, msg))
        await peer.send(ch_id, b"echo:" + msg)


class TcpNode:
    def __init__(
        self,
        name: str,
        *opts: tm2.SwitchOption,
        seeds: list[str] | None = None,
        with_discovery: bool = True,
        book: Path | None = None,
        interval: float = discovery.DEFAULT_INTERVAL,
        port: int | None = None,
        max_inbound_handshakes: int | None = None,
        mconfig: tm2.MConnConfig | None = None,
        reactors: dict[str, tm2.BaseReactor] | None = None,
    ) -> None:
        self.key = tm2.NodeKey.from_secret(name.encode())
        self.id = self.key.id
        self.port = port or free_port()
        self.address = tm2.NetAddress(self.id, "127.0.0.1", self.port)
        extra = reactors or {}
        channels = [ECHO] + ([discovery.CHANNEL] if with_discovery else [])
        channels += [cd.id for r in extra.values() for cd in r.get_channels()]
        info = tm2.NodeInfo(
            net_address=self.address,
            network=NETWORK,
            version="v1.0.0-rc.0",
            channels=bytes(channels),
            moniker=f"pw-{name}",
        )
        kw = {} if max_inbound_handshakes is None else {"max_inbound_handshakes": max_inbound_handshakes}
        self.transport = tm2.MultiplexTransport(info, self.key, mconfig, **kw)
        self.echo = Echo()
        options = [tm2.with_reactor("echo", self.echo)]
        options += [tm2.with_reactor(name, r) for name, r in extra.items()]
        self.discovery: discovery.Reactor | None = None
        if with_discovery:
            self.discovery = discovery.Reactor(book, seeds=seeds or [], interval=interval)
            options.append(tm2.with_reactor("discovery", self.discovery))
        self.sw = tm2.MultiplexSwitch(self.transport, *options, *opts)

    @property
    def addr(self) -> str:
        return str(self.address)

    async def start(self) -> TcpNode:
        await self.transport.listen(self.address)
        await self.sw.start()
        return self

    async def stop(self) -> None:
        await self.transport.close()
        await self.sw.stop()

    async def __aenter__(self) -> TcpNode:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def wait_for(cond: Callable[[], bool], within: float, what: str = "condition") -> None:
    """Poll ``cond`` every 50 ms (state changes come from many tasks: there is no one event)."""
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, f"{what}: not reached in {within} s"
        await asyncio.sleep(0.05)
