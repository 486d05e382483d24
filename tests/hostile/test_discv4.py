"""Hostile discovery v4 sources (issue 12 item 5 and the expiry detail).

The victim listens on 127.0.0.1; attackers send from 127.0.0.1 (one host, many
ports, fresh keys); the honest peer is another host, 127.0.1.1 (another /24).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from peerwire import devp2p
from peerwire._core import discv4 as wire
from peerwire.devp2p.discover import UDPv4, listen_v4
from peerwire.devp2p.discover._v4limits import MAX_BONDING_PER_SUBNET
from peerwire.errors import TimeoutError
from tests.devp2p._aio import aio
from tests.hostile._harness import Baseline

LO = (b"\x7f\x00\x00\x01", 0, 0)
HONEST_HOST = "127.0.1.1"


class _Quiet(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got = 0

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.got += 1


def _exp(delta: float = 20) -> int:
    return int(time.time() + delta)


def _rows(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute("SELECT COUNT(*) FROM endpoints").fetchone()[0])


async def _honest_pings(d: UDPv4, stop: asyncio.Event) -> tuple[int, int]:
    """Ping the victim from another host every 50 ms until ``stop``; (answered, sent)."""
    answered = sent = 0
    async with listen_v4(devp2p.PrivateKey.generate(), f"{HONEST_HOST}:0") as h:
        while not stop.is_set():
            sent += 1
            try:
                await h.ping(d.self_node())
                answered += 1
            except TimeoutError:
                pass
            await asyncio.sleep(0.05)
    return answered, sent


@pytest.mark.slow
@aio
async def test_identity_churn_from_600_ports_is_bounded_and_honest_peers_answered(tmp_path: Path) -> None:
    db = tmp_path / "nodes.db"
    loop = asyncio.get_running_loop()
    # attackers and victim share this machine, so the loopback exemption is switched off
    async with listen_v4(
        devp2p.PrivateKey.generate(), "127.0.0.1:0", node_database=str(db), limit_loopback=True
    ) as d:
        socks = [
            (await loop.create_datagram_endpoint(_Quiet, local_addr=("127.0.0.1", 0)))[0] for _ in range(600)
        ]
        stop = asyncio.Event()
        honest = asyncio.create_task(_honest_pings(d, stop))
        try:
            for _ in range(4):  # 2,400 fresh identities, one host, 600 source ports
                for tr in socks:
                    ping, _ = wire.encode_ping(devp2p.PrivateKey.generate().to_bytes(), LO, LO, _exp())
                    tr.sendto(ping, d.local_addr)
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
        finally:
            stop.set()
            answered, sent = await honest
            for tr in socks:
                tr.close()
        rows = _rows(db)
        assert rows <= MAX_BONDING_PER_SUBNET + 1, f"{rows} node-database rows from one host"
        assert d.stats.dropped_flood > 0  # one host is one source, whatever its ports
        assert sent >= 10 and answered >= sent - 1, f"honest peer answered {answered}/{sent}"
        assert len(d._bonds.pinging_back) <= MAX_BONDING_PER_SUBNET


@pytest.mark.parametrize(
    ("expiration", "answered"),
    [(1 << 63, False), ((1 << 64) - 1, False), ((1 << 63) + _exp(), False), ((1 << 63) - 1, True)],
    ids=["2^63", "2^64-1", "2^63+now", "2^63-1"],
)
@aio
async def test_expiry_is_signed_like_geth(expiration: int, answered: bool) -> None:
    loop = asyncio.get_running_loop()
    async with listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0") as d:
        tr, sink = await loop.create_datagram_endpoint(_Quiet, local_addr=(HONEST_HOST, 0))
        try:
            ping, _ = wire.encode_ping(devp2p.PrivateKey.generate().to_bytes(), LO, LO, expiration)
            tr.sendto(ping, d.local_addr)
            await asyncio.sleep(0.3)
            assert (sink.got > 0) is answered
            assert d.stats.dropped_expired == (0 if answered else 1)
        finally:
            tr.close()


# -- malformed and unsolicited datagrams: dropped, counted, the node keeps serving ----------


def _signed(ptype: int, body: bytes) -> bytes:
    key = devp2p.PrivateKey.generate()
    ping, _ = wire.encode_ping(key.to_bytes(), LO, LO, _exp())
    # Re-sign a different type/body: reuse the core signer through a Ping with the same key.
    return ping[:97] + bytes([ptype]) + body


def _findnode() -> bytes:
    return wire.encode_findnode(devp2p.PrivateKey.generate().to_bytes(), os.urandom(64), _exp())[0]


def _pong() -> bytes:
    return wire.encode_pong(devp2p.PrivateKey.generate().to_bytes(), LO, os.urandom(32), _exp(), 1)[0]


def _enr_request() -> bytes:
    return wire.encode_enr_request(devp2p.PrivateKey.generate().to_bytes(), _exp())[0]


def _bad_sig() -> bytes:
    p = bytearray(wire.encode_ping(devp2p.PrivateKey.generate().to_bytes(), LO, LO, _exp())[0])
    p[40] ^= 1
    return bytes(p)


DATAGRAMS: dict[str, tuple[Callable[[], bytes], str]] = {
    "garbage": (lambda: os.urandom(200), "dropped_invalid"),
    "too_short": (lambda: os.urandom(20), "dropped_invalid"),
    "oversize": (lambda: os.urandom(1500), "dropped_invalid"),
    "bad_hash": (lambda: b"\x00" * 32 + _findnode()[32:], "dropped_invalid"),
    "bad_signature": (_bad_sig, "dropped_invalid"),
    "unknown_type": (lambda: _signed(9, b"\xc0"), "dropped_invalid"),
    "findnode_unbonded": (_findnode, "dropped_unbonded"),
    "enr_request_unbonded": (_enr_request, "dropped_unbonded"),
    "unsolicited_pong": (_pong, "dropped_unsolicited"),
    "expired_findnode": (
        lambda: wire.encode_findnode(devp2p.PrivateKey.generate().to_bytes(), os.urandom(64), _exp(-60))[0],
        "dropped_expired",
    ),
}


@pytest.mark.parametrize("name", sorted(DATAGRAMS))
@aio
async def test_hostile_datagram(name: str) -> None:
    make, counter = DATAGRAMS[name]
    loop = asyncio.get_running_loop()
    async with listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0") as d:
        base = Baseline.take()
        tr, sink = await loop.create_datagram_endpoint(_Quiet, local_addr=("127.0.0.1", 0))
        try:
            for _ in range(20):
                tr.sendto(make(), d.local_addr)
            await asyncio.sleep(0.3)
            assert sink.got == 0, "a hostile datagram got an answer"
            assert getattr(d.stats, counter) >= 1, d.stats
        finally:
            tr.close()
        await base.restored(rss_slack=16 << 20)
        stop = asyncio.Event()
        task = asyncio.create_task(_honest_pings(d, stop))
        await asyncio.sleep(0.3)
        stop.set()
        answered, sent = await task
        assert answered == sent >= 1


_ = Awaitable
