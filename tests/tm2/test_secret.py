"""SecretConnection over loopback TCP; bad peers get a clear error and a closed socket."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import pytest

from peerwire import tm2
from peerwire._core import tm2 as core
from peerwire.errors import ConnectionClosedError, FrameError, HandshakeError
from peerwire.tm2._secret import CLOSE_WAIT_TIMEOUT

A = tm2.NodeKey.from_seed(b"\x01" * 32)
B = tm2.NodeKey.from_seed(b"\x02" * 32)


async def _tcp_pair(
    server_side: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, asyncio.Server]:
    srv = await asyncio.start_server(server_side, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    r, w = await asyncio.open_connection("127.0.0.1", port)
    return r, w, srv


def test_loopback_round_trip_and_stream_semantics() -> None:
    async def main() -> None:
        got: asyncio.Queue[tm2.SecretConnection] = asyncio.Queue(maxsize=1)

        async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await got.put(await tm2.SecretConnection.make(r, w, B))

        r, w, srv = await _tcp_pair(serve)
        async with srv, asyncio.timeout(10):
            ca = await tm2.SecretConnection.make(r, w, A)
            cb = await got.get()
            assert ca.remote_public_key == B.public_key and cb.remote_public_key == A.public_key
            assert ca.remote_id == B.id
            msgs = [os.urandom(n) for n in (0, 1, 1023, 1024, 1025, 70_000, 3)]
            for m in msgs:
                await ca.write(m)
            want = b"".join(msgs)
            assert await cb.readexactly(len(want)) == want
            await cb.write(b"pong")
            assert await ca.readexactly(4) == b"pong"
            await ca.close()
            assert await cb.read() == b""
            await cb.close()

    asyncio.run(main())


def test_deterministic_handshake_over_tcp() -> None:
    """The DERIVED vector: with the ephemeral secrets injected, the first frames are the vector bytes."""

    async def main() -> None:
        seen = bytearray()

        async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            # A raw peer: play node B by hand with the core state machine.
            hs = core.SecretHandshake(B.native, b"\x22" * 32)
            w.write(hs.ephemeral_message())
            w.write(hs.read_ephemeral(await r.readexactly(35)))
            frame = await r.readexactly(core.SEALED_FRAME_SIZE)
            seen.extend(frame)
            assert hs.read_auth(frame)
            w.close()

        r, w, srv = await _tcp_pair(serve)
        async with srv, asyncio.timeout(10):
            c = await tm2.SecretConnection.make(r, w, A, _ephemeral=b"\x11" * 32)
            assert c.remote_public_key == B.public_key
            await c.close()
        assert seen.hex().startswith("a4383eff674a7f2a")

    asyncio.run(main())


async def _bad_peer(script: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]) -> bool:
    """Run our side against a scripted peer; return True if our side closed the socket."""
    closed = asyncio.Event()

    async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await script(r, w)
        while await r.read(65536):
            pass
        closed.set()

    r, w, srv = await _tcp_pair(serve)
    async with srv:
        try:
            await tm2.SecretConnection.make(r, w, A)
        finally:
            async with asyncio.timeout(5):
                await closed.wait()
    return closed.is_set()


def _peer_handshake(ephemeral: bytes | None = None) -> core.SecretHandshake:
    return core.SecretHandshake(B.native, ephemeral)


@pytest.mark.parametrize(
    ("first", "err", "match"),
    [
        (b"\x23\x0a\x21" + bytes(33), HandshakeError, "35 bytes"),
        (b"\x22\x0a\x20" + bytes(32), HandshakeError, "low order"),
        (b"\x22\x0a\x20" + b"\x01" + bytes(31), HandshakeError, "low order"),
    ],
)
def test_bad_ephemeral_closes_socket(first: bytes, err: type[Exception], match: str) -> None:
    async def script(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(first)
        await r.readexactly(35)

    with pytest.raises(err, match=match):
        asyncio.run(_bad_peer(script))


def test_bad_frame_and_eof_close_socket() -> None:
    async def garbage_frame(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        hs = _peer_handshake()
        w.write(hs.ephemeral_message())
        hs.read_ephemeral(await r.readexactly(35))
        w.write(os.urandom(core.SEALED_FRAME_SIZE))

    with pytest.raises(FrameError, match="failed to decrypt"):
        asyncio.run(_bad_peer(garbage_frame))

    async def eof(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"\x22\x0a")
        w.write_eof()

    with pytest.raises(ConnectionClosedError):
        asyncio.run(_bad_peer(eof))


def test_timeout_closes_socket() -> None:
    async def silent(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await r.readexactly(35)

    async def main() -> None:
        closed = asyncio.Event()

        async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await silent(r, w)
            if await r.read() == b"":
                closed.set()

        r, w, srv = await _tcp_pair(serve)
        async with srv:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await tm2.SecretConnection.make(r, w, A)
            async with asyncio.timeout(5):
                await closed.wait()

    asyncio.run(main())


def _forged_auth_peer(
    edit: Callable[[bytes], bytes],
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """A raw peer that completes the DH exchange, then sends its auth message changed by ``edit``.

    It derives the session keys itself (X25519 + the core's HKDF split) so it can re-seal a
    forged 101-byte auth message under the real send key: our side then sees a frame that
    decrypts fine but carries a wrong signature or a wrong length.
    """
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    eph_secret = b"\x33" * 32
    eph_pub = X25519PrivateKey.from_private_bytes(eph_secret).public_key().public_bytes_raw()

    async def script(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        hs = _peer_handshake(eph_secret)
        w.write(hs.ephemeral_message())
        theirs = await r.readexactly(35)
        good_frame = hs.read_ephemeral(theirs)
        dh = X25519PrivateKey.from_private_bytes(eph_secret).exchange(
            X25519PublicKey.from_public_bytes(theirs[3:])
        )
        _recv, send, _challenge = core.derive_secrets(dh, eph_pub < theirs[3:])
        aead = ChaCha20Poly1305(send)
        plain = aead.decrypt(core.nonce(0), good_frame, None)  # proves the key split is right
        n = int.from_bytes(plain[:4], "little")
        forged = edit(plain[4 : 4 + n])
        frame = len(forged).to_bytes(4, "little") + forged
        frame += bytes(core.SEALED_FRAME_SIZE - 16 - len(frame))
        w.write(aead.encrypt(core.nonce(0), frame, None))

    return script


def test_wrong_signature_closes_socket() -> None:
    def flip_signature(auth: bytes) -> bytes:
        assert len(auth) == 101 and auth[35:37] == b"\x12\x40"
        return auth[:-1] + bytes([auth[-1] ^ 0x01])

    with pytest.raises(HandshakeError, match="challenge verification failed"):
        asyncio.run(_bad_peer(_forged_auth_peer(flip_signature)))


def test_wrong_auth_length_closes_socket() -> None:
    def cometbft_layout(auth: bytes) -> bytes:
        # CometBFT wraps the key in PublicKey{ed25519}: 103 bytes with prefix 0x66, not TM2's 101.
        return b"\x66\x0a\x22" + auth[1:]

    with pytest.raises(HandshakeError, match="must be 101 bytes"):
        asyncio.run(_bad_peer(_forged_auth_peer(cometbft_layout)))


def test_standalone_make_has_its_own_handshake_timeout() -> None:
    """A peer that stalls mid-handshake costs at most ``timeout``: typed error, socket closed."""
    from peerwire.errors import TimeoutError as PeerwireTimeoutError

    async def main() -> None:
        closed = asyncio.Event()

        async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await r.readexactly(35)  # takes our ephemeral key, never answers
            if await r.read() == b"":
                closed.set()

        r, w, srv = await _tcp_pair(serve)
        async with srv:
            loop = asyncio.get_running_loop()
            start = loop.time()
            with pytest.raises(PeerwireTimeoutError, match="handshake"):
                await tm2.SecretConnection.make(r, w, A, timeout=0.3)
            assert loop.time() - start < 2.0
            async with asyncio.timeout(5):
                await closed.wait()

    asyncio.run(main())


class _StallingClose:
    """A writer whose close never completes: the close wait must be bounded too."""

    def __init__(self, inner: asyncio.StreamWriter) -> None:
        self._inner = inner
        self.closed = False

    def write(self, data: bytes) -> None:
        self._inner.write(data)

    async def drain(self) -> None:
        await self._inner.drain()

    def close(self) -> None:
        self.closed = True
        self._inner.close()

    async def wait_closed(self) -> None:
        await asyncio.Event().wait()

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self._inner.get_extra_info(name, default)


def test_stalled_handshake_times_out_on_the_injected_clock_without_real_waiting() -> None:
    """Both bounds (the handshake's and the close wait's) run on the caller's clock."""
    from peerwire._clock import FakeClock
    from peerwire.errors import TimeoutError as PeerwireTimeoutError
    from peerwire.testing import memory_pipe, settle

    async def main() -> None:
        clock = FakeClock()
        ours, theirs = memory_pipe()
        writer = _StallingClose(ours.writer)
        started = asyncio.get_running_loop().time()
        task = asyncio.ensure_future(
            tm2.SecretConnection.make(ours.reader, writer, A, timeout=3.0, clock=clock)
        )
        # The peer takes our ephemeral key and never answers.
        assert len(await theirs.reader.readexactly(core.EPHEMERAL_MSG_SIZE)) == 35
        await settle()
        await clock.advance(2.9)
        assert not task.done() and not writer.closed
        await clock.advance(0.1)  # the handshake deadline: the writer is closed, its close is awaited
        assert writer.closed and not task.done()
        await clock.advance(CLOSE_WAIT_TIMEOUT)
        with pytest.raises(PeerwireTimeoutError, match=r"handshake took longer than 3\.0 s"):
            await task
        assert await theirs.reader.read() == b""  # our side closed the socket
        # 4 s of handshake and close bounds passed on the fake clock, not the real one.
        assert asyncio.get_running_loop().time() - started < 1.0

    asyncio.run(main())
