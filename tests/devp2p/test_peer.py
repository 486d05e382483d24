"""Peer runtime on an in-memory pipe and a fake clock: routing, liveness, endings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from tests.devp2p._aio import aio

from peerwire._clock import FakeClock
from peerwire._core import p2p_base
from peerwire.devp2p import (
    ConnFlag,
    DiscReason,
    Msg,
    MsgReadWriter,
    Node,
    Peer,
    PeerEvent,
    PeerEventType,
    PrivateKey,
    Protocol,
)
from peerwire.devp2p._peer import PeerEnd
from peerwire.devp2p._transport import MemoryTransport, memory_pipe
from peerwire.errors import LocalProtocolError

RunFn = Callable[[Peer, MsgReadWriter], Awaitable[None]]


async def echo(peer: Peer, rw: MsgReadWriter) -> None:
    while True:
        msg = await rw.read_msg()
        await rw.write_msg(msg.code, msg.payload)


async def forever(peer: Peer, rw: MsgReadWriter) -> None:
    await asyncio.Event().wait()


class Rig:
    def __init__(self, clock: FakeClock, runs: list[tuple[str, int, RunFn]]) -> None:
        a, b = PrivateKey.generate(), PrivateKey.generate()
        self.local, self.remote = memory_pipe(a.public_key, b.public_key)
        self.events: list[PeerEvent] = []
        matched = []
        offset = 16
        for name, length, fn in runs:
            matched.append((Protocol(name, 1, length, fn), offset))
            offset += length
        self.peer = Peer(
            transport=self.local,
            node=Node(b.public_key, "127.0.0.1", 30303, 30303),
            name="remote/1",
            caps=[],
            flags=ConnFlag.INBOUND,
            matched=matched,
            clock=clock,
            emit=self.events.append,
            remote_address=("127.0.0.1", 30303),
        )
        self.task: asyncio.Task[PeerEnd] = asyncio.ensure_future(self.peer.run())

    async def recv(self) -> tuple[int, bytes]:
        return await asyncio.wait_for(self.remote.recv(), 2)

    async def end(self) -> PeerEnd:
        return await asyncio.wait_for(self.task, 2)


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


def sent_codes(t: MemoryTransport) -> list[int]:
    return [c for c, _, _ in t.sent]


@aio
async def test_routes_by_code_range_and_relative_codes() -> None:
    clock = FakeClock()
    seen: list[Msg] = []

    async def record(peer: Peer, rw: MsgReadWriter) -> None:
        while True:
            seen.append(await rw.read_msg())

    rig = Rig(clock, [("a", 3, echo), ("b", 2, record)])
    await rig.remote.send(16 + 2, b"\xc1\x01")
    assert await rig.recv() == (18, b"\xc1\x01")
    await rig.remote.send(19, b"\x80")
    await rig.remote.send(20, b"\x01")
    for _ in range(10):
        await asyncio.sleep(0)
    assert [(m.code, m.payload) for m in seen] == [(0, b"\x80"), (1, b"\x01")]
    assert rig.peer.id == rig.local.remote_public_key.node_id and rig.peer.inbound and not rig.peer.trusted
    rig.peer.disconnect(DiscReason.REQUESTED)
    end = await rig.end()
    assert end.reason is DiscReason.REQUESTED
    assert await rig.recv() == (1, b"\xc1\x80")


@aio
async def test_code_outside_every_range_is_protocol_error() -> None:
    rig = Rig(FakeClock(), [("a", 3, echo)])
    await rig.remote.send(19, b"\xc0")
    end = await rig.end()
    assert end.reason is DiscReason.PROTOCOL_ERROR
    assert await rig.recv() == (1, b"\xc1\x02")


@aio
async def test_ping_answered_at_once_and_base_codes_ignored() -> None:
    rig = Rig(FakeClock(), [("a", 1, forever)])
    await rig.remote.send(0x00, b"\xc0")  # late Hello: ignored
    await rig.remote.send(0x05, b"\xc0")  # unknown base code: ignored
    await rig.remote.send(0x02, b"\xc0")
    assert await rig.recv() == (0x03, b"\xc0")
    assert not rig.peer.closed
    rig.peer.disconnect()
    await rig.end()


@aio
async def test_pings_every_15s_and_idle_peer_dropped_at_30s_without_disconnect() -> None:
    clock = FakeClock()
    rig = Rig(clock, [("a", 1, forever)])
    await settle()
    await clock.advance(14.5)
    assert sent_codes(rig.local) == []
    await clock.advance(1)
    await settle()
    assert sent_codes(rig.local) == [0x02]
    await clock.advance(14)
    await settle()
    assert sent_codes(rig.local) == [0x02]
    assert not rig.peer.closed
    await clock.advance(1)  # 30 s without a single read: the read deadline fires
    end = await rig.end()
    assert end.reason is DiscReason.NETWORK_ERROR and not end.remote_requested
    assert set(sent_codes(rig.local)) == {0x02}  # pings only, no Disconnect
    assert rig.local.closed


@aio
async def test_traffic_rearms_the_read_deadline() -> None:
    clock = FakeClock()
    rig = Rig(clock, [("a", 1, forever)])
    await settle()
    for _ in range(4):
        await clock.advance(20)
        await rig.remote.send(0x03, b"\xc0")  # Pong: counts as traffic
        await settle()
    assert not rig.peer.closed
    rig.peer.disconnect(DiscReason.TOO_MANY_PEERS)
    assert (await rig.end()).reason is DiscReason.TOO_MANY_PEERS


@pytest.mark.parametrize("payload", [b"\xc1\x04", b"\x04"])
@aio
async def test_remote_disconnect_list_or_bare_ends_without_reply(payload: bytes) -> None:
    rig = Rig(FakeClock(), [("a", 1, forever)])
    await rig.remote.send(0x01, payload)
    end = await rig.end()
    assert end == PeerEnd(DiscReason.TOO_MANY_PEERS, True, "too many peers")
    assert 0x01 not in sent_codes(rig.local)


@aio
async def test_protocol_returning_is_quitting() -> None:
    async def quit_now(peer: Peer, rw: MsgReadWriter) -> None:
        return None

    rig = Rig(FakeClock(), [("a", 1, quit_now)])
    assert (await rig.end()).reason is DiscReason.QUITTING
    assert await rig.recv() == (1, b"\xc1\x08")


@aio
async def test_protocol_exception_is_subprotocol_error() -> None:
    async def boom(peer: Peer, rw: MsgReadWriter) -> None:
        await rw.read_msg()
        raise RuntimeError("boom")

    rig = Rig(FakeClock(), [("a", 1, boom)])
    await rig.remote.send(16, b"\xc0")
    end = await rig.end()
    assert end.reason is DiscReason.SUBPROTOCOL_ERROR and "boom" in end.error
    assert await rig.recv() == (1, b"\xc1\x10")


@aio
async def test_writing_code_beyond_length_is_an_error() -> None:
    caught: list[Exception] = []

    async def bad_writer(peer: Peer, rw: MsgReadWriter) -> None:
        try:
            await rw.write_msg(2, b"\xc0")
        except LocalProtocolError as e:
            caught.append(e)
            raise

    rig = Rig(FakeClock(), [("a", 2, bad_writer)])
    end = await rig.end()
    assert caught and end.reason is DiscReason.PROTOCOL_ERROR
    assert sent_codes(rig.local) == [0x01]  # nothing but the Disconnect went out


@aio
async def test_msg_events_have_relative_codes_and_sizes() -> None:
    rig = Rig(FakeClock(), [("a", 2, forever), ("b", 3, echo)])
    await rig.remote.send(16 + 2 + 1, b"\x83abc")
    assert await rig.recv() == (19, b"\x83abc")
    kinds = [(e.type, e.protocol, e.msg_code, e.msg_size) for e in rig.events]
    assert kinds == [(PeerEventType.MSG_RECV, "b", 1, 4), (PeerEventType.MSG_SEND, "b", 1, 4)]
    assert rig.events[0].to_json()["remote"] == "127.0.0.1:30303"
    rig.peer.disconnect()
    await rig.end()


@aio
async def test_peer_info_shape() -> None:
    rig = Rig(FakeClock(), [("a", 1, forever)])
    info = rig.peer.info()
    assert info["id"] == rig.peer.id.hex() and info["name"] == "remote/1"
    assert info["network"]["inbound"] is True and info["protocols"] == {"a": "unknown"}
    assert p2p_base.decode_disconnect(b"\xc1\x10") == 0x10
    rig.peer.disconnect()
    await rig.end()


@aio
async def test_peer_info_protocol_metadata_like_geth() -> None:
    clock = FakeClock()
    rig = Rig(clock, [("a", 1, forever)])
    p = rig.peer
    assert p.info()["protocols"] == {"a": "unknown"}
    rw = p._rws[0]
    rw.protocol = Protocol("a", 1, 1, forever, peer_info=lambda _id: None)
    assert p.info()["protocols"] == {"a": "handshake"}
    rw.protocol = Protocol("a", 1, 1, forever, peer_info=lambda _id: {"head": "0x01"})
    assert p.info()["protocols"] == {"a": {"head": "0x01"}}
    p.disconnect()
    await rig.end()
