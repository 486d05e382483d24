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
import builtins
import collections
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any, cast

from peerwire._core import rlpx as _rlpx
from peerwire.devp2p._keys import PrivateKey, PublicKey
from peerwire.errors import (
    ConnectionClosedError,
    HandshakeError,
    LocalProtocolError,
    PeerwireError,
    TimeoutError,
)

__all__ = [
    "DEFAULT_HANDSHAKE_TIMEOUT",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_WRITE_TIMEOUT",
    "MAX_FRAME_SIZE",
    "MAX_PAYLOAD_SIZE",
    "Connection",
    "Listener",
    "dial",
    "listen",
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
#: Bytes in the transport's write buffer above which ``send`` waits.
_WRITE_HIGH_WATER = 4 * 1024 * 1024
#: Queued (unsealed) bytes that trigger an immediate seal and write instead of
#: waiting for the end of the loop iteration: bounds the coalescing buffer.
_COALESCE_LIMIT = 256 * 1024
#: Accepted connections waiting for ``accept()``; more handshakes pause.
_ACCEPT_BACKLOG = 64


class _RlpxProtocol(asyncio.Protocol):
    """Drives the handshake machine, then the session codec, from socket callbacks."""

    def __init__(
        self,
        handshake: _rlpx.Handshake,
        first_write: bytes | None,
        inbox_limit: int,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._handshake: _rlpx.Handshake | None = handshake
        self._first_write = first_write
        self.session: _rlpx.Session | None = None
        self.remote: bytes | None = None
        self.transport: asyncio.Transport | None = None
        self.established: asyncio.Future[None] = self._loop.create_future()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self.error: BaseException | None = None
        self._eof = False
        self._inbox: collections.deque[tuple[int, bytes]] = collections.deque()
        self._inbox_bytes = 0
        self._inbox_limit = inbox_limit
        self._reading_paused = False
        self._readable: asyncio.Event = asyncio.Event()
        self._writable: asyncio.Event = asyncio.Event()
        self._writable.set()
        self._pending: list[tuple[int, bytes]] = []
        self._pending_bytes = 0
        #: Set by a listener over its pending-handshake cap: abort on connect.
        self.refuse = False
        self._flush_scheduled = False

    # -- asyncio callbacks -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport: no isinstance check
        self.transport = cast(asyncio.Transport, transport)
        if self.refuse:
            self.transport.abort()
            return
        self.transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        if self._first_write:
            self.transport.write(self._first_write)
            self._first_write = None

    def data_received(self, data: bytes) -> None:
        if self.error is not None:
            return
        try:
            if self._handshake is not None:
                done = self._handshake.feed(data)
                if done is None:
                    return
                self._handshake = None
                if done.send and self.transport is not None:
                    self.transport.write(done.send)
                self.session = done.session()
                self.remote = done.remote_public_key
                if not self.established.done():
                    self.established.set_result(None)
                data = done.leftover
                if not data:
                    return
            assert self.session is not None
            msgs = self.session.feed(data)
        except PeerwireError as e:
            self._fail(e)
            return
        if msgs:
            self._inbox.extend(msgs)
            self._inbox_bytes += sum(len(p) for _, p in msgs)
            self._readable.set()
            if self._inbox_bytes >= self._inbox_limit and not self._reading_paused and self.transport:
                self._reading_paused = True
                self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        self._eof = True
        if self._handshake is not None:
            buffered = self._handshake.buffered
            if buffered:
                self._fail(
                    HandshakeError(
                        f"peer closed the connection inside a handshake message ({buffered} bytes)"
                    )
                )
            else:
                self._fail(ConnectionClosedError("peer closed the connection during the handshake"))
        elif self.session is not None and self.session.mid_frame:
            self._fail(
                ConnectionClosedError(f"peer closed the connection mid-frame ({self.session.buffered} bytes)")
            )
        self._readable.set()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        mid = self._handshake is not None or (self.session is not None and self.session.mid_frame)
        if self.error is None and (exc is not None or not self._eof) and mid:
            self.error = ConnectionClosedError(f"connection lost: {exc or 'closed'}")
        self._eof = True
        if not self.established.done():
            if self.refuse:  # nobody waits on a refused connection
                self.established.cancel()
            else:
                self.established.set_exception(
                    self.error or ConnectionClosedError("connection closed during the handshake")
                )
        if not self.closed.done():
            self.closed.set_result(None)
        self._readable.set()
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- helpers -----------------------------------------------------------

    def _fail(self, err: BaseException) -> None:
        if self.error is None:
            self.error = err
        if not self.established.done():
            self.established.set_exception(err)
        self._readable.set()
        self._writable.set()
        if self.transport is not None:
            self.transport.abort()

    def take(self) -> tuple[int, bytes] | None:
        if not self._inbox:
            return None
        code, payload = self._inbox.popleft()
        self._inbox_bytes -= len(payload)
        if not self._inbox:
            self._readable.clear()
        if self._reading_paused and self._inbox_bytes < self._inbox_limit // 2 and self.transport:
            self._reading_paused = False
            self.transport.resume_reading()
        return code, payload

    def decompress_inbox(self) -> None:
        """Snappy-decode the messages decoded before compression was switched on."""
        if not self._inbox or self.error is not None:
            return
        try:
            fixed = [(code, _rlpx.decompress(payload)) for code, payload in self._inbox]
        except PeerwireError as e:
            self._inbox.clear()
            self._inbox_bytes = 0
            self._fail(e)
            return
        self._inbox.clear()
        self._inbox.extend(fixed)
        self._inbox_bytes = sum(len(p) for _, p in fixed)

    def finished(self) -> bool:
        return self.error is not None or self._eof or self.closed.done()

    def queue_write(self, msgs: list[tuple[int, bytes]]) -> None:
        self._pending.extend(msgs)
        self._pending_bytes += sum(len(p) for _, p in msgs)
        if self._pending_bytes >= _COALESCE_LIMIT:
            self.flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if not self._pending or self.session is None or self.transport is None:
            return
        pending, self._pending = self._pending, []
        self._pending_bytes = 0
        if self.transport.is_closing():
            return
        try:
            wire = self.session.seal_batch(pending)
        except PeerwireError as e:
            self._fail(e)
            return
        self.transport.write(wire)


class Connection:
    """An established RLPx connection. Not safe to share between event loops."""

    def __init__(
        self,
        proto: _RlpxProtocol,
        *,
        read_timeout: float,
        write_timeout: float,
    ) -> None:
        assert proto.session is not None and proto.remote is not None
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
            async with asyncio.timeout(self.write_timeout):
                await self._proto._writable.wait()
        except builtins.TimeoutError:
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
                async with asyncio.timeout(wait):
                    await self._proto._readable.wait()
            except builtins.TimeoutError:
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
        with contextlib.suppress(builtins.TimeoutError):
            async with asyncio.timeout(2.0):
                await asyncio.shield(proto.closed)
        if not proto.closed.done():
            proto.transport.abort()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<rlpx.Connection remote={self._remote.node_id.hex()[:16]}>"


def _key_bytes(key: PrivateKey | bytes) -> bytes:
    return key.to_bytes() if isinstance(key, PrivateKey) else bytes(key)


def _pub_bytes(key: PublicKey | bytes) -> bytes:
    return key.to_bytes() if isinstance(key, PublicKey) else PublicKey(bytes(key)).to_bytes()


async def _establish(
    proto: _RlpxProtocol,
    handshake_timeout: float,
    read_timeout: float,
    write_timeout: float,
) -> Connection:
    try:
        async with asyncio.timeout(handshake_timeout):
            await proto.established
    except builtins.TimeoutError:
        err = TimeoutError(f"RLPx handshake did not finish within {handshake_timeout} s")
        proto._fail(err)
        raise err from None
    except BaseException:
        if proto.transport is not None:
            proto.transport.abort()
        raise
    return Connection(proto, read_timeout=read_timeout, write_timeout=write_timeout)


def _initiator_protocol(
    private_key: PrivateKey | bytes, remote: PublicKey | bytes, inbox_limit: int
) -> _RlpxProtocol:
    hs, auth = _rlpx.Handshake.initiator(_key_bytes(private_key), _pub_bytes(remote))
    return _RlpxProtocol(hs, auth, inbox_limit)


def _recipient_protocol(private_key: PrivateKey | bytes, inbox_limit: int) -> _RlpxProtocol:
    return _RlpxProtocol(_rlpx.Handshake.recipient(_key_bytes(private_key)), None, inbox_limit)


async def dial(
    host: str,
    port: int,
    *,
    remote_public_key: PublicKey | bytes,
    private_key: PrivateKey | bytes,
    timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,  # noqa: ASYNC109 (API.md name)
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    inbox_limit: int = DEFAULT_INBOX_LIMIT,
) -> Connection:
    """Connect to ``host:port`` and run the initiator handshake (TCP connect included in ``timeout``).

    Raises:
        TimeoutError: the connect or the handshake took longer than ``timeout``.
        HandshakeError, InvalidKeyError: the peer's ack was invalid.
        ConnectionClosedError: the peer closed the connection.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    proto = _initiator_protocol(private_key, remote_public_key, inbox_limit)
    try:
        async with asyncio.timeout(timeout):
            await loop.create_connection(lambda: proto, host, port)
    except builtins.TimeoutError:
        raise TimeoutError(f"TCP connect to {host}:{port} timed out") from None
    except OSError as e:
        raise ConnectionClosedError(f"connect to {host}:{port} failed: {e}") from e
    return await _establish(proto, max(0.0, deadline - loop.time()), read_timeout, write_timeout)


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
    ) -> None:
        self._host = host
        self._port = port
        self._key = _key_bytes(private_key)
        self._handshake_timeout = handshake_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._inbox_limit = inbox_limit
        self._max_pending = max_pending
        self._handshaking = 0
        self._accepted: asyncio.Queue[Connection] = asyncio.Queue(maxsize=_ACCEPT_BACKLOG)
        self._server: asyncio.Server | None = None
        self._pending: dict[_RlpxProtocol, asyncio.TimerHandle] = {}
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

    def _make_protocol(self) -> _RlpxProtocol:
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

    def _expire(self, proto: _RlpxProtocol) -> None:
        if not proto.established.done():
            proto._fail(TimeoutError(f"RLPx handshake did not finish within {self._handshake_timeout} s"))

    def _on_established(self, proto: _RlpxProtocol, fut: asyncio.Future[None]) -> None:
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
        conn = Connection(proto, read_timeout=self._read_timeout, write_timeout=self._write_timeout)
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
            async with asyncio.timeout(timeout):
                return await self._accepted.get()
        except builtins.TimeoutError:
            raise TimeoutError(f"no connection accepted within {timeout} s") from None

    async def next_failure(self, within: float) -> BaseException:
        """Wait for the next failed inbound handshake and return its error (tests, diagnostics)."""
        try:
            async with asyncio.timeout(within):
                while not self.failures:
                    self._failure_event.clear()
                    await self._failure_event.wait()
        except builtins.TimeoutError:
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
            with contextlib.suppress(builtins.TimeoutError):
                async with asyncio.timeout(2.0):
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
    )
    await listener.start()
    try:
        yield listener
    finally:
        await listener.close()


# -- in-memory transport (conformance tests run the same suite over it and TCP) --


class _PipeTransport(asyncio.Transport):
    """One end of an in-memory, ordered, reliable byte pipe."""

    def __init__(self, loop: asyncio.AbstractEventLoop, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self._loop = loop
        self._protocol = protocol
        self.peer: _PipeTransport | None = None
        self._closing = False
        self._paused = False
        self._held: list[bytes] = []
        self._eof_held = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self.peer is None:
            return
        self._loop.call_soon(self.peer._deliver, bytes(data))

    def _deliver(self, data: bytes) -> None:
        if self._closing:
            return
        if self._paused:
            self._held.append(data)
            return
        self._protocol.data_received(data)

    def _remote_closed(self) -> None:
        if self._closing:
            return
        if self._paused:
            self._eof_held = True
            return
        self._protocol.eof_received()
        self.close()

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False
        held, self._held = self._held, []
        for d in held:
            self._loop.call_soon(self._deliver, d)
        if self._eof_held:
            self._eof_held = False
            self._loop.call_soon(self._remote_closed)

    def is_reading(self) -> bool:
        return not self._paused

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._loop.call_soon(self._protocol.connection_lost, None)
        if self.peer is not None:
            self._loop.call_soon(self.peer._remote_closed)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self._closing

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("memory", 0)}.get(name, default)


def _pipe(
    loop: asyncio.AbstractEventLoop, a: asyncio.Protocol, b: asyncio.Protocol
) -> tuple[_PipeTransport, _PipeTransport]:
    ta, tb = _PipeTransport(loop, a), _PipeTransport(loop, b)
    ta.peer, tb.peer = tb, ta
    a.connection_made(ta)
    b.connection_made(tb)
    return ta, tb


async def _memory_pair(
    key_a: PrivateKey,
    key_b: PrivateKey,
    *,
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    inbox_limit: int = DEFAULT_INBOX_LIMIT,
) -> tuple[Connection, Connection]:
    """Two connected RLPx connections over an in-memory pipe (A dials B)."""
    loop = asyncio.get_running_loop()
    pa = _initiator_protocol(key_a, key_b.public_key, inbox_limit)
    pb = _recipient_protocol(key_b, inbox_limit)
    _pipe(loop, pa, pb)
    ca, cb = await asyncio.gather(
        _establish(pa, handshake_timeout, read_timeout, write_timeout),
        _establish(pb, handshake_timeout, read_timeout, write_timeout),
    )
    return ca, cb
