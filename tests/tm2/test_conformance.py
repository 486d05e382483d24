"""One conformance harness, two transports: in-memory pipes and loopback TCP.

The same scenarios run over both, so a behaviour that depends on socket timing
(partial frames, coalesced writes) shows up as a difference between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.tm2.conftest import KEY_A, KEY_B, secret_pair, secret_pair_memory

from peerwire import tm2
from peerwire.tm2._mconn import ChannelDescriptor, MConnection

Pair = tuple[tm2.SecretConnection, tm2.SecretConnection]


@contextlib.asynccontextmanager
async def _pair(kind: str) -> AsyncIterator[Pair]:
    if kind == "memory":
        a, b = await secret_pair_memory()
        yield a, b
    else:
        a, b, srv = await secret_pair()
        async with srv:
            yield a, b
    await a.close()
    await b.close()


KINDS = ["memory", "tcp"]


@pytest.mark.parametrize("kind", KINDS)
def test_identities_and_stream(kind: str) -> None:
    async def main() -> None:
        async with _pair(kind) as (a, b):
            assert a.remote_public_key == KEY_B.public_key and b.remote_public_key == KEY_A.public_key
            chunks = [os.urandom(n) for n in (1, 1024, 1025, 9999, 0, 65536)]
            for c in chunks:
                await a.write(c)
                await b.write(c[::-1])
            assert await b.readexactly(sum(map(len, chunks))) == b"".join(chunks)
            assert await a.readexactly(sum(map(len, chunks))) == b"".join(c[::-1] for c in chunks)

    asyncio.run(main())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=4000), min_size=1, max_size=6), st.sampled_from(KINDS))
def test_random_writes_arrive_as_one_stream(writes: list[bytes], kind: str) -> None:
    async def main() -> None:
        async with _pair(kind) as (a, b):
            for w in writes:
                await a.write(w)
            total = b"".join(writes)
            assert await b.readexactly(len(total)) == total

    asyncio.run(main())


@pytest.mark.parametrize("kind", KINDS)
def test_mconnection_over_both(kind: str) -> None:
    async def main() -> None:
        async with _pair(kind) as (a, b):
            got: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(maxsize=100)
            errors: list[BaseException] = []

            async def on_receive(ch: int, msg: bytes) -> None:
                await got.put((ch, msg))

            chans = [ChannelDescriptor(1, send_queue_capacity=10), ChannelDescriptor(2, priority=3)]
            ma = MConnection(a, chans, on_receive, errors.append)
            mb = MConnection(b, chans, on_receive, errors.append)
            ma.start()
            mb.start()
            msgs = [(1, os.urandom(3000)), (2, b"x"), (1, b""), (2, os.urandom(1024))]
            async with asyncio.timeout(5):
                for ch, m in msgs:
                    assert await ma.send(ch, m)
                received = [await got.get() for _ in msgs]
            # Order holds per channel; channels interleave packet by packet.
            for ch in (1, 2):
                assert [m for c, m in received if c == ch] == [m for c, m in msgs if c == ch]
            await ma.stop()
            await mb.stop()
            assert len(errors) <= 1  # mb may see the close as an error, once

    asyncio.run(main())
