"""Two servers over real TCP + RLPx on loopback."""

from __future__ import annotations

import asyncio
import os

import pytest
from tests.devp2p._aio import aio
from tests.devp2p.test_server import _key_pair, check_simultaneous_open

from peerwire import devp2p
from peerwire._core import p2p_base
from peerwire.devp2p import (
    Config,
    DiscReason,
    MsgReadWriter,
    Peer,
    PeerEventType,
    PrivateKey,
    Protocol,
    Server,
)


async def echo(peer: Peer, rw: MsgReadWriter) -> None:
    while True:
        msg = await rw.read_msg()
        await rw.write_msg(msg.code, msg.payload)


@aio
async def test_loopback_dial_echo_and_refusal() -> None:
    got: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(maxsize=4)

    async def client(peer: Peer, rw: MsgReadWriter) -> None:
        await rw.write_msg(1, b"\x82hi")
        m = await rw.read_msg()
        await got.put((m.code, m.payload))
        await asyncio.Event().wait()

    a = Server(
        Config(
            private_key=PrivateKey.generate(),
            name="a",
            listen_addr="127.0.0.1:0",
            protocols=[Protocol("echo", 1, 2, echo)],
            max_peers=2,
        )
    )
    b = Server(
        Config(
            private_key=PrivateKey.generate(),
            name="b",
            listen_addr="127.0.0.1:0",
            protocols=[Protocol("echo", 1, 2, client)],
        )
    )
    c = Server(
        Config(
            private_key=PrivateKey.generate(),
            name="c",
            listen_addr=None,
            protocols=[Protocol("echo", 1, 2, client)],
        )
    )
    async with a, b, c:
        ev = b.subscribe_events()
        b.add_peer(a.self_node())
        assert await asyncio.wait_for(got.get(), 5) == (1, b"\x82hi")
        assert (await asyncio.wait_for(anext(ev), 1)).type is PeerEventType.ADD
        [pa] = a.peers()
        assert pa.name == "b" and pa.inbound and pa.remote_address.startswith("127.0.0.1:")
        # a has one inbound slot (max_peers=2): c is refused with TooManyPeers before Hello
        cev = c.subscribe_events()
        c.add_peer(a.self_node())
        async with asyncio.timeout(5):
            while not c.setup_failures:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        err = c.setup_failures[-1][1]
        assert getattr(err, "disconnect_reason", None) == DiscReason.TOO_MANY_PEERS, err
        assert c.peer_count() == 0 and cev.dropped == 0
    assert isinstance(devp2p.rlpx, type(devp2p))


@aio
async def test_compressed_frames_arriving_with_the_hello_are_decoded() -> None:
    """Frames sent right behind the Hello (already compressed) reach the protocol intact."""
    srv = Server(
        Config(
            private_key=PrivateKey.generate(),
            listen_addr="127.0.0.1:0",
            protocols=[Protocol("echo", 1, 2, echo)],
        )
    )
    key = PrivateKey.generate()
    async with srv:
        conn = await devp2p.rlpx.dial(
            "127.0.0.1", srv.listen_port, remote_public_key=srv.self_node().public_key, private_key=key
        )
        hello = p2p_base.encode_hello(5, "raw", [("echo", 1)], 0, key.public_key.to_bytes())
        code, _ = await conn.recv()  # the server's Hello comes first, uncompressed
        assert code == 0
        conn.send_nowait(0, hello)
        conn.set_snappy(True)  # flushes the Hello; what follows is compressed, in the same burst
        conn.send_nowait(16, b"\x83abc")
        conn.send_nowait(17, b"\x01")
        assert await conn.recv() == (16, b"\x83abc")
        assert await conn.recv() == (17, b"\x01")
        await conn.close()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts fds through /proc")
@aio
async def test_tcp_flood_beyond_pending_tokens_keeps_established_peers() -> None:
    """Issue item 6 over real sockets: 100 silent connections against 5 handshake tokens."""
    srv = Server(
        Config(
            private_key=PrivateKey.generate(),
            listen_addr="127.0.0.1:0",
            max_peers=60,
            max_pending_peers=5,
            protocols=[Protocol("echo", 1, 2, echo)],
        )
    )
    counts = [0] * 20

    def chatter(i: int) -> Protocol:
        async def run(peer: Peer, rw: MsgReadWriter) -> None:
            while True:
                await rw.write_msg(0, b"\x80")
                await rw.read_msg()
                counts[i] += 1
                await asyncio.sleep(0.1)

        return Protocol("echo", 1, 2, run)

    clients = [
        Server(Config(private_key=PrivateKey.generate(), listen_addr=None, protocols=[chatter(i)]))
        for i in range(20)
    ]
    async with srv:
        events = srv.subscribe_events(buffer=1000)
        for c in clients:
            await c.start()
            c.add_peer(srv.self_node())
        async with asyncio.timeout(10):
            while srv.peer_count() < 20:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        baseline = _open_fds()
        before = sum(counts)
        flood = [await asyncio.open_connection("127.0.0.1", srv.listen_port) for _ in range(100)]
        async with asyncio.timeout(15):  # every silent connection is closed by the server
            for reader, _ in flood:
                assert await reader.read() == b""
        for _, writer in flood:
            writer.close()
        await asyncio.sleep(0.3)
        assert srv.peer_count() == 20
        assert min(counts) > 0 and sum(counts) - before > 20 * 20
        assert _open_fds() == baseline
        late = Server(Config(private_key=PrivateKey.generate(), listen_addr=None, protocols=[chatter(0)]))
        async with late:
            late.add_peer(srv.self_node())
            async with asyncio.timeout(10):
                while srv.peer_count() < 21:  # noqa: ASYNC110 - the accept path recovered
                    await asyncio.sleep(0.02)
        drops = []
        while not events._q.empty():
            ev = await anext(events)
            if ev.type is PeerEventType.DROP:
                drops.append(ev)
        assert all(d.peer == late.self_node().id for d in drops)  # none of the 20 was dropped
        for c in clients:
            await c.stop()


@aio
async def test_simultaneous_dial_over_tcp_keeps_one_connection_on_both_sides() -> None:
    k_lo, k_hi = _key_pair()

    def srv(k: PrivateKey) -> Server:
        return Server(
            Config(private_key=k, listen_addr="127.0.0.1:0", protocols=[Protocol("echo", 1, 2, echo)])
        )

    lo, hi = srv(k_lo), srv(k_hi)
    async with lo, hi:
        await check_simultaneous_open(lo, hi)
