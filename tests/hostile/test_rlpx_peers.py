"""Hostile RLPx peers against a real devp2p server: handshake, framing, base protocol, server policy.

Each case is one attack; :func:`attack_then_check` then asserts that the
victim's fds, tasks and RSS are back at their baseline and that an honest peer
is still served. The attack itself asserts how the attacker was ended: a
closed socket, with the Disconnect reason geth would send where it sends one
(no Disconnect for errors before or during the Hello exchange).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import pytest

from peerwire._core import p2p_base, rlpx
from peerwire.devp2p import DiscReason, PrivateKey, Server
from tests.devp2p._aio import aio
from tests.hostile._harness import RawRlpx, attack_then_check, victim

Attack = Callable[[Server], Awaitable[None]]
CLOSED = ("closed", None)


async def _expect(a: RawRlpx, want: tuple[str, DiscReason | None]) -> None:
    got = await a.end()
    await a.close()
    assert got == want, f"attacker ended {got}, expected {want}"


# -- before and during the handshake -------------------------------------------------


async def garbage_before_handshake(srv: Server) -> None:
    a = await RawRlpx.connect(srv, handshake=False)
    a.send_raw(os.urandom(400))
    await _expect(a, CLOSED)


async def truncated_auth_then_eof(srv: Server) -> None:
    a = await RawRlpx.connect(srv, handshake=False)
    _, auth = rlpx.Handshake.initiator(
        PrivateKey.generate().to_bytes(), srv.self_node().public_key.to_bytes()
    )
    a.send_raw(auth[: len(auth) // 2])
    a.writer.write_eof()
    await _expect(a, CLOSED)


async def auth_for_another_key(srv: Server) -> None:
    a = await RawRlpx.connect(srv, handshake=False)
    other = PrivateKey.generate().public_key.to_bytes()
    _, auth = rlpx.Handshake.initiator(PrivateKey.generate().to_bytes(), other)
    a.send_raw(auth)
    await _expect(a, CLOSED)


async def auth_with_flipped_mac(srv: Server) -> None:
    a = await RawRlpx.connect(srv, handshake=False)
    _, auth = rlpx.Handshake.initiator(
        PrivateKey.generate().to_bytes(), srv.self_node().public_key.to_bytes()
    )
    a.send_raw(auth[:-1] + bytes([auth[-1] ^ 1]))
    await _expect(a, CLOSED)


async def auth_size_prefix_max_then_garbage(srv: Server) -> None:
    a = await RawRlpx.connect(srv, handshake=False)
    a.send_raw(b"\xff\xff" + os.urandom(65535))
    await _expect(a, CLOSED)


async def legacy_size_auth_garbage(srv: Server) -> None:
    a = await RawRlpx.connect(srv, handshake=False)
    a.send_raw(b"\x04" + os.urandom(306))  # a pre-EIP-8 auth with a bogus ECIES point
    await _expect(a, CLOSED)


async def half_open_flood(srv: Server) -> None:
    conns = [await RawRlpx.connect(srv, handshake=False) for _ in range(40)]
    for c in conns:
        await c.close()


async def handshake_then_eof(srv: Server) -> None:
    conns = [await RawRlpx.connect(srv) for _ in range(20)]
    for c in conns:
        c.writer.write_eof()
    for c in conns:
        await _expect(c, CLOSED)


# -- Hello phase (geth: errors here close without a Disconnect) ---------------------


def _hello(a: RawRlpx, *, id: bytes | None = None, caps: list[tuple[str, int]] | None = None) -> bytes:
    return p2p_base.encode_hello(
        5,
        "attacker",
        caps if caps is not None else [("echo", 1)],
        0,
        a.key.public_key.to_bytes() if id is None else id,
    )


async def hello_zero_id(srv: Server) -> None:
    a = await RawRlpx.connect(srv)
    a.send(0, _hello(a, id=b"\x00" * 64))
    await _expect(a, CLOSED)


async def hello_short_id(srv: Server) -> None:
    a = await RawRlpx.connect(srv)
    a.send(0, _hello(a, id=b"\x01" * 33))
    await _expect(a, CLOSED)


async def hello_too_big(srv: Server) -> None:
    a = await RawRlpx.connect(srv)
    a.send(0, _hello(a, caps=[("x" * 200, i) for i in range(12)]))
    await _expect(a, CLOSED)


async def hello_not_rlp(srv: Server) -> None:
    a = await RawRlpx.connect(srv)
    a.send(0, b"\xff" * 40)
    await _expect(a, CLOSED)


async def first_message_not_hello(srv: Server) -> None:
    a = await RawRlpx.connect(srv)
    a.send(0x10, b"\xc0")
    await _expect(a, CLOSED)


async def disconnect_before_hello(srv: Server) -> None:
    a = await RawRlpx.connect(srv)
    a.send(1, p2p_base.encode_disconnect(int(DiscReason.TOO_MANY_PEERS)))
    await _expect(a, CLOSED)


async def hello_with_another_identity(srv: Server) -> None:
    a = await RawRlpx.connect(srv)
    a.send(0, _hello(a, id=PrivateKey.generate().public_key.to_bytes()))
    await _expect(a, ("closed", DiscReason.UNEXPECTED_IDENTITY))


async def hello_then_silence_then_eof(srv: Server) -> None:
    a = await RawRlpx.connect(srv)
    a.send(0, _hello(a)[:-3])  # a Hello that is not RLP-complete
    await _expect(a, CLOSED)


async def no_shared_protocol(srv: Server) -> None:
    a = await RawRlpx.connect(srv)
    await a.send_hello(caps=[("nothing", 9)])
    await _expect(a, ("closed", DiscReason.USELESS_PEER))


async def same_identity_twice(srv: Server) -> None:
    key = PrivateKey.generate()
    first = await RawRlpx.connect(srv, handshake=False)
    first.key = key
    await first.handshake(srv)
    await first.send_hello()
    second = await RawRlpx.connect(srv, handshake=False)
    second.key = key
    await second.handshake(srv)
    second.send(0, _hello(second))
    await _expect(second, ("closed", DiscReason.ALREADY_CONNECTED))
    await first.close()


# -- after the Hello: framing and base protocol -------------------------------------


async def _admitted(srv: Server) -> RawRlpx:
    a = await RawRlpx.connect(srv, hello=True)
    return a


async def bad_header_mac(srv: Server) -> None:
    a = await _admitted(srv)
    a.send_raw(os.urandom(32))
    await _expect(a, CLOSED)


async def bad_frame_mac(srv: Server) -> None:
    a = await _admitted(srv)
    frame = bytearray(a.session.seal(0x10, b"\xc0"))  # type: ignore[union-attr]
    frame[-1] ^= 1
    a.send_raw(bytes(frame))
    await _expect(a, CLOSED)


async def code_out_of_range(srv: Server) -> None:
    a = await _admitted(srv)
    a.send(0x50, b"\xc0")
    await _expect(a, ("closed", DiscReason.PROTOCOL_ERROR))


async def broken_snappy(srv: Server) -> None:
    a = await _admitted(srv)
    a.send_raw(a.session.seal_frame_data(b"\x10" + b"\x05\xff\xff"))  # type: ignore[union-attr]
    await _expect(a, CLOSED)


async def snappy_declares_over_limit(srv: Server) -> None:
    a = await _admitted(srv)
    a.send_raw(a.session.seal_frame_data(b"\x10" + b"\x80\x80\x80\x10\x00"))  # type: ignore[union-attr]
    await _expect(a, CLOSED)


async def non_canonical_code(srv: Server) -> None:
    a = await _admitted(srv)
    a.send_raw(a.session.seal_frame_data(b"\x81\x05"))  # type: ignore[union-attr]
    await _expect(a, CLOSED)


async def truncated_frame_then_eof(srv: Server) -> None:
    a = await _admitted(srv)
    frame = a.session.seal(0x10, b"\xc4" + b"abcd" * 100)  # type: ignore[union-attr]
    a.send_raw(frame[:100])
    a.writer.write_eof()
    await _expect(a, CLOSED)


async def remote_disconnect(srv: Server) -> None:
    a = await _admitted(srv)
    a.send(1, p2p_base.encode_disconnect(int(DiscReason.QUITTING)))
    await _expect(a, CLOSED)


async def undecodable_disconnect(srv: Server) -> None:
    a = await _admitted(srv)
    a.send(1, b"\xff\xff\xff")
    await _expect(a, CLOSED)


async def late_hello_is_ignored_then_eof(srv: Server) -> None:
    a = await _admitted(srv)
    a.send(0, _hello(a))
    a.send(0x02, b"\xc0")  # and the ping still gets its pong
    a.writer.write_eof()
    await _expect(a, CLOSED)


async def ping_flood_then_eof(srv: Server) -> None:
    a = await _admitted(srv)
    assert a.session is not None
    a.send_raw(b"".join(a.session.seal(0x02, b"\xc0") for _ in range(5000)))
    a.writer.write_eof()
    await _expect(a, CLOSED)


async def many_unread_echoes(srv: Server) -> None:
    """The attacker never reads the echoes: the victim's writes back up, then it must still end cleanly."""
    a = await _admitted(srv)
    assert a.session is not None
    for _ in range(40):
        a.send_raw(a.session.seal(0x10, b"\xb9\xff\xf0" + b"\x00" * 0xFFF0))
    await asyncio.sleep(0.5)
    await a.close()


ATTACKS: dict[str, Attack] = {
    f.__name__: f
    for f in [
        garbage_before_handshake,
        truncated_auth_then_eof,
        auth_for_another_key,
        auth_with_flipped_mac,
        auth_size_prefix_max_then_garbage,
        legacy_size_auth_garbage,
        half_open_flood,
        handshake_then_eof,
        hello_zero_id,
        hello_short_id,
        hello_too_big,
        hello_not_rlp,
        first_message_not_hello,
        disconnect_before_hello,
        hello_with_another_identity,
        hello_then_silence_then_eof,
        no_shared_protocol,
        same_identity_twice,
        bad_header_mac,
        bad_frame_mac,
        code_out_of_range,
        broken_snappy,
        snappy_declares_over_limit,
        non_canonical_code,
        truncated_frame_then_eof,
        remote_disconnect,
        undecodable_disconnect,
        late_hello_is_ignored_then_eof,
        ping_flood_then_eof,
        many_unread_echoes,
    ]
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
@aio
async def test_hostile_rlpx_peer(name: str) -> None:
    async with victim() as srv:
        await attack_then_check(srv, ATTACKS[name])


@aio
async def test_too_many_peers_refused_with_reason() -> None:
    async with victim(max_peers=2) as srv:

        async def fill(srv: Server) -> None:
            held = [await RawRlpx.connect(srv, hello=True)]  # max_peers=2: one inbound slot
            extra = await RawRlpx.connect(srv)
            extra.send(0, _hello(extra))
            await _expect(extra, ("closed", DiscReason.TOO_MANY_PEERS))
            for h in held:
                await h.close()

        await attack_then_check(srv, fill)
