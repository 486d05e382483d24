"""peerwire.diagnostics: the dial failure table, its log policy and its bounds (fake clock)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from peerwire._clock import FakeClock
from peerwire.diagnostics import (
    MAX_WARNINGS_PER_WINDOW,
    WARNING_WINDOW,
    DialFailureTable,
    FailureCategory,
    failure_category,
)
from peerwire.events import DialFailureReason, Direction, HandshakeFailureReason

LOG = "test.diag"
OUT = Direction.OUTBOUND
IN = Direction.INBOUND


def aio(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 20))

    return wrapper


def table(clock: FakeClock, **kw: int) -> DialFailureTable:
    return DialFailureTable(clock, logging.getLogger(LOG), **kw)


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOG and r.levelno == level]


def test_every_reason_has_a_category() -> None:
    for dr in DialFailureReason:
        assert isinstance(failure_category(dr), FailureCategory)
    assert failure_category(DialFailureReason.INCOMPATIBLE_NODE_INFO) is FailureCategory.INCOMPATIBLE
    assert failure_category(DialFailureReason.CONNECT_REFUSED) is FailureCategory.REFUSED
    assert failure_category(HandshakeFailureReason.TIMEOUT) is FailureCategory.TIMEOUT
    assert failure_category(HandshakeFailureReason.THROTTLED) is FailureCategory.THROTTLED
    assert failure_category(DialFailureReason.OTHER) is FailureCategory.OTHER
    # every value but OTHER maps somewhere specific
    unmapped = [
        r
        for r in (*DialFailureReason, *HandshakeFailureReason)
        if failure_category(r) is FailureCategory.OTHER
    ]
    assert {r.value for r in unmapped} == {"other"}


def test_warning_once_per_reason_then_debug_and_again_on_a_new_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    t = table(clock)
    caplog.set_level(logging.DEBUG, LOG)
    for _ in range(3):
        t.failed(
            peer_id="p1",
            address="10.0.0.1:1",
            direction=OUT,
            reason=FailureCategory.REFUSED,
            message="connection refused",
            error=ConnectionRefusedError("nope"),
        )
    assert lines(caplog, logging.WARNING) == [
        "dial p1@10.0.0.1:1 failed: connection refused (refused; attempt 1)"
    ]
    assert len(lines(caplog, logging.DEBUG)) == 2
    t.failed(
        peer_id="p1",
        address="10.0.0.1:1",
        direction=OUT,
        reason=FailureCategory.TIMEOUT,
        message="no TCP connection",
        error="TimeoutError: x",
    )
    t.failed(
        peer_id="p1",
        address="10.0.0.1:1",
        direction=OUT,
        reason=FailureCategory.TIMEOUT,
        message="no TCP connection",
        error="TimeoutError: x",
    )
    t.failed(
        peer_id="p1",
        address="10.0.0.1:1",
        direction=OUT,
        reason=FailureCategory.REFUSED,
        message="connection refused",
        error="x",
    )
    warns = lines(caplog, logging.WARNING)
    assert warns[1:] == [
        "dial p1@10.0.0.1:1 failed: no TCP connection (timeout; attempt 4)",
        "dial p1@10.0.0.1:1 failed: connection refused (refused; attempt 6)",
    ]
    (rec,) = t.records()
    assert (rec.peer_id, rec.attempts, rec.reason, rec.error) == ("p1", 6, FailureCategory.REFUSED, "x")
    assert rec.next_retry is None and rec.backoff is None and not rec.persistent


@aio
async def test_persistent_peer_is_reported_with_backoff_on_escalating_attempts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    t = table(clock)
    caplog.set_level(logging.DEBUG, LOG)
    retries = []
    for n in range(1, 10):
        retry = clock.monotonic() + 2.0**n
        rec = t.failed(
            peer_id="g1x",
            address="127.0.0.1:26656",
            direction=OUT,
            reason=FailureCategory.INCOMPATIBLE,
            message="gnoland requires version set entries abci",
            error="IncompatibleNodeInfoError: ...",
            persistent=True,
            next_retry=retry,
        )
        assert rec is not None
        assert rec.attempts == n and rec.backoff == 2.0**n
        assert rec.next_retry == clock.time() + 2.0**n  # UNIX seconds
        retries.append(rec.next_retry)
        await clock.advance(2.0**n)
    warns = lines(caplog, logging.WARNING)
    assert warns[0] == (
        "dial g1x@127.0.0.1:26656 failed: gnoland requires version set entries abci "
        "(incompatible; persistent peer, attempt 1, next retry in 2.0 s)"
    )
    assert [w.split(" after ")[1].split(" attempts")[0] for w in warns[1:]] == ["2", "4", "8"]
    assert warns[3] == (
        "persistent peer g1x@127.0.0.1:26656 still failing after 8 attempts: gnoland requires "
        "version set entries abci (incompatible, next retry in 256.0 s)"
    )
    (rec,) = t.records()
    assert rec.first_failure == FakeClock().time() and rec.last_failure == retries[-1] - 512.0


def test_success_clears_the_entry_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    t = table(FakeClock())
    caplog.set_level(logging.INFO, LOG)
    for _ in range(2):
        t.failed(
            peer_id="p",
            address="h:1",
            direction=OUT,
            reason=FailureCategory.TIMEOUT,
            message="timed out",
            error="e",
        )
    t.succeeded("p")
    assert t.records() == [] and t.get("p") is None
    assert lines(caplog, logging.INFO) == ["p connected after 2 failed attempts (last: timed out)"]
    t.succeeded("never-failed")  # nothing to say
    assert len(lines(caplog, logging.INFO)) == 1


def test_not_the_peers_fault_is_not_kept_and_local_refusals_are_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    t = table(FakeClock())
    caplog.set_level(logging.DEBUG, LOG)
    for reason in (FailureCategory.ALREADY_CONNECTED, FailureCategory.STOPPED):
        assert (
            t.failed(peer_id="p", address="h:1", direction=OUT, reason=reason, message="m", error="e") is None
        )
    assert t.records() == []
    rec = t.failed(
        peer_id=None,
        address="8.8.8.8:4000",
        direction=IN,
        reason=FailureCategory.TOO_MANY_PEERS,
        message="we refused the connection: too many peers",
        error="e",
    )
    assert rec is not None and rec.peer_id is None and rec.direction is IN
    # an inbound failure without an ID is kept by host: a new source port is the same entry
    t.failed(
        peer_id=None,
        address="8.8.8.8:4001",
        direction=IN,
        reason=FailureCategory.HANDSHAKE,
        message="bad auth",
        error="e",
    )
    (rec,) = t.records()
    assert (rec.attempts, rec.address, rec.reason) == (2, "8.8.8.8:4001", FailureCategory.HANDSHAKE)
    assert lines(caplog, logging.WARNING) == [
        "inbound handshake from 8.8.8.8:4001 failed: bad auth (handshake; attempt 2)"
    ]


def test_table_is_bounded_and_keeps_persistent_peers() -> None:
    t = table(FakeClock(), max_records=4)
    t.failed(
        peer_id="keep",
        address="h:1",
        direction=OUT,
        reason=FailureCategory.REFUSED,
        message="m",
        error="e",
        persistent=True,
        next_retry=5.0,
    )
    for i in range(10):
        t.failed(
            peer_id=f"p{i}",
            address="h:1",
            direction=OUT,
            reason=FailureCategory.REFUSED,
            message="m",
            error="e",
        )
    ids = [r.peer_id for r in t.records()]
    assert len(t) == 4 and ids == ["p9", "p8", "p7", "keep"]
    long = t.failed(
        peer_id="big",
        address="h:1",
        direction=OUT,
        reason=FailureCategory.OTHER,
        message="x" * 10_000,
        error="y" * 10_000,
    )
    assert long is not None and len(long.message) == len(long.error) == 512


@aio
async def test_warnings_about_many_peers_are_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    t = table(clock)
    caplog.set_level(logging.DEBUG, LOG)
    for i in range(MAX_WARNINGS_PER_WINDOW + 15):
        t.failed(
            peer_id=f"p{i}",
            address="h:1",
            direction=IN,
            reason=FailureCategory.HANDSHAKE,
            message="m",
            error="e",
        )
    # persistent peers are always reported
    t.failed(
        peer_id="mine",
        address="h:2",
        direction=OUT,
        reason=FailureCategory.REFUSED,
        message="m",
        error="e",
        persistent=True,
        next_retry=1.0,
    )
    assert len(lines(caplog, logging.WARNING)) == MAX_WARNINGS_PER_WINDOW + 1
    await clock.advance(WARNING_WINDOW)
    t.failed(
        peer_id="late", address="h:1", direction=OUT, reason=FailureCategory.REFUSED, message="m", error="e"
    )
    warns = lines(caplog, logging.WARNING)
    assert warns[-2].startswith("15 more dial/handshake failures were logged at DEBUG only")
    assert warns[-1] == "dial late@h:1 failed: m (refused; attempt 1)"
    # a peer held back is warned about on its next failure, once the window has room
    t.failed(
        peer_id=f"p{MAX_WARNINGS_PER_WINDOW}",
        address="h:1",
        direction=IN,
        reason=FailureCategory.HANDSHAKE,
        message="m",
        error="e",
    )
    assert lines(caplog, logging.WARNING)[-1].endswith("(handshake; attempt 2)")
