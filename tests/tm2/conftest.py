"""Helpers for the TM2 tests: a pair of secret connections over loopback TCP."""

from __future__ import annotations

import asyncio

from peerwire import tm2

KEY_A = tm2.NodeKey.from_seed(b"\x01" * 32)
KEY_B = tm2.NodeKey.from_seed(b"\x02" * 32)


async def secret_pair() -> tuple[tm2.SecretConnection, tm2.SecretConnection, asyncio.Server]:
    got: asyncio.Queue[tm2.SecretConnection] = asyncio.Queue(maxsize=1)

    async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await got.put(await tm2.SecretConnection.make(r, w, KEY_B))

    srv = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    r, w = await asyncio.open_connection("127.0.0.1", port)
    async with asyncio.timeout(5):
        a = await tm2.SecretConnection.make(r, w, KEY_A)
        b = await got.get()
    return a, b, srv
