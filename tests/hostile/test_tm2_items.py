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
