"""Task ownership (mirrors python/peerwire/_tasks.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from peerwire._tasks import TaskScope


def _library_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


def test_stop_cancels_every_task_including_child_scopes() -> None:
    async def main() -> None:
        before = _library_tasks()
        cancelled: list[str] = []

        async def forever(name: str) -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(name)
                raise

        server = TaskScope("server")
        await server.start()
        server.spawn(forever("accept"), name="accept", critical=True)
        peer_a = await server.child("peer a")
        peer_b = await server.child("peer b")
        peer_a.spawn(forever("a.read"), name="read")
        peer_b.spawn(forever("b.read"), name="read")
        await asyncio.sleep(0)
        assert server.tasks == 3 and peer_a.tasks == 1

        await peer_a.stop()  # one scope: only peer a's task
        assert cancelled == ["a.read"] and peer_b.tasks == 1
        assert server.tasks == 2

        await server.stop()
        assert sorted(cancelled) == ["a.read", "accept", "b.read"]
        assert _library_tasks() == before  # nothing outlives stop()
        assert server.failures == 0
        with pytest.raises(RuntimeError):
            server.spawn(forever("late"), name="late")

    asyncio.run(main())


def test_failing_child_task_is_logged_recorded_and_siblings_go_on(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        seen: list[tuple[str, BaseException]] = []
        async with TaskScope("switch", on_error=lambda n, e: seen.append((n, e))) as scope:
            alive = asyncio.Event()

            async def boom() -> None:
                raise ValueError("reactor bug")

            async def sibling() -> None:
                await asyncio.sleep(0.01)
                alive.set()

            scope.spawn(boom(), name="boom")
            scope.spawn(sibling(), name="sibling")
            await asyncio.wait_for(alive.wait(), 1)
            assert scope.failures == 1
            assert [(n, str(e)) for n, e in scope.errors] == [("boom", "reactor bug")]
            assert [(n, str(e)) for n, e in seen] == [("boom", "reactor bug")]

    with caplog.at_level(logging.ERROR, logger="peerwire.tasks"):
        asyncio.run(main())
    assert any("switch:boom failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_critical_failure_aborts_the_scope_and_is_raised_by_stop() -> None:
    async def main() -> None:
        scope = TaskScope("server")
        await scope.start()
        other_cancelled = asyncio.Event()

        async def other() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                other_cancelled.set()

        async def accept_loop() -> None:
            await asyncio.sleep(0)
            raise OSError("listener died")

        scope.spawn(other(), name="other")
        scope.spawn(accept_loop(), name="accept", critical=True)
        await asyncio.wait_for(other_cancelled.wait(), 1)
        with pytest.raises(ExceptionGroup) as info:
            await scope.stop()
        assert info.group_contains(OSError, match="listener died")
        assert scope.failures == 1 and not scope.running

    asyncio.run(main())


def test_child_scope_critical_failure_does_not_abort_parent() -> None:
    async def main() -> None:
        async with TaskScope("server") as server:
            peer = await server.child("peer")

            async def dies() -> None:
                raise ConnectionResetError("gone")

            peer.spawn(dies(), name="read", critical=True)
            with pytest.raises(ExceptionGroup):
                await asyncio.wait_for(peer.wait(), 1)
            assert server.running and server.tasks == 0
            server.spawn(asyncio.sleep(0), name="still works")

    asyncio.run(main())


def test_stop_from_inside_and_twice() -> None:
    async def main() -> None:
        scope = TaskScope("svc")
        await scope.start()
        ended = asyncio.Event()

        async def self_stopper() -> None:
            try:
                await scope.stop()  # returns at once; we get cancelled at the next await
                await asyncio.sleep(10)
            finally:
                ended.set()

        scope.spawn(self_stopper(), name="self")
        await asyncio.wait_for(ended.wait(), 1)
        await scope.stop()
        await scope.stop()
        assert scope.tasks == 0 and not scope.running

    asyncio.run(main())
