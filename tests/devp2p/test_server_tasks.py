"""Task ownership: the server and its discovery own every task they start (one scope each)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.devp2p._aio import aio
from tests.devp2p.test_server import make, wait_for

from peerwire.devp2p import Config, MsgReadWriter, Peer, PrivateKey, Protocol, Server
from peerwire.devp2p._transport import Incoming, MemoryNetwork, Transport
from peerwire.events import DropReason, PeerDropped


def _others() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def _chatty(peer: Peer, rw: MsgReadWriter) -> None:
    await rw.write_msg(0, b"\xc0")
    while True:
        await rw.read_msg()


@aio
async def test_no_library_task_outlives_stop() -> None:
    before = _others()
    servers = [
        Server(
            Config(
                private_key=PrivateKey.generate(),
                listen_addr="127.0.0.1:0",
                no_discovery=False,  # real UDP discovery: its loops and ping-backs too
                protocols=[Protocol("chat", 1, 1, _chatty)],
            )
        )
        for _ in range(3)
    ]
    for s in servers:
        await s.start()
    for s in servers[1:]:
        s.add_peer(servers[0].self_node())
    await wait_for(lambda: servers[0].peer_count() == 2, within=10)
    assert len(_others() - before) > 10  # dialer, peers' loops, discovery loops...
    for s in servers:
        await s.stop()
    assert _others() - before == set()
    assert all(s.task_errors == [] for s in servers)


class _BuggyIncoming:
    """An accepted connection whose handshake fails with a bug (not a network or protocol error)."""

    remote_address = ("127.0.0.1", 1)
    local_address = ("127.0.0.1", 2)

    async def handshake(self) -> Transport:
        raise RuntimeError("bug in a handshake")

    def refuse(self) -> None:
        pass


@aio
async def test_an_exception_in_a_child_task_is_not_lost() -> None:
    net = MemoryNetwork()
    accepted: list[Any] = []

    async def listen(host: str, port: int, key: PrivateKey, on_accept: Any) -> Any:
        accepted.append(on_accept)
        return await MemoryNetwork.listen(net, host, port, key, on_accept)

    net.listen = listen  # type: ignore[method-assign]

    async def crashing(peer: Peer, rw: MsgReadWriter) -> None:
        raise KeyError("bug in a protocol")

    srv = make(net, protocols=[Protocol("echo", 1, 2, crashing)])
    b = make(net)
    async with srv, b:
        feed = srv.subscribe_lifecycle()
        on_accept = accepted[0]
        incoming: Incoming = _BuggyIncoming()
        on_accept(incoming)
        await wait_for(lambda: len(srv.task_errors) == 1)
        name, err = srv.task_errors[0]
        assert name == "inbound setup" and isinstance(err, RuntimeError)  # recorded (and logged)

        b.add_peer(srv.self_node())  # its protocol crashes: the peer ends with the error as reason
        async with asyncio.timeout(5):
            async for ev in feed:
                if isinstance(ev, PeerDropped):
                    break
        assert ev.reason is DropReason.SERVICE_ERROR and "bug in a protocol" in ev.detail
