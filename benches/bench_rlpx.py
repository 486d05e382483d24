"""RLPx throughput: the Rust codec against the keccak+AES bound, end to end against geth.

All figures come from one run on one machine:

* ``bench_codec_seal_open``: seal a batch into frames and open it again through
  ``peerwire._core.rlpx`` (what the Python driver calls), per message size.
* ``bench_bound_keccak_aes``: the single-core bound for the same bytes: every
  byte is absorbed by keccak-256 and AES-256-CTR'd once when sealing and once
  when opening (keccak-asm, the codec's own backend; AES-256-CTR from OpenSSL
  via ``cryptography``).
* ``bench_e2e_python``: two processes over loopback TCP through the public
  Python API (``rlpx.dial``/``listen``), snappy off.
* ``bench_e2e_geth``: go-ethereum ``rlpx.Conn`` Go<->Go over loopback TCP
  (harness ``rlpx-bench``), same sizes, plus handshakes/s.
* ``bench_handshakes_python``: initiator+recipient pairs over loopback TCP.

``python -m benches.bench_rlpx`` prints the table recorded in benches/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pytest_benchmark.fixture import BenchmarkFixture
from tests.conftest import go_harness as go_harness  # re-exported fixture

from peerwire._core import identity
from peerwire._core import rlpx as core
from peerwire.devp2p import PrivateKey, PublicKey, rlpx

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / ".cache" / "peerwire-interop"
SIZES = {"1KiB": 1024, "16KiB": 16 * 1024, "1MiB": 1 << 20}
BATCH_BYTES = 4 << 20


def _pair() -> tuple[core.Session, core.Session]:
    a = core.Session.from_secrets(b"\x11" * 32, b"\x22" * 32, b"a", b"b")
    b = core.Session.from_secrets(b"\x11" * 32, b"\x22" * 32, b"b", b"a")
    return a, b


def _batch(size: int) -> list[tuple[int, bytes]]:
    payload = os.urandom(size)
    return [(0x10, payload)] * max(1, BATCH_BYTES // size)


def _seal_open(a: core.Session, b: core.Session, batch: list[tuple[int, bytes]]) -> int:
    return len(b.feed(a.seal_batch(batch)))


def _bound(data: bytes) -> None:
    for _ in range(2):  # seal and open each hash and encrypt every byte once
        identity.keccak256(data)
        enc = Cipher(algorithms.AES256(b"\x11" * 32), modes.CTR(bytes(16))).encryptor()
        enc.update(data)


@pytest.mark.parametrize("size", list(SIZES))
def bench_codec_seal_open(benchmark: BenchmarkFixture, size: str) -> None:
    a, b = _pair()
    batch = _batch(SIZES[size])
    got = b.feed(a.seal_batch(batch[:3]))
    assert got == batch[:3]
    benchmark.group = f"rlpx codec {size}"
    benchmark.extra_info["bytes"] = sum(len(p) for _, p in batch)
    assert benchmark(_seal_open, a, b, batch) == len(batch)


@pytest.mark.parametrize("size", list(SIZES))
def bench_bound_keccak_aes(benchmark: BenchmarkFixture, size: str) -> None:
    data = os.urandom(BATCH_BYTES)
    benchmark.group = f"rlpx codec {size}"
    benchmark.extra_info["bytes"] = len(data)
    benchmark(_bound, data)


# ----------------------------------------------------------- end to end


def _sink_main(n: int) -> None:
    """Receiver process: listen, print port and key, read ``n`` messages, reply, exit."""

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


async def _e2e(size: int, n: int) -> float:
    proc = subprocess.Popen(  # noqa: ASYNC220 (started once, before the timed part)
        [sys.executable, "-m", "benches.bench_rlpx", "sink", str(n)],
        cwd=ROOT,
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
        code, total = await conn.recv(timeout=120)
        elapsed = time.perf_counter() - t0
        assert (code, int.from_bytes(total, "big")) == (1, n * size)
        await conn.close()
        return elapsed
    finally:
        proc.wait(timeout=30)


def _e2e_count(size: int, quick: bool) -> int:
    return max(20, (8 << 20 if quick else 256 << 20) // size)


@pytest.mark.parametrize("size", list(SIZES))
def bench_e2e_python(benchmark: BenchmarkFixture, size: str) -> None:
    n = _e2e_count(SIZES[size], benchmark.disabled)
    benchmark.group = f"rlpx e2e {size}"
    elapsed = benchmark.pedantic(lambda: asyncio.run(_e2e(SIZES[size], n)), rounds=1, iterations=1)
    benchmark.extra_info.update(mb_per_s=n * SIZES[size] / elapsed / 1e6, msgs_per_s=n / elapsed)


def run_geth(binary: Path, quick: bool) -> dict[str, Any]:
    args = ["--seconds", "0.05", "--handshakes", "5"]
    if not quick:
        args = ["--seconds", "1.5", "--handshakes", "300"]
    cmd = [str(binary), "rlpx-bench", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=300)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def bench_e2e_geth(benchmark: BenchmarkFixture, go_harness: Path) -> None:
    benchmark.group = "rlpx e2e geth"
    res = benchmark.pedantic(lambda: run_geth(go_harness, benchmark.disabled), rounds=1, iterations=1)
    assert [s["size"] for s in res["sizes"]] == list(SIZES.values())
    benchmark.extra_info.update(res)


async def _handshakes(n: int) -> float:
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


def bench_handshakes_python(benchmark: BenchmarkFixture) -> None:
    n = 5 if benchmark.disabled else 300
    benchmark.group = "rlpx handshakes"
    rate = benchmark.pedantic(lambda: asyncio.run(_handshakes(n)), rounds=1, iterations=1)
    benchmark.extra_info["handshakes_per_s"] = rate


# ------------------------------------------------------------------ report


def _interleaved(fns: list[Any], repeat: int = 9) -> list[float]:
    """Best time of each function, runs interleaved so machine noise hits all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def _core_handshakes(n: int) -> float:
    ka, kb = PrivateKey.generate(), PrivateKey.generate()
    t0 = time.perf_counter()
    for _ in range(n):
        ini, auth = core.Handshake.initiator(ka.to_bytes(), kb.public_key.to_bytes())
        done = core.Handshake.recipient(kb.to_bytes()).feed(auth)
        assert done is not None
        assert ini.feed(done.send) is not None
    return n / (time.perf_counter() - t0)


def report(rounds: int = 3) -> None:
    """Measure everything and print markdown rows for benches/RESULTS.md.

    The machine is shared, so every figure is the best of ``rounds`` and the
    rounds interleave peerwire and geth: a busy spell hits both alike.
    """
    data = os.urandom(BATCH_BYTES)
    codec: dict[int, float] = {}
    bound: dict[int, float] = {}
    for size in SIZES.values():
        a, b = _pair()
        batch = _batch(size)
        t_codec, t_bound = _interleaved(
            [lambda a=a, b=b, batch=batch: _seal_open(a, b, batch), lambda: _bound(data)]
        )
        codec[size] = len(batch) * size / t_codec / 1e6
        bound[size] = len(data) / t_bound / 1e6
    py_mb = dict.fromkeys(SIZES.values(), 0.0)
    py_msgs = dict.fromkeys(SIZES.values(), 0.0)
    go_mb = dict.fromkeys(SIZES.values(), 0.0)
    go_msgs = dict.fromkeys(SIZES.values(), 0.0)
    py_hs = go_hs = core_hs = 0.0
    for _ in range(rounds):
        geth = run_geth(HARNESS, False)
        for g in geth["sizes"]:
            go_mb[g["size"]] = max(go_mb[g["size"]], g["mb_per_s"])
            go_msgs[g["size"]] = max(go_msgs[g["size"]], g["msgs_per_s"])
        go_hs = max(go_hs, geth["handshakes_per_s"])
        for size in SIZES.values():
            n = max(20, (128 << 20) // size)
            el = asyncio.run(_e2e(size, n))
            py_mb[size] = max(py_mb[size], n * size / el / 1e6)
            py_msgs[size] = max(py_msgs[size], n / el)
        py_hs = max(py_hs, asyncio.run(_handshakes(300)))
        core_hs = max(core_hs, _core_handshakes(300))
    print(
        "| size | codec seal+open MB/s | keccak+AES bound MB/s | codec/bound "
        "| py e2e MB/s | py msgs/s | geth MB/s | geth msgs/s | MB/s py/geth | msgs/s py/geth |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, size in SIZES.items():
        print(
            f"| {name} | {codec[size]:.0f} | {bound[size]:.0f} | {codec[size] / bound[size]:.2f} "
            f"| {py_mb[size]:.0f} | {py_msgs[size]:.0f} | {go_mb[size]:.0f} | {go_msgs[size]:.0f} "
            f"| {py_mb[size] / go_mb[size]:.2f} | {py_msgs[size] / go_msgs[size]:.2f} |"
        )
    print(
        f"\nhandshakes/s over loopback TCP: peerwire {py_hs:.0f}, geth {go_hs:.0f} "
        f"({py_hs / go_hs:.2f}x); peerwire core only (no sockets): {core_hs:.0f}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "sink":
        _sink_main(int(sys.argv[2]))
    else:
        report()
