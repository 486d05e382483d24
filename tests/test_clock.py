"""The injected clock (mirrors python/peerwire/_clock.py)."""

from __future__ import annotations

import asyncio
import builtins

import pytest

from peerwire._clock import SYSTEM_CLOCK, Clock, FakeClock, SystemClock
from peerwire.errors import TimeoutError as PeerwireTimeout


def test_system_clock_is_a_clock() -> None:
    assert isinstance(SYSTEM_CLOCK, Clock)
    assert SYSTEM_CLOCK.monotonic() > 0


def test_fake_clock_wakes_sleepers_in_deadline_order() -> None:
    async def main() -> list[tuple[str, float]]:
        clock = FakeClock()
        woke: list[tuple[str, float]] = []

        async def sleeper(name: str, d: float) -> None:
            await clock.sleep(d)
            woke.append((name, clock.monotonic()))

        tasks = [asyncio.create_task(sleeper(n, d)) for n, d in (("c", 3.0), ("a", 1.0), ("b", 2.0))]
        await asyncio.sleep(0)
        assert clock.sleepers == 3 and clock.next_deadline() == 1.0
        await clock.advance(1.5)
        assert woke == [("a", 1.0)]
        await clock.advance(10)
        await asyncio.gather(*tasks)
        assert clock.monotonic() == 11.5
        return woke

    assert asyncio.run(main()) == [("a", 1.0), ("b", 2.0), ("c", 3.0)]


def test_fake_clock_periodic_loop() -> None:
    async def main() -> list[float]:
        clock = FakeClock()
        ticks: list[float] = []

        async def loop() -> None:
            while True:
                await clock.sleep(15)
                ticks.append(clock.monotonic())

        t = asyncio.create_task(loop())
        await asyncio.sleep(0)
        await clock.advance(50)
        t.cancel()
        return ticks

    assert asyncio.run(main()) == [15, 30, 45]


# -- the deadline primitive ------------------------------------------------------------------------


def test_fake_timeout_cancels_at_the_fake_deadline() -> None:
    async def main() -> None:
        clock = FakeClock()
        reached: list[str] = []

        async def waiter() -> None:
            async with clock.timeout(2.0) as d:
                assert d.when == 2.0
                await asyncio.Event().wait()  # never set: only the deadline ends this
            reached.append("after")  # not reached

        t = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        assert clock.pending_deadlines == 1 and clock.next_deadline() == 2.0
        await clock.advance(1.999)
        assert not t.done()
        await clock.advance(0.001)
        with pytest.raises(PeerwireTimeout) as info:
            await t
        assert isinstance(info.value, builtins.TimeoutError)
        assert reached == [] and clock.pending_deadlines == 0 and clock.monotonic() == 2.0
        assert t.cancelling() == 0  # the cancel request was taken back

    asyncio.run(main())


def test_fake_timeout_not_reached_leaves_no_timer_and_returns_value() -> None:
    async def main() -> None:
        clock = FakeClock()

        async def quick() -> int:
            async with clock.timeout(5.0) as d:
                await clock.sleep(1.0)
            assert not d.expired()
            return 7

        t = asyncio.create_task(quick())
        await asyncio.sleep(0)
        await clock.advance(1.0)
        assert await t == 7
        assert clock.pending_deadlines == 0
        await clock.advance(10.0)  # the old deadline does nothing

    asyncio.run(main())


def test_fake_reply_at_exactly_the_deadline_wins() -> None:
    async def main() -> str:
        clock = FakeClock()

        async def reply() -> str:
            async with clock.timeout(3.0):
                await clock.sleep(3.0)
                return "reply"

        t = asyncio.create_task(reply())
        await asyncio.sleep(0)
        await clock.advance(3.0)
        return await t

    assert asyncio.run(main()) == "reply"


def test_fake_deadline_at_reschedule_and_nesting() -> None:
    async def main() -> list[str]:
        clock = FakeClock(start=10.0)
        log: list[str] = []

        async def body() -> None:
            async with clock.deadline_at(20.0) as outer:
                try:
                    async with clock.timeout(1.0):  # the inner, shorter one fires first
                        await clock.sleep(100)
                except PeerwireTimeout:
                    log.append(f"inner@{clock.monotonic()}")
                outer.reschedule(clock.monotonic() + 4.0)
                try:
                    await clock.sleep(100)
                finally:
                    log.append(f"outer@{clock.monotonic()}")

        t = asyncio.create_task(body())
        await asyncio.sleep(0)
        await clock.advance(100)
        with pytest.raises(PeerwireTimeout):
            await t
        return log

    assert asyncio.run(main()) == ["inner@11.0", "outer@15.0"]


def test_fake_timeout_external_cancel_is_not_a_timeout() -> None:
    async def main() -> None:
        clock = FakeClock()

        async def body() -> None:
            async with clock.timeout(1.0):
                await clock.sleep(100)

        t = asyncio.create_task(body())
        await asyncio.sleep(0)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert clock.pending_deadlines == 0

    asyncio.run(main())


def test_fake_timeout_zero_and_past_deadline_fire_at_once() -> None:
    async def main() -> None:
        clock = FakeClock(start=5.0)

        async def past() -> None:
            async with clock.deadline_at(4.0):
                await asyncio.Event().wait()

        with pytest.raises(PeerwireTimeout):
            await past()
        async with clock.timeout(None) as d:  # no deadline
            assert d.when is None
            await asyncio.sleep(0)

    asyncio.run(main())


def test_inner_timeout_error_raised_by_the_body_is_not_rewritten() -> None:
    async def main() -> None:
        for clock in (FakeClock(), SystemClock()):
            with pytest.raises(builtins.TimeoutError) as info:
                async with clock.timeout(50.0):
                    raise builtins.TimeoutError("from the body")
            assert not isinstance(info.value, PeerwireTimeout)

    asyncio.run(main())


def test_system_clock_timeout_raises_peerwire_timeout() -> None:
    async def main() -> None:
        clock = SystemClock()
        with pytest.raises(PeerwireTimeout):
            async with clock.timeout(0.01) as d:
                await asyncio.sleep(5)
        assert d.expired()
        async with clock.deadline_at(clock.monotonic() + 5) as d2:
            when = d2.when
            assert when is not None and abs(when - (clock.monotonic() + 5)) < 0.5
        assert not d2.expired()

    asyncio.run(main())
