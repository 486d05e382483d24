"""Adapting a stack's results to the admin RPC's JSON shapes."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

__all__ = ["to_json"]

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
