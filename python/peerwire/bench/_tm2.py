"""TM2 benchmark bodies: frame codec against the ChaCha20-Poly1305 bound; connections against gno.

* the Rust frame codec (seal+open) against one raw AEAD seal and open of the same bytes;
* SecretConnection Python<->Python over loopback TCP against gno<->gno (``tm2-sc-bench``);
* MConnection with rate limits out of the way against gno's (``tm2-mconn-bench``);
* handshakes (STS + NodeInfo) per second, both ends in one process and the listener in its
  own process, against gno (``tm2-handshake-bench``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from peerwire import tm2
from peerwire._clock import SYSTEM_CLOCK
from peerwire._core import tm2 as core
from peerwire._core.ed25519 import Ed25519SecretKey
from peerwire.bench._pairs import ECHO_CHANNEL, mconnection_pair, secret_pair

__all__ = [
    "MIB",
    "SIZES",
    "Behavior",
    "codec_sessions",
    "gno_handshakes",
    "gno_mconnection",
    "gno_secret_connection",
    "handshakes_one_process",
    "handshakes_two_processes",
    "listener_main",
    "mconnection_throughput",
    "node_info",
    "secret_connection_throughput",
]

MIB = 1 << 20
SIZES = {"1KiB": 1024, "64KiB": 64 * 1024, "1MiB": MIB}
RUN_TIMEOUT = 300.0


def codec_sessions() -> tuple[core.SecretSession, core.SecretSession]:
    """Two frame-codec sessions from a real (in-memory) STS key exchange."""
    a = core.SecretHandshake(Ed25519SecretKey(b"\x01" * 32))
    b = core.SecretHandshake(Ed25519SecretKey(b"\x02" * 32))
    fa, fb = a.read_ephemeral(b.ephemeral_message()), b.read_ephemeral(a.ephemeral_message())
    if not (a.read_auth(fb) and b.read_auth(fa)):
        raise AssertionError("secret handshake did not complete")
    return a.finish()[0], b.finish()[0]


async def secret_connection_throughput(size: int, total: int) -> dict[str, float]:
    pair = await secret_pair()
    a, b = pair.a, pair.b
    count = max(1, total // size)
    msg = bytes(size)

    async def reader() -> None:
        want = count * size
        while want > 0:
            chunk = await b.read()
            if not chunk:
                raise AssertionError(f"connection closed with {want} bytes missing")
            want -= len(chunk)

    try:
        async with SYSTEM_CLOCK.timeout(RUN_TIMEOUT):
            start = time.perf_counter()
            rt = asyncio.create_task(reader())
            for _ in range(count):
                await a.write(msg)
            await rt
            el = time.perf_counter() - start
    finally:
        await pair.close()
    return {"mb_per_s": count * size / el / 1e6, "msgs_per_s": count / el, "seconds": el}


async def mconnection_throughput(size: int, total: int) -> dict[str, float]:
    count = max(1, total // size)
    done = asyncio.Event()
    got = 0

    async def on_receive(ch: int, msg: bytes) -> None:
        nonlocal got
        got += 1
        if got == count:
            done.set()

    async def ignore(ch: int, msg: bytes) -> None:
        return None

    pair = await mconnection_pair(ignore, on_receive)
    msg = bytes(size)
    try:
        async with SYSTEM_CLOCK.timeout(RUN_TIMEOUT):
            start = time.perf_counter()
            for _ in range(count):
                if not await pair.a.send(ECHO_CHANNEL, msg):
                    raise AssertionError("MConnection refused a message")
            await done.wait()
            el = time.perf_counter() - start
    finally:
        await pair.close()
    return {"mb_per_s": count * size / el / 1e6, "msgs_per_s": count / el, "seconds": el}


class Behavior:
    """The smallest :class:`tm2.PeerBehavior` a transport needs to hand out peers."""

    def reactor_ch_descriptors(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(ECHO_CHANNEL)]

    def reactors(self) -> dict[int, Any]:
        return {}

    def handle_peer_error(self, peer: Any, err: BaseException) -> None:
        pass

    def is_persistent_peer(self, peer_id: str) -> bool:
        return False

    def is_private_peer(self, peer_id: str) -> bool:
        return False

    def node_budget(self) -> None:
        return None


def node_info(key: tm2.NodeKey) -> tm2.NodeInfo:
    return tm2.NodeInfo(
        net_address=tm2.NetAddress(key.id, "127.0.0.1", 26656),
        network="b",
        channels=bytes([ECHO_CHANNEL]),
        moniker="m",
    )


async def handshakes_one_process(count: int) -> float:
    ka, kb = tm2.NodeKey.from_secret(b"ha"), tm2.NodeKey.from_secret(b"hb")
    tb = tm2.MultiplexTransport(node_info(kb), kb)
    await tb.listen(tm2.NetAddress(kb.id, "127.0.0.1", 0))
    ta = tm2.MultiplexTransport(node_info(ka), ka)
    addr = tb.net_address()
    try:
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
    finally:
        await tb.close()
        await ta.close()
    return count / el


async def listener_main() -> None:
    """A peerwire listener in its own process: prints its address, accepts until stdin closes."""
    key = tm2.NodeKey.from_secret(b"hb")
    t = tm2.MultiplexTransport(node_info(key), key)
    await t.listen(tm2.NetAddress(key.id, "127.0.0.1", 0))
    print(t.net_address(), flush=True)

    async def serve() -> None:
        while True:
            peer = await t.accept(Behavior())
            await peer.close_conn()
            t.remove(peer)

    task = asyncio.create_task(serve())
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    task.cancel()
    await t.close()


async def handshakes_two_processes(count: int) -> float:
    """Dial a peerwire listener running in its own process (as two nodes would)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "peerwire.bench._procs",
        "tm2-listener",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with SYSTEM_CLOCK.timeout(30):
            addr = tm2.NetAddress.parse((await proc.stdout.readline()).decode().strip())
        ka = tm2.NodeKey.from_secret(b"ha")
        ta = tm2.MultiplexTransport(node_info(ka), ka)
        start = time.perf_counter()
        for _ in range(count):
            pa = await ta.dial(addr, Behavior())
            await pa.close_conn()
            ta.remove(pa)
        el = time.perf_counter() - start
        await ta.close()
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        async with SYSTEM_CLOCK.timeout(10):
            await proc.wait()
    return count / el


Run = Callable[..., str]


def gno_secret_connection(run: Run, size: int, total: int) -> float:
    """gno<->gno SecretConnection MB/s."""
    go = json.loads(run("tm2-sc-bench", "-sizes", str(size), "-total", str(total)))
    return float(go["secret_connection"][str(size)]["mb_per_s"])


def gno_mconnection(run: Run, size: int, total: int) -> dict[str, float]:
    go = json.loads(run("tm2-mconn-bench", "-sizes", str(size), "-total", str(total)))
    res: dict[str, float] = go["mconnection"][str(size)]
    return res


def gno_handshakes(run: Run, count: int) -> float:
    return float(json.loads(run("tm2-handshake-bench", "-count", str(count)))["handshakes_per_s"])
