"""The public RLPx gate (``rlpx.serve`` / ``rlpx.PendingConnection``) and the public Hello exchange."""

from __future__ import annotations

import ast
import asyncio
import contextlib
from pathlib import Path

import pytest
from tests.devp2p._aio import aio

from peerwire._core import p2p_base
from peerwire.devp2p import DiscReason, PrivateKey, encode_hello, exchange_hello, rlpx
from peerwire.devp2p._base import DISC_MSG
from peerwire.errors import ConnectionClosedError, LocalProtocolError, RefusedError, RemoteProtocolError

PACKAGE = Path(__file__).resolve().parents[2] / "python" / "peerwire"


async def _gate() -> tuple[rlpx.GatedListener, asyncio.Queue[rlpx.PendingConnection], PrivateKey]:
    key = PrivateKey.generate()
    pending: asyncio.Queue[rlpx.PendingConnection] = asyncio.Queue(maxsize=8)
    lst = await rlpx.serve("127.0.0.1", 0, pending.put_nowait, private_key=key)
    return lst, pending, key


@aio
async def test_refused_before_any_byte_is_read_or_written() -> None:
    lst, pending, _ = await _gate()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", lst.port)
        writer.write(b"\x00" * 64)  # junk a handshake would choke on: the gate never reads it
        pc = await asyncio.wait_for(pending.get(), 5)
        assert pc.remote_address[0] == "127.0.0.1" and pc.local_address[1] == lst.port
        pc.refuse()
        # closed (reset, since our junk was never read), and nothing was sent
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        with pytest.raises(LocalProtocolError):
            await pc.handshake()  # a refused connection cannot be handshaken any more
    finally:
        await lst.close()


@aio
async def test_handshake_through_the_gate_then_public_hello_exchange() -> None:
    lst, pending, key = await _gate()
    dialer = PrivateKey.generate()
    try:
        dial = asyncio.ensure_future(
            rlpx.dial("127.0.0.1", lst.port, remote_public_key=key.public_key, private_key=dialer)
        )
        pc = await asyncio.wait_for(pending.get(), 5)
        srv_conn = await asyncio.wait_for(pc.handshake(), 5)
        cli_conn = await dial
        assert srv_conn.remote_public_key == dialer.public_key
        with pytest.raises(LocalProtocolError):
            await pc.handshake()  # once only
        a, b = await asyncio.gather(
            exchange_hello(cli_conn, encode_hello(dialer.public_key, "client", [("echo", 1)])),
            exchange_hello(srv_conn, encode_hello(key.public_key, "server", [])),
        )
        assert (a.name, b.name, b.caps) == ("server", "client", [("echo", 1)])
        assert cli_conn.snappy and srv_conn.snappy  # both speak version 5
        await cli_conn.close()
        await srv_conn.close()
    finally:
        await lst.close()


@aio
async def test_hello_exchange_reports_an_early_disconnect_with_its_reason() -> None:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    ca, cb = await rlpx.memory_pair(a, b)
    await cb.send(DISC_MSG, p2p_base.encode_disconnect(int(DiscReason.TOO_MANY_PEERS)))
    with pytest.raises(RefusedError, match="too many peers") as e:
        await exchange_hello(ca, encode_hello(a.public_key, "a"))
    # a refusal by the remote's policy, told apart by its code, not a protocol error
    assert e.value.disconnect_reason == DiscReason.TOO_MANY_PEERS and e.value.by_remote
    assert not isinstance(e.value, RemoteProtocolError)
    await ca.close()
    while (got := await _recv_or_closed(cb)) is not None:
        assert got[0] == 0x00  # a's Hello went out before the error was raised
    await cb.close()


async def _recv_or_closed(conn: rlpx.Connection) -> tuple[int, bytes] | None:
    try:
        return await conn.recv(timeout=1)
    except ConnectionClosedError:
        return None


def _private_rlpx_uses(path: Path) -> list[str]:
    where = path.relative_to(PACKAGE)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "rlpx" and node.attr.startswith("_"):
                found.append(f"{where}:{node.lineno} rlpx.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "peerwire.devp2p.rlpx":
            found += [f"{where}:{node.lineno} {a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.ImportFrom) and node.module == "peerwire.devp2p._rlpxproto":
            found.append(f"{where}:{node.lineno} imports the rlpx driver")
    return found


def test_no_module_outside_rlpx_imports_its_private_names() -> None:
    offenders = [u for p in PACKAGE.rglob("*.py") if p.name != "rlpx.py" for u in _private_rlpx_uses(p)]
    assert offenders == []
