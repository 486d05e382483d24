"""The server's real network: TCP + RLPx from :mod:`peerwire.devp2p.rlpx`.

Inbound sockets are paused as soon as they are accepted, so the server's
admission steps (handshake token, net_restrict, inbound throttle) run before a
single RLPx byte is read or written, as in go-ethereum's listen loop; a
refused socket is simply closed.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from peerwire._core import rlpx as _rlpx
from peerwire.devp2p import rlpx
from peerwire.devp2p._base import DIAL_TIMEOUT, FRAME_READ_TIMEOUT, FRAME_WRITE_TIMEOUT, HANDSHAKE_TIMEOUT
from peerwire.devp2p._keys import PrivateKey, PublicKey
from peerwire.devp2p._transport import Incoming, Listener, Transport

__all__ = ["RlpxNetwork"]

#: Received-but-unread bytes per connection before its socket stops being
#: read; smaller than the raw transport's default so thousands of idle peers
#: stay cheap (devp2p messages above this still pass, they just pause reading).
SERVER_INBOX_LIMIT = 1024 * 1024


def _addr(info: Any) -> tuple[str, int]:
    if isinstance(info, tuple) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return ("", 0)


class _Conn:
    """An ``rlpx.Connection`` as the server's transport.

    The RLPx driver decodes frames as soon as bytes arrive; frames that came in
    the same read as the remote Hello are decompressed by
    ``rlpx.Connection.set_snappy(True)`` itself.
    """

    def __init__(self, conn: rlpx.Connection) -> None:
        self._c = conn

    @property
    def remote_public_key(self) -> PublicKey:
        return self._c.remote_public_key

    async def send(self, code: int, payload: bytes) -> None:
        await self._c.send(code, payload)

    async def recv(self) -> tuple[int, bytes]:
        return await self._c.recv()

    def set_snappy(self, enabled: bool) -> None:
        self._c.set_snappy(enabled)  # rlpx.Connection repairs the already-decoded inbox itself

    async def close(self) -> None:
        await self._c.close()


def _retrieve(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled():
        fut.exception()


class _GatedProtocol(rlpx._RlpxProtocol):
    def __init__(self, key: bytes, on_accept: Callable[[_GatedProtocol], None]) -> None:
        super().__init__(_rlpx.Handshake.recipient(key), None, SERVER_INBOX_LIMIT)
        self._on_accept = on_accept
        # A refused socket is aborted before anyone awaits the handshake: mark its failure seen.
        self.established.add_done_callback(_retrieve)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.transport is not None:  # set by the base class; uvloop's is no asyncio.Transport
            self.transport.pause_reading()
        self._on_accept(self)


class _Incoming:
    def __init__(self, proto: _GatedProtocol) -> None:
        self._proto = proto
        t = proto.transport
        self._remote = _addr(t.get_extra_info("peername")) if t else ("", 0)
        self._local = _addr(t.get_extra_info("sockname")) if t else ("", 0)

    @property
    def remote_address(self) -> tuple[str, int]:
        return self._remote

    @property
    def local_address(self) -> tuple[str, int]:
        return self._local

    async def handshake(self) -> Transport:
        if self._proto.transport is not None:
            self._proto.transport.resume_reading()
        conn = await rlpx._establish(self._proto, HANDSHAKE_TIMEOUT, FRAME_READ_TIMEOUT, FRAME_WRITE_TIMEOUT)
        return _Conn(conn)

    async def close(self) -> None:
        if self._proto.transport is not None:
            self._proto.transport.abort()


class _TcpListener:
    def __init__(self, server: asyncio.Server, tasks: set[asyncio.Task[None]]) -> None:
        self._server = server
        self._tasks = tasks

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        self._server.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(builtins.TimeoutError):
            async with asyncio.timeout(2.0):
                await self._server.wait_closed()


class RlpxNetwork:
    """Dial and listen with RLPx over TCP."""

    async def dial(
        self, host: str, port: int, remote_public_key: PublicKey, private_key: PrivateKey
    ) -> tuple[Transport, tuple[str, int]]:
        conn = await rlpx.dial(
            host,
            port,
            remote_public_key=remote_public_key,
            private_key=private_key,
            timeout=DIAL_TIMEOUT + HANDSHAKE_TIMEOUT,
            inbox_limit=SERVER_INBOX_LIMIT,
        )
        t = conn._proto.transport
        return _Conn(conn), _addr(t.get_extra_info("sockname")) if t else ("", 0)

    async def listen(
        self,
        host: str,
        port: int,
        private_key: PrivateKey,
        handler: Callable[[Incoming], Awaitable[None]],
    ) -> Listener:
        key = private_key.to_bytes()
        tasks: set[asyncio.Task[None]] = set()

        def on_accept(proto: _GatedProtocol) -> None:
            task = asyncio.ensure_future(handler(_Incoming(proto)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _GatedProtocol(key, on_accept), host, port, family=socket.AF_UNSPEC, backlog=128
        )
        return _TcpListener(server, tasks)
