"""gno ``MakeSecretConnection`` <-> peerwire ``SecretConnection``, both roles, random message sizes.

The Go peer echoes every byte; we write random messages of 0..64 KiB and check the
echoed stream byte for byte, so gno reads our frames and we read gno's.
"""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import pytest

from peerwire import tm2

pytestmark = pytest.mark.interop

GO_SEED = bytes(range(32))
GO_KEY = tm2.NodeKey.from_seed(GO_SEED)
OUR_KEY = tm2.NodeKey.from_secret(b"peerwire")


async def _event(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    async with asyncio.timeout(15):
        line = await proc.stdout.readline()
    if not line:
        assert proc.stderr is not None
        raise AssertionError(f"harness exited: {(await proc.stderr.read()).decode()}")
    ev: dict[str, Any] = json.loads(line)
    return ev


def _messages(seed: int, count: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(0, 64 * 1024) for _ in range(count)]


async def _exchange_exact(sc: tm2.SecretConnection, count: int, seed: int) -> None:
    """Write the messages and compare the echo with the same bytes regenerated on the fly."""
    sizes = _messages(seed, count)
    total = sum(sizes)

    async def writer() -> None:
        rng = random.Random(seed + 1)
        for n in sizes:
            await sc.write(rng.randbytes(n))

    async def reader() -> None:
        rng = random.Random(seed + 1)
        pending = iter(sizes)
        want = bytearray()
        got = 0
        while got < total:
            chunk = await sc.read()
            assert chunk, f"EOF after {got} of {total} bytes"
            while len(want) < len(chunk):
                want += rng.randbytes(next(pending))
            assert chunk == bytes(want[: len(chunk)]), f"echo differs near byte {got}"
            del want[: len(chunk)]
            got += len(chunk)

    async with asyncio.timeout(240):
        await asyncio.gather(writer(), reader())


async def _go_listens(go_harness: Path, count: int) -> None:
    proc = await asyncio.create_subprocess_exec(
        str(go_harness),
        "tm2-sc",
        "-listen",
        "127.0.0.1:0",
        "-seed",
        GO_SEED.hex(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        ev = await _event(proc)
        assert ev["event"] == "listening"
        r, w = await asyncio.open_connection("127.0.0.1", ev["port"])
        async with asyncio.timeout(3):
            sc = await tm2.SecretConnection.make(r, w, OUR_KEY)
        assert sc.remote_public_key == GO_KEY.public_key
        ev = await _event(proc)
        assert ev == {"event": "ready", "remote_pub": OUR_KEY.public_key.hex()}
        await _exchange_exact(sc, count, seed=count)
        await sc.close()
        ev = await _event(proc)
        assert ev["event"] == "done" and ev["bytes"] == sum(_messages(count, count))
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def _go_dials(go_harness: Path, count: int) -> None:
    conns: asyncio.Queue[tm2.SecretConnection] = asyncio.Queue(maxsize=1)

    async def on_conn(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        async with asyncio.timeout(3):
            await conns.put(await tm2.SecretConnection.make(r, w, OUR_KEY))

    srv = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        str(go_harness),
        "tm2-sc",
        "-dial",
        f"127.0.0.1:{port}",
        "-seed",
        GO_SEED.hex(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with srv:
            async with asyncio.timeout(10):
                sc = await conns.get()
            assert sc.remote_public_key == GO_KEY.public_key
            assert (await _event(proc))["event"] == "ready"
            await _exchange_exact(sc, count, seed=count + 7)
            await sc.close()
            ev = await _event(proc)
            assert ev["event"] == "done" and ev["bytes"] == sum(_messages(count + 7, count))
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


@pytest.mark.parametrize("role", ["go_listens", "go_dials"])
def test_secret_connection_with_gno_1000_messages(go_harness: Path, role: str) -> None:
    run = _go_listens if role == "go_listens" else _go_dials
    asyncio.run(run(go_harness, 1000))


@pytest.mark.slow
@pytest.mark.parametrize("role", ["go_listens", "go_dials"])
def test_secret_connection_with_gno_10000_messages(go_harness: Path, role: str) -> None:
    run = _go_listens if role == "go_listens" else _go_dials
    asyncio.run(run(go_harness, 10_000))


def test_gno_rejects_our_bad_auth_and_we_reject_a_silent_gno(go_harness: Path) -> None:
    """A peer that sends a low-order ephemeral key is refused by gno, which closes the socket."""

    async def main() -> None:
        proc = await asyncio.create_subprocess_exec(
            str(go_harness),
            "tm2-sc",
            "-listen",
            "127.0.0.1:0",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            ev = await _event(proc)
            r, w = await asyncio.open_connection("127.0.0.1", ev["port"])
            w.write(b"\x22\x0a\x20" + bytes(32))
            await w.drain()
            ev = await _event(proc)
            assert ev["event"] == "error" and "low order" in ev["error"]
            async with asyncio.timeout(5):
                rest = await r.read()
                while rest:
                    rest = await r.read()
            w.close()
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()

    asyncio.run(main())
