"""RLPx: devp2p's encrypted transport, wire-compatible with go-ethereum ``p2p/rlpx``.

The raw transport only: no Hello, no capabilities. The caller owns what goes
over it::

    conn = await rlpx.dial("127.0.0.1", port, remote_public_key=pub, private_key=key)
    await conn.send(0x10, b"payload")
    code, payload = await conn.recv()

    async with rlpx.listen("127.0.0.1", 0, private_key=key) as listener:
        conn = await listener.accept()

Design: an :class:`asyncio.Protocol` hands every socket buffer to the Rust
session (``peerwire._core.rlpx``), which returns all the messages it
completes, so Python pays one crossing per read, never one per frame. Sends
made in the same loop iteration are sealed at once and written with one
``transport.write``. Every wait has a deadline (handshake, read, write) and
the inbound message buffer is bounded: when it fills, reading pauses.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterable

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._core import rlpx as _rlpx
from peerwire._core.secp256k1 import Secp256k1SecretKey
from peerwire.devp2p._bytepipe import pipe
from peerwire.devp2p._keys import PrivateKey, PublicKey
from peerwire.devp2p._rlpxproto import RlpxProtocol
from peerwire.errors import (
    ConnectionClosedError,
    LocalProtocolError,
    TimeoutError,
)

__all__ = [
    "DEFAULT_HANDSHAKE_TIMEOUT",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_WRITE_TIMEOUT",
    "MAX_FRAME_SIZE",
    "MAX_PAYLOAD_SIZE",
    "Connection",
    "GatedListener",
    "Listener",
    "PendingConnection",
    "dial",
    "listen",
    "memory_pair",
    "serve",
]

#: go-ethereum ``handshakeTimeout``: the whole auth/ack exchange must finish in it.
DEFAULT_HANDSHAKE_TIMEOUT = 5.0
#: go-ethereum ``frameReadTimeout``: the longest ``recv`` waits for a message.
DEFAULT_READ_TIMEOUT = 30.0
#: go-ethereum ``frameWriteTimeout``: the longest ``send`` waits for buffer room.
DEFAULT_WRITE_TIMEOUT = 20.0
#: Largest frame-size (2^24 - 1) and largest uncompressed payload.
MAX_FRAME_SIZE: int = _rlpx.MAX_FRAME_SIZE
MAX_PAYLOAD_SIZE: int = _rlpx.MAX_PAYLOAD_SIZE
#: Received-but-unread bytes above which the socket stops being read
#: (a slow consumer must not let a fast peer fill our memory).
DEFAULT_INBOX_LIMIT = 8 * 1024 * 1024
#: How long closing waits for the socket to finish (real time, so a fake clock cannot hang it).
_CLOSE_GRACE = 2.0
#: Accepted connections waiting for ``accept()``; more handshakes pause.
_ACCEPT_BACKLOG = 64


class Connection:
    """An established RLPx connection. Not safe to share between event loops."""

    def __init__(
        self,
        proto: RlpxProtocol,
        *,
        read_timeout: float | None,
        write_timeout: float | None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        assert proto.session is not None and proto.remote is not None
        self._clock = clock
        self._proto = proto
        self._session = proto.session
        self._remote = PublicKey(proto.remote)
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout

    @property
    def remote_public_key(self) -> PublicKey:
        """The peer's static key (dialled, or claimed in its auth and proven by the MACs)."""
        return self._remote

    @property
    def local_address(self) -> tuple[str, int]:
        """This end's socket address (``("", 0)`` when the transport does not say)."""
        return _sockaddr(self._proto.transport, "sockname")

    @property
    def remote_address(self) -> tuple[str, int]:
        """The remote socket address (``("", 0)`` when the transport does not say)."""
        return _sockaddr(self._proto.transport, "peername")

    @property
    def snappy(self) -> bool:
        return self._session.snappy

    def set_snappy(self, on: bool) -> None:
        """Compress (snappy block format) every later message in both directions.

        Frames are decoded as soon as they arrive, so messages that came in the
        same read as the one that decided the switch (the remote Hello) were
        decoded with compression off; turning it on decompresses them in place
        (go-ethereum reads lazily and never sees this).
        """
        self._proto.flush()  # messages queued before the switch keep the old setting
        if on and not self._session.snappy:
            self._proto.decompress_inbox()
        self._session.snappy = on

    def set_max_frame_size(self, n: int) -> None:
        """Refuse received frames larger than ``n`` bytes (default 2^24 - 1)."""
        self._session.set_max_frame_size(n)

    def _check_open(self) -> None:
        if self._proto.error is not None:
            raise self._proto.error
        if self._proto.transport is None or self._proto.transport.is_closing():
            raise ConnectionClosedError("connection is closed")

    def _check_size(self, payload: bytes) -> None:
        if len(payload) > MAX_PAYLOAD_SIZE:
            raise LocalProtocolError(f"message length {len(payload)} >= 16MB")

    async def send(self, code: int, payload: bytes) -> None:
        """Queue one message; waits (up to ``write_timeout``) while the socket is backed up."""
        self.send_nowait(code, payload)
        await self._drain()

    def send_nowait(self, code: int, payload: bytes) -> None:
        """Queue one message without waiting for buffer room."""
        self._check_open()
        self._check_size(payload)
        if code < 0:
            raise LocalProtocolError("message code must be >= 0")
        self._proto.queue_write([(code, bytes(payload))])

    async def send_batch(self, msgs: Iterable[tuple[int, bytes]]) -> None:
        """Seal several messages into one write."""
        self._check_open()
        items = [(c, bytes(p)) for c, p in msgs]
        for _, p in items:
            self._check_size(p)
        self._proto.queue_write(items)
        await self._drain()

    async def _drain(self) -> None:
        if self._proto._writable.is_set():
            return
        self._proto.flush()
        try:
            async with self._clock.timeout(self.write_timeout):
                await self._proto._writable.wait()
        except TimeoutError:
            self._proto._fail(TimeoutError(f"write timed out after {self.write_timeout} s"))
            raise TimeoutError(f"write timed out after {self.write_timeout} s") from None
        self._check_open()

    async def recv(self, timeout: float | None = None) -> tuple[int, bytes]:  # noqa: ASYNC109
        """Next ``(code, payload)``; raises the typed error that ended the connection."""
        while True:
            item = self._proto.take()
            if item is not None:
                return item
            if self._proto.error is not None:
                raise self._proto.error
            if self._proto.finished():
                raise ConnectionClosedError("connection closed by peer")
            wait = self.read_timeout if timeout is None else timeout
            try:
                async with self._clock.timeout(wait):
                    await self._proto._readable.wait()
            except TimeoutError:
                err = TimeoutError(f"no message within {wait} s")
                self._proto._fail(err)
                raise err from None

    async def close(self) -> None:
        """Flush queued messages and close the socket."""
        proto = self._proto
        if proto.transport is None:
            return
        proto.flush()
        if not proto.transport.is_closing():
            proto.transport.close()
        with contextlib.suppress(TimeoutError):  # real time: a fake clock must not hang a close
            async with SYSTEM_CLOCK.timeout(_CLOSE_GRACE):
                await asyncio.shield(proto.closed)
        if not proto.closed.done():
            proto.transport.abort()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<rlpx.Connection remote={self._remote.node_id.hex()[:16]}>"


def _sockaddr(transport: asyncio.BaseTransport | None, name: str) -> tuple[str, int]:
    info = transport.get_extra_info(name) if transport is not None else None
    if isinstance(info, tuple) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return ("", 0)


def _native_key(key: PrivateKey | Secp256k1SecretKey | bytes) -> Secp256k1SecretKey:
    """The Rust key object: handshakes sign with it, no copy of the secret stays in Python."""
    if isinstance(key, Secp256k1SecretKey):
        return key
    return (key if isinstance(key, PrivateKey) else PrivateKey(bytes(key))).native


def _pub_bytes(key: PublicKey | bytes) -> bytes:
    return key.to_bytes() if isinstance(key, PublicKey) else PublicKey(bytes(key)).to_bytes()


async def _establish(
    proto: RlpxProtocol,
    handshake_timeout: float | None,
    read_timeout: float | None,
    write_timeout: float | None,
    clock: Clock,
) -> Connection:
    try:
        async with clock.timeout(handshake_timeout):
            await proto.established
    except TimeoutError:
        err = TimeoutError(f"RLPx handshake did not finish within {handshake_timeout} s")
        proto._fail(err)
        raise err from None
    except BaseException:
        if proto.transport is not None:
            proto.transport.abort()
        raise
    return Connection(proto, read_timeout=read_timeout, write_timeout=write_timeout, clock=clock)


def _initiator_protocol(
    private_key: PrivateKey | bytes, remote: PublicKey | bytes, inbox_limit: int
) -> RlpxProtocol:
    hs, auth = _rlpx.Handshake.initiator(_native_key(private_key), _pub_bytes(remote))
    return RlpxProtocol(hs, auth, inbox_limit)


def _recipient_protocol(
    private_key: PrivateKey | Secp256k1SecretKey | bytes, inbox_limit: int
) -> RlpxProtocol:
    return RlpxProtocol(_rlpx.Handshake.recipient(_native_key(private_key)), None, inbox_limit)


async def dial(
    host: str,
    port: int,
    *,
    remote_public_key: PublicKey | bytes,
    private_key: PrivateKey | bytes,
    timeout: float | None = DEFAULT_HANDSHAKE_TIMEOUT,  # noqa: ASYNC109 (API.md name)
    read_timeout: float | None = DEFAULT_READ_TIMEOUT,
    write_timeout: float | None = DEFAULT_WRITE_TIMEOUT,
    inbox_limit: int = DEFAULT_INBOX_LIMIT,
    clock: Clock = SYSTEM_CLOCK,
) -> Connection:
    """Connect to ``host:port`` and run the initiator handshake (TCP connect included in ``timeout``).

    ``timeout=None`` puts no bound on the dial: a caller that bounds it itself
    (the server, on its injected clock) passes ``None`` (the caller owns the
    deadline). ``read_timeout`` / ``write_timeout`` bound each ``recv`` /
    ``send`` of the connection; ``None`` leaves that to the caller too.

    Raises:
        TimeoutError: the connect or the handshake took longer than ``timeout``.
        HandshakeError, InvalidKeyError: the peer's ack was invalid.
        ConnectionClosedError: the peer closed the connection.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else clock.monotonic() + timeout
    proto = _initiator_protocol(private_key, remote_public_key, inbox_limit)
    try:
        async with clock.timeout(timeout):
            await loop.create_connection(lambda: proto, host, port)
    except TimeoutError:
        raise TimeoutError(f"TCP connect to {host}:{port} timed out") from None
    except OSError as e:
        raise ConnectionClosedError(f"connect to {host}:{port} failed: {e}") from e
    left = None if deadline is None else max(0.0, deadline - clock.monotonic())
    return await _establish(proto, left, read_timeout, write_timeout, clock)


class Listener:
    """Accepts TCP connections and runs the recipient handshake for each."""

    def __init__(
        self,
        host: str,
        port: int,
        private_key: PrivateKey | bytes,
        *,
        handshake_timeout: float,
        read_timeout: float,
        write_timeout: float,
        inbox_limit: int,
        max_pending: int,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._host = host
        self._port = port
        self._key = _native_key(private_key)
        self._handshake_timeout = handshake_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._inbox_limit = inbox_limit
        self._max_pending = max_pending
        self._clock = clock
        self._handshaking = 0
        self._accepted: asyncio.Queue[Connection] = asyncio.Queue(maxsize=_ACCEPT_BACKLOG)
        self._server: asyncio.Server | None = None
        self._pending: dict[RlpxProtocol, asyncio.TimerHandle] = {}
        self._closing = False
        #: The most recent handshake failures (newest last), for diagnostics.
        self.failures: collections.deque[BaseException] = collections.deque(maxlen=32)
        self._failure_event = asyncio.Event()

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._make_protocol, self._host, self._port)

    def _make_protocol(self) -> RlpxProtocol:
        # Callbacks and one timer per inbound handshake, no task: accepting is
        # the listener's hot path.
        proto = _recipient_protocol(self._key, self._inbox_limit)
        if self._handshaking >= self._max_pending or self._closing:
            # go-ethereum MaxPendingPeers: refuse rather than queue unauthenticated sockets
            proto.refuse = True
            return proto
        self._handshaking += 1
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self._handshake_timeout, self._expire, proto)
        self._pending[proto] = timer
        proto.established.add_done_callback(lambda fut: self._on_established(proto, fut))
        return proto

    def _expire(self, proto: RlpxProtocol) -> None:
        if not proto.established.done():
            proto._fail(TimeoutError(f"RLPx handshake did not finish within {self._handshake_timeout} s"))

    def _on_established(self, proto: RlpxProtocol, fut: asyncio.Future[None]) -> None:
        timer = self._pending.pop(proto, None)
        if timer is not None:
            timer.cancel()
        self._handshaking -= 1
        exc = fut.exception() if not fut.cancelled() else ConnectionClosedError("handshake cancelled")
        if exc is not None:
            if proto.transport is not None:
                proto.transport.abort()
            self.failures.append(exc)
            self._failure_event.set()
            return
        conn = Connection(
            proto, read_timeout=self._read_timeout, write_timeout=self._write_timeout, clock=self._clock
        )
        try:
            self._accepted.put_nowait(conn)
        except asyncio.QueueFull:
            # nobody is accepting: drop the newest rather than buffer without bound
            if proto.transport is not None:
                proto.transport.abort()

    async def accept(self, timeout: float | None = None) -> Connection:  # noqa: ASYNC109
        """The next connection whose handshake succeeded."""
        if timeout is None:
            return await self._accepted.get()
        try:
            async with self._clock.timeout(timeout):
                return await self._accepted.get()
        except TimeoutError:
            raise TimeoutError(f"no connection accepted within {timeout} s") from None

    async def next_failure(self, within: float) -> BaseException:
        """Wait for the next failed inbound handshake and return its error (tests, diagnostics)."""
        try:
            async with self._clock.timeout(within):
                while not self.failures:
                    self._failure_event.clear()
                    await self._failure_event.wait()
        except TimeoutError:
            raise TimeoutError(f"no handshake failure within {within} s") from None
        return self.failures.popleft()

    async def close(self) -> None:
        self._closing = True
        if self._server is not None:
            self._server.close()
        for proto in list(self._pending):
            proto._fail(ConnectionClosedError("listener closed"))
        await asyncio.sleep(0)  # let the abort callbacks run
        while not self._accepted.empty():
            await self._accepted.get_nowait().close()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):  # real time: a fake clock must not hang a close
                async with SYSTEM_CLOCK.timeout(_CLOSE_GRACE):
                    await self._server.wait_closed()


@contextlib.asynccontextmanager
async def listen(
    host: str,
    port: int,
    *,
    private_key: PrivateKey | bytes,
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    inbox_limit: int = DEFAULT_INBOX_LIMIT,
    max_pending: int = 50,
    clock: Clock = SYSTEM_CLOCK,
) -> AsyncIterator[Listener]:
    """Listen on ``host:port`` (0 picks a port: ``listener.port``) for RLPx connections."""
    listener = Listener(
        host,
        port,
        private_key,
        handshake_timeout=handshake_timeout,
        read_timeout=read_timeout,
        write_timeout=write_timeout,
        inbox_limit=inbox_limit,
        max_pending=max_pending,
        clock=clock,
    )
    await listener.start()
    try:
        yield listener
    finally:
        await listener.close()


def _mark_retrieved(fut: asyncio.Future[None]) -> None:
    # A refused socket fails its handshake future with nobody awaiting it: mark the error seen.
    if not fut.cancelled():
        fut.exception()


class _GatedProtocol(RlpxProtocol):
    """A recipient whose socket is paused on accept until the gate lets it handshake."""

    def __init__(
        self, key: Secp256k1SecretKey, inbox_limit: int, on_accept: Callable[[_GatedProtocol], None]
    ) -> None:
        super().__init__(_rlpx.Handshake.recipient(key), None, inbox_limit)
        self._on_accept = on_accept
        self.established.add_done_callback(_mark_retrieved)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.transport is not None:
            self.transport.pause_reading()
        self._on_accept(self)


class PendingConnection:
    """An accepted TCP connection before its RLPx handshake: the server's gate.

    Not a byte has been read or written (the socket is paused). Inspect
    :attr:`remote_address`, then call :meth:`handshake` or :meth:`refuse`.
    """

    def __init__(
        self, proto: RlpxProtocol, read_timeout: float | None, write_timeout: float | None, clock: Clock
    ) -> None:
        self._proto = proto
        self._clock = clock
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._started = False
        self.remote_address = _sockaddr(proto.transport, "peername")
        self.local_address = _sockaddr(proto.transport, "sockname")

    async def handshake(self) -> Connection:
        """Run the recipient handshake and return the connection.

        It has no deadline of its own: the caller owns it (``async with
        clock.timeout(...)``). A handshake that fails or is cancelled closes the socket.

        Raises:
            HandshakeError, InvalidKeyError: the remote's auth was invalid.
            ConnectionClosedError: the remote closed the connection.
            LocalProtocolError: the handshake was already started, or the connection refused.
        """
        if self._started:
            raise LocalProtocolError("the handshake of this connection was already started")
        self._started = True
        if self._proto.transport is None or self._proto.transport.is_closing():
            raise LocalProtocolError("the connection was refused or closed")
        self._proto.transport.resume_reading()
        return await _establish(self._proto, None, self._read_timeout, self._write_timeout, self._clock)

    def refuse(self) -> None:
        """Close the socket without a handshake (nothing is sent)."""
        if self._proto.transport is not None:
            self._proto.transport.abort()

    def __repr__(self) -> str:
        host, port = self.remote_address
        return f"<rlpx.PendingConnection from {host}:{port}>"


class GatedListener:
    """A TCP listener whose connections go through a gate (see :func:`serve`)."""

    def __init__(self, server: asyncio.Server) -> None:
        self._server = server

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop accepting. Connections already handed out stay the caller's."""
        self._server.close()
        with contextlib.suppress(TimeoutError):  # real time: a fake clock must not hang a close
            async with SYSTEM_CLOCK.timeout(_CLOSE_GRACE):
                await self._server.wait_closed()


async def serve(
    host: str,
    port: int,
    on_accept: Callable[[PendingConnection], None],
    *,
    private_key: PrivateKey | bytes,
    read_timeout: float | None = DEFAULT_READ_TIMEOUT,
    write_timeout: float | None = DEFAULT_WRITE_TIMEOUT,
    inbox_limit: int = DEFAULT_INBOX_LIMIT,
    backlog: int = 128,
    clock: Clock = SYSTEM_CLOCK,
) -> GatedListener:
    """Listen on ``host:port``; every accepted socket goes to ``on_accept`` before its handshake.

    ``on_accept`` runs in the accept callback and must not block: it decides at
    once (``refuse()``) or hands the :class:`PendingConnection` to a task of its
    owner, which bounds and awaits ``handshake()``. The listener owns no task.
    """
    key = _native_key(private_key)

    def accepted(proto: _GatedProtocol) -> None:
        on_accept(PendingConnection(proto, read_timeout, write_timeout, clock))

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _GatedProtocol(key, inbox_limit, accepted),
        host,
        port,
        family=socket.AF_UNSPEC,
        backlog=backlog,
    )
    return GatedListener(server)


async def memory_pair(
    key_a: PrivateKey,
    key_b: PrivateKey,
    *,
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    inbox_limit: int = DEFAULT_INBOX_LIMIT,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[Connection, Connection]:
    """Two connected RLPx connections over an in-memory byte pipe (A dials B).

    The real handshake and codec run; only the socket is replaced (tests and
    simulations, as trio's ``memory_stream_pair``).
    """
    loop = asyncio.get_running_loop()
    pa = _initiator_protocol(key_a, key_b.public_key, inbox_limit)
    pb = _recipient_protocol(key_b, inbox_limit)
    pipe(loop, pa, pb)
    ca, cb = await asyncio.gather(
        _establish(pa, handshake_timeout, read_timeout, write_timeout, clock),
        _establish(pb, handshake_timeout, read_timeout, write_timeout, clock),
    )
    return ca, cb
