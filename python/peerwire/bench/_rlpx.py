"""RLPx benchmark bodies: the Rust codec against the keccak+AES bound, end to end against geth.

* codec seal+open of a 4 MiB batch through ``peerwire._core.rlpx`` (what the Python driver
  calls) against the single-core bound for the same bytes: every byte absorbed by keccak-256
  and AES-256-CTR'd once when sealing and once when opening;
* end to end: two processes over loopback TCP through the public ``rlpx.dial``/``listen``
  (snappy off) against go-ethereum ``rlpx.Conn`` Go<->Go (harness ``rlpx-bench``);
* handshakes/s over loopback TCP against the same harness.

Every body checks its result before its figure counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from peerwire._core import keccak
from peerwire._core import rlpx as core
from peerwire.bench._crypto import aes256_ctr
from peerwire.devp2p import PrivateKey, PublicKey, rlpx

__all__ = [
    "BATCH_BYTES",
    "SIZES",
    "codec_pair",
    "e2e_count",
    "e2e_python",
    "geth_figures",
    "handshakes_python",
    "make_batch",
    "make_bound",
    "seal_open",
    "sink_main",
]

SIZES = {"1KiB": 1024, "16KiB": 16 * 1024, "1MiB": 1 << 20}
BATCH_BYTES = 4 << 20
E2E_TIMEOUT = 300.0


def codec_pair() -> tuple[core.Session, core.Session]:
    """Two codec sessions with matching fixed secrets (no handshake)."""
    a = core.Session.from_secrets(b"\x11" * 32, b"\x22" * 32, b"a", b"b")
    b = core.Session.from_secrets(b"\x11" * 32, b"\x22" * 32, b"b", b"a")
    return a, b


def make_batch(size: int, total: int = BATCH_BYTES) -> list[tuple[int, bytes]]:
    payload = os.urandom(size)
    return [(0x10, payload)] * max(1, total // size)


def seal_open(a: core.Session, b: core.Session, batch: list[tuple[int, bytes]]) -> int:
    return len(b.feed(a.seal_batch(batch)))


def make_bound() -> Callable[[bytes], None] | None:
    """The keccak+AES-CTR bound function, or ``None`` without an AES backend."""
    ctr = aes256_ctr(b"\x11" * 32)
    if ctr is None:
        return None

    def bound(data: bytes) -> None:
        for _ in range(2):  # seal and open each hash and encrypt every byte once
            keccak.keccak256(data)
            ctr(data)

    return bound


def sink_main(n: int) -> None:
    """Receiver process: listen, print port and key, read ``n`` messages, reply the byte count."""

    async def main() -> None:
        key = PrivateKey.generate()
        async with rlpx.listen("127.0.0.1", 0, private_key=key) as lst:
            print(json.dumps({"port": lst.port, "pubkey": key.public_key.to_hex()}), flush=True)
            conn = await lst.accept(timeout=30)
            total = 0
            for _ in range(n):
                _, payload = await conn.recv(timeout=60)
                total += len(payload)
            await conn.send(1, total.to_bytes(8, "big"))
            await conn.recv(timeout=60)  # wait for the sender to close
            await conn.close()

    with contextlib.suppress(Exception):  # the sender closing is the normal end
        asyncio.run(main())


async def e2e_python(size: int, n: int) -> float:
    """Seconds to push ``n`` messages of ``size`` bytes to a receiver in another process."""
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before the timed part
        [sys.executable, "-m", "peerwire.bench._procs", "rlpx-sink", str(n)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        hello = json.loads(proc.stdout.readline())
        conn = await rlpx.dial(
            "127.0.0.1",
            hello["port"],
            remote_public_key=PublicKey.from_hex(hello["pubkey"]),
            private_key=PrivateKey.generate(),
        )
        payload = os.urandom(size)
        t0 = time.perf_counter()
        for _ in range(n):
            await conn.send(0x10, payload)
        code, total = await conn.recv(timeout=E2E_TIMEOUT)
        elapsed = time.perf_counter() - t0
        if (code, int.from_bytes(total, "big")) != (1, n * size):
            raise AssertionError(f"receiver got {int.from_bytes(total, 'big')} bytes, sent {n * size}")
        await conn.close()
        return elapsed
    finally:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def e2e_count(size: int, quick: bool) -> int:
    return max(20, (8 << 20 if quick else 256 << 20) // size)


async def handshakes_python(n: int) -> float:
    """Initiator+recipient RLPx handshakes per second over loopback TCP (both ends here)."""
    key = PrivateKey.generate()
    async with rlpx.listen("127.0.0.1", 0, private_key=key) as lst:
        t0 = time.perf_counter()
        for _ in range(n):
            c = await rlpx.dial(
                "127.0.0.1", lst.port, remote_public_key=key.public_key, private_key=PrivateKey.generate()
            )
            s = await lst.accept(timeout=5)
            await c.close()
            await s.close()
        return n / (time.perf_counter() - t0)


def geth_figures(run: Callable[..., str], quick: bool) -> dict[str, Any]:
    """go-ethereum's figures: ``{"sizes": [{size, mb_per_s, msgs_per_s}], "handshakes_per_s"}``."""
    args = (
        ["--seconds", "0.05", "--handshakes", "5"] if quick else ["--seconds", "1.5", "--handshakes", "300"]
    )
    res: dict[str, Any] = json.loads(run("rlpx-bench", *args))
    if [s["size"] for s in res["sizes"]] != list(SIZES.values()):
        raise AssertionError(f"rlpx-bench measured sizes {res['sizes']}, expected {list(SIZES.values())}")
    return res
