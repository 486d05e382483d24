"""peerwire MConnection <-> gno conn.MConnection: three channels of different priorities, keepalive."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from peerwire import tm2
from peerwire.tm2._mconn import ChannelDescriptor, MConnConfig, MConnection

pytestmark = pytest.mark.interop

GO_SEED = bytes(range(32))
OUR_KEY = tm2.NodeKey.from_secret(b"peerwire-mconn")
CHANNELS = [
    ChannelDescriptor(0x10, priority=1, send_queue_capacity=100, recv_message_capacity=1 << 22),
    ChannelDescriptor(0x11, priority=5, send_queue_capacity=100, recv_message_capacity=1 << 22),
    ChannelDescriptor(0x12, priority=10, send_queue_capacity=100, recv_message_capacity=1 << 22),
]


class Peer:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            await self.events.put(json.loads(line))

    async def next(self, kind: str) -> dict[str, Any]:
        async with asyncio.timeout(15):
            while True:
                ev = await self.events.get()
                if ev["event"] == kind:
                    return ev
                if ev["event"] == "error":
                    raise AssertionError(f"gno peer error: {ev}")

    async def cmd(self, **kw: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(kw) + "\n").encode())
        await self.proc.stdin.drain()

    async def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            async with asyncio.timeout(5):
                await self.proc.wait()
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self.task.cancel()


async def _spawn(go_harness: Path, *args: str) -> Peer:
    proc = await asyncio.create_subprocess_exec(
        str(go_harness),
        "tm2-mconn",
        "-seed",
        GO_SEED.hex(),
        "-ping-ms",
        "300",
        "-pong-ms",
        "200",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return Peer(proc)


async def _traffic(peer: Peer, sc: tm2.SecretConnection) -> None:
    got: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(maxsize=1000)
    errors: list[BaseException] = []

    async def on_receive(ch: int, msg: bytes) -> None:
        await got.put((ch, msg))

    cfg = MConnConfig(ping_interval=0.3, pong_timeout=0.2)
    m = MConnection(sc, CHANNELS, on_receive, errors.append, cfg)
    m.start()
    await peer.next("ready")
    sent = [(ch, os.urandom(n)) for n in (1, 1024, 1025, 5000, 100_000, 0) for ch in (0x10, 0x11, 0x12)]
    async with asyncio.timeout(30):
        for ch, msg in sent:
            assert await m.send(ch, msg)
        echoed = [await got.get() for _ in sent]
    for ch in (0x10, 0x11, 0x12):
        assert [x for c, x in echoed if c == ch] == [x for c, x in sent if c == ch]
    # gno sends on its own initiative too.
    await peer.cmd(cmd="send", ch=0x11, hex=b"from gno".hex())
    assert (await peer.next("sent"))["ok"] is True
    async with asyncio.timeout(5):
        assert await got.get() == (0x11, b"from gno")
    # Keepalive with a shortened interval: both sides ping, both answer.
    await asyncio.sleep(1.2)
    await peer.cmd(cmd="stats")
    stats = await peer.next("stats")
    assert stats["running"] is True
    assert stats["counts"] == {"16": 6, "17": 6, "18": 6}
    assert m.pings_received >= 2 and m.pongs_received >= 2
    assert errors == [] and m.is_running
    await m.stop()


def test_mconnection_with_gno_we_dial(go_harness: Path) -> None:
    async def main() -> None:
        peer = await _spawn(go_harness, "-listen-port", "0")
        try:
            port = (await peer.next("listening"))["port"]
            r, w = await asyncio.open_connection("127.0.0.1", port)
            async with asyncio.timeout(3):
                sc = await tm2.SecretConnection.make(r, w, OUR_KEY)
            await _traffic(peer, sc)
        finally:
            await peer.close()

    asyncio.run(main())


def test_mconnection_with_gno_gno_dials(go_harness: Path) -> None:
    async def main() -> None:
        conns: asyncio.Queue[tm2.SecretConnection] = asyncio.Queue(maxsize=1)

        async def on_conn(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            async with asyncio.timeout(3):
                await conns.put(await tm2.SecretConnection.make(r, w, OUR_KEY))

        srv = await asyncio.start_server(on_conn, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        async with srv:
            peer = await _spawn(go_harness, "-dial", f"127.0.0.1:{port}")
            try:
                async with asyncio.timeout(5):
                    sc = await conns.get()
                await _traffic(peer, sc)
            finally:
                await peer.close()

    asyncio.run(main())
