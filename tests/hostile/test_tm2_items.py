"""Issue 12 items 1 and 7 (fixed on branch runtime-tm2): TM2 silent loss and a peer that never reads."""

from __future__ import annotations

import asyncio
import os

import pytest

from peerwire import tm2
from tests.devp2p._aio import aio
from tests.hostile._harness import eventually
from tests.hostile._tm2 import RawSts
from tests.tm2.tcpnode import ECHO, TcpNode

SLOW = 0x66


class SlowCounter(tm2.BaseReactor):
    """Takes 1 ms per message: a slow consumer that must slow the sender down, not lose messages."""

    def __init__(self) -> None:
        super().__init__("slow")
        self.got = 0

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [
            tm2.ChannelDescriptor(SLOW, priority=1, send_queue_capacity=100, recv_message_capacity=1 << 16)
        ]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        await asyncio.sleep(0.001)
        self.got += 1


@pytest.mark.slow
def test_item1_every_accepted_message_is_delivered() -> None:
    async def run() -> None:
        recv = SlowCounter()
        async with (
            TcpNode("recv-" + os.urandom(3).hex(), with_discovery=False, reactors={"slow": recv}) as b,
            TcpNode(
                "send-" + os.urandom(3).hex(), with_discovery=False, reactors={"slow": SlowCounter()}
            ) as a,
        ):
            a.sw.dial_peers(b.addr)
            await eventually(lambda: a.sw.peers().has(b.id), "connected")
            peer = a.sw.peers().get(b.id)
            assert peer is not None
            accepted = 0
            for i in range(2000):
                if await peer.send(SLOW, b"m%d" % i):
                    accepted += 1
            await eventually(lambda: recv.got >= accepted, f"{accepted} accepted, not all delivered", 30)
            assert recv.got == accepted == 2000

    asyncio.run(asyncio.wait_for(run(), 90))


@aio
async def test_item7_peer_that_never_reads_is_dropped() -> None:
    """Item 7: our writes to a peer that never reads have a deadline, so the slot is freed."""
    cfg = tm2.MConnConfig(ping_interval=1.0, pong_timeout=0.5, write_timeout=3.0)
    async with TcpNode("victim-" + os.urandom(3).hex(), with_discovery=False, mconfig=cfg) as v:
        a = await RawSts.connect(v, node_info=True)
        chunk = tm2_echo_request()
        for _ in range(400):  # ~24 MiB of echoes come back; the attacker reads none of them
            a.send(chunk)
        await eventually(lambda: len(v.sw.peers()) == 0, "the non-reading peer dropped", timeout=15)
        await a.close()


def tm2_echo_request() -> bytes:
    from peerwire._core import tm2 as core

    return core.encode_message(ECHO, b"x" * 60_000, 1024)


@aio
async def test_node_budget_ends_the_largest_holder_and_honest_peers_stay() -> None:
    """Many attackers each under their per-connection receive budget still add up: the
    switch's node budget ends the one holding the most, and an honest peer keeps its echo."""
    from peerwire._core import tm2 as core
    from tests.hostile._tm2 import honest_tm2_echo

    budget = 2 * 1024 * 1024
    async with TcpNode(
        "victim-" + os.urandom(3).hex(),
        tm2.with_allow_duplicate_ip(True),
        tm2.with_node_budget_bytes(budget),
        with_discovery=False,
    ) as v:
        attackers = [await RawSts.connect(v, node_info=True) for _ in range(3)]
        await eventually(lambda: len(v.sw.peers()) == 3, "attackers connected")
        # Each starts a message it never finishes: 600 KiB, 700 KiB, 900 KiB (2.2 MiB in all).
        for a, kib in zip(attackers, (600, 700, 900), strict=True):
            a.send(core.encode_chunks(ECHO, bytes(kib * 1024), 1024, last=False))
        assert await attackers[2].closed_by_victim(10), "the largest holder is ended"
        await eventually(lambda: len(v.sw.peers()) == 2, "two attackers left")
        assert v.sw.node_budget.used == (600 + 700) * 1024 <= budget and v.sw.node_budget.ended == 1
        assert await honest_tm2_echo(v) < 5.0
        for a in attackers:
            await a.close()
        await eventually(lambda: v.sw.node_budget.used == 0, "the bytes go with the peers")


@aio
async def test_duplicate_ip_guard_refuses_a_second_inbound_peer_from_one_ip() -> None:
    """gno v1.7.1 ``AllowDuplicateIP = false``: fresh node keys are free, so one host cannot take
    a second inbound slot; with the guard off (peerwire's default) it can."""
    for allow in (False, True):
        async with TcpNode(
            "victim-" + os.urandom(3).hex(), tm2.with_allow_duplicate_ip(allow), with_discovery=False
        ) as v:
            first = await RawSts.connect(v, node_info=True)
            await eventually(lambda: len(v.sw.peers()) == 1, "first peer connected")
            second = await RawSts.connect(v, node_info=True)
            if allow:
                await eventually(lambda: len(v.sw.peers()) == 2, "second peer accepted")
            else:
                assert await second.closed_by_victim(5)
                assert v.sw.stats.rejected_duplicate_ip == 1 and len(v.sw.peers()) == 1
            await first.close()
            await second.close()
