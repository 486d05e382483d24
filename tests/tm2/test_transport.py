"""MultiplexTransport: dial/accept with NodeInfo, every verification failure, duplicate and inbound bounds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from peerwire import tm2
from peerwire.errors import DecodeError, DialError, PeerwireError

KA = tm2.NodeKey.from_secret(b"node-a")
KB = tm2.NodeKey.from_secret(b"node-b")
CH = 0x77


class Behavior:
    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.got: asyncio.Queue[bytes] = asyncio.Queue(maxsize=100)
        outer = self

        class Sink:
            async def receive(self, ch_id: int, peer: tm2.Peer, msg: bytes) -> None:
                await outer.got.put(msg)

        self._reactor: tm2.Reactor = Sink()

    def reactor_ch_descriptors(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(CH, priority=1, send_queue_capacity=10)]

    def reactors(self) -> dict[int, tm2.Reactor]:
        return {CH: self._reactor}

    def handle_peer_error(self, peer: tm2.Peer, err: BaseException) -> None:
        self.errors.append(err)

    def is_persistent_peer(self, peer_id: tm2.ID) -> bool:
        return False

    def is_private_peer(self, peer_id: tm2.ID) -> bool:
        return False

    def node_budget(self) -> None:
        return None


def _info(key: tm2.NodeKey, port: int = 26656, **kw: Any) -> tm2.NodeInfo:
    base: dict[str, Any] = {
        "net_address": tm2.NetAddress(key.id, "127.0.0.1", port),
        "network": "test",
        "version_set": [tm2.VersionInfo("p2p", "v1.0.0-rc.0")],
        "version": "v1.0.0-rc.0",
        "channels": bytes([CH]),
        "moniker": "m",
    }
    base.update(kw)
    return tm2.NodeInfo(**base)


async def _listener(**kw: Any) -> tm2.MultiplexTransport:
    t = tm2.MultiplexTransport(_info(KB, **kw), KB)
    await t.listen(tm2.NetAddress(KB.id, "127.0.0.1", 0))
    return t


def test_dial_accept_and_traffic() -> None:
    async def main() -> None:
        tb = await _listener()
        ta = tm2.MultiplexTransport(_info(KA), KA)
        ba, bb = Behavior(), Behavior()
        async with asyncio.timeout(10):
            accept = asyncio.create_task(tb.accept(bb))
            pa = await ta.dial(tb.net_address(), ba)
            pb = await accept
            assert pa.id == KB.id and pb.id == KA.id
            assert pa.is_outbound and not pb.is_outbound
            assert pb.node_info.moniker == "m" and pb.node_info.network == "test"
            pa.start()
            pb.start()
            assert await pa.send(CH, b"hi") and await pb.send(CH, b"yo")
            assert await bb.got.get() == b"hi" and await ba.got.get() == b"yo"
            assert not await pa.send(0x01, b"channel not advertised by the peer")
            await pa.stop()
            await pb.stop()
            tb.remove(pb)
            await ta.close()
            await tb.close()

    asyncio.run(main())


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"network": "other"}, "incompatible networks"),
        ({"channels": b"\x01"}, "no common channels"),
        ({"version_set": [tm2.VersionInfo("p2p", "v2.0.0")]}, "version"),
        ({"moniker": ""}, "moniker"),
        ({"channels": bytes(range(17))}, "excessive"),
        ({"channels": b"\x77\x77"}, "duplicate"),
    ],
)
def test_dial_rejects_bad_node_info(kw: dict[str, Any], match: str) -> None:
    async def main() -> None:
        tb = await _listener(**kw)
        ta = tm2.MultiplexTransport(_info(KA), KA)
        async with asyncio.timeout(10):
            with pytest.raises(tm2.NodeInfoError, match=match):
                await ta.dial(tb.net_address(), Behavior())
        await tb.close()

    asyncio.run(main())


def test_id_mismatches() -> None:
    async def main() -> None:
        # B's NodeInfo claims A's ID: connection ID does not match node info ID.
        tb = tm2.MultiplexTransport(_info(KA), KB)
        await tb.listen(tm2.NetAddress(KB.id, "127.0.0.1", 0))
        ta = tm2.MultiplexTransport(_info(KA), KA)
        with pytest.raises(tm2.NodeInfoError, match="node info ID"):
            await ta.dial(tb.net_address(), Behavior())
        await tb.close()
        # Dialing B under A's ID: dialed ID mismatch.
        tb = await _listener()
        wrong = tm2.NetAddress(KA.id, "127.0.0.1", tb.net_address().port)
        with pytest.raises(tm2.NodeInfoError, match="dialed ID"):
            await ta.dial(wrong, Behavior())
        await tb.close()

    asyncio.run(main())


def test_oversized_node_info_is_refused() -> None:
    async def main() -> None:
        tb = await _listener(moniker="x" * 10300)
        ta = tm2.MultiplexTransport(_info(KA), KA)
        with pytest.raises(DecodeError, match="read overflow"):
            await ta.dial(tb.net_address(), Behavior())
        await tb.close()

    asyncio.run(main())


def test_dial_refused_and_inbound_bound() -> None:
    async def main() -> None:
        ta = tm2.MultiplexTransport(_info(KA), KA)
        tb = await _listener()
        port = tb.net_address().port
        await tb.close()
        with pytest.raises(DialError):
            await ta.dial(tm2.NetAddress(KB.id, "127.0.0.1", port), Behavior())
        # At most 2 handshakes at once: silent connections hold their slot, the third is closed.
        tc = tm2.MultiplexTransport(_info(KB), KB, max_inbound_handshakes=2)
        await tc.listen(tm2.NetAddress(KB.id, "127.0.0.1", 0))
        p = tc.net_address().port
        socks = [await asyncio.open_connection("127.0.0.1", p) for _ in range(3)]
        async with asyncio.timeout(5):
            assert await socks[2][0].read() == b""  # closed at once, no ephemeral key sent
            assert len(await socks[0][0].readexactly(35)) == 35
        assert tc.rejected_inbound == 1
        for _, w in socks:
            w.close()
        await tc.close()

    asyncio.run(main())


def test_handshake_timeout_closes_socket() -> None:
    async def main() -> None:
        tb = tm2.MultiplexTransport(_info(KB), KB, handshake_timeout=0.2)
        await tb.listen(tm2.NetAddress(KB.id, "127.0.0.1", 0))
        r, w = await asyncio.open_connection("127.0.0.1", tb.net_address().port)
        async with asyncio.timeout(5):
            assert len(await r.readexactly(35)) == 35
            assert await r.read() == b""
        w.close()
        await tb.close()

    asyncio.run(main())


def test_peer_error_reaches_behavior_once() -> None:
    async def main() -> None:
        tb = await _listener()
        ta = tm2.MultiplexTransport(_info(KA), KA)
        ba, bb = Behavior(), Behavior()
        accept = asyncio.create_task(tb.accept(bb))
        pa = await ta.dial(tb.net_address(), ba)
        pb = await accept
        pa.start()
        pb.start()
        await pa.stop()
        async with asyncio.timeout(5):
            for _ in range(500):
                if bb.errors:
                    break
                await asyncio.sleep(0.01)
        assert len(bb.errors) == 1 and isinstance(bb.errors[0], PeerwireError)
        await pb.stop()
        await tb.close()

    asyncio.run(main())


def test_bad_inbound_harms_nothing_else() -> None:
    """A peer that fails the handshake is dropped; an established peer and later dials are unaffected."""

    async def main() -> None:
        tb = await _listener()
        ta = tm2.MultiplexTransport(_info(KA), KA)
        ba, bb = Behavior(), Behavior()
        async with asyncio.timeout(10):
            accept = asyncio.create_task(tb.accept(bb))
            pa = await ta.dial(tb.net_address(), ba)
            pb = await accept
            pa.start()
            pb.start()
            for bad in (b"\x23" + bytes(40), b"\x22\x0a\x20" + bytes(32), b"\x22\x0a\x20" + bytes(31)):
                r, w = await asyncio.open_connection("127.0.0.1", tb.net_address().port)
                w.write(bad)
                await w.drain()
                if len(bad) == 35:
                    # a full but invalid key: the listener closes at once
                    assert len(await r.readexactly(35)) == 35
                    assert await r.read() == b""
                w.close()
            assert await pa.send(CH, b"still here")
            assert await bb.got.get() == b"still here"
            assert ba.errors == [] and bb.errors == []
            # and a new peer can still connect
            kc = tm2.NodeKey.from_secret(b"node-c")
            tc = tm2.MultiplexTransport(_info(kc), kc)
            accept = asyncio.create_task(tb.accept(Behavior()))
            pc = await tc.dial(tb.net_address(), Behavior())
            assert (await accept).id == kc.id
            await pc.close_conn()
            await pa.stop()
            await pb.stop()
        await tb.close()

    asyncio.run(main())
