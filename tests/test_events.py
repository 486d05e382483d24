"""The shared typed events (mirrors python/peerwire/events.py)."""

from __future__ import annotations

import dataclasses

import pytest

from peerwire import events
from peerwire.errors import DialError
from peerwire.events import (
    DialFailed,
    DialFailureReason,
    Direction,
    DropReason,
    HandshakeFailureReason,
    PeerAdded,
    PeerDropped,
)


def test_events_are_frozen_and_compare_by_value() -> None:
    ev = PeerAdded(peer_id="ab" * 20, address="127.0.0.1:26656", direction=Direction.INBOUND)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.peer_id = "x"  # type: ignore[misc]
    assert ev == PeerAdded("ab" * 20, "127.0.0.1:26656", Direction.INBOUND)
    assert ev.direction.inbound and not Direction.OUTBOUND.inbound
    drop = PeerDropped("ab" * 20, "127.0.0.1:26656", Direction.OUTBOUND, DropReason.PROTOCOL_ERROR, "bad msg")
    assert drop.reason is DropReason.PROTOCOL_ERROR


def test_policy_refusals_are_decided_on_the_enum() -> None:
    refusals = {r for r in DialFailureReason if r.is_policy_refusal}
    assert refusals == {
        DialFailureReason.ALREADY_CONNECTED,
        DialFailureReason.ALREADY_DIALING,
        DialFailureReason.TOO_MANY_PEERS,
        DialFailureReason.SELF,
        DialFailureReason.NET_RESTRICTED,
        DialFailureReason.RECENTLY_DIALED,
    }
    assert HandshakeFailureReason.TOO_MANY_PEERS.is_policy_refusal
    assert not HandshakeFailureReason.FAILED.is_policy_refusal
    assert not DialFailureReason.CONNECT_REFUSED.is_policy_refusal


def test_reason_is_a_string_for_older_callers() -> None:
    err = DialError("dial x: refused", reason=DialFailureReason.CONNECT_REFUSED)
    assert err.reason == "connection refused" and err.reason is DialFailureReason.CONNECT_REFUSED
    ev = DialFailed(None, "10.0.0.1:1", DialFailureReason.CONNECT_REFUSED)
    assert str(ev.reason) == "connection refused"


def test_every_public_name_is_exported() -> None:
    assert set(events.__all__) == {
        # "@py_builtins"/"@pytest_ar": pytest rewrites assertions in peerwire's modules (its pytest11 plugin)
        n
        for n in vars(events)
        if not n.startswith(("_", "@")) and n not in {"annotations", "enum", "dataclass"}
    }
