"""discv5 bad input over real sockets: every case ends in a drop, memory stays bounded, others are served.

The attacker is a raw peer built from the wire codec (``peerwire._core.discv5``) on its own
socket, so it can send exactly the bytes each case needs.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest

from peerwire import devp2p, kad
from peerwire._core import discv5 as wire
from peerwire._core import enr as core_enr
from peerwire.devp2p.discover import UDPv5, listen_v5
from peerwire.errors import TimeoutError

pytestmark = pytest.mark.timeout(90)

PING, PONG, FINDNODE, NODES, TALKREQ = 1, 2, 3, 4, 5
STATIC = 16 + 23  # masking IV + static header
EPH_OFF = STATIC + 34 + 64  # ephemeral key inside handshake authdata


def run_async(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


class RawPeer(asyncio.DatagramProtocol):
    """A hand-driven discv5 peer: its own key, record, codec and socket."""

    def __init__(self) -> None:
        self.key = devp2p.PrivateKey.generate()
        self.inbox: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None
        self.codec: wire.Codec | None = None
        self.record = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.inbox.put_nowait((data, addr))

    def setup(self) -> None:
        assert self.transport is not None
        ip, port = self.transport.get_extra_info("sockname")[:2]
        rec = core_enr.Record.sign_v4(
            self.key.to_bytes(),
            1,
            [(b"ip", b"\x84" + bytes(map(int, ip.split(".")))), (b"udp", _rlp_uint(port))],
        )
        self.record = rec.raw
        self.codec = wire.Codec(self.key.to_bytes(), rec.raw)
        self.addr = f"{ip}:{port}"

    @property
    def id(self) -> bytes:
        return self.key.public_key.node_id

    def send(self, data: bytes, to: UDPv5) -> None:
        assert self.transport is not None
        self.transport.sendto(data, to.local_addr)

    async def recv(self, wait: float = 1.0, *, requests: bool = False) -> bytes | None:
        """The next packet within ``wait`` s, or None.

        Unless ``requests``, the target's own requests are skipped: it revalidates a node it
        met within 0-3 s (geth's fast list), and that PING is not an answer to anything we sent.
        """
        try:
            async with asyncio.timeout(wait):
                while True:
                    data, addr = await self.inbox.get()
                    if requests or not self._is_request(data, addr):
                        return data
        except builtins.TimeoutError:
            return None

    def _is_request(self, data: bytes, addr: tuple[str, int]) -> bool:
        assert self.codec is not None
        try:
            kind, _src, _nonce, payload, _ = self.codec.decode(data, f"{addr[0]}:{addr[1]}", 0.0)
        except Exception:  # undecodable here: let the test look at it
            return False
        return kind == "message" and payload[0] in (PING, FINDNODE, TALKREQ)

    async def handshake(self, to: UDPv5, kind: int, req: bytes, args: tuple[Any, ...]) -> tuple[bytes, bytes]:
        """Random packet, WHOAREYOU back; returns (handshake packet, challenge_data)."""
        assert self.codec is not None
        dest = f"{to.local_addr[0]}:{to.local_addr[1]}"
        pkt, _ = self.codec.encode(to.id, dest, kind, req, args)
        self.send(pkt, to)
        wy = await self.recv()
        assert wy is not None and len(wy) == wire.WHOAREYOU_SIZE
        k, _src, nonce, payload, _ = self.codec.decode(wy, dest, 0.0)
        assert k == "whoareyou"
        id_nonce, seq, cdata = payload
        hs, _ = self.codec.encode_handshake(
            to.id, dest, kind, req, args, (nonce, id_nonce, seq, cdata), to.local.record.to_bytes()
        )
        return hs, cdata


def _rlp_uint(v: int) -> bytes:
    b = v.to_bytes((v.bit_length() + 7) // 8, "big")
    return b if len(b) == 1 and b[0] < 0x80 else bytes([0x80 + len(b)]) + b


@asynccontextmanager
async def raw_peer(host: str = "127.0.0.1") -> AsyncIterator[RawPeer]:
    loop = asyncio.get_running_loop()
    peer = RawPeer()
    transport, _ = await loop.create_datagram_endpoint(lambda: peer, local_addr=(host, 0))
    peer.setup()
    try:
        yield peer
    finally:
        transport.close()


@asynccontextmanager
async def target(**kw: Any) -> AsyncIterator[UDPv5]:
    async with listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0", **kw) as d:
        yield d


async def still_served(d: UDPv5) -> None:
    async with listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0") as honest:
        assert await honest.ping(d.self_node()) == d.local.seq


@run_async
async def test_malformed_truncated_oversize_undersize() -> None:
    async with target() as d, raw_peer() as p:
        good = wire.encode_whoareyou_packet(d.id, os.urandom(16), bytes(12), bytes(16), 0)
        cases = [
            b"",
            b"\x00",
            os.urandom(62),
            good[:62],
            os.urandom(1281),
            good + bytes(1300),
            os.urandom(200),
        ]
        # Header with authdata-size beyond the packet, and an unknown flag.
        cases.append(good[:37] + bytes([good[37] ^ 0x01, good[38] ^ 0xFF]) + good[39:])
        for c in cases:
            p.send(c, d)
        assert await p.recv(0.5) is None
        assert d.stats.dropped_invalid + d.stats.not_discv5 >= len(cases) - 1
        await still_served(d)


@run_async
async def test_wrong_masking_key_and_bad_tag() -> None:
    async with target() as d, raw_peer() as p:
        assert p.codec is not None
        other = devp2p.PrivateKey.generate().public_key.node_id
        pkt = wire.encode_message_packet(
            other, p.id, os.urandom(16), os.urandom(12), bytes(16), PING, b"\x01", (1,)
        )
        p.send(pkt, d)
        assert await p.recv(0.4) is None  # masked for another node: not discv5 for us
        # Establish a session, then send a packet with a broken GCM tag: undecryptable -> WHOAREYOU only.
        hs, _ = await p.handshake(d, PING, b"\x01", (1,))
        p.send(hs, d)
        pong = await p.recv()
        assert pong is not None
        dest = f"{d.local_addr[0]}:{d.local_addr[1]}"
        ok, _ = p.codec.encode(d.id, dest, PING, b"\x02", (1,))
        bad = ok[:-1] + bytes([ok[-1] ^ 1])
        p.send(bad, d)
        reply = await p.recv()
        assert reply is not None and len(reply) == wire.WHOAREYOU_SIZE <= len(bad)


@run_async
async def test_handshake_wrong_signature_wrong_ephemeral_key_and_replay() -> None:
    async with target() as d, raw_peer() as p:
        # Wrong ID signature: sign a challenge that is not the one we were sent.
        hs, cdata = await p.handshake(d, PING, b"\x01", (1,))
        wrong = cdata[:-1] + bytes([cdata[-1] ^ 1])
        forged_sig, *_ = wire.encode_handshake_packet(
            p.key.to_bytes(),
            _compressed(d),
            wrong,
            os.urandom(32),
            p.record,
            os.urandom(16),
            os.urandom(12),
            PING,
            b"\x01",
            (1,),
        )
        assert hs != forged_sig
        before = d.stats.dropped_invalid
        p.send(forged_sig, d)
        assert await p.recv(0.4) is None
        assert d.stats.dropped_invalid == before + 1
        assert not d.codec.has_session(p.id, p.addr)

        # Wrong ephemeral key: two handshakes with one IV and nonce differ only where the plain
        # bytes differ (CTR masking), so the second one's key can be spliced into the first.
        hs, cdata = await p.handshake(d, PING, b"\x03", (1,))
        iv, nonce = os.urandom(16), os.urandom(12)
        args = (p.key.to_bytes(), _compressed(d), cdata)
        h1, *_ = wire.encode_handshake_packet(*args, os.urandom(32), p.record, iv, nonce, PING, b"\x03", (1,))
        h2, *_ = wire.encode_handshake_packet(*args, os.urandom(32), p.record, iv, nonce, PING, b"\x03", (1,))
        spliced = h1[:EPH_OFF] + h2[EPH_OFF : EPH_OFF + 33] + h1[EPH_OFF + 33 :]
        before = d.stats.dropped_invalid
        p.send(spliced, d)
        assert await p.recv(0.4) is None
        assert d.stats.dropped_invalid == before + 1
        assert not d.codec.has_session(p.id, p.addr)

        # A good handshake works once; its replay is dropped.
        hs, _ = await p.handshake(d, PING, b"\x04", (1,))
        p.send(hs, d)
        assert await p.recv() is not None
        before = d.stats.dropped_invalid
        p.send(hs, d)
        assert await p.recv(0.4) is None
        assert d.stats.dropped_invalid == before + 1


def _compressed(d: UDPv5) -> bytes:
    raw = d.local.record[b"secp256k1"]
    assert len(raw) == 33
    return raw


@run_async
async def test_request_id_over_8_bytes_gets_no_answer() -> None:
    async with target() as d, raw_peer() as p:
        assert p.codec is not None
        hs, _ = await p.handshake(d, PING, b"\x01", (1,))
        p.send(hs, d)
        assert await p.recv() is not None
        dest = f"{d.local_addr[0]}:{d.local_addr[1]}"
        pkt, _ = p.codec.encode(d.id, dest, PING, bytes(9), (1,))
        p.send(pkt, d)
        assert await p.recv(0.4) is None
        pkt, _ = p.codec.encode(d.id, dest, PING, bytes(8), (1,))
        p.send(pkt, d)
        assert await p.recv() is not None


async def _serve_nodes(p: RawPeer, d: UDPv5, batches: list[tuple[int, list[bytes]]]) -> None:
    """Answer the FINDNODE that ``d`` sends ``p`` (after a handshake) with ``batches``."""
    assert p.codec is not None
    src = f"{d.local_addr[0]}:{d.local_addr[1]}"
    loop = asyncio.get_running_loop()
    while True:
        data = await p.recv(2.0, requests=True)
        if data is None:
            return
        kind, sid, nonce, payload, _ = p.codec.decode(data, src, loop.time())
        if kind == "unknown":
            wy = p.codec.whoareyou(sid, src, nonce, d.local.record.to_bytes(), len(data), loop.time())
            assert wy is not None
            p.send(wy, d)
        elif kind == "message" and payload[0] == FINDNODE:
            for total, recs in batches:
                pkt, _ = p.codec.encode(d.id, src, NODES, payload[1], (total, recs))
                p.send(pkt, d)
            return


def _records_at(base: bytes, dist: int, n: int) -> list[bytes]:
    out: list[bytes] = []
    while len(out) < n:
        k = devp2p.PrivateKey.generate()
        if kad.log_distance(base, k.public_key.node_id) == dist:
            out.append(
                core_enr.Record.sign_v4(
                    k.to_bytes(), 1, [(b"ip", b"\x84\x7f\x00\x00\x01"), (b"udp", b"\x82\x75\x30")]
                ).raw
            )
    return out


@run_async
async def test_nodes_too_big_too_many_and_unsolicited() -> None:
    async with target() as d, raw_peer() as p:
        node = devp2p.Node.from_record(devp2p.ENR.decode(p.record))
        # Too big: a 301-byte "record" makes the whole NODES undecodable: dropped, call times out.
        big = b"\xf9\x01\x2a" + bytes(298)
        server = asyncio.ensure_future(_serve_nodes(p, d, [(1, [big])]))
        with pytest.raises(TimeoutError):
            await d.find_node(node, [256])
        await server
        # Too many: total 9 NODES packets and more records than a call keeps.
        recs = _records_at(p.id, 256, 12)
        batches = [(9, recs[i : i + 2]) for i in range(0, 12, 2)] + [(9, recs[:2])] * 3
        server = asyncio.ensure_future(_serve_nodes(p, d, batches))
        got = await d.find_node(node, [256])
        await server
        assert len(got) == 10  # five NODES packets (geth's limit) x 2 records
        # Wrong distance: records not at an asked distance are dropped.
        server = asyncio.ensure_future(_serve_nodes(p, d, [(1, recs[:3])]))
        assert await d.find_node(node, [255]) == []
        await server
        # Unsolicited NODES: not contacted, not added.
        dest = f"{d.local_addr[0]}:{d.local_addr[1]}"
        assert p.codec is not None
        pkt, _ = p.codec.encode(d.id, dest, NODES, b"\x01", (1, recs[:4]))
        before = d.stats.dropped_unsolicited
        p.send(pkt, d)
        await asyncio.sleep(0.2)
        assert d.stats.dropped_unsolicited == before + 1
        assert not {devp2p.ENR.decode(r).node_id for r in recs} & set(d.nodes)


@run_async
async def test_random_flood_from_many_ports_and_handshake_flood_from_one_ip() -> None:
    async with target() as d:
        sent_sizes: list[tuple[int, int]] = []
        peers = []
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for _ in range(40):
            cm = raw_peer("127.0.0.2")
            peers.append((cm, await cm.__aenter__()))
        try:
            for _round in range(25):
                for _cm, p in peers:
                    # A well-formed message packet from an unknown node ID (each asks for WHOAREYOU).
                    src = os.urandom(32)
                    pkt = wire.encode_message_packet(
                        d.id, src, os.urandom(16), os.urandom(12), bytes(16), PING, b"\x01", (1,)
                    )
                    p.send(pkt, d)
                    p.send(os.urandom(100 + os.urandom(1)[0]), d)
                await asyncio.sleep(0.005)
            await still_served(d)
            await asyncio.sleep(0.2)
            elapsed = loop.time() - t0
            replies = 0
            for _cm, p in peers:
                while not p.inbox.empty():
                    data, _ = p.inbox.get_nowait()
                    sent_sizes.append((len(data), 63))
                    replies += 1
            # Only WHOAREYOUs, never bigger than the trigger, limited per IP.
            assert all(size == wire.WHOAREYOU_SIZE for size, _ in sent_sizes)
            assert replies <= 64 + 32 * elapsed + 1, (replies, elapsed)
            assert d.stats.whoareyou_suppressed > 0
            assert d.codec.challenge_count() <= wire.MAX_PENDING_CHALLENGES
            assert d.codec.session_count() <= wire.SESSION_CACHE_SIZE
        finally:
            for cm, _p in peers:
                await cm.__aexit__(None, None, None)
