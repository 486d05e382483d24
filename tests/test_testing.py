"""peerwire.testing: the memory pipe and the fake-clock helpers (mirrors python/peerwire/testing/)."""

from __future__ import annotations

import asyncio
import os

import pytest

from peerwire import tm2
from peerwire.errors import TimeoutError as PeerwireTimeout
from peerwire.testing import FakeClock, autojump, connect_protocols, memory_pipe, settle
from peerwire.tm2 import ChannelDescriptor, MConnection

KEY_A = tm2.NodeKey.from_seed(b"\x0a" * 32)
KEY_B = tm2.NodeKey.from_seed(b"\x0b" * 32)


def test_pipe_carries_bytes_both_ways_in_order_and_eof() -> None:
    async def main() -> None:
        a, b = memory_pipe(a_address=("10.0.0.1", 1111), b_address=("10.0.0.2", 2222))
        assert a.writer.get_extra_info("peername") == ("10.0.0.2", 2222)
        a.writer.write(b"hello ")
        a.writer.write(b"world")
        assert not b.reader._buffer  # type: ignore[attr-defined]  # nothing arrives inside write()
        assert await b.reader.readexactly(11) == b"hello world"
        b.writer.write(b"back")
        await b.writer.drain()
        assert await a.reader.readexactly(4) == b"back"
        a.writer.close()
        await a.writer.wait_closed()
        assert await b.reader.read() == b""  # EOF after the data

    asyncio.run(main())


def test_pipe_chunked_delivery_and_backpressure() -> None:
    async def main() -> None:
        a, b = memory_pipe(high_water=1000, chunk=1, limit=64)
        payload = os.urandom(5000)

        async def write_all() -> None:
            a.writer.write(payload)
            await a.writer.drain()

        writer = asyncio.create_task(write_all())
        await settle()
        assert not writer.done()  # the reader has not read: the writer waits, as on TCP
        assert a.writer.transport.get_write_buffer_size() > 1000
        got = await asyncio.wait_for(b.reader.readexactly(len(payload)), 5)
        await asyncio.wait_for(writer, 5)
        assert got == payload and a.writer.transport.get_write_buffer_size() == 0

    asyncio.run(main())


def test_abort_resets_the_other_side() -> None:
    async def main() -> None:
        a, b = memory_pipe()
        a.writer.write(b"lost")
        a.writer.transport.abort()
        await settle()
        with pytest.raises(ConnectionResetError):
            await b.reader.read(10)

    asyncio.run(main())


def test_connect_protocols_runs_a_plain_protocol() -> None:
    async def main() -> None:
        got: list[bytes] = []

        class Echo(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                assert isinstance(transport, asyncio.Transport)
                self.t = transport

            def data_received(self, data: bytes) -> None:
                self.t.write(data.upper())

        class Client(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                got.append(data)

        ta, _ = connect_protocols(Client(), Echo())
        ta.write(b"ping")
        await settle()
        assert got == [b"PING"]

    asyncio.run(main())


def test_real_secret_connection_and_mconnection_over_the_pipe() -> None:
    """The real TM2 stack (STS handshake, then MConnection) over memory_pipe, trickled byte by byte."""

    async def main() -> None:
        a, b = memory_pipe(chunk=7)
        async with asyncio.timeout(10):
            sa, sb = await asyncio.gather(
                tm2.SecretConnection.make(a.reader, a.writer, KEY_A),
                tm2.SecretConnection.make(b.reader, b.writer, KEY_B),
            )
        assert sa.remote_public_key == KEY_B.public_key
        got: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(maxsize=10)
        errors: list[BaseException] = []

        async def on_receive(ch: int, msg: bytes) -> None:
            await got.put((ch, msg))

        chans = [ChannelDescriptor(1)]
        ma = MConnection(sa, chans, on_receive, errors.append)
        mb = MConnection(sb, chans, on_receive, errors.append)
        ma.start()
        mb.start()
        big = os.urandom(5000)
        async with asyncio.timeout(10):
            assert await ma.send(1, big)
            assert await got.get() == (1, big)
        await ma.stop()
        await mb.stop()

    asyncio.run(main())


def test_autojump_runs_timeouts_without_waiting() -> None:
    async def main() -> None:
        clock = FakeClock()

        async def exchange() -> list[str]:
            log = []
            for attempt in range(3):  # three 5 s reply timeouts, then success after a 1 s sleep
                try:
                    async with clock.timeout(5.0):
                        await asyncio.Event().wait()
                except PeerwireTimeout:
                    log.append(f"timeout {attempt} at {clock.monotonic()}")
            await clock.sleep(1.0)
            log.append(f"done at {clock.monotonic()}")
            return log

        loop = asyncio.get_running_loop()
        started = loop.time()
        log = await autojump(clock, exchange())
        assert log == ["timeout 0 at 5.0", "timeout 1 at 10.0", "timeout 2 at 15.0", "done at 16.0"]
        assert loop.time() - started < 5.0

        with pytest.raises(RuntimeError, match="waits on nothing"):
            await autojump(clock, asyncio.Event().wait(), idle=0.001)

    asyncio.run(main())
