"""A byte-level in-memory pipe: two connected asyncio transports, no sockets.

Both stacks' real connection code runs over it unchanged: the devp2p RLPx
driver is an :class:`asyncio.Protocol` (use :func:`connect_protocols`), the TM2
secret connection reads an :class:`asyncio.StreamReader` and writes an
:class:`asyncio.StreamWriter` (use :func:`memory_pipe`, which builds real ones).

It behaves as a loopback socket pair does where tests care: bytes arrive in
order, later (on a following loop step, never inside ``write``), and
flow-controlled. Bytes written but not yet read by the other side count against
the writer's buffer; above ``high_water`` the writer's protocol is paused (a
``StreamWriter.drain()`` waits) until the reader catches up, so a test sees real
backpressure. ``chunk`` cuts every write into pieces of that many bytes (1: a
byte at a time) to shake out framing code that assumes whole messages.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, NamedTuple

__all__ = ["DEFAULT_HIGH_WATER", "MemoryStream", "MemoryTransport", "connect_protocols", "memory_pipe"]

#: Bytes in flight per direction before the writer is paused: about a loopback
#: socket's send + receive buffer, so a stalled reader stops a writer as TCP would.
DEFAULT_HIGH_WATER = 256 * 1024

Address = tuple[str, int]


class MemoryTransport(asyncio.Transport):
    """One end of the pipe (see the module doc)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol: asyncio.BaseProtocol,
        *,
        local: Address,
        remote: Address,
        high_water: int,
        chunk: int | None,
    ) -> None:
        super().__init__()
        self._loop = loop
        self._protocol = protocol
        self._local = local
        self._remote = remote
        self._high = high_water
        self._low = high_water // 4
        self._chunk = chunk
        self.peer: MemoryTransport | None = None
        self._closing = False
        self._lost = False
        self._reading = True
        self._eof_written = False
        # Bytes this end's protocol has not been given yet (written by the peer).
        self._incoming: deque[bytes] = deque()
        self._incoming_eof = False
        self._in_flight = 0  # bytes we wrote that the peer's protocol has not consumed
        self._writing_paused = False
        self._delivery_scheduled = False

    # -- writing --------------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self._eof_written:
            raise ConnectionResetError("write on a closed memory pipe")
        peer = self.peer
        if peer is None or peer._lost:
            return  # as a socket whose peer went away: the bytes are lost
        data = bytes(data)
        if not data:
            return
        step = self._chunk or len(data)
        for i in range(0, len(data), step):
            peer._incoming.append(data[i : i + step])
        self._in_flight += len(data)
        peer._schedule_delivery()
        if not self._writing_paused and self._in_flight > self._high:
            self._writing_paused = True
            self._protocol.pause_writing()

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def write_eof(self) -> None:
        if self._eof_written or self._closing:
            return
        self._eof_written = True
        if self.peer is not None:
            self.peer._incoming_eof = True
            self.peer._schedule_delivery()

    def can_write_eof(self) -> bool:
        return True

    def get_write_buffer_size(self) -> int:
        return self._in_flight

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._high = high if high is not None else DEFAULT_HIGH_WATER
        self._low = low if low is not None else self._high // 4

    def _consumed(self, n: int) -> None:
        """The peer's protocol took ``n`` of our bytes."""
        self._in_flight -= n
        if self._writing_paused and self._in_flight <= self._low and not self._lost:
            self._writing_paused = False
            self._protocol.resume_writing()

    # -- reading --------------------------------------------------------------------------------

    def _schedule_delivery(self) -> None:
        if not self._delivery_scheduled and not self._lost:
            self._delivery_scheduled = True
            self._loop.call_soon(self._deliver)

    def _deliver(self) -> None:
        self._delivery_scheduled = False
        while self._incoming and self._reading and not self._lost:
            data = self._incoming.popleft()
            if self.peer is not None:
                self.peer._consumed(len(data))
            proto = self._protocol
            if isinstance(proto, asyncio.BufferedProtocol):
                _feed_buffered(proto, data)
            else:
                assert isinstance(proto, asyncio.Protocol)
                proto.data_received(data)
        if self._incoming_eof and not self._incoming and self._reading and not self._lost:
            self._incoming_eof = False
            assert isinstance(self._protocol, asyncio.Protocol | asyncio.BufferedProtocol)
            keep_open = self._protocol.eof_received()
            if not keep_open:
                self.close()

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        if not self._reading:
            self._reading = True
            self._schedule_delivery()

    def is_reading(self) -> bool:
        return self._reading and not self._closing

    # -- closing --------------------------------------------------------------------------------

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        peer = self.peer
        if peer is not None and not peer._lost:
            # What we wrote still arrives, then EOF (a FIN after the data).
            peer._incoming_eof = True
            peer._schedule_delivery()
        self._loop.call_soon(self._connection_lost, None)

    def abort(self) -> None:
        """Close at once, dropping undelivered bytes both ways (an RST)."""
        peer = self.peer
        self._incoming.clear()
        if peer is not None and not peer._lost:
            peer._incoming.clear()
            self._loop.call_soon(peer._connection_lost, ConnectionResetError("memory pipe reset by peer"))
        self._closing = True
        self._loop.call_soon(self._connection_lost, None)

    def _connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._closing = True
        self._incoming.clear()
        if self.peer is not None:
            self.peer._consumed(self.peer._in_flight)  # nothing of theirs will be read
        self._protocol.connection_lost(exc)

    def is_closing(self) -> bool:
        return self._closing

    # -- misc -----------------------------------------------------------------------------------

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        info = {"peername": self._remote, "sockname": self._local}
        return info.get(name, default)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol


def _feed_buffered(proto: asyncio.BufferedProtocol, data: bytes) -> None:
    view = memoryview(data)
    while view:
        buf = memoryview(proto.get_buffer(len(view)))
        n = min(len(buf), len(view))
        buf[:n] = view[:n]
        proto.buffer_updated(n)
        view = view[n:]


def connect_protocols(
    a: asyncio.BaseProtocol,
    b: asyncio.BaseProtocol,
    *,
    a_address: Address = ("127.0.0.1", 1),
    b_address: Address = ("127.0.0.1", 2),
    high_water: int = DEFAULT_HIGH_WATER,
    chunk: int | None = None,
) -> tuple[MemoryTransport, MemoryTransport]:
    """Join two protocols by a memory pipe and call their ``connection_made`` (``a`` first).

    Must be called with a running event loop. ``a_address`` is ``a``'s ``sockname``
    and ``b``'s ``peername``, and the other way round.
    """
    loop = asyncio.get_running_loop()
    ta = MemoryTransport(loop, a, local=a_address, remote=b_address, high_water=high_water, chunk=chunk)
    tb = MemoryTransport(loop, b, local=b_address, remote=a_address, high_water=high_water, chunk=chunk)
    ta.peer, tb.peer = tb, ta
    a.connection_made(ta)
    b.connection_made(tb)
    return ta, tb


class MemoryStream(NamedTuple):
    """One end of :func:`memory_pipe`: a real ``StreamReader`` / ``StreamWriter`` pair."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


def memory_pipe(
    *,
    limit: int = 2**16,
    a_address: Address = ("127.0.0.1", 1),
    b_address: Address = ("127.0.0.1", 2),
    high_water: int = DEFAULT_HIGH_WATER,
    chunk: int | None = None,
) -> tuple[MemoryStream, MemoryStream]:
    """Two connected stream ends, as ``asyncio.open_connection`` would give each side.

    ``limit`` is the ``StreamReader`` buffer limit (``asyncio.open_connection``'s
    ``limit``). Must be called with a running event loop.
    """
    loop = asyncio.get_running_loop()
    ends: list[MemoryStream] = []
    protocols: list[asyncio.StreamReaderProtocol] = []
    readers: list[asyncio.StreamReader] = []
    for _ in range(2):
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        readers.append(reader)
        protocols.append(asyncio.StreamReaderProtocol(reader, loop=loop))
    ta, tb = connect_protocols(
        protocols[0],
        protocols[1],
        a_address=a_address,
        b_address=b_address,
        high_water=high_water,
        chunk=chunk,
    )
    for transport, proto, reader in ((ta, protocols[0], readers[0]), (tb, protocols[1], readers[1])):
        ends.append(MemoryStream(reader, asyncio.StreamWriter(transport, proto, reader, loop)))
    return ends[0], ends[1]
