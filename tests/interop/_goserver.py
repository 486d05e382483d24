"""The Go harness's go-ethereum `p2p.Server` peers, driven over stdin/stdout JSON lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


class GoServer:
    """A running `peerwire-interop p2pserver` (or the variant named by ``subcommand``)."""

    subcommand = "p2pserver"

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10_000)
        self.seen: list[dict[str, Any]] = []
        self.unconsumed: list[dict[str, Any]] = []
        self._reader = asyncio.ensure_future(self._read())
        self.enode = ""
        self.id = b""

    @classmethod
    async def start(cls, binary: Path, *args: str) -> GoServer:
        proc = await asyncio.create_subprocess_exec(
            str(binary),
            cls.subcommand,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        g = cls(proc)
        g._ready(await g.wait(lambda e: e["event"] == "ready", 20))
        return g

    def _ready(self, ready: dict[str, Any]) -> None:
        self.enode, self.id = ready["enode"], bytes.fromhex(ready["id"])

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            ev = json.loads(line)
            self.seen.append(ev)
            await self.lines.put(ev)

    async def wait(self, pred: Callable[[dict[str, Any]], bool], within: float = 10) -> dict[str, Any]:
        """The first not yet consumed event matching ``pred`` (others stay for later waits)."""
        async with asyncio.timeout(within):
            while True:
                for i, ev in enumerate(self.unconsumed):
                    if pred(ev):
                        return self.unconsumed.pop(i)
                self.unconsumed.append(await self.lines.get())

    async def cmd(self, cmd: str, **kw: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, **kw}) + "\n").encode())
        await self.proc.stdin.drain()
        return await self.wait(lambda e: e["event"] == cmd, 30)

    async def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            async with asyncio.timeout(5):
                await self.proc.wait()
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
