"""Two servers over real TCP + RLPx on loopback."""

from __future__ import annotations

import asyncio

from tests.devp2p._aio import aio

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
