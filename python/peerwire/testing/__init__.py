"""Test support for code built on peerwire (and for peerwire's own tests).

Public and typed, like ``trio.testing``: downstream projects test their
protocols and reactors with the same tools peerwire uses.

- :class:`FakeClock`: time that moves only when the test says so; drives
  ``clock.sleep`` and ``clock.timeout`` (inject it wherever a ``clock=`` is taken).
- :func:`autojump`: run a coroutine to completion on a :class:`FakeClock`,
  jumping fake time to the next deadline whenever the loop has nothing else
  to do (trio's ``autojump_clock``): a whole exchange with timeouts runs at once.
- :func:`settle`: let every ready task run (a few loop steps).
- :func:`memory_pipe` / :func:`connect_protocols`: a byte-level in-memory pipe
  with backpressure, under real ``StreamReader``/``StreamWriter`` or any
  ``asyncio.Protocol`` (see :mod:`peerwire.testing._pipe`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from peerwire._clock import FakeClock
from peerwire.testing._pipe import (
    DEFAULT_HIGH_WATER,
    MemoryStream,
    MemoryTransport,
    connect_protocols,
    memory_pipe,
)

__all__ = [
    "DEFAULT_HIGH_WATER",
    "FakeClock",
    "MemoryStream",
    "MemoryTransport",
    "autojump",
    "connect_protocols",
    "memory_pipe",
    "settle",
]

T = TypeVar("T")

#: Loop steps :func:`settle` runs: enough for a chain of a few callbacks and task wake-ups.
SETTLE_STEPS = 20


async def settle(steps: int = SETTLE_STEPS) -> None:
    """Run ``steps`` event-loop iterations, so everything already runnable gets to run."""
    for _ in range(steps):
        await asyncio.sleep(0)


async def autojump(
    clock: FakeClock,
    aw: Awaitable[T],
    *,
    idle: float = 0.002,
    max_fake_time: float = 24 * 3600.0,
) -> T:
    """Await ``aw``; while it waits on nothing but ``clock``, jump to the next deadline.

    "Nothing but the clock" means the loop has been idle ``idle`` real seconds
    (so bytes in flight on a real loopback socket arrive before time jumps).

    Raises:
        RuntimeError: ``aw`` is still waiting with no deadline armed on ``clock``
            (it waits on something the clock cannot end: a deadlock), or fake
            time passed ``max_fake_time``.
    """
    task = asyncio.ensure_future(aw)
    start = clock.monotonic()
    try:
        while True:
            done, _ = await asyncio.wait([task], timeout=idle)
            if done:
                return task.result()
            due = clock.next_deadline()
            if due is None:
                # Real I/O may still be on its way; wait once more before calling it a deadlock.
                done, _ = await asyncio.wait([task], timeout=idle * 50)
                if done:
                    return task.result()
                if clock.next_deadline() is None:
                    raise RuntimeError("autojump: the awaited code waits on nothing the fake clock can end")
                continue
            if due - start > max_fake_time:
                raise RuntimeError(f"autojump: more than {max_fake_time} s of fake time passed")
            await clock.advance(max(0.0, due - clock.monotonic()))
    finally:
        if not task.done():
            task.cancel()
            await asyncio.wait([task])
