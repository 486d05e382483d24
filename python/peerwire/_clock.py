"""Injected time: every scheduler, timeout and backoff takes a :class:`Clock`.

Production code uses :data:`SYSTEM_CLOCK`; tests use :class:`FakeClock`, whose
time moves only when the test calls :meth:`FakeClock.advance`, so schedules
are asserted exactly and tests never sleep (go-ethereum's ``mclock.Simulated``,
trio's ``MockClock``).

Deadlines
---------
There is one deadline primitive: ``async with clock.timeout(seconds):`` (or
``clock.deadline_at(t)`` for an absolute ``clock.monotonic()`` reading). It
behaves as :func:`asyncio.timeout` does, on the clock's own time base: when
the deadline passes, the task running the block is cancelled, and leaving the
block turns that cancellation into :class:`peerwire.errors.TimeoutError`
(which is also the builtin ``TimeoutError``). On :class:`SystemClock` it *is*
``asyncio.timeout``; on :class:`FakeClock` the cancellation happens inside
:meth:`FakeClock.advance`, so a test drives every timeout without waiting.

**Rule: the caller owns the deadline.** A wait is bounded once, by the layer
that knows why it waits (the dial scheduler bounds a dial, the handshake
bounds a handshake). A lower layer does not re-bound what its caller already
bounds, and a helper that needs a bound takes none of its own: it runs inside
the caller's ``timeout`` block. A layer adds a bound only for a wait its
callers cannot see (a read inside a long-lived read loop, say), and then says
so where the constant is defined.
"""

from __future__ import annotations

import asyncio
import builtins
import heapq
import itertools
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Protocol, runtime_checkable

from peerwire.errors import TimeoutError

__all__ = ["SYSTEM_CLOCK", "Clock", "Deadline", "FakeClock", "LoopDeadline", "SystemClock"]


class Deadline(Protocol):
    """The handle an ``async with clock.timeout(...) as d`` block gets.

    ``when`` is on the clock's ``monotonic()`` scale (``None``: no deadline).
    """

    @property
    def when(self) -> float | None: ...

    def reschedule(self, when: float | None) -> None:
        """Move the deadline (``None`` disables it), as :meth:`asyncio.Timeout.reschedule`."""
        ...

    def expired(self) -> bool:
        """Whether the deadline passed and cancelled the block."""
        ...


@runtime_checkable
class Clock(Protocol):
    """Monotonic time in seconds, wall time, sleeping and deadlines on that time base."""

    def monotonic(self) -> float: ...

    def time(self) -> float:
        """UNIX wall-clock seconds (for expirations on the wire, record seqs)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def timeout(self, seconds: float | None) -> AbstractAsyncContextManager[Deadline]:
        """Bound the block to ``seconds`` from now (``None``: unbounded, can be rescheduled).

        Raises (on leaving the block):
            peerwire.errors.TimeoutError: the deadline passed.
        """
        ...

    def deadline_at(self, when: float | None) -> AbstractAsyncContextManager[Deadline]:
        """Bound the block to the absolute ``monotonic()`` reading ``when``."""
        ...


class LoopDeadline:
    """:class:`Deadline` over :func:`asyncio.timeout_at`, converting its expiry to our
    TimeoutError. ``when`` is a reading of ``monotonic``, translated to the running loop's
    clock; without ``monotonic`` it is the loop's own time (a simulation's virtual clock)."""

    __slots__ = ("_loop", "_monotonic", "_scope", "_when")

    def __init__(self, when: float | None, monotonic: Callable[[], float] | None = None) -> None:
        self._when = when
        self._monotonic = monotonic
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scope: asyncio.Timeout | None = None

    def _to_loop(self, loop: asyncio.AbstractEventLoop, when: float | None) -> float | None:
        # The loop's clock is time.monotonic in CPython; translate anyway so a custom loop is right.
        if when is None or self._monotonic is None:
            return when
        return loop.time() + (when - self._monotonic())

    @property
    def when(self) -> float | None:
        return self._when

    def reschedule(self, when: float | None) -> None:
        if self._scope is None or self._loop is None:
            raise RuntimeError("a deadline can only be rescheduled inside its block")
        self._when = when
        self._scope.reschedule(self._to_loop(self._loop, when))

    def expired(self) -> bool:
        return self._scope is not None and self._scope.expired()

    async def __aenter__(self) -> LoopDeadline:
        if self._scope is not None:
            raise RuntimeError("a deadline block cannot be entered twice")
        self._loop = asyncio.get_running_loop()
        self._scope = asyncio.timeout_at(self._to_loop(self._loop, self._when))
        await self._scope.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._scope is not None
        try:
            await self._scope.__aexit__(et, e, tb)
        except builtins.TimeoutError as timeout:
            if self._scope.expired() and not isinstance(timeout, TimeoutError):
                raise TimeoutError(f"deadline passed ({_describe(self._when)})") from e
            raise


class SystemClock:
    """The real clock: ``time.monotonic``, ``time.time``, ``asyncio.sleep``, ``asyncio.timeout``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def timeout(self, seconds: float | None) -> LoopDeadline:
        return LoopDeadline(None if seconds is None else time.monotonic() + seconds, time.monotonic)

    def deadline_at(self, when: float | None) -> LoopDeadline:
        return LoopDeadline(when, time.monotonic)


SYSTEM_CLOCK: Clock = SystemClock()


def _describe(when: float | None) -> str:
    return "no deadline" if when is None else f"at monotonic {when:.3f}"


class _FakeTimer:
    """One pending deadline on a :class:`FakeClock`."""

    __slots__ = ("cancelled", "scope")

    def __init__(self, scope: _FakeDeadline) -> None:
        self.scope = scope
        self.cancelled = False


class _FakeDeadline:
    """asyncio.Timeout's state machine, with the timer on fake time.

    On expiry the owning task is cancelled (as ``asyncio.Timeout`` does); on exit
    the cancellation is taken back with ``Task.uncancel`` and turned into
    :class:`TimeoutError`, unless someone else also cancelled the task.
    """

    __slots__ = ("_cancelling", "_clock", "_entered", "_exited", "_expired", "_task", "_timer", "_when")

    def __init__(self, clock: FakeClock, when: float | None) -> None:
        self._clock = clock
        self._when = when
        self._task: asyncio.Task[object] | None = None
        self._timer: _FakeTimer | None = None
        self._expired = False
        self._entered = False
        self._exited = False
        self._cancelling = 0

    @property
    def when(self) -> float | None:
        return self._when

    def expired(self) -> bool:
        return self._expired

    def reschedule(self, when: float | None) -> None:
        if not self._entered or self._exited:
            raise RuntimeError("a deadline can only be rescheduled inside its block")
        if self._expired:
            raise RuntimeError("the deadline already expired")
        self._when = when
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancelled = True
            self._timer = None
        if self._when is None:
            return
        if self._when <= self._clock.monotonic():
            # Already due: cancel at the next loop step, as asyncio.Timeout does.
            asyncio.get_running_loop().call_soon(self._fire)
            return
        self._timer = self._clock._add_timer(self._when, self)

    def _fire(self) -> None:
        if self._exited or self._expired or self._task is None:
            return
        if self._when is None or self._when > self._clock.monotonic():
            return  # rescheduled since this timer was armed
        self._expired = True
        self._task.cancel()

    async def __aenter__(self) -> _FakeDeadline:
        if self._entered:
            raise RuntimeError("a deadline block cannot be entered twice")
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("clock.timeout() must be used inside a task")
        self._entered = True
        self._task = task
        self._cancelling = task.cancelling()
        self._arm()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._exited = True
        if self._timer is not None:
            self._timer.cancelled = True
            self._timer = None
        if self._expired:
            assert self._task is not None
            # Take back our cancel request; if nobody else cancelled the task, it was us.
            if self._task.uncancel() <= self._cancelling and et is asyncio.CancelledError:
                raise TimeoutError(f"deadline passed ({_describe(self._when)})") from e


class FakeClock:
    """A clock that moves only when told to.

    ``await clock.sleep(d)`` suspends until a test calls ``advance()`` past the
    wake-up time; sleepers wake in deadline order (FIFO on ties). A
    ``clock.timeout(d)`` block is cancelled when ``advance()`` passes its deadline.
    """

    def __init__(self, start: float = 0.0, wall_offset: float = 1_700_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_offset
        self._seq = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._timers: list[tuple[float, int, _FakeTimer]] = []

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._wall_offset + self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    def timeout(self, seconds: float | None) -> _FakeDeadline:
        return _FakeDeadline(self, None if seconds is None else self._now + seconds)

    def deadline_at(self, when: float | None) -> _FakeDeadline:
        return _FakeDeadline(self, when)

    def _add_timer(self, when: float, scope: _FakeDeadline) -> _FakeTimer:
        timer = _FakeTimer(scope)
        heapq.heappush(self._timers, (when, next(self._seq), timer))
        return timer

    @property
    def sleepers(self) -> int:
        """How many tasks are currently asleep on this clock."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    @property
    def pending_deadlines(self) -> int:
        """How many ``timeout`` blocks are armed on this clock."""
        return sum(1 for _, _, t in self._timers if not t.cancelled)

    def next_deadline(self) -> float | None:
        """The earliest wake-up or armed timeout, ``None`` if nothing waits on this clock."""
        live = [d for d, _, f in self._sleepers if not f.done()]
        live += [d for d, _, t in self._timers if not t.cancelled]
        return min(live) if live else None

    def _pop_due(self, target: float) -> tuple[float, asyncio.Future[None] | _FakeTimer] | None:
        """The earliest due sleeper or timer (sleepers first on ties, so a reply
        that arrives exactly at the deadline still counts), or ``None``."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        s = self._sleepers[0][0] if self._sleepers else None
        t = self._timers[0][0] if self._timers else None
        if s is not None and s <= target and (t is None or s <= t):
            return s, heapq.heappop(self._sleepers)[2]
        if t is not None and t <= target:
            return t, heapq.heappop(self._timers)[2]
        return None

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking every sleeper and firing every timeout that is due.

        Goes one deadline at a time and lets the event loop run in between, so a
        task that goes back to sleep (or arms a new timeout) is scheduled correctly.
        """
        target = self._now + seconds
        while (due := self._pop_due(target)) is not None:
            deadline, item = due
            self._now = max(self._now, deadline)
            if isinstance(item, _FakeTimer):
                item.cancelled = True
                item.scope._fire()
            else:
                item.set_result(None)
            for _ in range(5):
                await asyncio.sleep(0)
        self._now = target
        for _ in range(5):
            await asyncio.sleep(0)
