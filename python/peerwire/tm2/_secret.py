"""gno's secret connection (STS) over asyncio streams, or any reader/writer pair.

The byte work — X25519, HKDF, Ed25519 and every 1044-byte ChaCha20-Poly1305
frame — happens in the Rust core (``peerwire._core.tm2``); this module only
moves bytes. A write seals all its frames in one call and a read opens every
frame of one socket buffer in one call, so a 1 MiB write crosses into Rust
once, not 1024 times.

The decrypted side is a byte stream: :meth:`SecretConnection.read` returns
whatever plaintext is available, independent of how the peer cut its writes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._core import tm2 as _tm2
from peerwire.errors import ConnectionClosedError, FrameError, HandshakeError
from peerwire.errors import TimeoutError as PeerwireTimeoutError
from peerwire.tm2._errors import SecretFrameError, SecretHandshakeError
from peerwire.tm2._keys import ID, NodeKey, id_from_public_key

__all__ = ["STREAM_LIMIT", "Reader", "SecretConnection", "Writer"]

#: Pending plaintext at which a write is sealed at once instead of at the end of the loop turn.
COALESCE_LIMIT = 64 * 1024

#: Bytes asked from the socket per read: 255 whole frames, so a busy stream
#: opens many frames per call into Rust (a read returns what is buffered).
_RECV_CHUNK = 255 * _tm2.SEALED_FRAME_SIZE

#: ``limit`` to give ``asyncio.open_connection`` / ``start_server`` for a secret
#: connection: the StreamReader then buffers up to 2x this before pausing the
#: socket, enough for the large reads above (the 64 KiB default halves throughput).
STREAM_LIMIT = 256 * 1024
#: Default bound on the whole handshake of a standalone :meth:`SecretConnection.make`, so a
#: peer that stalls mid-handshake cannot hold the socket forever (the transport passes gno's 3 s).
DEFAULT_HANDSHAKE_TIMEOUT = 5.0
#: Bound on waiting for a closed writer to finish closing, a wait no caller sees (it runs on
#: every error path): a peer that never drains cannot hold the closing task.
CLOSE_WAIT_TIMEOUT = 1.0


class Reader(Protocol):
    """What the secret connection needs from its byte source (``asyncio.StreamReader``)."""

    async def read(self, n: int = -1) -> bytes: ...

    async def readexactly(self, n: int) -> bytes: ...


class Writer(Protocol):
    """What the secret connection needs from its byte sink (``asyncio.StreamWriter``)."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...

    def get_extra_info(self, name: str, default: object = None) -> object: ...


class SecretConnection:
    """An authenticated, encrypted byte stream to one peer."""

    def __init__(
        self,
        reader: Reader,
        writer: Writer,
        session: _tm2.SecretSession,
        remote_public_key: bytes,
        leftover: bytes,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._reader = reader
        self._clock = clock
        self._writer = writer
        self._session = session
        self._remote = remote_public_key
        # Plaintext received but not yet returned; bytes, so a read that takes
        # everything hands out the buffer Rust produced without a copy.
        self._buf: bytes = bytes(leftover)
        self._closed = False
        # Small writes made in one event-loop turn are sealed together: full
        # 1024-byte frames and one socket write instead of one per call.
        self._pending = bytearray()
        self._flush_scheduled = False
        self._write_error: BaseException | None = None

    @classmethod
    async def make(
        cls,
        reader: Reader,
        writer: Writer,
        node_key: NodeKey,
        *,
        timeout: float | None = DEFAULT_HANDSHAKE_TIMEOUT,  # noqa: ASYNC109 - a default bound, like rlpx.dial
        clock: Clock = SYSTEM_CLOCK,
        _ephemeral: bytes | None = None,
    ) -> SecretConnection:
        """Run the handshake (gno ``MakeSecretConnection``) and return the connection.

        The whole handshake is bounded by ``timeout`` seconds on ``clock`` (``None``: no bound
        of its own, the caller owns the deadline; gno's transport uses 3 s). On any failure,
        timeout and cancellation included, the writer is closed before the error propagates.
        The connection keeps ``clock`` for its own close.

        Raises:
            HandshakeError: bad ephemeral message, low-order point, bad auth message or signature.
            FrameError: a handshake frame failed to decrypt.
            ConnectionClosedError: the peer closed the connection.
            peerwire.errors.TimeoutError: the handshake did not finish within ``timeout``.
        """
        try:
            async with clock.timeout(timeout):
                return await cls._handshake(reader, writer, node_key, clock, _ephemeral)
        except HandshakeError as e:  # TM2 has no disconnect code: re-typed without one
            await _close_quietly(writer, clock)
            if isinstance(e, SecretHandshakeError):
                raise
            raise SecretHandshakeError(str(e)) from None
        except FrameError as e:
            await _close_quietly(writer, clock)
            raise SecretFrameError(str(e)) from None
        except TimeoutError:
            await _close_quietly(writer, clock)
            raise PeerwireTimeoutError(f"secret connection handshake took longer than {timeout} s") from None
        except BaseException:
            await _close_quietly(writer, clock)
            raise

    @classmethod
    async def _handshake(
        cls, reader: Reader, writer: Writer, node_key: NodeKey, clock: Clock, ephemeral: bytes | None
    ) -> SecretConnection:
        hs = _tm2.SecretHandshake(node_key.native, ephemeral)
        writer.write(hs.ephemeral_message())
        await writer.drain()
        try:
            # Usually all 35 bytes arrive at once; a wrong first byte fails at once
            # instead of waiting for bytes a bad peer may never send.
            msg = await reader.read(_tm2.EPHEMERAL_MSG_SIZE)
            if not msg:
                raise asyncio.IncompleteReadError(b"", _tm2.EPHEMERAL_MSG_SIZE)
            if msg[0] != 0x22:
                hs.read_ephemeral(msg)  # raises HandshakeError with the details
                raise HandshakeError("bad ephemeral key message")  # pragma: no cover
            if len(msg) < _tm2.EPHEMERAL_MSG_SIZE:
                msg += await reader.readexactly(_tm2.EPHEMERAL_MSG_SIZE - len(msg))
        except asyncio.IncompleteReadError as e:
            raise ConnectionClosedError("connection closed during the ephemeral key exchange") from e
        writer.write(hs.read_ephemeral(msg))
        await writer.drain()
        while True:
            data = await reader.read(_RECV_CHUNK)
            if not data:
                raise ConnectionClosedError("connection closed during the auth message exchange")
            if hs.read_auth(data):
                break
        session, remote, leftover = hs.finish()
        return cls(reader, writer, session, remote, leftover, clock=clock)

    @property
    def remote_public_key(self) -> bytes:
        """The peer's authenticated 32-byte Ed25519 public key."""
        return self._remote

    @property
    def remote_id(self) -> ID:
        """The node ID of :attr:`remote_public_key`."""
        return id_from_public_key(self._remote)

    async def write(self, data: bytes) -> None:
        """Seal ``data`` into frames and write them (an empty write sends nothing).

        Writes smaller than :data:`COALESCE_LIMIT` made in the same event-loop turn
        are sealed together at the end of the turn, so the byte stream is the
        same but the frames are full; the call still waits for the writer to
        drain (back-pressure).
        """
        if self._write_error is not None:
            raise ConnectionClosedError(f"write failed: {self._write_error}") from self._write_error
        if self._closed:
            raise ConnectionClosedError("secret connection is closed")
        if not data:
            return
        try:
            if len(data) >= COALESCE_LIMIT:
                # Big write: seal it as is, after anything still pending.
                self._flush_pending()
                self._writer.write(self._session.seal(bytes(data)))
            elif len(self._pending) + len(data) >= COALESCE_LIMIT:
                self._pending += data
                self._flush_pending()
            else:
                self._pending += data
                if not self._flush_scheduled:
                    self._flush_scheduled = True
                    asyncio.get_running_loop().call_soon(self._flush_soon)
            await self._writer.drain()
        except (ConnectionError, OSError) as e:
            await self.close()
            raise ConnectionClosedError(f"write failed: {e}") from e

    def _flush_pending(self) -> None:
        if self._pending:
            data = bytes(self._pending)
            self._pending.clear()
            self._writer.write(self._session.seal(data))

    def _flush_soon(self) -> None:
        self._flush_scheduled = False
        if self._closed:
            return
        try:
            self._flush_pending()
        except Exception as e:  # surfaces on the next write; the reader sees EOF
            self._write_error = e
            self._closed = True
            with contextlib.suppress(Exception):
                self._writer.close()

    async def read(self, n: int = -1) -> bytes:
        """Return up to ``n`` bytes of plaintext (all buffered if ``n < 0``); ``b""`` at EOF.

        Raises:
            FrameError: a frame failed to decrypt or has a bad length (the connection is closed).
        """
        while not self._buf:
            if not await self._recv_more():
                return b""
        out = self._buf
        if n < 0 or n >= len(out):
            self._buf = b""
            return out
        self._buf = out[n:]
        return out[:n]

    async def readexactly(self, n: int) -> bytes:
        """Read exactly ``n`` plaintext bytes.

        Raises:
            ConnectionClosedError: EOF came first.
        """
        parts = bytearray()
        while len(parts) < n:
            chunk = await self.read(n - len(parts))
            if not chunk:
                raise ConnectionClosedError(f"EOF after {len(parts)} of {n} bytes")
            parts += chunk
        return bytes(parts)

    async def read_sized(self, max_total: int) -> bytes:
        """Read one amino sized message (``uvarint(len) || body``), bounded by ``max_total``.

        Raises:
            DecodeError: the prefix announces more than ``max_total`` bytes.
            ConnectionClosedError: EOF came first.
        """
        while True:
            got = _tm2.take_sized(self._buf, max_total)
            if got is not None:
                body, used = got
                self._buf = self._buf[used:]
                return body
            if not await self._recv_more():
                raise ConnectionClosedError("EOF inside a sized message")

    async def _recv_more(self) -> bool:
        """Read one socket buffer and append its plaintext; False at EOF."""
        if self._closed:
            return False
        try:
            data = await self._reader.read(_RECV_CHUNK)
        except (ConnectionError, OSError):
            data = b""
        if not data:
            await self.close()
            return False
        try:
            plain = self._session.open(data)
        except FrameError as e:
            await self.close()
            raise SecretFrameError(str(e)) from None
        except BaseException:
            await self.close()
            raise
        self._buf = self._buf + plain if self._buf else plain
        return True

    def unread(self, data: bytes) -> None:
        """Push plaintext back to the front of the read buffer."""
        self._buf = bytes(data) + self._buf

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Close the underlying writer (idempotent)."""
        if self._closed:
            return
        with contextlib.suppress(Exception):
            self._flush_pending()
        self._closed = True
        await _close_quietly(self._writer, self._clock)


async def _close_quietly(writer: Writer, clock: Clock) -> None:
    with contextlib.suppress(Exception):
        writer.close()
    with contextlib.suppress(Exception):
        async with clock.timeout(CLOSE_WAIT_TIMEOUT):
            await writer.wait_closed()
