"""JSON-RPC 2.0 dispatch, in process (mirrors python/peerwire/cli/_jsonrpc.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from peerwire.cli._jsonrpc import MAX_BATCH, Dispatcher, RpcError


def _dispatcher() -> Dispatcher:
    d = Dispatcher()

    async def add(a: int, b: int = 0) -> int:
        return a + b

    async def fail() -> None:
        raise RpcError("nope", -32000, {"why": "x"})

    async def crash() -> None:
        raise RuntimeError("secret internals")

    d.register("t_add", add, ("a", int), ("b", int, False))
    d.register("t_fail", fail)
    d.register("t_crash", crash)
    return d


def _call(d: Dispatcher, doc: Any) -> Any:
    raw = asyncio.run(d.handle_bytes(json.dumps(doc).encode()))
    return None if raw is None else json.loads(raw)


def test_positional_and_named_params() -> None:
    d = _dispatcher()
    assert (_call(d, {"jsonrpc": "2.0", "id": 1, "method": "t_add", "params": [2, 3]}))["result"] == 5
    assert (_call(d, {"jsonrpc": "2.0", "id": 1, "method": "t_add", "params": [2]}))["result"] == 2
    named = {"jsonrpc": "2.0", "id": "x", "method": "t_add", "params": {"a": 1, "b": 4}}
    assert _call(d, named) == {"jsonrpc": "2.0", "id": "x", "result": 5}
    for bad in ([], [1, 2, 3], ["1"], [True], {"b": 1}, {"a": 1, "c": 2}):
        reply = _call(d, {"jsonrpc": "2.0", "id": 1, "method": "t_add", "params": bad})
        assert reply["error"]["code"] == -32602, bad


def test_errors_and_notifications() -> None:
    d = _dispatcher()
    reply = _call(d, {"jsonrpc": "2.0", "id": None, "method": "t_fail"})
    assert reply == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32000, "message": "nope", "data": {"why": "x"}},
    }
    reply = _call(d, {"jsonrpc": "2.0", "id": 2, "method": "t_crash"})
    assert reply["error"] == {"code": -32603, "message": "internal error"}
    assert _call(d, {"jsonrpc": "2.0", "method": "t_add", "params": [1]}) is None
    assert _call(d, {"jsonrpc": "2.0", "method": "unknown"}) is None  # notifications get nothing
    assert (_call(d, {"jsonrpc": "2.0", "id": True, "method": "t_add"}))["error"]["code"] == -32600


def test_batch_limits() -> None:
    d = _dispatcher()
    big = [{"jsonrpc": "2.0", "id": i, "method": "t_add", "params": [i]} for i in range(MAX_BATCH + 1)]
    reply = _call(d, big)
    assert reply["error"]["code"] == -32600 and "batch too large" in reply["error"]["message"]
    ok = _call(d, big[:MAX_BATCH])
    assert [r["result"] for r in ok] == list(range(MAX_BATCH))


@pytest.mark.parametrize("body", [b"", b"nul", b"\x00", b'{"a":', b"1e999999"])
def test_parse_errors(body: bytes) -> None:
    raw = asyncio.run(_dispatcher().handle_bytes(body))
    assert raw is not None
    reply = json.loads(raw)
    assert reply["id"] is None
    assert reply["error"]["code"] in (-32700, -32600)
