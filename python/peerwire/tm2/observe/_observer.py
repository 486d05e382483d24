"""``Observer``: a reactor that joins a gno.land chain's bft channels and watches them.

It claims the channels gno's own node has (blockchain 0x40, consensus 0x20-0x23, mempool
0x30) so a real chain gossips to it, decodes everything in Rust, and yields typed messages
with the sending peer. What it sends is limited to what keeps the chain talking to it and
cannot disturb consensus:

* a ``NewRoundStep`` that mirrors the peer's own height/round/step back to it (gno's gossip
  routines send proposals, block parts and votes only to a peer they believe is at their
  height; the mirror is what a lagging-free full node would say) — never a proposal, vote,
  block part, has-vote, maj23, vote-set bits or transaction;
* ``StatusResponse{height: 0}`` to a ``StatusRequest`` (we store no blocks, so a syncing
  node never picks us to sync from) and ``NoBlockResponse`` to a ``BlockRequest``.

A peer whose bytes gno would reject, or that floods the mempool channel beyond
``TX_FLOOD_BURST`` + ``TX_FLOOD_RATE``/s, is stopped with a typed error
(:class:`InvalidMessage` / :class:`TxFlood`); other peers are not affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire.tm2._contracts import ChannelDescriptor, PeerConn
from peerwire.tm2._reactor import BaseReactor
from peerwire.tm2.observe._messages import (
    BLOCKCHAIN_CHANNEL,
    DATA_CHANNEL,
    MEMPOOL_CHANNEL,
    STATE_CHANNEL,
    VOTE_CHANNEL,
    VOTE_SET_BITS_CHANNEL,
    BlockRequest,
    InvalidMessage,
    Message,
    NewRoundStep,
    StatusRequest,
    decode,
    encode_height_only,
    encode_new_round_step,
)

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "TX_FLOOD_BURST",
    "TX_FLOOD_RATE",
    "Observed",
    "Observer",
    "TxFlood",
]

log = logging.getLogger("peerwire.tm2.observe")

#: Messages a subscriber may fall behind by before the oldest are dropped (and counted):
#: a slow consumer must not grow memory without bound.
DEFAULT_QUEUE_SIZE = 4096
#: Mempool channel flood guard, per peer: a burst of this many txs ...
TX_FLOOD_BURST = 10_000
#: ... refilled at this many txs per second. gno's mempool admits at most one block's worth
#: of txs per commit, so a peer far beyond this is flooding us, not gossiping.
TX_FLOOD_RATE = 2_000.0
#: gno's own mempool ``MaxTxBytes`` plus the envelope: the largest TxMessage we reassemble.
MEMPOOL_RECV_CAPACITY = 1_048_576 + 64
#: gno's consensus ``maxMsgSize`` (1 MiB).
CONSENSUS_RECV_CAPACITY = 1_048_576
#: gno's blockchain ``maxMsgSize``: 8 MiB block data limit + 64 KiB envelope.
BLOCKCHAIN_RECV_CAPACITY = (8 << 20) + (64 << 10)


class TxFlood(InvalidMessage):
    """A peer sent transactions faster than :data:`TX_FLOOD_RATE` after a full burst."""


@dataclass(frozen=True, slots=True)
class Observed:
    """One decoded message and where it came from."""

    peer_id: str
    channel: int
    message: Message


@dataclass
class _PeerBucket:
    tokens: float
    at: float


@dataclass
class _Subscriber:
    queue: asyncio.Queue[Observed] = field(default_factory=lambda: asyncio.Queue(DEFAULT_QUEUE_SIZE))
    dropped: int = 0


class Observer(BaseReactor):
    """The bft observer reactor (see the module doc)."""

    def __init__(
        self,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        mirror_round_steps: bool = True,
        tx_flood_burst: int = TX_FLOOD_BURST,
        tx_flood_rate: float = TX_FLOOD_RATE,
        clock: Clock | None = None,
    ) -> None:
        super().__init__("observer")
        self.queue_size = queue_size
        self.mirror_round_steps = mirror_round_steps
        self.clock = clock or SYSTEM_CLOCK
        self.tx_flood_burst = tx_flood_burst
        self.tx_flood_rate = tx_flood_rate
        self._subs: list[_Subscriber] = []
        self._buckets: dict[str, _PeerBucket] = {}
        self.received = 0
        self.invalid = 0

    def get_channels(self) -> Sequence[ChannelDescriptor]:
        # gno v1.7.1's descriptors (consensus/reactor.go, mempool/reactor.go, blockchain/reactor.go),
        # with receive capacities at gno's own message limits.
        return [
            ChannelDescriptor(BLOCKCHAIN_CHANNEL, 10, 1000, 50 * 4096, BLOCKCHAIN_RECV_CAPACITY),
            ChannelDescriptor(STATE_CHANNEL, 5, 100, 4096, CONSENSUS_RECV_CAPACITY),
            ChannelDescriptor(DATA_CHANNEL, 10, 100, 50 * 4096, CONSENSUS_RECV_CAPACITY),
            ChannelDescriptor(VOTE_CHANNEL, 5, 100, 100 * 100, CONSENSUS_RECV_CAPACITY),
            ChannelDescriptor(VOTE_SET_BITS_CHANNEL, 1, 2, 1024, CONSENSUS_RECV_CAPACITY),
            ChannelDescriptor(MEMPOOL_CHANNEL, 5, 1, 4096, MEMPOOL_RECV_CAPACITY),
        ]

    # -- peers -----------------------------------------------------------------------------------
    def add_peer(self, peer: PeerConn) -> None:
        self._buckets[str(peer.id)] = _PeerBucket(float(self.tx_flood_burst), self.clock.monotonic())

    def remove_peer(self, peer: PeerConn, reason: BaseException | None) -> None:
        self._buckets.pop(str(peer.id), None)

    async def receive(self, ch_id: int, peer: PeerConn, msg: bytes) -> None:
        try:
            m = decode(ch_id, msg)
        except InvalidMessage:
            self.invalid += 1
            raise  # the switch stops this peer with the typed error as its reason
        pid = str(peer.id)
        if ch_id == MEMPOOL_CHANNEL:
            self._take_tx_token(pid)
        self.received += 1
        self._publish(Observed(pid, ch_id, m))
        if isinstance(m, NewRoundStep):
            if self.mirror_round_steps:
                mirror = NewRoundStep(m.height, m.round, m.step, 0, m.last_commit_round)
                peer.try_send(STATE_CHANNEL, encode_new_round_step(mirror))
        elif isinstance(m, StatusRequest):
            peer.try_send(BLOCKCHAIN_CHANNEL, encode_height_only("StatusResponse", 0))
        elif isinstance(m, BlockRequest):
            peer.try_send(BLOCKCHAIN_CHANNEL, encode_height_only("NoBlockResponse", m.height))

    def _take_tx_token(self, pid: str) -> None:
        now = self.clock.monotonic()
        b = self._buckets.get(pid)
        if b is None:
            b = self._buckets[pid] = _PeerBucket(float(self.tx_flood_burst), now)
        b.tokens = min(float(self.tx_flood_burst), b.tokens + (now - b.at) * self.tx_flood_rate)
        b.at = now
        if b.tokens < 1.0:
            self.invalid += 1
            raise TxFlood(MEMPOOL_CHANNEL, f"more than {self.tx_flood_burst} txs + {self.tx_flood_rate:g}/s")
        b.tokens -= 1.0

    # -- output ----------------------------------------------------------------------------------
    def _publish(self, ob: Observed) -> None:
        for s in self._subs:
            if s.queue.full():
                # drop the oldest: a watcher wants the live chain, not a backlog
                with contextlib.suppress(asyncio.QueueEmpty):
                    s.queue.get_nowait()
                s.dropped += 1
            s.queue.put_nowait(ob)

    @property
    def dropped(self) -> int:
        """Messages dropped for slow subscribers, summed over current subscribers."""
        return sum(s.dropped for s in self._subs)

    async def messages(self) -> AsyncIterator[Observed]:
        """Every message received from now on, with its peer, until the caller stops iterating."""
        sub = _Subscriber(asyncio.Queue(self.queue_size))
        self._subs.append(sub)
        try:
            while True:
                yield await sub.queue.get()
        finally:
            self._subs.remove(sub)
