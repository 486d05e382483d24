"""Hostile peers on the bft channels: each ends in a typed error, that peer stopped with its
reason, the other peer unaffected (its messages still delivered), memory bounded.

Real TCP switches on 127.0.0.1: an observer node, one well-behaved peer and one attacker
that advertises our channels and sends what gno would reject.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from peerwire import tm2
from peerwire._clock import FakeClock
from peerwire._core import tm2_consensus as c
from peerwire.tm2 import observe, profiles
from peerwire.tm2.observe import InvalidMessage, TxFlood

HASH = b"\x11" * 32


class Sender(tm2.BaseReactor):
    """Claims the bft channels so it may send on them; swallows what it receives."""

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(ch, 1, 100, 4096, 4 << 20) for ch in observe.OBSERVED_CHANNELS]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        return None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _node(name: str, reactor: tm2.BaseReactor) -> tuple[tm2.MultiplexSwitch, tm2.NetAddress]:
    key = tm2.NodeKey.from_secret(name.encode())
    addr = tm2.NetAddress(str(key.id), "127.0.0.1", _free_port())
    info = profiles.gnoland("dev", pex=False).node_info(addr, name)
    tr = tm2.MultiplexTransport(info, key)
    await tr.listen(addr)
    return tm2.MultiplexSwitch(tr, tm2.with_reactor("r", reactor)), addr


async def _wait_for(pred: Callable[[], bool]) -> None:
    for _ in range(200):  # 10 s
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


def _vote(index: int = 0, height: int = 5) -> dict[str, Any]:
    return {
        "type": 2,
        "height": height,
        "round": 0,
        "block_id": {"hash": HASH, "parts": {"total": 1, "hash": HASH}},
        "timestamp": (1_700_000_000, 0),
        "validator_address": "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5",
        "validator_index": index,
        "signature": b"\x01" * 64,
    }


def _block_part(size: int) -> bytes:
    return c.encode_consensus(
        "BlockPartMessage",
        {
            "height": 5,
            "round": 0,
            "index": 0,
            "bytes": b"\xab" * size,
            "proof_total": 1,
            "proof_index": 0,
            "leaf_hash": HASH,
            "aunts": [],
        },
    )


GOOD_STEP = c.encode_consensus(
    "NewRoundStepMessage",
    {"height": 7, "round": 0, "step": 3, "seconds_since_start_time": 0, "last_commit_round": 0},
)

BAD: dict[str, tuple[int, Callable[[], list[bytes]], str]] = {
    "unknown type prefix": (
        c.STATE_CHANNEL,
        lambda: [bytes.fromhex("0a10") + b"/tm.BogusMessage"],
        "unknown consensus message type",
    ),
    "foreign package prefix": (
        c.VOTE_CHANNEL,
        lambda: [b"\x0a\x10/p2p.VoteMessage"],
        "unknown type prefix",
    ),
    "oversize block part": (c.DATA_CHANNEL, lambda: [_block_part(c.BLOCK_PART_SIZE_BYTES + 1)], "too big"),
    "impossible vote index": (
        c.VOTE_CHANNEL,
        lambda: [c.encode_consensus("VoteMessage", _vote(index=c.MAX_VOTES_COUNT))],
        "impossible validator index",
    ),
    "negative vote height": (
        c.VOTE_CHANNEL,
        lambda: [c.encode_consensus("VoteMessage", _vote(height=-1))],
        "negative height",
    ),
    "impossible has-vote index": (
        c.STATE_CHANNEL,
        lambda: [
            c.encode_consensus("HasVoteMessage", {"height": 5, "round": 0, "type": 1, "index": 1 << 40})
        ],
        "impossible vote index",
    ),
    "impossible block request height": (
        c.BLOCKCHAIN_CHANNEL,
        lambda: [c.encode_blockchain("BlockRequest", -4)],
        "negative height",
    ),
    "garbage on a consensus channel": (c.DATA_CHANNEL, lambda: [b"\xff\x00garbage\x13\x37"], ""),
    "garbage on the mempool channel": (c.MEMPOOL_CHANNEL, lambda: [b"\x0a\x02ab\x99"], ""),
    "tx flood beyond the mempool budget": (
        c.MEMPOOL_CHANNEL,
        lambda: [c.encode_mempool(b"tx%d" % i) for i in range(60)],
        "more than 50 txs",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_stops_only_the_sender(case: str) -> None:
    asyncio.run(_bad_input(case))


async def _bad_input(case: str) -> None:
    channel, payloads, reason = BAD[case]
    # a frozen clock: the flood budget of 50 txs never refills during the test
    obs = observe.Observer(tx_flood_burst=50, clock=FakeClock())
    sw, addr = await _node("observer", obs)
    good_sw, _ = await _node("good", Sender())
    bad_sw, _ = await _node("attacker", Sender())
    async with sw, good_sw, bad_sw:
        gone = sw.subscribe(lambda e: e.type == tm2.EventType.PEER_DISCONNECTED)
        seen = obs.messages()
        good_sw.dial_peers(str(addr))
        bad_sw.dial_peers(str(addr))
        await _wait_for(lambda: len(sw.peers().list()) == 2 and len(bad_sw.peers().list()) == 1)
        attacker = bad_sw.peers().list()[0]
        for p in payloads():
            assert await attacker.send(channel, p)
        async with asyncio.timeout(10):
            ev = await anext(aiter(gone))
        assert ev.peer_id == tm2.NodeKey.from_secret(b"attacker").id
        assert isinstance(ev.reason, InvalidMessage), repr(ev.reason)
        assert ev.reason.channel == channel
        assert reason in str(ev.reason)
        if "flood" in case:
            assert isinstance(ev.reason, TxFlood)
        # the good peer is still there and still heard
        good = good_sw.peers().list()[0]
        assert sw.peers().get(tm2.NodeKey.from_secret(b"good").id) is not None
        assert await good.send(c.STATE_CHANNEL, GOOD_STEP)
        async with asyncio.timeout(10):
            async for ob in seen:
                if ob.peer_id == tm2.NodeKey.from_secret(b"good").id:
                    assert isinstance(ob.message, observe.NewRoundStep) and ob.message.height == 7
                    break
        assert obs.invalid == 1


def test_message_above_the_channel_capacity_is_refused_before_buffering() -> None:
    asyncio.run(_oversize_message())


async def _oversize_message() -> None:
    obs = observe.Observer()
    sw, addr = await _node("observer2", obs)
    bad_sw, _ = await _node("attacker2", Sender())
    async with sw, bad_sw:
        gone = sw.subscribe(lambda e: e.type == tm2.EventType.PEER_DISCONNECTED)
        bad_sw.dial_peers(str(addr))
        await _wait_for(lambda: bool(bad_sw.peers().list()))
        # 2 MiB on a consensus channel: gno's consensus maxMsgSize (and our capacity) is 1 MiB
        assert await bad_sw.peers().list()[0].send(c.DATA_CHANNEL, b"\x00" * (2 << 20))
        async with asyncio.timeout(20):
            ev = await anext(aiter(gone))
        assert ev.reason is not None and "capacity" in str(ev.reason), repr(ev.reason)
        assert obs.received == 0
