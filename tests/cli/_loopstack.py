"""A tiny TCP stack for exercising the testnet runner: nodes dial node 0 and echo lines.

Test-only; it stands in for devp2p / TM2 so the runner, view and shutdown are tested for real.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from peerwire._metrics import NetMetrics


class LoopNode:
    def __init__(self, name: str, boot: LoopNode | None, fail: bool = False) -> None:
        self.name = name
        self.stack = "loop"
        self.metrics = NetMetrics("loop")
        self._boot = boot
        self._fail = fail
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.stopped = False

    @property
    def address(self) -> str:
        return f"{self.name}@127.0.0.1:{self.port}"

    async def start(self) -> None:
        if self._fail:
            raise OSError("cannot bind")
        self._server = await asyncio.start_server(self._inbound, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        if self._boot is not None:
            self._spawn(self._dial(self._boot.port))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _inbound(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.metrics.peer_added(inbound=True)
        try:
            while line := await r.readline():
                self.metrics.message_in("echo", len(line))
                w.write(line)
                await w.drain()
                self.metrics.message_out("echo", len(line))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.metrics.peer_removed(inbound=True, reason="closed")
            w.close()

    async def _dial(self, port: int) -> None:
        self.metrics.dial_attempt()
        r, w = await asyncio.open_connection("127.0.0.1", port)
        self.metrics.dial_result("success")
        self.metrics.peer_added(inbound=False)
        try:
            while True:
                msg = f"hello from {self.name}\n".encode()
                w.write(msg)
                await w.drain()
                self.metrics.message_out("echo", len(msg))
                line = await r.readline()
                if not line:
                    break
                self.metrics.message_in("echo", len(line))
                await asyncio.sleep(0.02)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.metrics.peer_removed(inbound=False, reason="closed")
            w.close()

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await t
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.stopped = True


class LoopStack:
    name = "loop"

    def __init__(self, fail_index: int | None = None) -> None:
        self.fail_index = fail_index
        self.nodes: list[LoopNode] = []

    async def create(self, count: int, workdir: Path) -> list[LoopNode]:
        boot = LoopNode("loop-0", None)
        self.nodes = [boot] + [
            LoopNode(f"loop-{i}", boot, fail=(i == self.fail_index)) for i in range(1, count)
        ]
        return self.nodes
