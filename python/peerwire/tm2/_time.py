"""One deadline primitive for tm2, on the injected clock: ``async with deadline(clock, s):``.

The rule (as everywhere in peerwire): the caller owns the deadline; a lower
layer does not re-bound what its caller bounds. On the system clock this is
``asyncio.timeout``; on a :class:`~peerwire._clock.FakeClock` the deadline is a
fake-time sleeper, so tests move time instead of waiting. Either way the
error is :class:`peerwire.errors.TimeoutError`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from peerwire._clock import Clock, SystemClock
from peerwire.errors import TimeoutError as PeerwireTimeoutError

__all__ = ["deadline"]


@contextlib.asynccontextmanager
async def deadline(clock: Clock, seconds: float | None, what: str = "operation") -> AsyncIterator[None]:
    """Bound the body to ``seconds`` of ``clock`` time (None: no bound).

    Raises:
        peerwire.errors.TimeoutError: the body ran out of time (it was cancelled).
    """
    if seconds is None:
        yield
        return
    if isinstance(clock, SystemClock):
        try:
            async with asyncio.timeout(seconds):
                yield
        except TimeoutError as e:
            if isinstance(e, PeerwireTimeoutError):
                raise
            raise PeerwireTimeoutError(f"{what} took longer than {seconds} s") from None
        return
    task = asyncio.current_task()
    assert task is not None
    fired = False

    async def watchdog() -> None:
        nonlocal fired
        await clock.sleep(seconds)
        fired = True
        task.cancel()

    dog = asyncio.get_running_loop().create_task(watchdog())
    try:
        yield
    except asyncio.CancelledError:
        if fired and task.uncancel() == 0:
            raise PeerwireTimeoutError(f"{what} took longer than {seconds} s") from None
        raise
    finally:
        dog.cancel()
