"""A mixed network of gno switches and peerwire switches on 127.0.0.1 (issue 7, item 7).

gno side: ``peerwire-interop tm2-switch-node`` (gno v1.7.1 MultiplexSwitch with gno's
discovery reactor and an echo reactor on 0x77), driven over stdin/stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest
from tests.tm2.tcpnode import TcpNode, free_port, wait_for

from peerwire import tm2

pytestmark = pytest.mark.interop


class GnoNode:
    def __init__(self, harness: Path, secret: str, port: int | None = None, **flags: str) -> None:
        self.harness = harness
        self.secret = secret
        self.port = port or free_port()
        self.flags = flags
        self.id = tm2.NodeKey.from_secret(secret.encode()).id
        self.addr = f"{self.id}@127.0.0.1:{self.port}"
        self.peers: set[str] = set()
        self.events: list[dict[str, Any]] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> GnoNode:
        args = [str(self.harness), "tm2-switch-node", "-secret", self.secret, "-port", str(self.port)]
        for k, v in self.flags.items():
            args.append(f"-{k.replace('_', '-')}={v}")  # "=": Go bool flags take no separate value
        self.proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())
        await wait_for(lambda: any(e["event"] == "ready" for e in self.events), 15, f"{self.secret} ready")
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for line in self.proc.stdout:
            ev = json.loads(line)
            self.events.append(ev)
            if ev["event"] == "connected":
                self.peers.add(ev["peer"])
            elif ev["event"] == "disconnected":
                self.peers.discard(ev["peer"])

    def command(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")

    async def quit(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ConnectionError):
            self.command("quit")
            assert self.proc.stdin is not None
            await self.proc.stdin.drain()
        try:
            async with asyncio.timeout(10):
                await self.proc.wait()
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
        self.peers.clear()


def test_mixed_gno_peerwire_network_meshes_echoes_and_hides_private_peers(
    go_harness: Path, tmp_path: Path
) -> None:
    async def main() -> None:
        gno: list[GnoNode] = []
        pw: list[TcpNode] = []
        try:
            seed = await GnoNode(go_harness, "gno-0", book=str(tmp_path / "gno-0.json")).start()
            gno.append(seed)
            for i in range(1, 5):
                gno.append(
                    await GnoNode(
                        go_harness, f"gno-{i}", seeds=seed.addr, book=str(tmp_path / f"gno-{i}.json")
                    ).start()
                )
            secret = TcpNode("pw-secret", with_discovery=False)
            for i in range(5):
                opts = [tm2.with_private_peers([secret.id])] if i == 0 else []
                pw.append(await TcpNode(f"pw-{i}", *opts, seeds=[seed.addr]).start())
            await secret.start()
            secret.sw.dial_peers(pw[0].addr)
            main_ids = {n.id for n in gno} | {n.id for n in pw}
            t0 = time.monotonic()

            def meshed() -> bool:
                for g in gno:
                    if len(g.peers & main_ids) != 9:
                        return False
                return all(len({p.id for p in n.sw.peers().list()} & main_ids) == 9 for n in pw)

            await wait_for(meshed, 30, "a full mesh of 10 within 30 s")
            formed = time.monotonic() - t0

            # Echo, peerwire -> gno -> peerwire.
            to_gno = pw[1].sw.peers().get(gno[2].id)
            assert to_gno is not None and await to_gno.send(0x77, b"hi gno")
            await wait_for(lambda: (gno[2].id, b"echo:hi gno") in pw[1].echo.echoed, 10, "gno echoed")
            # Echo, gno -> peerwire -> gno.
            gno[3].command(f"send {pw[4].id} hi-pw")
            await wait_for(
                lambda: any(e["event"] == "echoed" and e["msg"] == "echo:hi-pw" for e in gno[3].events),
                10,
                "peerwire echoed",
            )
            assert (gno[3].id, b"hi-pw") in pw[4].echo.received

            # Let a few discovery rounds run, so pw-0 is asked for its peers.
            await asyncio.sleep(7)
            assert pw[0].discovery is not None and pw[0].discovery.stats.responses_sent >= 1
            assert pw[0].sw.peers().has(secret.id)
            for g in gno:
                await g.quit()
            secret_addr = secret.addr
            for g in gno:
                book = json.loads((tmp_path / f"{g.secret}.json").read_text())
                assert all(e["addr"] != secret_addr for e in book["peers"]), g.secret
                assert secret.id not in g.peers
            for n in pw[1:]:
                assert not n.sw.peers().has(secret.id)
                assert n.discovery is not None and secret_addr not in n.discovery.book
            # Real gno traffic never trips our hardening, and gno's answers (which include the
            # asker itself) are filtered.
            stats = [n.discovery.stats for n in pw if n.discovery is not None]
            assert all(st.rate_limited == st.garbage == st.oversize == st.too_many == 0 for st in stats), (
                stats
            )
            assert sum(st.responses_received for st in stats) > 0
            assert sum(st.filtered_own for st in stats) > 0  # gno answers list the asker too
            print(f"\nmixed network of 10 formed in {formed:.1f} s; pw discovery stats: {stats}")
            await secret.stop()
        finally:
            for n in pw:
                await n.stop()
            for g in gno:
                await g.quit()

    asyncio.run(main())


def test_persistent_gno_peer_is_redialed_after_restart(go_harness: Path) -> None:
    async def main() -> None:
        port = free_port()
        gno = await GnoNode(go_harness, "gno-persistent", port=port, discovery="false").start()
        node = TcpNode("pw-keeper", tm2.with_persistent_peers([gno.addr]), with_discovery=False)
        try:
            await node.start()
            await wait_for(lambda: node.sw.peers().has(gno.id), 15, "first connection")
            await gno.kill()
            await wait_for(lambda: not node.sw.peers().has(gno.id), 70, "disconnect seen")
            t_lost = node.sw.clock.monotonic()
            await asyncio.sleep(7)
            failed = [t - t_lost for t, pid, ok in node.sw.dial_history if pid == gno.id and not ok]
            assert failed and failed[0] < 1.0  # redialed at once
            assert len(failed) >= 2 and all(b - a >= 0.9 for a, b in itertools.pairwise(failed))
            assert node.sw.redial_attempts(gno.id) is not None
            gno = await GnoNode(go_harness, "gno-persistent", port=port, discovery="false").start()
            t_back = node.sw.clock.monotonic()
            await wait_for(lambda: node.sw.peers().has(gno.id), 20, "reconnected")
            assert node.sw.clock.monotonic() - t_back < 5 + 4 * 1.1 + 3  # tick + backoff + dial
            assert node.sw.redial_attempts(gno.id) is None
        finally:
            await node.stop()
            await gno.quit()

    asyncio.run(main())
