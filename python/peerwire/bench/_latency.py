"""Round-trip latency of small messages, against plain asyncio streams on the same loopback.

Each side runs in this process and event loop: ``a`` sends 64 bytes, ``b`` echoes them, ``a``
waits for the echo. Plain asyncio TCP streams doing the same (no framing, no crypto) are the
floor any asyncio stack sits on, so the ratio says how much of a round trip peerwire adds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from peerwire._clock import SYSTEM_CLOCK
from peerwire.bench._pairs import rlpx_pair, secret_pair

__all__ = ["MESSAGE", "asyncio_round_trips", "rlpx_round_trips", "secret_round_trips"]

MESSAGE = bytes(range(64))
ECHO_TIMEOUT = 5.0


async def _time(n: int, once: Callable[[], Awaitable[None]]) -> float:
    """Mean seconds per round trip over ``n`` (after one untimed warm-up)."""
    await once()
    t0 = time.perf_counter()
    for _ in range(n):
        await once()
    return (time.perf_counter() - t0) / n


async def asyncio_round_trips(n: int) -> float:
    async def echo(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        finally:
            w.close()

    srv = await asyncio.start_server(echo, "127.0.0.1", 0)
    r, w = await asyncio.open_connection("127.0.0.1", srv.sockets[0].getsockname()[1])

    async def once() -> None:
        w.write(MESSAGE)
        await w.drain()
        async with SYSTEM_CLOCK.timeout(ECHO_TIMEOUT):
            echoed = await r.readexactly(len(MESSAGE))
        if echoed != MESSAGE:
            raise AssertionError("asyncio echo changed the message")

    try:
        return await _time(n, once)
    finally:
        w.close()
        srv.close()
        await srv.wait_closed()


async def rlpx_round_trips(n: int) -> float:
    pair = await rlpx_pair()

    async def echo() -> None:
        while True:
            code, payload = await pair.b.recv()
            await pair.b.send(code, payload)

    async def once() -> None:
        await pair.a.send(0x10, MESSAGE)
        if await pair.a.recv(timeout=ECHO_TIMEOUT) != (0x10, MESSAGE):
            raise AssertionError("RLPx echo changed the message")

    task = asyncio.create_task(echo())
    try:
        return await _time(n, once)
    finally:
        task.cancel()
        await pair.close()


async def secret_round_trips(n: int) -> float:
    pair = await secret_pair()

    async def echo() -> None:
        while data := await pair.b.read():
            await pair.b.write(data)

    async def once() -> None:
        await pair.a.write(MESSAGE)
        got = b""
        async with SYSTEM_CLOCK.timeout(ECHO_TIMEOUT):
            while len(got) < len(MESSAGE):
                got += await pair.a.read()
        if got != MESSAGE:
            raise AssertionError("secret connection echo changed the message")

    task = asyncio.create_task(echo())
    try:
        return await _time(n, once)
    finally:
        task.cancel()
        await pair.close()
