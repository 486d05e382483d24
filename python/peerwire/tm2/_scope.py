"""Task ownership for tm2 services: a :class:`TaskScope` is one ``asyncio.TaskGroup`` held open.

A service opens a scope when it starts, spawns every task it owns into it,
and closes it when it stops: closing cancels the scope's tasks and waits for
them, so no task outlives ``stop()``. A child that raises is not lost and
does not take its siblings down: the exception is logged, kept in
:attr:`TaskScope.errors` (bounded) and handed to ``on_error``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["MAX_KEPT_ERRORS", "TaskScope"]

log = logging.getLogger("peerwire.tm2.tasks")

# Errors kept for inspection; diagnostics keep reasons, not unbounded history.
MAX_KEPT_ERRORS = 64


class TaskScope:
    def __init__(self, name: str, on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self.name = name
        self.errors: deque[tuple[str, BaseException]] = deque(maxlen=MAX_KEPT_ERRORS)
        self._on_error = on_error
        self._group: asyncio.TaskGroup | None = None
        self._runner: asyncio.Task[None] | None = None

    @property
    def open(self) -> bool:
        return self._group is not None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        async def hold() -> None:
            async with asyncio.TaskGroup() as tg:
                self._group = tg
                ready.set_result(None)
                await loop.create_future()  # until the scope is closed (cancelled)

        self._runner = loop.create_task(hold(), name=f"{self.name}-scope")
        await ready

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run ``coro`` in the scope.

        Raises:
            RuntimeError: the scope is not open.
        """
        if self._group is None:
            coro.close()
            raise RuntimeError(f"task scope {self.name} is closed")
        guarded = self._guard(coro, name)
        try:
            task = self._group.create_task(guarded, name=name)
        except RuntimeError:  # the group is shutting down
            guarded.close()
            coro.close()
            raise
        # Cancelled before it ever ran: close the inner coroutine (no "never awaited" warning).
        task.add_done_callback(lambda _t: coro.close())
        return task

    async def _guard(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.warning("%s: task %s failed: %r", self.name, name, e, exc_info=e)
            self.errors.append((name, e))
            if self._on_error is not None:
                self._on_error(name, e)

    async def close(self) -> None:
        """Cancel every task of the scope and wait for them all."""
        runner, self._runner = self._runner, None
        self._group = None
        if runner is None:
            return
        runner.cancel()
        try:
            await runner
        except asyncio.CancelledError:
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise
