"""Shared harness of the hostile-peer suite.

Every case runs one attack against a real server or switch over loopback and
then checks the same four things (issue 12): the attacker got a typed end or
the right disconnect reason, file descriptors and tasks went back to their
baseline, an honest peer was still served, and memory stayed inside its
budget. Resource checks poll with a deadline instead of asserting at once:
on a loaded 2-core machine a close takes a few loop turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from peerwire._core import p2p_base, rlpx
from peerwire.devp2p import (
    Config,
    DiscReason,
    MsgReadWriter,
    Peer,
    PrivateKey,
    Protocol,
    Server,
)

PAGE = os.sysconf("SC_PAGE_SIZE")
#: Slack for resources that the loop frees a few turns later (sockets in TIME_WAIT do not count).
FD_SLACK = 2
SETTLE_SECONDS = 10.0


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def task_count() -> int:
    return len(asyncio.all_tasks())


async def eventually(cond: Callable[[], bool], what: str, timeout: float = SETTLE_SECONDS) -> None:  # noqa: ASYNC109
    """Wait until ``cond()`` holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s: {what}")
        await asyncio.sleep(0.02)


@dataclass
class Baseline:
    fds: int
    tasks: int
    rss: int

    @classmethod
    def take(cls) -> Baseline:
        gc.collect()
        return cls(fd_count(), task_count(), rss_bytes())

    async def restored(self, *, rss_slack: int = 64 << 20) -> None:
        """fds and tasks back to the baseline, RSS within ``rss_slack`` of it."""
        await eventually(
            lambda: fd_count() <= self.fds + FD_SLACK, f"fds back to {self.fds} (now {fd_count()})"
        )
        await eventually(
            lambda: task_count() <= self.tasks, f"tasks back to {self.tasks} (now {task_count()})"
        )
        gc.collect()
        await eventually(
            lambda: rss_bytes() <= self.rss + rss_slack,
            f"RSS back near baseline {self.rss >> 20} MiB (now {rss_bytes() >> 20} MiB)",
            timeout=20,
        )


async def echo(peer: Peer, rw: MsgReadWriter) -> None:
    while True:
        msg = await rw.read_msg()
        await rw.write_msg(msg.code, msg.payload)


ECHO = Protocol("echo", 1, 4, echo)


def server_config(**kw: object) -> Config:
    base: dict[str, object] = {
        "private_key": PrivateKey.generate(),
        "name": "victim",
        "listen_addr": "127.0.0.1:0",
        "protocols": [ECHO],
        "max_peers": 50,
    }
    base.update(kw)
    return Config(**base)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def victim(**kw: object) -> AsyncIterator[Server]:
    srv = Server(server_config(**kw))
    async with srv:
        yield srv


async def honest_echo_rtt(srv: Server, payload: bytes = b"\x82hi", rounds: int = 3) -> float:
    """Dial ``srv`` with a fresh honest peer, echo ``rounds`` times; return the worst round trip."""
    got: asyncio.Queue[float] = asyncio.Queue()

    async def client(peer: Peer, rw: MsgReadWriter) -> None:
        for _ in range(rounds):
            t0 = time.monotonic()
            await rw.write_msg(1, payload)
            await rw.read_msg()
            await got.put(time.monotonic() - t0)
        await asyncio.Event().wait()

    honest = Server(
        server_config(name="honest", listen_addr=None, protocols=[Protocol("echo", 1, 4, client)])
    )
    async with honest:
        honest.add_peer(srv.self_node())
        worst = 0.0
        for _ in range(rounds):
            worst = max(worst, await asyncio.wait_for(got.get(), 10))
    return worst


class RawRlpx:
    """An attacker speaking raw RLPx: it completes the handshake, then sends what it likes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: PrivateKey) -> None:
        self.reader = reader
        self.writer = writer
        self.key = key
        self.session: rlpx.Session | None = None
        self.inbox: list[tuple[int, bytes]] = []
        self.hello_sent = False
        self.victim_hello_seen = False

    @classmethod
    async def connect(cls, srv: Server, *, handshake: bool = True, hello: bool = False) -> RawRlpx:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.listen_port)
        self = cls(reader, writer, PrivateKey.generate())
        if handshake:
            await self.handshake(srv)
        if hello:
            await self.send_hello()
        return self

    async def handshake(self, srv: Server) -> None:
        hs, auth = rlpx.Handshake.initiator(self.key.to_bytes(), srv.self_node().public_key.to_bytes())
        self.writer.write(auth)
        while True:
            data = await asyncio.wait_for(self.reader.read(65536), 5)
            if not data:
                raise ConnectionError("closed during the handshake")
            done = hs.feed(data)
            if done is not None:
                self.session = done.session()
                if done.leftover:
                    self.inbox += self.session.feed(done.leftover)
                return

    async def send_hello(self, caps: list[tuple[str, int]] | None = None, snappy: bool = True) -> None:
        hello = p2p_base.encode_hello(
            5 if snappy else 4,
            "attacker",
            caps if caps is not None else [("echo", 1)],
            0,
            self.key.public_key.to_bytes(),
        )
        self.send(0, hello)
        await self.writer.drain()
        await self.read_hello(snappy)

    async def read_hello(self, snappy: bool = True) -> None:
        """Wait for the victim's Hello (it may already be in the inbox); then turn snappy on."""
        assert self.session is not None
        while not any(code == 0 for code, _ in self.inbox):
            data = await asyncio.wait_for(self.reader.read(65536), 5)
            if not data:
                raise ConnectionError("closed before the victim's Hello")
            self.inbox += self.session.feed(data)
        self.session.snappy = snappy

    def send(self, code: int, payload: bytes) -> None:
        assert self.session is not None
        if code == 0:
            self.hello_sent = True
        self.writer.write(self.session.seal(code, payload))

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    def _scan(self, msgs: list[tuple[int, bytes]]) -> DiscReason | None:
        """The reason of a Disconnect among ``msgs`` (in order, tracking the victim's Hello)."""
        assert self.session is not None
        reason = None
        for code, payload in msgs:
            if code == 0:
                self.victim_hello_seen = True
            elif code == 1:
                # after both Hellos the victim compresses even if this session has not switched yet
                if self.hello_sent and self.victim_hello_seen and not self.session.snappy:
                    with contextlib.suppress(Exception):
                        payload = p2p_base.snappy_decompress(payload)
                reason = DiscReason.from_wire(p2p_base.decode_disconnect(payload))
        return reason

    async def end(self, timeout: float = 10.0) -> tuple[str, DiscReason | None]:  # noqa: ASYNC109
        """Read until the victim closes; ("closed", reason of its Disconnect or None)."""
        reason = self._scan(self.inbox) if self.session is not None else None
        self.inbox = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "open", reason
            try:
                data = await asyncio.wait_for(self.reader.read(65536), left)
            except TimeoutError:
                return "open", reason
            except (ConnectionError, OSError):
                return "closed", reason
            if not data:
                return "closed", reason
            if self.session is None:
                continue
            try:
                msgs = self.session.feed(data)
            except Exception:
                continue
            reason = self._scan(msgs) or reason

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


async def attack_then_check(
    srv: Server,
    attack: Callable[[Server], Awaitable[None]],
    *,
    rss_slack: int = 64 << 20,
    echo_bound: float = 2.0,
) -> None:
    """Run ``attack``, then: resources back to baseline and an honest peer served."""
    await honest_echo_rtt(srv, rounds=1)  # warm the server: first-use allocations are not a leak
    await eventually(lambda: srv.peer_count() == 0, "warm-up peer gone")
    base = Baseline.take()
    await attack(srv)
    await eventually(lambda: srv.peer_count() == 0, f"attackers dropped (peers={srv.peer_count()})")
    await base.restored(rss_slack=rss_slack)
    assert await honest_echo_rtt(srv, rounds=2) < echo_bound
