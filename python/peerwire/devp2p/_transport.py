"""What the server needs from RLPx, as interfaces, plus an in-memory network.

The server is written against :class:`Transport` (an established RLPx
connection: ``send``/``recv``/``set_snappy``/``close``/``remote_public_key``,
the API of ``peerwire.devp2p.rlpx``) and :class:`Network` (dialing and
listening). :class:`MemoryNetwork` implements both in memory, with the same
observable behaviour a socket gives the server (closing, ordering, backpressure)
but no encryption: it is the harness for the server's conformance tests, in
the spirit of go-ethereum's ``p2p.MsgPipe``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from peerwire.devp2p._keys import PrivateKey, PublicKey
from peerwire.errors import ConnectionClosedError, DialError, HandshakeError
from peerwire.events import DialFailureReason

__all__ = [
    "Incoming",
    "Listener",
    "MemoryNetwork",
    "MemoryTransport",
    "Network",
    "Transport",
]

T = TypeVar("T")


class Transport(Protocol):
    """An established RLPx connection (``peerwire.devp2p.rlpx.Connection``).

    ``send`` and ``recv`` wait without a deadline of their own: the caller owns it.
    """

    @property
    def remote_public_key(self) -> PublicKey: ...

    async def send(self, code: int, payload: bytes) -> None: ...

    async def recv(self) -> tuple[int, bytes]: ...

    def set_snappy(self, enabled: bool) -> None: ...

    async def close(self) -> None: ...


class Incoming(Protocol):
    """An accepted connection whose RLPx handshake has not run yet (``rlpx.PendingConnection``)."""

    @property
    def remote_address(self) -> tuple[str, int]: ...

    @property
    def local_address(self) -> tuple[str, int]: ...

    async def handshake(self) -> Transport:
        """Run the recipient handshake; no deadline of its own (the caller owns it)."""
        ...

    def refuse(self) -> None:
        """Close without a handshake."""
        ...


class Listener(Protocol):
    @property
    def port(self) -> int: ...

    async def close(self) -> None: ...


class Network(Protocol):
    """Dialing and listening, RLPx handshake included."""

    async def dial(
        self, host: str, port: int, remote_public_key: PublicKey, private_key: PrivateKey
    ) -> tuple[Transport, tuple[str, int]]:
        """Connect and run the initiator handshake; returns the connection and the local address.

        No deadline of its own: the caller bounds the whole call.
        """
        ...

    async def listen(
        self,
        host: str,
        port: int,
        private_key: PrivateKey,
        on_accept: Callable[[Incoming], None],
    ) -> Listener:
        """Listen; ``on_accept`` gets every connection before its handshake and must not block."""
        ...


# ---------------------------------------------------------------------------
# In-memory network


_CLOSED = object()
PIPE_DEPTH = 64  # frames in flight per direction before send() waits (backpressure)


@dataclass
class _Wire:
    queue: asyncio.Queue[object] = field(default_factory=lambda: asyncio.Queue(maxsize=PIPE_DEPTH))
    closed: bool = False


class MemoryTransport:
    """One end of an in-memory connection; records what it sent (and whether compressed)."""

    def __init__(self, local: PublicKey, remote: PublicKey, out: _Wire, inp: _Wire) -> None:
        self._local = local
        self._remote = remote
        self._out = out
        self._in = inp
        self.snappy = False
        self.closed = False
        self.sent: list[tuple[int, bytes, bool]] = []

    @property
    def remote_public_key(self) -> PublicKey:
        return self._remote

    @property
    def is_closed(self) -> bool:
        """Closed by either end."""
        return self.closed or self._in.closed

    async def send(self, code: int, payload: bytes) -> None:
        if self.closed or self._out.closed:
            raise ConnectionClosedError("connection closed")
        self.sent.append((code, payload, self.snappy))
        await self._out.queue.put((code, bytes(payload)))

    async def recv(self) -> tuple[int, bytes]:
        if self.closed:
            raise ConnectionClosedError("connection closed")
        item = await self._in.queue.get()
        if item is _CLOSED:
            self._in.queue.put_nowait(_CLOSED)
            raise ConnectionClosedError("connection closed by peer")
        assert isinstance(item, tuple)
        return item

    def set_snappy(self, enabled: bool) -> None:
        self.snappy = enabled

    async def close(self) -> None:
        self.close_now()

    def close_now(self) -> None:
        """Close both directions at once (nothing to flush in memory)."""
        if self.closed:
            return
        self.closed = True
        for wire in (self._out, self._in):
            wire.closed = True
            while True:
                try:
                    wire.queue.put_nowait(_CLOSED)
                    break
                except asyncio.QueueFull:
                    wire.queue.get_nowait()


def memory_pipe(a: PublicKey, b: PublicKey) -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected ends: the first is ``a``'s (its remote is ``b``), the second ``b``'s."""
    ab, ba = _Wire(), _Wire()
    return MemoryTransport(a, b, ab, ba), MemoryTransport(b, a, ba, ab)


class _MemIncoming:
    def __init__(self, transport: MemoryTransport, remote: tuple[str, int], local: tuple[str, int]) -> None:
        self._t = transport
        self._remote = remote
        self._local = local

    @property
    def remote_address(self) -> tuple[str, int]:
        return self._remote

    @property
    def local_address(self) -> tuple[str, int]:
        return self._local

    async def handshake(self) -> Transport:
        if self._t.closed:
            raise HandshakeError("connection closed during handshake")
        return self._t

    def refuse(self) -> None:
        self._t.close_now()


class _MemListener:
    def __init__(self, net: MemoryNetwork, addr: tuple[str, int]) -> None:
        self._net = net
        self._addr = addr

    @property
    def port(self) -> int:
        return self._addr[1]

    async def close(self) -> None:
        self._net._listeners.pop(self._addr, None)


class MemoryNetwork:
    """Listeners keyed by ``(host, port)``; ``dial`` connects to them in memory.

    ``open_transports()`` counts ends of connections not yet closed by either side (the in-memory stand-in for
    file descriptors). ``source_host`` sets the address dialers appear from.
    """

    def __init__(self) -> None:
        self._listeners: dict[tuple[str, int], tuple[PrivateKey, Callable[[Incoming], None]]] = {}
        self._ports = itertools.count(30000)
        self.transports: list[MemoryTransport] = []
        self.source_host = "127.0.0.1"
        self.dials: list[tuple[str, int]] = []

    def open_transports(self) -> int:
        return sum(1 for t in self.transports if not t.is_closed)

    async def dial(
        self, host: str, port: int, remote_public_key: PublicKey, private_key: PrivateKey
    ) -> tuple[Transport, tuple[str, int]]:
        self.dials.append((host, port))
        entry = self._listeners.get((host, port))
        if entry is None:
            raise DialError(f"connection refused: {host}:{port}", reason=DialFailureReason.CONNECT_REFUSED)
        key, on_accept = entry
        if key.public_key != remote_public_key:
            raise HandshakeError("remote key does not match the dialed node")
        src = (self.source_host, next(self._ports))
        mine, theirs = memory_pipe(private_key.public_key, key.public_key)
        self.transports += [mine, theirs]
        on_accept(_MemIncoming(theirs, src, (host, port)))
        return mine, src

    async def connect_raw(self, host: str, port: int, key: PrivateKey) -> MemoryTransport:
        """Dial as a hand-driven test peer: no server on this side, full control of frames."""
        t, _ = await self.dial(host, port, self._listeners[(host, port)][0].public_key, key)
        assert isinstance(t, MemoryTransport)
        return t

    async def listen(
        self,
        host: str,
        port: int,
        private_key: PrivateKey,
        on_accept: Callable[[Incoming], None],
    ) -> Listener:
        if port == 0:
            port = next(self._ports)
        if (host, port) in self._listeners:
            raise OSError(f"address in use: {host}:{port}")
        self._listeners[(host, port)] = (private_key, on_accept)
        return _MemListener(self, (host, port))
