"""Helpers for the TM2 tests: a pair of secret connections over loopback TCP."""

from __future__ import annotations

import asyncio

from peerwire import tm2
from peerwire.tm2._secret import STREAM_LIMIT

KEY_A = tm2.NodeKey.from_seed(b"\x01" * 32)
KEY_B = tm2.NodeKey.from_seed(b"\x02" * 32)


class MemoryWriter:
    """The writing end of an in-memory pipe: bytes land in the peer's ``StreamReader``."""

    def __init__(self, peer: asyncio.StreamReader) -> None:
        self._peer = peer
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionResetError("pipe closed")
        self._peer.feed_data(data)

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._peer.feed_eof()

    async def wait_closed(self) -> None:
        return None


def memory_pipe() -> tuple[
    tuple[asyncio.StreamReader, MemoryWriter], tuple[asyncio.StreamReader, MemoryWriter]
]:
    """Two connected (reader, writer) ends, no sockets involved."""
    ra, rb = asyncio.StreamReader(), asyncio.StreamReader()
    return (ra, MemoryWriter(rb)), (rb, MemoryWriter(ra))


async def secret_pair_memory() -> tuple[tm2.SecretConnection, tm2.SecretConnection]:
    (ra, wa), (rb, wb) = memory_pipe()
    async with asyncio.timeout(5):
        a, b = await asyncio.gather(
            tm2.SecretConnection.make(ra, wa, KEY_A), tm2.SecretConnection.make(rb, wb, KEY_B)
        )
    return a, b


async def secret_pair() -> tuple[tm2.SecretConnection, tm2.SecretConnection, asyncio.Server]:
    got: asyncio.Queue[tm2.SecretConnection] = asyncio.Queue(maxsize=1)

    async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await got.put(await tm2.SecretConnection.make(r, w, KEY_B))

    srv = await asyncio.start_server(serve, "127.0.0.1", 0, limit=STREAM_LIMIT)
    port = srv.sockets[0].getsockname()[1]
    r, w = await asyncio.open_connection("127.0.0.1", port, limit=STREAM_LIMIT)
    async with asyncio.timeout(5):
        a = await tm2.SecretConnection.make(r, w, KEY_A)
        b = await got.get()
    return a, b, srv
