"""peerwire.devp2p.rlpx: conformance over memory and TCP, and every bad input of issue 3."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.conftest import load_vector
from tests.devp2p.rlpx_conformance import CHECKS, TRANSPORTS, RawPeer, check_backpressure_bounded, tcp_pair

from peerwire._core import rlpx as core
from peerwire.devp2p import PrivateKey, rlpx
from peerwire.errors import (
    ConnectionClosedError,
    DecodeError,
    FrameError,
    HandshakeError,
    InvalidKeyError,
    PeerwireError,
    TimeoutError,
)

EIP8: Any = load_vector("rlpx_eip8.json")


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 60))  # type: ignore[arg-type]


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
@pytest.mark.parametrize("check", sorted(CHECKS))
def test_conformance(transport: str, check: str) -> None:
    run(CHECKS[check](TRANSPORTS[transport]))


def test_tcp_backpressure() -> None:
    run(check_backpressure_bounded(tcp_pair))


def test_api_names() -> None:
    from peerwire import devp2p

    assert devp2p.rlpx is rlpx
    for name in ("dial", "listen", "Connection"):
        assert hasattr(rlpx, name)


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


HS_TIMEOUT = 1.0
READ_TIMEOUT = 1.0


async def scenario(
    body: Callable[[rlpx.Listener, PrivateKey], Awaitable[None]], key: PrivateKey | None = None
) -> None:
    """Run ``body`` against a listener, then prove a good connection still works and nothing leaked."""
    key = key or PrivateKey.generate()
    fd0 = fds()
    tasks0 = len(asyncio.all_tasks())
    async with rlpx.listen(
        "127.0.0.1", 0, private_key=key, handshake_timeout=HS_TIMEOUT, read_timeout=READ_TIMEOUT
    ) as lst:
        # a healthy connection open across the failure
        good = await rlpx.dial(
            "127.0.0.1", lst.port, remote_public_key=key.public_key, private_key=PrivateKey.generate()
        )
        good_srv = await lst.accept(timeout=5)
        await body(lst, key)
        await good.send(7, b"still fine")
        assert await good_srv.recv(timeout=5) == (7, b"still fine")
        await good.close()
        await good_srv.close()
    await asyncio.sleep(0.05)
    assert len(asyncio.all_tasks()) == tasks0, "task leak"
    assert fds() <= fd0, f"fd leak: {fds()} > {fd0}"


async def expect_handshake_failure(
    lst: rlpx.Listener, peer: RawPeer, exc: type[PeerwireError], match: str = ""
) -> None:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    err = await lst.next_failure(within=HS_TIMEOUT + 2)
    assert isinstance(err, exc), repr(err)
    assert match in str(err), str(err)
    assert loop.time() - t0 <= HS_TIMEOUT + 1
    assert await peer.closed_by_peer(), "socket left open"
    peer.close()


# ------------------------------------------------------------ handshake input


def test_truncated_auth_then_close() -> None:
    async def body(lst: rlpx.Listener, key: PrivateKey) -> None:
        _, auth = core.Handshake.initiator(PrivateKey.generate().to_bytes(), key.public_key.to_bytes())
        peer = await RawPeer.dial(lst.port, key, handshake=False)
        await peer.write(auth[:100])
        peer.writer.write_eof()
        await expect_handshake_failure(lst, peer, HandshakeError, "inside a handshake message")

    run(scenario(body))


def test_truncated_auth_then_stall_times_out() -> None:
    async def body(lst: rlpx.Listener, key: PrivateKey) -> None:
        _, auth = core.Handshake.initiator(PrivateKey.generate().to_bytes(), key.public_key.to_bytes())
        peer = await RawPeer.dial(lst.port, key, handshake=False)
        await peer.write(auth[:100])
        await expect_handshake_failure(lst, peer, TimeoutError, "handshake")

    run(scenario(body))


def test_size_prefix_over_2048() -> None:
    async def body(lst: rlpx.Listener, key: PrivateKey) -> None:
        peer = await RawPeer.dial(lst.port, key, handshake=False)
        await peer.write(b"\x08\x01" + bytes(100))
        await expect_handshake_failure(lst, peer, HandshakeError, "too big")

    run(scenario(body))


def _auth_for(key: PrivateKey) -> bytearray:
    _, auth = core.Handshake.initiator(PrivateKey.generate().to_bytes(), key.public_key.to_bytes())
    return bytearray(auth)


def test_bad_ecies_mac() -> None:
    async def body(lst: rlpx.Listener, key: PrivateKey) -> None:
        auth = _auth_for(key)
        auth[-5] ^= 1
        peer = await RawPeer.dial(lst.port, key, handshake=False)
        await peer.write(bytes(auth))
        await expect_handshake_failure(lst, peer, HandshakeError, "MAC")

    run(scenario(body))


def test_invalid_curve_point() -> None:
    async def body(lst: rlpx.Listener, key: PrivateKey) -> None:
        auth = _auth_for(key)
        auth[2 + 64] ^= 1  # last byte of Y of the ECIES ephemeral key
        peer = await RawPeer.dial(lst.port, key, handshake=False)
        await peer.write(bytes(auth))
        await expect_handshake_failure(lst, peer, InvalidKeyError, "curve")

    run(scenario(body))


def test_legacy_auth_refused() -> None:
    key_b = PrivateKey.from_hex(EIP8["keys"]["static_key_b"]["hex"])

    async def body(lst: rlpx.Listener, key: PrivateKey) -> None:
        peer = await RawPeer.dial(lst.port, key, handshake=False)
        await peer.write(bytes.fromhex(EIP8["packets"]["auth1"]["hex"]))
        await expect_handshake_failure(lst, peer, HandshakeError, "legacy")

    run(scenario(body, key_b))


async def _bad_responder(
    reply: Callable[[bytes, PrivateKey], bytes], close: bool
) -> tuple[asyncio.Server, int, PrivateKey, list[asyncio.StreamWriter]]:
    key = PrivateKey.generate()
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        auth = await reader.read(4096)
        writer.write(reply(auth, key))
        await writer.drain()
        if close:
            writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    return srv, srv.sockets[0].getsockname()[1], key, writers


def _real_ack(auth: bytes, key: PrivateKey) -> bytes:
    done = core.Handshake.recipient(key.to_bytes()).feed(auth)
    assert done is not None
    return done.send


@pytest.mark.parametrize(
    ("what", "reply", "close", "exc"),
    [
        ("truncated ack, close", lambda a, k: _real_ack(a, k)[:50], True, HandshakeError),
        ("truncated ack, stall", lambda a, k: _real_ack(a, k)[:50], False, TimeoutError),
        ("size prefix > 2048", lambda a, k: b"\xff\xff", False, HandshakeError),
        ("bad ack MAC", lambda a, k: _real_ack(a, k)[:-1] + b"\x00", False, HandshakeError),
        ("nothing, close", lambda a, k: b"", True, ConnectionClosedError),
    ],
)
def test_dialer_bad_ack(
    what: str, reply: Callable[[bytes, PrivateKey], bytes], close: bool, exc: type
) -> None:
    async def main() -> None:
        fd0 = fds()
        srv, port, key, writers = await _bad_responder(reply, close)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(exc):
            await rlpx.dial(
                "127.0.0.1",
                port,
                remote_public_key=key.public_key,
                private_key=PrivateKey.generate(),
                timeout=1.0,
            )
        assert loop.time() - t0 < 2.0, what
        for w in writers:
            w.close()
        srv.close()
        await srv.wait_closed()
        await asyncio.sleep(0.05)
        assert fds() <= fd0

    run(main())


# ----------------------------------------------------------------- frame input


async def frame_failure(
    make_bad: Callable[[core.Session], bytes],
    exc: type[PeerwireError],
    match: str,
    setup: Callable[[rlpx.Connection], None] | None = None,
    close_after: bool = False,
    snappy: bool = False,
) -> None:
    async def body(lst: rlpx.Listener, key: PrivateKey) -> None:
        peer = await RawPeer.dial(lst.port, key)
        conn = await lst.accept(timeout=5)
        if setup:
            setup(conn)
        assert peer.session is not None
        if snappy:
            conn.set_snappy(True)
            peer.session.snappy = True
        # one good message first: the failure must not be blamed on the handshake
        await peer.write(peer.session.seal(1, b"ok"))
        assert await conn.recv() == (1, b"ok")
        await peer.write(make_bad(peer.session))
        if close_after:
            peer.writer.write_eof()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(exc, match=match):
            await conn.recv()
        assert loop.time() - t0 <= READ_TIMEOUT + 1
        assert await peer.closed_by_peer(), "socket left open"
        with pytest.raises(exc):  # the error sticks
            await conn.recv()
        peer.close()
        await conn.close()

    await scenario(body)


def _flip(data: bytes, i: int) -> bytes:
    b = bytearray(data)
    b[i] ^= 1
    return bytes(b)


def test_bad_header_mac() -> None:
    run(frame_failure(lambda s: _flip(s.seal(1, b"x" * 40), 17), FrameError, "bad header MAC"))


def test_bad_frame_mac() -> None:
    run(frame_failure(lambda s: _flip(s.seal(1, b"x" * 40), 40), FrameError, "bad frame MAC"))


def test_oversize_frame() -> None:
    run(
        frame_failure(
            lambda s: s.seal(1, b"x" * 5000),
            FrameError,
            "exceeds",
            setup=lambda c: c.set_max_frame_size(4096),
        )
    )


def test_snappy_length_over_16mib() -> None:
    bomb = b"\x01\x80\x80\x80\x08" + bytes(8)  # code 1, snappy varint length 2^24
    run(frame_failure(lambda s: s.seal_frame_data(bomb), FrameError, "16 MiB", snappy=True))


def test_corrupt_snappy() -> None:
    run(
        frame_failure(lambda s: s.seal_frame_data(b"\x01\x10\xff\xff\xff"), FrameError, "snappy", snappy=True)
    )


def test_non_canonical_code() -> None:
    run(frame_failure(lambda s: s.seal_frame_data(b"\x00payload"), DecodeError, "invalid message code"))


def test_peer_stops_mid_frame_times_out() -> None:
    run(frame_failure(lambda s: s.seal(1, b"x" * 100)[:50], TimeoutError, "no message"))


def test_peer_closes_mid_frame() -> None:
    run(
        frame_failure(
            lambda s: s.seal(1, b"x" * 100)[:50], ConnectionClosedError, "mid-frame", close_after=True
        )
    )


def test_pending_handshakes_are_capped() -> None:
    async def main() -> None:
        key = PrivateKey.generate()
        async with rlpx.listen("127.0.0.1", 0, private_key=key, handshake_timeout=0.5, max_pending=1) as lst:
            stalled = await RawPeer.dial(lst.port, key, handshake=False)
            await asyncio.sleep(0.1)
            refused = await RawPeer.dial(lst.port, key, handshake=False)
            assert await refused.closed_by_peer(within=0.4), "over the cap: closed at once"
            assert await stalled.closed_by_peer(within=2.0), "stalled handshake: closed at its deadline"
            stalled.close()
            refused.close()
            conn = await rlpx.dial(
                "127.0.0.1", lst.port, remote_public_key=key.public_key, private_key=PrivateKey.generate()
            )
            srv = await lst.accept(timeout=5)
            await conn.close()
            await srv.close()

    run(main())


@pytest.mark.parametrize("check", ["roundtrip_snappy", "large_messages", "close_is_seen", "read_timeout"])
def test_conformance_on_uvloop(check: str) -> None:
    import uvloop  # a dev dependency: the driver must run on it (no isinstance on transports)

    coro = asyncio.wait_for(CHECKS[check](TRANSPORTS["tcp"]), 60)
    uvloop.run(coro)


def test_backpressure_on_uvloop() -> None:
    import uvloop

    uvloop.run(asyncio.wait_for(check_backpressure_bounded(tcp_pair), 60))


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_snappy_switch_repairs_messages_already_decoded(transport: str) -> None:
    """A Hello and compressed messages in one read: switching snappy on decodes the queued ones."""

    async def main() -> None:
        async with TRANSPORTS[transport]() as (a, b):
            a.send_nowait(0, b"hello")
            a.set_snappy(True)  # the sender switches right after its Hello, same loop iteration
            a.send_nowait(0x10, b"x" * 1000)
            a.send_nowait(0x11, b"")
            assert await b.recv(timeout=5) == (0, b"hello")
            await asyncio.sleep(0.05)  # the compressed ones are decoded (still compressed) by now
            b.set_snappy(True)
            assert await b.recv(timeout=5) == (0x10, b"x" * 1000)
            assert await b.recv(timeout=5) == (0x11, b"")

    run(main())


def test_snappy_switch_with_garbage_queued_fails_typed() -> None:
    async def main() -> None:
        async with TRANSPORTS["memory"]() as (a, b):
            await a.send(0, b"hello")
            await a.send(0x10, b"\xff\xff\xff\xff\xff")  # not snappy data
            assert await b.recv(timeout=5) == (0, b"hello")
            await asyncio.sleep(0.05)
            b.set_snappy(True)
            with pytest.raises(FrameError):
                await b.recv(timeout=5)

    run(main())
