"""An in-memory, bounded, bidirectional byte pipe with the asyncio stream surface.

``memory_pipe()`` returns two connected ends; each is both the reader
(``read`` / ``readexactly``) and the writer (``write`` / ``drain`` / ``close``)
a secret connection needs, so the real handshake, MConnection and peer run
over it with no socket (trio's ``memory_stream_pair``). ``drain`` waits while
more than ``capacity`` bytes are unread on the other side: a reader that
stops reading stalls its writer, as a full TCP window does.
"""

from __future__ import annotations

import asyncio

__all__ = ["DEFAULT_PIPE_CAPACITY", "PipeEnd", "memory_pipe"]

# Unread bytes a pipe direction holds before drain() waits (a small socket buffer).
DEFAULT_PIPE_CAPACITY = 256 * 1024


class _Direction:
    __slots__ = ("data", "drained", "eof", "readable", "reader_gone")

    def __init__(self) -> None:
        self.data = bytearray()
        self.eof = False  # the writer closed: reads return b"" once data is consumed
        self.reader_gone = False  # the reader closed: writes fail
        self.readable = asyncio.Event()
        self.drained = asyncio.Event()


class PipeEnd:
    """One end of a :func:`memory_pipe`."""

    def __init__(
        self,
        rx: _Direction,
        tx: _Direction,
        sockname: tuple[str, int],
        peername: tuple[str, int],
        capacity: int,
    ) -> None:
        self._rx = rx
        self._tx = tx
        self._extra = {"sockname": sockname, "peername": peername}
        self._capacity = capacity
        self._closed = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self._extra.get(name, default)

    async def read(self, n: int = -1) -> bytes:
        rx = self._rx
        while not rx.data:
            if rx.eof or self._closed:
                return b""
            rx.readable.clear()
            await rx.readable.wait()
        if n < 0 or n >= len(rx.data):
            out = bytes(rx.data)
            rx.data.clear()
        else:
            out = bytes(rx.data[:n])
            del rx.data[:n]
        rx.drained.set()
        return out

    async def readexactly(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = await self.read(n - len(buf))
            if not chunk:
                raise asyncio.IncompleteReadError(bytes(buf), n)
            buf += chunk
        return bytes(buf)

    def write(self, data: bytes) -> None:
        tx = self._tx
        if self._closed or tx.reader_gone:
            raise ConnectionResetError("memory pipe closed")
        tx.data += data
        tx.readable.set()

    async def drain(self) -> None:
        tx = self._tx
        while len(tx.data) > self._capacity:
            if self._closed or tx.reader_gone:
                raise ConnectionResetError("memory pipe closed")
            tx.drained.clear()
            await tx.drained.wait()
        if self._closed or tx.reader_gone:
            raise ConnectionResetError("memory pipe closed")

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._tx.eof = True
        self._tx.readable.set()
        self._rx.reader_gone = True
        self._rx.data.clear()
        self._rx.drained.set()
        self._rx.readable.set()

    async def wait_closed(self) -> None:
        return None


def memory_pipe(
    a_name: tuple[str, int] = ("127.0.0.1", 1),
    b_name: tuple[str, int] = ("127.0.0.1", 2),
    capacity: int = DEFAULT_PIPE_CAPACITY,
) -> tuple[PipeEnd, PipeEnd]:
    """Two connected ends; ``a_name`` / ``b_name`` are what ``get_extra_info`` reports."""
    ab, ba = _Direction(), _Direction()
    return PipeEnd(ba, ab, a_name, b_name, capacity), PipeEnd(ab, ba, b_name, a_name, capacity)
