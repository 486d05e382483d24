"""JSON-RPC 2.0 dispatch, transport-free: bytes in, bytes (or nothing) out.

Errors follow the spec (and go-ethereum's ``rpc`` package where the spec leaves room):

====== ================= ==================================================
code   name              when
====== ================= ==================================================
-32700 parse error       the body is not JSON (id ``null``)
-32600 invalid request   not a request object, bad ``jsonrpc``/``method``/``id``,
                         empty batch, batch over :data:`MAX_BATCH`
-32601 method not found  ``the method X does not exist/is not available``
-32602 invalid params    wrong count or type of parameters
-32603 internal error    a bug in a handler (details are logged, not returned)
-32000 server error      a handler refused the call (:class:`RpcError`), e.g.
                         ``invalid enode: …`` as geth answers admin_addPeer
====== ================= ==================================================

Notifications (no ``id``) run but get no response; a batch of only notifications gets
``None`` (the HTTP layer answers 204).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "MAX_BATCH",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "SERVER_ERROR",
    "Dispatcher",
    "RpcError",
]

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000

#: Largest batch answered (go-ethereum's default BatchRequestLimit is 1000); stops one
#: request from queueing unbounded work.
MAX_BATCH = 100
#: Deepest JSON nesting accepted before parsing gives up (json recursion is C-stack bound).
MAX_DEPTH = 64


class RpcError(Exception):
    """Raised by a handler to answer with a JSON-RPC error."""

    def __init__(self, message: str, code: int = SERVER_ERROR, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class _Method:
    fn: Handler
    params: tuple[tuple[str, type, bool], ...]  # (name, type, required)


def _type_name(t: type) -> str:
    return {
        str: "string",
        int: "integer",
        bool: "boolean",
        float: "number",
        list: "array",
        dict: "object",
    }.get(t, t.__name__)


class Dispatcher:
    """A table of ``namespace_method`` handlers with positional or named parameters."""

    def __init__(self) -> None:
        self._methods: dict[str, _Method] = {}

    def register(self, name: str, fn: Handler, *params: tuple[str, type] | tuple[str, type, bool]) -> None:
        """Add ``name``; ``params`` are ``(name, type[, required=True])`` in positional order."""
        spec = tuple((p[0], p[1], p[2] if len(p) == 3 else True) for p in params)
        self._methods[name] = _Method(fn, spec)

    def methods(self) -> list[str]:
        return sorted(self._methods)

    async def handle_bytes(self, body: bytes) -> bytes | None:
        """Answer one HTTP body: a request or a batch. ``None`` when nothing is to be sent."""
        try:
            text = body.decode("utf-8")
            doc = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            return _dump(_error(None, PARSE_ERROR, f"parse error: {e.__class__.__name__}"))
        if _depth(doc) > MAX_DEPTH:
            return _dump(_error(None, INVALID_REQUEST, f"request nested deeper than {MAX_DEPTH}"))
        if isinstance(doc, list):
            if not doc:
                return _dump(_error(None, INVALID_REQUEST, "empty batch"))
            if len(doc) > MAX_BATCH:
                return _dump(_error(None, INVALID_REQUEST, f"batch too large (max {MAX_BATCH})"))
            replies = [r for r in [await self.handle(item) for item in doc] if r is not None]
            return _dump(replies) if replies else None
        reply = await self.handle(doc)
        return _dump(reply) if reply is not None else None

    async def handle(self, req: Any) -> dict[str, Any] | None:
        """Answer one decoded request object (``None`` for a notification)."""
        if not isinstance(req, dict):
            return _error(None, INVALID_REQUEST, "invalid request: not an object")
        has_id = "id" in req
        rid = req.get("id")
        if has_id and not (
            rid is None
            or isinstance(rid, str)
            or (isinstance(rid, int | float) and not isinstance(rid, bool))
        ):
            return _error(None, INVALID_REQUEST, "invalid request: id must be a string, number or null")
        if req.get("jsonrpc") != "2.0":
            return _error(rid, INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
        name = req.get("method")
        if not isinstance(name, str) or not name:
            return _error(rid, INVALID_REQUEST, 'invalid request: "method" must be a non-empty string')
        params = req.get("params", [])
        if params is None:
            params = []
        if not isinstance(params, list | dict):
            return _error(rid, INVALID_REQUEST, 'invalid request: "params" must be an array or an object')
        method = self._methods.get(name)
        if method is None:
            reply = _error(rid, METHOD_NOT_FOUND, f"the method {name} does not exist/is not available")
            return reply if has_id else None
        try:
            args = _bind(method, params)
            result = await method.fn(*args)
        except RpcError as e:
            reply = _error(rid, e.code, e.message, e.data)
        except Exception:
            log.exception("rpc handler failed", extra={"method": name})
            reply = _error(rid, INTERNAL_ERROR, "internal error")
        else:
            reply = {"jsonrpc": "2.0", "id": rid, "result": result}
        return reply if has_id else None


def _bind(method: _Method, params: list[Any] | dict[str, Any]) -> list[Any]:
    spec = method.params
    if isinstance(params, dict):
        unknown = set(params) - {p[0] for p in spec}
        if unknown:
            raise RpcError(f"unknown parameter {sorted(unknown)[0]!r}", INVALID_PARAMS)
        values: list[Any] = []
        for name, _t, required in spec:
            if name in params:
                values.append(params[name])
            elif required:
                raise RpcError(f"missing value for required argument {name!r}", INVALID_PARAMS)
            else:
                break
    else:
        if len(params) > len(spec):
            raise RpcError(f"too many arguments, want at most {len(spec)}", INVALID_PARAMS)
        need = sum(1 for p in spec if p[2])
        if len(params) < need:
            missing = spec[len(params)][0]
            raise RpcError(f"missing value for required argument {len(params)} ({missing})", INVALID_PARAMS)
        values = list(params)
    for i, (value, (name, t, _)) in enumerate(zip(values, spec, strict=False)):
        ok = isinstance(value, t) and not (t is int and isinstance(value, bool))
        if not ok:
            raise RpcError(f"invalid argument {i} ({name}): expected {_type_name(t)}", INVALID_PARAMS)
    return values


def _error(rid: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": rid, "error": err}


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _depth(obj: Any, limit: int = MAX_DEPTH + 1) -> int:
    """Nesting depth of a decoded JSON value, stopping once past ``limit``."""
    depth = 0
    level = [obj]
    while level and depth <= limit:
        nxt: list[Any] = []
        for o in level:
            if isinstance(o, dict):
                nxt.extend(o.values())
            elif isinstance(o, list):
                nxt.extend(o)
        if not nxt:
            return depth
        depth += 1
        level = nxt
    return depth
