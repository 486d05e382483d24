"""Dial queue and redial backoff, on the fake clock (round tables)."""

from __future__ import annotations

import asyncio
import random

from hypothesis import given
from hypothesis import strategies as st

from peerwire._clock import FakeClock
from peerwire.tm2._addr import NetAddress
from peerwire.tm2._dial import BACKOFF_MAX, DialQueue, redial_backoff
from peerwire.tm2._keys import NodeKey


def _addr(name: str) -> NetAddress:
    return NetAddress(NodeKey.from_secret(name.encode()).id, "127.0.0.1", 20000 + sum(name.encode()))


class _CountingClock(FakeClock):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def monotonic(self) -> float:
        self.reads += 1
        return super().monotonic()


class _FixedRng(random.Random):
    def __init__(self, r: float) -> None:
        super().__init__(0)
        self.r = r

    def uniform(self, a: float, b: float) -> float:
        return self.r


def test_dial_queue_round_table_pops_in_time_order_fifo_on_ties() -> None:
    async def main() -> list[tuple[str, float]]:
        clock = FakeClock()
        q = DialQueue(clock)
        names = {}
        for name, at in (("a", 5.0), ("b", 1.0), ("c", 3.0), ("d", 3.0)):
            a = _addr(name)
            names[a.id] = name
            q.push(a, at)
        popped: list[tuple[str, float]] = []

        async def consumer() -> None:
            while len(popped) < 4:
                item = await q.wait_due()
                popped.append((names[item.address.id], clock.monotonic()))

        task = asyncio.create_task(consumer())
        for _ in range(6):
            await clock.advance(1.0)
        await asyncio.wait_for(task, 1)
        return popped

    assert asyncio.run(main()) == [("b", 1.0), ("c", 3.0), ("d", 3.0), ("a", 5.0)]


def test_dial_queue_sleeps_instead_of_spinning() -> None:
    """gno #6052: a backed-off head must not make the loop spin."""

    async def main() -> None:
        clock = _CountingClock()
        q = DialQueue(clock)
        q.push(_addr("late"), 600.0)
        task = asyncio.create_task(q.wait_due())
        for _ in range(200):
            await asyncio.sleep(0)
        assert not task.done()
        assert clock.reads <= 2, f"the queue polled the clock {clock.reads} times while idle"
        assert clock.sleepers == 1 and clock.next_deadline() == 600.0
        await clock.advance(600.0)
        item = await asyncio.wait_for(task, 1)
        assert item.time == 600.0

    asyncio.run(main())


def test_dial_queue_earlier_push_wakes_the_sleeper() -> None:
    async def main() -> float:
        clock = FakeClock()
        q = DialQueue(clock)
        q.push(_addr("late"), 100.0)
        task = asyncio.create_task(q.wait_due())
        await asyncio.sleep(0)
        q.push(_addr("soon"), 2.0)
        await clock.advance(2.0)
        item = await asyncio.wait_for(task, 1)
        assert item.address.id == _addr("soon").id
        return clock.monotonic()

    assert asyncio.run(main()) == 2.0


def test_dial_queue_is_bounded_and_idle_when_empty() -> None:
    async def main() -> None:
        clock = _CountingClock()
        q = DialQueue(clock, max_items=2)
        assert q.push(_addr("a")) and q.push(_addr("b"))
        assert not q.push(_addr("c"))
        assert q.has(_addr("a")) and not q.has(_addr("c"))
        q.pop()
        q.pop()
        task = asyncio.create_task(q.wait_due())
        for _ in range(100):
            await asyncio.sleep(0)
        assert not task.done() and clock.sleepers == 0  # waits on an event, no timer
        q.push(_addr("x"))
        assert (await asyncio.wait_for(task, 1)).address.id == _addr("x").id

    asyncio.run(main())


def test_backoff_round_table_without_jitter() -> None:
    rng = _FixedRng(0.0)
    got = [redial_backoff(a, rng) for a in range(13)]
    assert got == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600]


def test_backoff_jitter_bounds_at_the_extremes() -> None:
    assert redial_backoff(3, _FixedRng(1.0)) == 8 * 1.1
    assert redial_backoff(3, _FixedRng(-1.0)) == 8 * 0.9
    assert redial_backoff(50, _FixedRng(1.0)) == BACKOFF_MAX * 1.1


def test_backoff_never_overflows() -> None:
    # gno: time.Duration(1s) << attempts wraps after ~34 attempts.
    for a in (33, 34, 35, 63, 64, 65, 1000, 10**9):
        assert redial_backoff(a, _FixedRng(0.0)) == BACKOFF_MAX
    assert redial_backoff(-5, _FixedRng(0.0)) == 1.0


@given(st.integers(min_value=0, max_value=10**12), st.floats(min_value=-1.0, max_value=1.0))
def test_backoff_is_within_ten_percent_of_the_capped_doubling(attempts: int, r: float) -> None:
    base = min(2.0 ** min(attempts, 64), BACKOFF_MAX)
    got = redial_backoff(attempts, _FixedRng(r))
    assert base * 0.9 - 1e-9 <= got <= base * 1.1 + 1e-9


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5), st.integers(0, 3)), max_size=60))
def test_dial_queue_membership_index_matches_the_items(ops: list[tuple[bool, int, int]]) -> None:
    q = DialQueue(FakeClock())
    names = [f"m{i}" for i in range(6)]
    for push, who, port in ops:
        if push:
            a = _addr(names[who])
            q.push(NetAddress(a.id, "127.0.0.1", 1000 + port), float(who))
        else:
            q.pop()
        items = [it.address for it in q.items()]
        for who2 in range(6):
            for port2 in range(4):
                probe = NetAddress(_addr(names[who2]).id, "127.0.0.1", 1000 + port2)
                assert q.has(probe) == any(x.same(probe) for x in items)
                assert q.has_id(probe.id) == any(x.id == probe.id for x in items)
