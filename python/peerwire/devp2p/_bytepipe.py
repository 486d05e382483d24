"""An in-memory, ordered, reliable byte pipe between two asyncio protocols.

Two :class:`PipeTransport` ends behave as a socket pair does for an
:class:`asyncio.Protocol` (writes arrive in order on the next loop turns,
``pause_reading`` holds delivery, closing one end is EOF on the other), with
no operating system involved: the conformance suites run over it and over TCP.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["PipeTransport", "pipe"]


class PipeTransport(asyncio.Transport):
    """One end of an in-memory, ordered, reliable byte pipe."""

    def __init__(self, loop: asyncio.AbstractEventLoop, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self._loop = loop
        self._protocol = protocol
        self.peer: PipeTransport | None = None
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


def pipe(
    loop: asyncio.AbstractEventLoop, a: asyncio.Protocol, b: asyncio.Protocol
) -> tuple[PipeTransport, PipeTransport]:
    ta, tb = PipeTransport(loop, a), PipeTransport(loop, b)
    ta.peer, tb.peer = tb, ta
    a.connection_made(ta)
    b.connection_made(tb)
    return ta, tb
