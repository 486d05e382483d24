"""The injected clock (mirrors python/peerwire/_clock.py)."""

from __future__ import annotations

import asyncio

from peerwire._clock import SYSTEM_CLOCK, Clock, FakeClock


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
