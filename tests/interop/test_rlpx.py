"""RLPx against go-ethereum's p2p/rlpx.Conn (tests/interop/go/rlpx.go).

* the DERIVED end-to-end frame vectors are confirmed byte for byte by
  ``rlpx.Conn.InitWithSecrets`` + ``Write``;
* Python dials Go and Go dials Python; random messages of 0..1 MiB plus one of
  the maximum size, snappy off then on; Go echoes every message (Python checks
  each byte) and reports a SHA-256 over everything it received (Go's view is
  checked against Python's).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import load_vector, run_harness

from peerwire.devp2p import PrivateKey, PublicKey, rlpx

pytestmark = pytest.mark.interop

EIP8: Any = load_vector("rlpx_eip8.json")
FRAMES: Any = load_vector("rlpx_frames.json")

CTL_SNAPPY = 0x7FF0
CTL_DIGEST = 0x7FF1
CTL_BYE = 0x7FF2


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def test_go_confirms_derived_frames(go_harness: Path) -> None:
    e2e = FRAMES["end_to_end_derived"]
    mac = bytes.fromhex(e2e["mac_secret"])
    nonce_a = bytes.fromhex(EIP8["keys"]["nonce_a"]["hex"])
    nonce_b = bytes.fromhex(EIP8["keys"]["nonce_b"]["hex"])
    auth2 = bytes.fromhex(EIP8["packets"]["auth2"]["hex"])
    ack2 = bytes.fromhex(EIP8["packets"]["ack2"]["hex"])
    req = {
        "aes": e2e["aes_secret"],
        "mac": e2e["mac_secret"],
        "a_egress_seed": (xor(mac, nonce_b) + auth2).hex(),
        "a_ingress_seed": (xor(mac, nonce_a) + ack2).hex(),
        "frames": [
            {
                "direction": f["direction"],
                "code": f["msg_code"],
                "payload": f["payload_rlp"],
                "snappy": f["snappy"],
            }
            for f in e2e["frames"]
        ],
    }
    out = json.loads(run_harness(go_harness, "rlpx-frames", stdin=json.dumps(req)))
    assert out["frames"] == [f["frame_hex"] for f in e2e["frames"]]


class GoPeer:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, binary: Path, *args: str) -> GoPeer:
        proc = await asyncio.create_subprocess_exec(
            str(binary),
            "rlpx-peer",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def line(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), 10)
        if not raw:
            err = await self.proc.stderr.read() if self.proc.stderr else b""
            raise AssertionError(f"Go peer exited: {err.decode()}")
        result: dict[str, Any] = json.loads(raw)
        return result

    async def finish(self) -> None:
        try:
            rc = await asyncio.wait_for(self.proc.wait(), 20)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        err = await self.proc.stderr.read() if self.proc.stderr else b""
        assert rc == 0, f"Go peer failed: {err.decode()}"


def messages(rng: random.Random, n: int, snappy: bool) -> list[tuple[int, bytes]]:
    out = [(rng.randrange(0, 0x7FF0), rng.randbytes(rng.randrange(0, 1024 * 1024 + 1))) for _ in range(n)]
    if snappy:
        # the largest plain payload; compressible so the compressed frame fits in 2^24-1
        big = (rng.randbytes(4096) + bytes(60_000)) * (rlpx.MAX_PAYLOAD_SIZE // 64_096 + 1)
        out.append((3, big[: rlpx.MAX_PAYLOAD_SIZE]))
    else:
        out.append((3, rng.randbytes(rlpx.MAX_PAYLOAD_SIZE - 1)))  # frame = code byte + payload = 2^24-1
    rng.shuffle(out)
    return out


async def exchange(conn: rlpx.Connection, n: int, seed: int) -> None:
    rng = random.Random(seed)
    digest = hashlib.sha256()
    for snappy in (False, True):
        if snappy:
            await conn.send(CTL_SNAPPY, b"on")
            assert await conn.recv(timeout=20) == (CTL_SNAPPY, b"on")
            conn.set_snappy(True)
        msgs = messages(rng, n, snappy)

        async def sender(msgs: list[tuple[int, bytes]] = msgs) -> None:
            for code, payload in msgs:
                await conn.send(code, payload)

        task = asyncio.create_task(sender())
        for i, (code, payload) in enumerate(msgs):
            got = await conn.recv(timeout=30)
            assert got[0] == code, f"message {i}: code"
            assert got[1] == payload, f"message {i}: payload of {len(payload)} bytes differs"
            digest.update(code.to_bytes(8, "big") + payload)
        await task
        await conn.send(CTL_DIGEST, b"")
        assert await conn.recv(timeout=20) == (CTL_DIGEST, digest.digest()), "Go saw different bytes"
    await conn.send(CTL_BYE, b"")


async def python_dials_go(binary: Path, n: int) -> None:
    go = await GoPeer.start(binary, "--listen")
    try:
        hello = await go.line()
        key = PrivateKey.generate()
        conn = await rlpx.dial(
            "127.0.0.1", hello["port"], remote_public_key=PublicKey.from_hex(hello["pubkey"]), private_key=key
        )
        connected = await go.line()
        assert connected["remote"] == key.public_key.to_hex()
        assert conn.remote_public_key.to_hex() == hello["pubkey"]
        await exchange(conn, n, seed=1)
        assert (await go.line())["messages"] == 2 * (n + 1)
        await conn.close()
        await go.finish()
    finally:
        if go.proc.returncode is None:
            go.proc.kill()
            await go.proc.wait()


async def go_dials_python(binary: Path, n: int) -> None:
    key = PrivateKey.generate()
    async with rlpx.listen("127.0.0.1", 0, private_key=key) as lst:
        addr = f"127.0.0.1:{lst.port}"
        go = await GoPeer.start(binary, "--dial", addr, "--remote", key.public_key.to_hex())
        try:
            hello = await go.line()
            conn = await lst.accept(timeout=10)
            assert conn.remote_public_key.to_hex() == hello["pubkey"]
            assert (await go.line())["remote"] == key.public_key.to_hex()
            await exchange(conn, n, seed=2)
            assert (await go.line())["messages"] == 2 * (n + 1)
            await conn.close()
            await go.finish()
        finally:
            if go.proc.returncode is None:
                go.proc.kill()
                await go.proc.wait()


@pytest.mark.parametrize("direction", ["python_dials_go", "go_dials_python"])
def test_interop_small(go_harness: Path, direction: str) -> None:
    fn = python_dials_go if direction == "python_dials_go" else go_dials_python
    asyncio.run(fn(go_harness, 20))


@pytest.mark.slow
@pytest.mark.parametrize("direction", ["python_dials_go", "go_dials_python"])
def test_interop_1000_messages(go_harness: Path, direction: str) -> None:
    fn = python_dials_go if direction == "python_dials_go" else go_dials_python
    asyncio.run(fn(go_harness, 1000))
