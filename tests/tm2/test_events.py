"""Switch events: filter, bounded buffer with drop-newest, unsubscribe by leaving the loop."""

from __future__ import annotations

import asyncio
import gc

from peerwire import tm2
from peerwire._pubsub import PubSub

A = tm2.ID("g1a")


def _conn(i: int) -> tm2.PeerConnectedEvent:
    return tm2.PeerConnectedEvent(A, f"addr{i}")


def test_filter_and_order() -> None:
    async def main() -> None:
        bus = PubSub[tm2.Event]()
        sub = bus.subscribe(lambda e: e.type == tm2.EventType.PEER_DISCONNECTED)
        bus.publish(_conn(0))
        bus.publish(tm2.PeerDisconnectedEvent(A, "x", None))
        ev = await asyncio.wait_for(anext(sub), 1)
        assert ev.type == tm2.EventType.PEER_DISCONNECTED and len(sub) == 0
        assert tm2.EventType.PEER_CONNECTED.value == "PeerConnected"

    asyncio.run(main())


def test_full_buffer_drops_newest_and_counts() -> None:
    async def main() -> None:
        bus = PubSub[tm2.Event]()
        sub = bus.subscribe(maxsize=3)
        for i in range(10):
            bus.publish(_conn(i))  # never blocks
        assert sub.dropped == 7 and len(sub) == 3
        got = [(await anext(sub)).address for _ in range(3)]
        assert got == ["addr0", "addr1", "addr2"]

    asyncio.run(main())


def test_leaving_the_loop_unsubscribes() -> None:
    async def main() -> None:
        bus = PubSub[tm2.Event]()
        for i in range(3):
            bus.publish(_conn(i))

        async def consume() -> str:
            async for ev in bus.subscribe():
                return ev.address
            return ""

        bus.publish(_conn(0))
        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        assert bus.subscribers == 1
        bus.publish(_conn(5))
        assert await task == "addr5"
        gc.collect()
        assert bus.subscribers == 0

    asyncio.run(main())


def test_close_ends_a_pending_iteration_and_raising_filter_is_contained() -> None:
    async def main() -> None:
        bus = PubSub[tm2.Event]()
        sub = bus.subscribe()
        bad = bus.subscribe(lambda e: 1 / 0 == 0)
        task = asyncio.create_task(anext(sub, None))
        await asyncio.sleep(0)
        bus.publish(_conn(1))
        assert (await task) is not None
        assert bad.dropped == 1
        async with bus.subscribe() as s2:
            assert bus.subscribers == 3
        assert s2.closed and bus.subscribers == 2
        t2 = asyncio.create_task(anext(sub, None))
        await asyncio.sleep(0)
        sub.close()
        assert await t2 is None

    asyncio.run(main())
