"""TM2 connection stack throughput against gno, measured in the same run.

* the Rust frame codec (seal/open of 1 MiB) against the raw single-core
  ChaCha20-Poly1305 bound (OpenSSL via ``cryptography``, one 1 MiB AEAD call);
* SecretConnection Python<->Python over loopback TCP at 1 KiB, 64 KiB and 1 MiB
  messages against gno<->gno ``SecretConnection`` (harness ``tm2-sc-bench``);
* MConnection Python<->Python with rate limits out of the way against gno's
  ``MConnection`` (harness ``tm2-mconn-bench``);
* handshakes (STS + NodeInfo) per second against gno (harness ``tm2-handshake-bench``).

Under the default ``--benchmark-disable`` run each bench executes once on a small
volume (a few MB) so the suite stays fast; ``make bench`` measures full volumes.
Throughput figures are in ``benchmark.extra_info``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from pytest_benchmark.fixture import BenchmarkFixture
from tests.conftest import run_harness
from tests.tm2.conftest import secret_pair

from benches._tm2_listener import _Behavior, node_info
from peerwire import tm2
from peerwire._core import tm2 as core
from peerwire.tm2._mconn import ChannelDescriptor, MConnConfig, MConnection

MIB = 1 << 20
ROOT = Path(__file__).resolve().parent.parent
SIZES = {"1KiB": 1024, "64KiB": 64 * 1024, "1MiB": MIB}


def _session_pair() -> tuple[core.SecretSession, core.SecretSession]:
    a = core.SecretHandshake(b"\x01" * 32)
    b = core.SecretHandshake(b"\x02" * 32)
    fa, fb = a.read_ephemeral(b.ephemeral_message()), b.read_ephemeral(a.ephemeral_message())
    assert a.read_auth(fb) and b.read_auth(fa)
    return a.finish()[0], b.finish()[0]


def bench_frame_codec_seal_open_1mib(benchmark: BenchmarkFixture) -> None:
    sa, sb = _session_pair()
    data = bytes(range(256)) * (MIB // 256)
    assert sb.open(sa.seal(data)) == data

    def roundtrip() -> bytes:
        return sb.open(sa.seal(data))

    benchmark.group = "tm2 frame codec 1 MiB (seal+open)"
    benchmark.extra_info["bytes"] = 2 * MIB
    benchmark(roundtrip)


def bench_raw_chacha20poly1305_1mib(benchmark: BenchmarkFixture) -> None:
    """The single-core bound: one AEAD seal and one open of 1 MiB, no framing."""
    aead = ChaCha20Poly1305(b"\x07" * 32)
    nonce = bytes(12)
    data = bytes(range(256)) * (MIB // 256)
    assert aead.decrypt(nonce, aead.encrypt(nonce, data, None), None) == data

    def roundtrip() -> bytes:
        return aead.decrypt(nonce, aead.encrypt(nonce, data, None), None)

    benchmark.group = "tm2 frame codec 1 MiB (seal+open)"
    benchmark.extra_info["bytes"] = 2 * MIB
    benchmark(roundtrip)


async def _sc_throughput(size: int, total: int) -> dict[str, float]:
    a, b, srv = await secret_pair()
    count = max(1, total // size)
    msg = bytes(size)

    async def reader() -> None:
        want = count * size
        while want > 0:
            chunk = await b.read()
            assert chunk
            want -= len(chunk)

    async with srv:
        start = time.perf_counter()
        rt = asyncio.create_task(reader())
        for _ in range(count):
            await a.write(msg)
        await rt
        el = time.perf_counter() - start
        await a.close()
        await b.close()
    return {"mb_per_s": count * size / el / 1e6, "msgs_per_s": count / el, "seconds": el}


def _total(benchmark: BenchmarkFixture, full: int) -> int:
    return full if not benchmark.disabled else 2 * MIB


@pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))
def bench_secret_connection_vs_gno(benchmark: BenchmarkFixture, go_harness: Path, size: str) -> None:
    n = SIZES[size]
    total = _total(benchmark, 256 * MIB if n > 1024 else 64 * MIB)
    go = json.loads(run_harness(go_harness, "tm2-sc-bench", "-sizes", str(n), "-total", str(total)))
    go_res = go["secret_connection"][str(n)]
    ours = benchmark.pedantic(lambda: asyncio.run(_sc_throughput(n, total)), rounds=1, iterations=1)
    benchmark.group = f"tm2 secret connection {size}"
    benchmark.extra_info.update(
        peerwire_mb_per_s=ours["mb_per_s"],
        gno_mb_per_s=go_res["mb_per_s"],
        ratio=ours["mb_per_s"] / go_res["mb_per_s"],
    )
    assert ours["mb_per_s"] > 0 and go_res["mb_per_s"] > 0


async def _mconn_throughput(size: int, total: int) -> dict[str, float]:
    a, b, srv = await secret_pair()
    count = max(1, total // size)
    done = asyncio.Event()
    got = 0

    async def on_receive(ch: int, msg: bytes) -> None:
        nonlocal got
        got += 1
        if got == count:
            done.set()

    errors: list[BaseException] = []
    chans = [ChannelDescriptor(0x10, priority=1, send_queue_capacity=100, recv_message_capacity=1 << 22)]
    cfg = MConnConfig(send_rate=1 << 40, recv_rate=1 << 40)
    ma = MConnection(a, chans, on_receive, errors.append, cfg)
    mb = MConnection(b, chans, on_receive, errors.append, cfg)
    ma.start()
    mb.start()
    msg = bytes(size)
    async with srv:
        start = time.perf_counter()
        for _ in range(count):
            assert await ma.send(0x10, msg)
        async with asyncio.timeout(120):
            await done.wait()
        el = time.perf_counter() - start
        await ma.stop()
        await mb.stop()
    return {"mb_per_s": count * size / el / 1e6, "msgs_per_s": count / el, "seconds": el}


@pytest.mark.parametrize("size", ["1KiB", "64KiB"])
def bench_mconnection_vs_gno(benchmark: BenchmarkFixture, go_harness: Path, size: str) -> None:
    n = SIZES[size]
    total = _total(benchmark, 64 * MIB if n > 1024 else 16 * MIB)
    go = json.loads(run_harness(go_harness, "tm2-mconn-bench", "-sizes", str(n), "-total", str(total)))
    go_res = go["mconnection"][str(n)]
    ours = benchmark.pedantic(lambda: asyncio.run(_mconn_throughput(n, total)), rounds=1, iterations=1)
    benchmark.group = f"tm2 mconnection {size}"
    benchmark.extra_info.update(
        peerwire_mb_per_s=ours["mb_per_s"],
        peerwire_msgs_per_s=ours["msgs_per_s"],
        gno_mb_per_s=go_res["mb_per_s"],
        gno_msgs_per_s=go_res["msgs_per_s"],
    )
    assert ours["msgs_per_s"] > 0


async def _handshakes(count: int) -> float:
    ka, kb = tm2.NodeKey.from_secret(b"ha"), tm2.NodeKey.from_secret(b"hb")

    def info(k: tm2.NodeKey) -> tm2.NodeInfo:
        return tm2.NodeInfo(
            net_address=tm2.NetAddress(k.id, "127.0.0.1", 26656), network="b", channels=b"\x77", moniker="m"
        )

    class Behavior:
        def reactor_ch_descriptors(self) -> list[ChannelDescriptor]:
            return [ChannelDescriptor(0x77)]

        def reactors(self) -> dict[int, Any]:
            return {}

        def handle_peer_error(self, peer: Any, err: BaseException) -> None:
            pass

        def is_persistent_peer(self, peer_id: str) -> bool:
            return False

        def is_private_peer(self, peer_id: str) -> bool:
            return False

    tb = tm2.MultiplexTransport(info(kb), kb)
    await tb.listen(tm2.NetAddress(kb.id, "127.0.0.1", 0))
    ta = tm2.MultiplexTransport(info(ka), ka)
    addr = tb.net_address()
    start = time.perf_counter()
    for _ in range(count):
        acc = asyncio.create_task(tb.accept(Behavior()))
        pa = await ta.dial(addr, Behavior())
        pb = await acc
        await pa.close_conn()
        await pb.close_conn()
        tb.remove(pb)
        ta.remove(pa)
    el = time.perf_counter() - start
    await tb.close()
    await ta.close()
    return count / el


async def _handshakes_two_processes(count: int) -> float:
    """Dial a peerwire listener running in its own process (as two nodes would)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benches._tm2_listener",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=str(ROOT),
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            addr = tm2.NetAddress.parse((await proc.stdout.readline()).decode().strip())
        ka = tm2.NodeKey.from_secret(b"ha")
        ta = tm2.MultiplexTransport(node_info(ka), ka)
        start = time.perf_counter()
        for _ in range(count):
            pa = await ta.dial(addr, _Behavior())
            await pa.close_conn()
            ta.remove(pa)
        el = time.perf_counter() - start
        await ta.close()
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        async with asyncio.timeout(10):
            await proc.wait()
    return count / el


def bench_handshakes_vs_gno(benchmark: BenchmarkFixture, go_harness: Path) -> None:
    count = 500 if not benchmark.disabled else 20
    go = json.loads(run_harness(go_harness, "tm2-handshake-bench", "-count", str(count)))
    ours = benchmark.pedantic(lambda: asyncio.run(_handshakes(count)), rounds=1, iterations=1)
    two = asyncio.run(_handshakes_two_processes(count))
    benchmark.group = "tm2 handshakes (STS + NodeInfo)"
    benchmark.extra_info.update(
        peerwire_one_process_per_s=ours, peerwire_two_processes_per_s=two, gno_per_s=go["handshakes_per_s"]
    )
    assert ours > 0 and two > 0
