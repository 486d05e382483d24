"""The asyncio protocol under :mod:`peerwire.devp2p.rlpx`: socket callbacks to the Rust session.

Private to ``rlpx`` (only that module imports it). An :class:`RlpxProtocol`
hands every socket buffer to the Rust handshake machine, then to the session
codec (``peerwire._core.rlpx``), which returns all the messages it completes,
so Python pays one crossing per read, never one per frame. Sends made in one
loop iteration are sealed together and written with one ``transport.write``.
The inbox of decoded messages is bounded in bytes: when it fills, reading
pauses until the consumer catches up.
"""

from __future__ import annotations

import asyncio
import collections
from typing import cast

from peerwire._core import rlpx as _rlpx
from peerwire.errors import ConnectionClosedError, HandshakeError, PeerwireError

__all__ = ["RlpxProtocol"]

#: Bytes in the transport's write buffer above which ``send`` waits.
_WRITE_HIGH_WATER = 4 * 1024 * 1024
#: Queued (unsealed) bytes that trigger an immediate seal and write instead of
#: waiting for the end of the loop iteration: bounds the coalescing buffer.
_COALESCE_LIMIT = 256 * 1024


class RlpxProtocol(asyncio.Protocol):
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
