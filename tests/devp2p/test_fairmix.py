"""FairMix (geth ``enode.FairMix``) on the fake clock: fair turns, stalled sources, bounds."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from tests.devp2p._aio import aio

from peerwire._clock import FakeClock
from peerwire.devp2p import Node, PrivateKey
from peerwire.devp2p._fairmix import FAIRMIX_TIMEOUT, FairMix

KEYS = [PrivateKey.generate() for _ in range(12)]


def node(i: int) -> Node:
    return Node(KEYS[i].public_key, "127.0.0.1", 30303, 30303)


def idx(n: Node) -> int:
    return next(i for i, k in enumerate(KEYS) if k.public_key.node_id == n.id)


async def settle() -> None:
    for _ in range(60):
        await asyncio.sleep(0)


async def endless(i: int, pulled: list[int] | None = None) -> AsyncIterator[Node]:
    while True:
        if pulled is not None:
            pulled.append(i)
        yield node(i)


async def stalled(release: asyncio.Event, i: int) -> AsyncIterator[Node]:
    await release.wait()
    while True:
        yield node(i)


async def take(mix_it: AsyncIterator[Node], clock: FakeClock) -> int:
    """The next node of the mix, moving the fake clock only while the mix waits on it."""
    nxt = asyncio.ensure_future(anext(mix_it))
    await settle()
    for _ in range(20):
        if nxt.done():
            break
        await clock.advance(FAIRMIX_TIMEOUT / 4)
        await settle()
    return idx(await nxt)


@aio
async def test_fast_sources_take_strict_turns() -> None:
    clock = FakeClock()
    async with FairMix(clock) as mix:
        for i in range(3):
            mix.add_source(endless(i), f"s{i}")
        await settle()
        it = aiter(mix)
        got = [await take(it, clock) for _ in range(30)]
    assert Counter(got) == {0: 10, 1: 10, 2: 10}
    # round robin: every window of three holds each source once
    assert all(sorted(got[k : k + 3]) == [0, 1, 2] for k in range(0, 30, 3))
    assert clock.monotonic() == 0  # nobody waited on a timeout


@aio
async def test_stalled_source_does_not_block_and_costs_less_each_round() -> None:
    clock = FakeClock()
    release = asyncio.Event()
    async with FairMix(clock) as mix:
        mix.add_source(stalled(release, 5), "stalled")
        mix.add_source(endless(1), "fast")
        await settle()
        it = aiter(mix)
        got = []
        waits = []
        for _ in range(8):
            before = clock.monotonic()
            got.append(await take(it, clock))
            waits.append(clock.monotonic() - before)
        assert set(got) == {1}  # nothing from the stalled one, and the mix kept going
        stalled_turns = [w for w in waits if w > 0]
        assert stalled_turns[0] == pytest.approx(FAIRMIX_TIMEOUT)
        # geth: the stalled source's timeout halves on each miss
        assert all(b <= a for a, b in itertools.pairwise(stalled_turns))
        assert stalled_turns[-1] < FAIRMIX_TIMEOUT / 4
        assert sum(waits) < 2 * FAIRMIX_TIMEOUT + 0.1
        release.set()
        await settle()
        after = [await take(it, clock) for _ in range(6)]
        assert Counter(after) == {1: 3, 5: 3}  # back in the turns once it delivers


@aio
async def test_all_sources_stalled_waits_for_the_first_node() -> None:
    clock = FakeClock()
    a, b = asyncio.Event(), asyncio.Event()
    async with FairMix(clock) as mix:
        mix.add_source(stalled(a, 2), "a")
        mix.add_source(stalled(b, 3), "b")
        it = aiter(mix)
        nxt = asyncio.ensure_future(anext(it))
        await settle()
        await clock.advance(1.0)
        await settle()
        assert not nxt.done()  # nothing to give: the mix waits, it does not spin or end
        b.set()
        await settle()
        await clock.advance(FAIRMIX_TIMEOUT)  # at most one fair wait on the source whose turn it is
        await settle()
        assert nxt.done() and idx(await nxt) == 3


@aio
async def test_an_ended_source_leaves_the_mix() -> None:
    clock = FakeClock()

    async def three(i: int) -> AsyncIterator[Node]:
        for _ in range(3):
            yield node(i)

    async with FairMix(clock) as mix:
        mix.add_source(three(7), "short")
        mix.add_source(endless(8), "long")
        await settle()
        it = aiter(mix)
        got = [await take(it, clock) for _ in range(10)]
        assert Counter(got)[7] == 3
        assert mix.sources == ["long"]
        assert clock.monotonic() == 0  # the ended source cost no timeouts


@aio
async def test_each_source_reads_at_most_one_node_ahead() -> None:
    clock = FakeClock()
    pulled: list[int] = []
    async with FairMix(clock) as mix:
        mix.add_source(endless(0, pulled), "a")
        mix.add_source(endless(1, pulled), "b")
        await settle()
        # nobody iterates the mix: each reader holds one node and waits
        assert Counter(pulled) == {0: 2, 1: 2}  # one buffered, one waiting to be put
        it = aiter(mix)
        for _ in range(4):
            await take(it, clock)
        await settle()
        assert Counter(pulled) == {0: 4, 1: 4}


@aio
async def test_aclose_stops_the_readers_and_ends_iteration() -> None:
    clock = FakeClock()
    closed = asyncio.Event()

    async def src() -> AsyncIterator[Node]:
        try:
            while True:
                yield node(4)
        finally:
            closed.set()

    mix = FairMix(clock)
    with pytest.raises(RuntimeError, match="not running"):
        mix.add_source(src())
    await mix.start()
    mix.add_source(src(), "s")
    it = aiter(mix)
    assert idx(await anext(it)) == 4
    waiting = asyncio.ensure_future(anext(it))
    await mix.aclose()
    assert closed.is_set()  # the source generator was closed
    with pytest.raises(StopAsyncIteration):
        await waiting if not waiting.done() or waiting.exception() else anext(it)
    with pytest.raises(RuntimeError):
        mix.add_source(src())


@aio
async def test_a_failing_source_is_dropped_and_the_others_go_on() -> None:
    clock = FakeClock()

    async def boom() -> AsyncIterator[Node]:
        yield node(9)
        raise ValueError("broken source")

    async with FairMix(clock) as mix:
        mix.add_source(boom(), "boom")
        mix.add_source(endless(2), "ok")
        await settle()
        it = aiter(mix)
        got = [await take(it, clock) for _ in range(6)]
        assert 9 in got and Counter(got)[2] == 5
        assert mix.sources == ["ok"]
