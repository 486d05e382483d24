"""Transport conformance harness for ``peerwire.devp2p.rlpx``.

One set of checks, run over every way of carrying bytes: an in-memory pipe
and loopback TCP. A transport passes when ``make_pair`` yields two connected
``Connection`` objects for which every check holds. ``RawPeer`` is a
deliberately dumb peer (handshake through ``peerwire._core.rlpx``, then raw
bytes) used to inject bad input over TCP.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from peerwire._core import rlpx as core
from peerwire.devp2p import PrivateKey, rlpx
from peerwire.errors import ConnectionClosedError

Pair = tuple[rlpx.Connection, rlpx.Connection]
PairFactory = Callable[..., contextlib.AbstractAsyncContextManager[Pair]]


@contextlib.asynccontextmanager
async def memory_pair(**kw: Any) -> AsyncIterator[Pair]:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    ca, cb = await rlpx.memory_pair(a, b, **kw)
    try:
        yield ca, cb
    finally:
        await ca.close()
        await cb.close()


@contextlib.asynccontextmanager
async def tcp_pair(**kw: Any) -> AsyncIterator[Pair]:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    hs = kw.pop("handshake_timeout", rlpx.DEFAULT_HANDSHAKE_TIMEOUT)
    async with rlpx.listen("127.0.0.1", 0, private_key=b, handshake_timeout=hs, **kw) as lst:
        ca = await rlpx.dial(
            "127.0.0.1", lst.port, remote_public_key=b.public_key, private_key=a, timeout=hs, **kw
        )
        cb = await lst.accept(timeout=5)
        try:
            yield ca, cb
        finally:
            await ca.close()
            await cb.close()


TRANSPORTS: dict[str, PairFactory] = {"memory": memory_pair, "tcp": tcp_pair}


# ---------------------------------------------------------------- the checks


async def check_roundtrip_both_ways(make: PairFactory, snappy: bool) -> None:
    rng = random.Random(7)
    async with make() as (a, b):
        a.set_snappy(snappy)
        b.set_snappy(snappy)
        msgs = [(rng.randrange(0, 2**20), rng.randbytes(rng.randrange(0, 70_000))) for _ in range(40)]

        async def pump(tx: rlpx.Connection, rx: rlpx.Connection) -> None:
            async def send() -> None:
                for c, p in msgs:
                    await tx.send(c, p)

            task = asyncio.create_task(send())
            for want in msgs:
                assert await rx.recv() == want
            await task

        await asyncio.gather(pump(a, b), pump(b, a))
        assert a.remote_public_key != b.remote_public_key


async def check_batch_and_empty(make: PairFactory) -> None:
    async with make() as (a, b):
        batch = [(0, b""), (1, b"x"), (0x80, b"y" * 1000), (2**64 - 1, b"z")]
        await a.send_batch(batch)
        assert [await b.recv() for _ in batch] == batch


async def check_large_messages(make: PairFactory) -> None:
    async with make() as (a, b):
        big = os.urandom(rlpx.MAX_PAYLOAD_SIZE - 1)
        send = asyncio.create_task(a.send(0x10, big))
        assert await b.recv(timeout=20) == (0x10, big)
        await send
        a.set_snappy(True)
        b.set_snappy(True)
        zeros = bytes(rlpx.MAX_PAYLOAD_SIZE)
        send = asyncio.create_task(a.send(0x11, zeros))
        assert await b.recv(timeout=20) == (0x11, zeros)
        await send


async def check_close_is_seen(make: PairFactory) -> None:
    async with make() as (a, b):
        await a.send(1, b"last")
        await a.close()
        assert await b.recv(timeout=5) == (1, b"last")
        try:
            await b.recv(timeout=5)
        except ConnectionClosedError:
            pass
        else:
            raise AssertionError("recv after peer close must raise ConnectionClosedError")


async def check_read_timeout(make: PairFactory) -> None:
    async with make(read_timeout=0.2) as (_a, b):
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        try:
            await b.recv()
        except TimeoutError:
            pass
        else:
            raise AssertionError("recv must time out")
        assert loop.time() - t0 < 2


async def check_backpressure_bounded(make: PairFactory) -> None:
    """A reader that does not read makes the writer wait, not the memory grow without bound."""
    async with make(inbox_limit=256 * 1024, write_timeout=0.5) as (a, _b):
        chunk = os.urandom(64 * 1024)
        sent = 0
        with contextlib.suppress(TimeoutError):
            for _ in range(2000):  # 128 MiB if nothing pushed back
                await a.send(1, chunk)
                sent += 1
        assert sent < 2000, "writer was never slowed down"


CHECKS: dict[str, Callable[[PairFactory], Awaitable[None]]] = {
    "roundtrip": lambda m: check_roundtrip_both_ways(m, False),
    "roundtrip_snappy": lambda m: check_roundtrip_both_ways(m, True),
    "batch_and_empty": check_batch_and_empty,
    "large_messages": check_large_messages,
    "close_is_seen": check_close_is_seen,
    "read_timeout": check_read_timeout,
}


# ----------------------------------------------------------- misbehaving peer


class RawPeer:
    """An RLPx peer over asyncio streams that can write any bytes it likes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.session: core.Session | None = None

    @classmethod
    async def dial(cls, port: int, remote: PrivateKey, *, handshake: bool = True) -> RawPeer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        peer = cls(reader, writer)
        if handshake:
            await peer.initiate(PrivateKey.generate(), remote)
        return peer

    async def initiate(self, key: PrivateKey, remote: PrivateKey) -> None:
        hs, auth = core.Handshake.initiator(key.to_bytes(), remote.public_key.to_bytes())
        self.writer.write(auth)
        while True:
            data = await asyncio.wait_for(self.reader.read(65536), 5)
            assert data, "peer closed during handshake"
            done = hs.feed(data)
            if done is not None:
                self.session = done.session()
                return

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def closed_by_peer(self, within: float = 5.0) -> bool:
        """True when the other side closed the socket (EOF or reset) within ``within`` s."""
        try:
            async with asyncio.timeout(within):
                while await self.reader.read(65536):
                    pass
        except (ConnectionError, OSError):
            return True
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.writer.close()
