"""The shared bounded pub/sub (mirrors python/peerwire/_pubsub.py)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from peerwire._pubsub import MAX_EVENT_BUFFER, PubSub


def test_publish_fans_out_in_order_and_never_blocks() -> None:
    async def main() -> None:
        bus: PubSub[int] = PubSub()
        a = bus.subscribe()
        b = bus.subscribe(lambda n: n % 2 == 0)
        for n in range(5):
            bus.publish(n)  # no await: publishing cannot wait for anyone
        assert [a.get_nowait() for _ in range(5)] == [0, 1, 2, 3, 4]
        assert len(b) == 3
        got = []
        async for n in b:
            got.append(n)
            if len(b) == 0:
                break
        assert got == [0, 2, 4]

    asyncio.run(main())


def test_full_buffer_drops_new_events_and_counts_them() -> None:
    async def main() -> None:
        bus: PubSub[str] = PubSub()
        slow = bus.subscribe(maxsize=2)
        fast = bus.subscribe(maxsize=10)
        for ev in "abcde":
            bus.publish(ev)
        assert slow.dropped == 3 and len(slow) == 2
        assert [slow.get_nowait(), slow.get_nowait()] == ["a", "b"]  # old ones kept, in order
        assert fast.dropped == 0 and len(fast) == 5

    asyncio.run(main())


def test_raising_filter_counts_as_drop_and_does_not_reach_publisher() -> None:
    async def main() -> None:
        bus: PubSub[int] = PubSub()

        def bad(n: int) -> bool:
            raise RuntimeError("filter bug")

        sub = bus.subscribe(bad)
        ok = bus.subscribe()
        bus.publish(1)
        assert sub.dropped == 1 and ok.get_nowait() == 1

    asyncio.run(main())


def test_waiting_subscriber_wakes_and_close_ends_iteration() -> None:
    async def main() -> None:
        bus: PubSub[int] = PubSub()
        sub = bus.subscribe()
        got: list[int] = []

        async def reader() -> None:
            async for n in sub:
                got.append(n)

        t = asyncio.create_task(reader())
        await asyncio.sleep(0)
        bus.publish(1)
        bus.publish(2)
        await asyncio.sleep(0)
        bus.close()  # buffered events are still delivered, then the loop ends
        await asyncio.wait_for(t, 1)
        assert got == [1, 2] and bus.subscribers == 0
        late = bus.subscribe()
        assert late.closed

    asyncio.run(main())


def test_leaving_the_loop_or_the_block_unsubscribes() -> None:
    async def main() -> None:
        bus: PubSub[int] = PubSub()
        async with bus.subscribe() as sub:
            assert bus.subscribers == 1
        assert sub.closed and bus.subscribers == 0

        async def first() -> int:
            async for n in bus.subscribe():
                return n
            return -1

        t = asyncio.create_task(first())
        await asyncio.sleep(0)
        bus.publish(9)
        assert await t == 9
        gc.collect()
        assert bus.subscribers == 0

        sub2 = bus.subscribe()
        t2 = asyncio.create_task(sub2.__anext__())
        await asyncio.sleep(0)
        t2.cancel()  # a cancelled reader unsubscribes too
        with pytest.raises(asyncio.CancelledError):
            await t2
        assert sub2.closed and bus.subscribers == 0

    asyncio.run(main())


def test_buffer_size_is_bounded() -> None:
    bus: PubSub[int] = PubSub()
    for bad in (0, MAX_EVENT_BUFFER + 1):
        with pytest.raises(ValueError):
            bus.subscribe(maxsize=bad)
