"""Adapting a stack's results to the admin RPC's JSON shapes."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

from peerwire.diagnostics import DialFailureRecord

__all__ = ["dial_failures_json", "iso_time", "to_json"]

_CAMEL = re.compile(r"_([a-z])")


def to_json(value: Any, *, camel: bool = True) -> Any:
    """A JSON-ready copy of a result: dicts as they are, dataclass fields as keys.

    ``camel``: geth's camelCase keys (``listen_addr`` → ``listenAddr``); gno keeps snake_case.
    """
    if isinstance(value, dict):
        return {str(k): to_json(v, camel=camel) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, camel=camel) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            (_CAMEL.sub(lambda m: m.group(1).upper(), f.name) if camel else f.name): to_json(
                getattr(value, f.name), camel=camel
            )
            for f in dataclasses.fields(value)
        }
    if hasattr(value, "to_dict"):
        return to_json(value.to_dict(), camel=camel)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def iso_time(unix: float | None) -> str | None:
    """UNIX seconds as ISO 8601 UTC with milliseconds (``2026-12-05T07:20:01.123Z``)."""
    if unix is None:
        return None
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dial_failures_json(records: list[DialFailureRecord]) -> list[dict[str, Any]]:
    """``admin_dialFailures``: one object per peer, newest failure first; times ISO 8601 UTC,
    ``backoff`` in seconds; ``nextRetry`` / ``backoff`` null for a peer not redialed on its own."""
    return [
        {
            "id": r.peer_id,
            "address": r.address,
            "direction": r.direction.value,
            "reason": r.reason.value,
            "message": r.message,
            "lastError": r.error,
            "attempts": r.attempts,
            "persistent": r.persistent,
            "firstFailure": iso_time(r.first_failure),
            "lastFailure": iso_time(r.last_failure),
            "nextRetry": iso_time(r.next_retry),
            "backoff": None if r.backoff is None else round(r.backoff, 3),
        }
        for r in records
    ]
