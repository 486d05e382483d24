"""Helpers for adapting a stack's objects to the admin RPC: JSON shapes, event kinds, sync-or-async calls."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

__all__ = ["event_kind", "maybe_await", "to_json"]

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


def event_kind(ev: Any) -> str:
    """An event's type as a lower-case word without underscores, whether the type is an enum
    (``PeerEventType.MSG_SEND``, ``EventType.PEER_CONNECTED``) or a string (``"msgsend"``)."""
    t = getattr(ev, "type", None)
    name = getattr(t, "name", None)
    return str(name if name is not None else getattr(t, "value", t)).lower().replace("_", "")


async def maybe_await(value: Any) -> Any:
    """``value``, awaited if the stack's method turned out to be a coroutine function."""
    return await value if inspect.isawaitable(value) else value
