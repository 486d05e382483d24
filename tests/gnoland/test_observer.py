"""The observer answers what keeps a chain talking to it, and nothing that touches consensus."""

from __future__ import annotations

import asyncio

from tests.gnoland.test_observer_bad_input import GOOD_STEP, _node, _vote, _wait_for

from peerwire import tm2
from peerwire._core import tm2_consensus as c
from peerwire.tm2 import observe


class Recorder(tm2.BaseReactor):
    def __init__(self) -> None:
        super().__init__("recorder")
        self.got: list[tuple[int, observe.Message]] = []

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(ch, 1, 100, 4096, 4 << 20) for ch in observe.OBSERVED_CHANNELS]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        self.got.append((ch_id, observe.decode(ch_id, msg)))


def test_observer_mirrors_round_steps_and_answers_status_and_block_requests() -> None:
    asyncio.run(_answers())


async def _answers() -> None:
    obs = observe.Observer()
    sw, addr = await _node("observer-a", obs)
    rec = Recorder()
    peer_sw, _ = await _node("chain-a", rec)
    async with sw, peer_sw:
        seen = obs.messages()
        peer_sw.dial_peers(str(addr))
        await _wait_for(lambda: bool(peer_sw.peers().list()))
        p = peer_sw.peers().list()[0]
        for ch, msg in [
            (c.VOTE_CHANNEL, c.encode_consensus("VoteMessage", _vote())),
            (c.MEMPOOL_CHANNEL, c.encode_mempool(b"some tx")),
            (c.STATE_CHANNEL, GOOD_STEP),
            (c.BLOCKCHAIN_CHANNEL, c.encode_blockchain("StatusRequest", 0)),
            (c.BLOCKCHAIN_CHANNEL, c.encode_blockchain("BlockRequest", 5)),
        ]:
            assert await p.send(ch, msg)
        got = []
        async with asyncio.timeout(10):
            async for ob in seen:
                got.append(ob)
                if len(got) == 5:
                    break
        # one channel per message: their relative order across channels is not defined
        assert sorted(type(o.message).__name__ for o in got) == sorted(
            ["Vote", "Tx", "NewRoundStep", "StatusRequest", "BlockRequest"]
        )
        assert {o.peer_id for o in got} == {str(tm2.NodeKey.from_secret(b"chain-a").id)}
        await _wait_for(lambda: len(rec.got) >= 3)
        await asyncio.sleep(0.3)  # nothing else may follow
        kinds = sorted((ch, type(m).__name__) for ch, m in rec.got)
        assert kinds == [
            (c.STATE_CHANNEL, "NewRoundStep"),
            (c.BLOCKCHAIN_CHANNEL, "NoBlockResponse"),
            (c.BLOCKCHAIN_CHANNEL, "StatusResponse"),
        ]
        mirrored = next(m for ch, m in rec.got if isinstance(m, observe.NewRoundStep))
        assert (mirrored.height, mirrored.round, mirrored.step) == (7, 0, 3)
        assert next(m for _, m in rec.got if isinstance(m, observe.StatusResponse)).height == 0
        assert next(m for _, m in rec.got if isinstance(m, observe.NoBlockResponse)).height == 5


def test_slow_subscriber_drops_oldest_and_counts() -> None:
    asyncio.run(_slow())


async def _slow() -> None:
    obs = observe.Observer(queue_size=3)
    sw, addr = await _node("observer-b", obs)
    peer_sw, _ = await _node("chain-b", Recorder())
    async with sw, peer_sw:
        seen = obs.messages()
        first = asyncio.ensure_future(anext(seen))  # subscribe, then stop reading
        await asyncio.sleep(0)
        peer_sw.dial_peers(str(addr))
        await _wait_for(lambda: bool(peer_sw.peers().list()))
        p = peer_sw.peers().list()[0]
        for i in range(10):
            assert await p.send(c.MEMPOOL_CHANNEL, c.encode_mempool(b"tx%d" % i))
        await _wait_for(lambda: obs.received == 10)
        ob = await first
        assert isinstance(ob.message, observe.Tx)
        assert obs.dropped >= 6  # bounded at 3 queued
