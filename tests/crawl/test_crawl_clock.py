"""The crawler's deadlines, polls and timestamps run on the injected clock."""

from __future__ import annotations

import asyncio

from peerwire import crawl, tm2
from peerwire._clock import FakeClock
from tests.devp2p._aio import aio


@aio
async def test_tm2_dial_deadline_and_run_duration_on_a_fake_clock() -> None:
    """A peer that accepts TCP and never speaks costs exactly ``dial_timeout`` of clock time,
    and ``run(duration=...)`` ends on clock time: no real waiting for either."""
    held: list[asyncio.StreamWriter] = []

    async def silent(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        held.append(w)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    mute = tm2.NodeKey.generate().id
    clock = FakeClock(start=100.0, wall_offset=1_000_000.0)
    cfg = crawl.CrawlConfig(
        stack="tm2", bootnodes=[f"{mute}@127.0.0.1:{port}"], db=":memory:", dial_timeout=4.0
    )
    try:
        async with crawl.Crawler(cfg, clock=clock) as c:
            run = asyncio.ensure_future(c.run(duration=30.0))
            await c.wait_ready()
            for _ in range(50):  # let the dial reach the silent peer (real loopback I/O)
                if held:
                    break
                await asyncio.sleep(0.01)
            assert held
            await clock.advance(3.9)
            assert c.store is not None
            assert next(c.store.rows())["dial_ok"] is None  # still waiting for the handshake
            await clock.advance(0.2)
            row = next(c.store.rows())
            assert row["dial_ok"] == 0 and row["last_error"].startswith("TimeoutError"), row
            assert abs(row["dialed_at"] - (1_000_000.0 + 104.0)) < 0.2  # the fake wall clock
            assert not run.done()
            await clock.advance(26.0)
            stats = await asyncio.wait_for(run, 5)
            assert abs(stats.elapsed - 30.0) < 0.3  # ends at the POLL step after 30 s of clock time
            assert stats.found == 1 and stats.probed == 1 and stats.dialable == 0
    finally:
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()
