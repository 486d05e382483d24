"""Task ownership: every library task belongs to one :class:`TaskScope`, backed by :class:`asyncio.TaskGroup`.

A service (a devp2p ``Server``, a TM2 ``MultiplexSwitch``, a discovery listener)
holds one scope, started in ``start()`` and stopped in ``stop()``; each peer runs
in a child scope of its server's scope, so stopping the peer cancels exactly the
peer's tasks, and stopping the server cancels everything below it::

    self._tasks = TaskScope("server")
    await self._tasks.start()
    self._tasks.spawn(self._accept_loop(), name="accept", critical=True)
    peer_scope = await self._tasks.child(f"peer {peer_id}")
    peer_scope.spawn(peer.run_read_loop(), name="read")
    ...
    await peer_scope.stop()      # one peer
    await self._tasks.stop()     # everything; no task outlives this

Rules of this module:

1. **An exception in a task is never lost.** A *critical* task (the service
   cannot work without it: an accept loop) that fails cancels its scope, is
   logged at once, and is raised again from :meth:`TaskScope.stop` and
   :meth:`TaskScope.wait` (as an ``ExceptionGroup``, as ``TaskGroup`` does); a
   failed child scope does not abort its parent. Any other task that fails is
   logged with its traceback, counted in :attr:`TaskScope.failures`, kept in
   :attr:`TaskScope.errors` (bounded) and passed to ``on_error``; its siblings go
   on (one misbehaving peer does not take the server down).
2. **stop() cancels one scope** and returns when every task in it (and in its
   child scopes) has finished. It is idempotent, and safe to call from a task of
   the scope itself.
3. Cancellation is not an error: a task that ends by ``CancelledError`` is not
   counted or logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["ErrorHandler", "TaskScope"]

T = TypeVar("T")

log = logging.getLogger("peerwire.tasks")

#: Failed-task exceptions a scope keeps for inspection (oldest dropped): a peer that
#: crashes in a loop cannot grow this without bound.
MAX_KEPT_ERRORS = 32

ErrorHandler = Callable[[str, BaseException], None]


class TaskScope:
    """A named set of tasks with one owner; see the module docstring for the rules."""

    def __init__(self, name: str, *, on_error: ErrorHandler | None = None) -> None:
        self.name = name
        self._on_error = on_error
        self._group: asyncio.TaskGroup | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._entered = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopped = False
        self._failure: Exception | None = None
        self.failures = 0
        self.errors: deque[tuple[str, BaseException]] = deque(maxlen=MAX_KEPT_ERRORS)

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running" if self._group is not None else "new"
        return f"<TaskScope {self.name!r} {state} tasks={len(self._tasks)} failures={self.failures}>"

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the scope (runs its ``TaskGroup`` in a supervisor task of the current loop)."""
        if self._runner is not None:
            raise RuntimeError(f"task scope {self.name!r} already started")
        self._runner = asyncio.get_running_loop().create_task(self._run(), name=f"scope:{self.name}")
        await self._ready()

    async def _ready(self) -> None:
        # The runner enters its TaskGroup on its first step.
        await self._entered.wait()
        if self._group is None:
            raise RuntimeError(f"task scope {self.name!r} failed to start")

    async def _run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                self._entered.set()
                await self._stop.wait()
                for task in list(self._tasks):
                    task.cancel()
        except Exception as e:  # ExceptionGroup: a critical task failed and the group aborted
            self._failure = e
            self._record("<scope>", e)
        finally:
            self._stopped = True
            self._entered.set()

    async def stop(self) -> None:
        """Cancel every task of the scope (child scopes included) and wait for them.

        Called from a task of the scope itself, it returns at once; that task is
        cancelled at its next ``await`` like the others.

        Raises:
            ExceptionGroup: a critical task of this scope failed.
        """
        runner = self._runner
        if runner is None:
            self._stopped = True
            return
        self._stop.set()
        if asyncio.current_task() in self._tasks:
            return
        # Wait even if our caller is cancelled meanwhile, so no task outlives stop().
        await asyncio.wait([runner])
        if self._failure is not None:
            raise self._failure

    async def wait(self) -> None:
        """Wait until the scope ends (stopped, or aborted by a failed critical task).

        Raises:
            ExceptionGroup: a critical task of this scope failed.
        """
        if self._runner is None:
            raise RuntimeError(f"task scope {self.name!r} not started")
        await asyncio.shield(self._runner)
        if self._failure is not None:
            raise self._failure

    async def __aenter__(self) -> TaskScope:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._group is not None and not self._stopped and not self._stop.is_set()

    @property
    def tasks(self) -> int:
        """Tasks of this scope that have not finished (child scopes count as one each)."""
        return len(self._tasks)

    # -- spawning -----------------------------------------------------------------------------------

    def spawn(
        self, coro: Coroutine[Any, Any, T], *, name: str, critical: bool = False
    ) -> asyncio.Task[T | None]:
        """Run ``coro`` as a task of this scope.

        ``critical``: its failure cancels the whole scope and is raised again by
        :meth:`stop`; otherwise a failure is logged and recorded (module doc) and
        the task's result is ``None``.

        Raises:
            RuntimeError: the scope is not running (``coro`` is closed, not leaked).
        """
        if not self.running:
            coro.close()
            raise RuntimeError(f"task scope {self.name!r} is not running")
        assert self._group is not None
        body: Coroutine[Any, Any, T | None] = coro if critical else self._guard(coro, name)
        task = self._group.create_task(body, name=f"{self.name}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def child(self, name: str, *, on_error: ErrorHandler | None = None) -> TaskScope:
        """A started scope whose supervisor is a task of this one (so stopping this stops it)."""
        if not self.running:
            raise RuntimeError(f"task scope {self.name!r} is not running")
        scope = TaskScope(f"{self.name}/{name}", on_error=on_error or self._on_error)
        assert self._group is not None
        # The child's _run never raises (it keeps its failure for its own stop()), so a
        # failed peer scope does not abort the server's group.
        scope._runner = self._group.create_task(scope._run(), name=f"scope:{scope.name}")
        self._tasks.add(scope._runner)
        scope._runner.add_done_callback(self._tasks.discard)
        await scope._ready()
        return scope

    async def _guard(self, coro: Coroutine[Any, Any, T], name: str) -> T | None:
        try:
            return await coro
        except Exception as e:
            self._record(name, e)
            return None

    def _record(self, name: str, exc: BaseException) -> None:
        self.failures += 1
        self.errors.append((name, exc))
        log.error("task %s:%s failed", self.name, name, exc_info=exc)
        if self._on_error is not None:
            try:
                self._on_error(name, exc)
            except Exception:
                log.exception("on_error handler of task scope %r failed", self.name)
