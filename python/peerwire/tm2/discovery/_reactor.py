"""Peer exchange on channel 0x50, wire-compatible with gno's ``discovery.Reactor``.

Every ``interval`` (3 s) the reactor asks one random connected peer for its
peers; on a Request it answers with at most 30 shuffled advertised addresses
of its non-private peers whose address is valid; addresses in a Response are
validated, stored in the address book and dialed.

Hardening over gno, each with a counter in :class:`DiscoveryStats`:

- messages over :data:`MAX_MESSAGE_SIZE` or that do not decode are ignored
  (``oversize``, ``garbage``); the peer stays connected, as in gno;
- Requests are rate-limited per peer by a token bucket (burst
  :data:`REQUEST_BURST`, one more every :data:`REQUEST_REFILL` s)
  (``rate_limited``); gno answers every Request;
- a Response we did not ask for is ignored (``unsolicited``), one with more
  than 30 addresses too (``too_many``);
- our own address, private peers and invalid addresses are dropped from a
  Response (``filtered_own``, ``filtered_private``, ``filtered_invalid``);
- seeds are dialed at start and again whenever we have no peer (gno #5340
  parses ``p2p.seeds`` and never uses them);
- discovered addresses survive restarts in the address book.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from peerwire._clock import Clock
from peerwire._net import TokenBucket
from peerwire._tasks import TaskScope
from peerwire.errors import DecodeError
from peerwire.tm2._addr import AddressError, NetAddress
from peerwire.tm2._contracts import ChannelDescriptor, PeerConn
from peerwire.tm2._reactor import BaseReactor
from peerwire.tm2.discovery._book import AddressBook
from peerwire.tm2.discovery._codec import (
    MAX_MESSAGE_SIZE,
    Request,
    Response,
    decode,
    encode_request,
    encode_response,
)

__all__ = [
    "CHANNEL",
    "DEFAULT_INTERVAL",
    "MAX_PEERS_SHARED",
    "REQUEST_BURST",
    "REQUEST_REFILL",
    "DiscoveryStats",
    "Reactor",
]

log = logging.getLogger("peerwire.tm2.discovery")

CHANNEL = 0x50
DEFAULT_INTERVAL = 3.0  # gno discoveryInterval
MAX_PEERS_SHARED = 30  # gno maxPeersShared; also the most we accept in a Response
# Requests a peer may send in a burst, and the seconds per extra one. gno asks one
# random peer every 3 s, plus once per new outbound connection: well inside this.
REQUEST_BURST = 5
REQUEST_REFILL = 2.0
# How long after our Request a Response is accepted.
RESPONSE_WINDOW = 30.0

DESCRIPTOR = ChannelDescriptor(id=CHANNEL, priority=1, send_queue_capacity=20, recv_message_capacity=5242880)


@dataclass
class DiscoveryStats:
    requests_sent: int = 0
    requests_received: int = 0
    responses_sent: int = 0
    responses_received: int = 0
    addresses_accepted: int = 0
    garbage: int = 0
    oversize: int = 0
    rate_limited: int = 0
    unsolicited: int = 0
    too_many: int = 0
    filtered_own: int = 0
    filtered_private: int = 0
    filtered_invalid: int = 0


@dataclass
class _PeerDiscovery:
    """Discovery's own typed state for one peer (not the peer's key-value store)."""

    requests: TokenBucket
    asked_at: float | None = None


class Reactor(BaseReactor):
    """The discovery reactor. Attach with ``tm2.with_reactor("discovery", Reactor(...))``.

    Args:
        address_book: path of the JSON address book, or None to keep none.
        seeds: ``id@host:port`` addresses dialed at start and whenever no peer is left.
        interval: seconds between two requests (gno: 3 s).
        clock: defaults to the switch's clock.
        rng: randomness for peer choice and shuffling (default: the OS CSPRNG).
    """

    def __init__(
        self,
        address_book: str | os.PathLike[str] | None = None,
        *,
        seeds: Iterable[object] = (),
        interval: float = DEFAULT_INTERVAL,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        max_book_entries: int = 1000,
    ) -> None:
        super().__init__("discovery")
        self._book_path = address_book
        self._max_book = max_book_entries
        self.seeds = [NetAddress.parse(str(s)) for s in seeds]
        self.interval = interval
        self._clock = clock
        self.rng = rng or random.SystemRandom()
        self.stats = DiscoveryStats()
        self.book = AddressBook(None)
        self._state = self.peer_states(self._new_state)
        self._tasks = TaskScope("tm2-discovery")

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else self.switch.clock

    def _new_state(self, peer: PeerConn) -> _PeerDiscovery:
        return _PeerDiscovery(requests=TokenBucket(1.0 / REQUEST_REFILL, REQUEST_BURST, self.clock))

    def get_channels(self) -> Sequence[ChannelDescriptor]:
        return [DESCRIPTOR]

    # -- service ---------------------------------------------------------------------------------
    async def start(self) -> None:
        self.book = AddressBook(self._book_path, self.switch.own_address(), self._max_book, self.clock)
        n = await asyncio.to_thread(self.book.load)
        if n:
            log.info("dialing %d peers from the address book", n)
        self.switch.dial_peers(*self.seeds, *self.book.addresses())
        self._tasks = TaskScope("tm2-discovery")
        await self._tasks.start()
        self._tasks.spawn(self._run(), name="rounds", critical=True)

    async def stop(self) -> None:
        try:
            await self._tasks.stop()  # the rounds and any request in flight
        except Exception as e:  # a failed round loop: logged by the scope, not fatal to stopping
            log.warning("discovery loop had failed: %r", e)
        try:
            await asyncio.to_thread(self.book.save, True)
        except OSError as e:
            log.warning("cannot save the address book: %r", e)

    async def _run(self) -> None:
        # Ticks are on a fixed schedule (start + k * interval): time spent saving the
        # book does not push the next rounds later.
        next_at = self.clock.monotonic()
        while True:
            next_at += self.interval
            await self.clock.sleep(max(0.0, next_at - self.clock.monotonic()))
            self.tick()
            if self.book.dirty and self.book.path is not None:
                try:
                    await asyncio.to_thread(self.book.save)
                except OSError as e:
                    log.warning("cannot save the address book: %r", e)

    def tick(self) -> PeerConn | None:
        """One discovery round: ask a random peer (or dial the seeds when alone)."""
        peers = self.switch.peers().list()
        if not peers:
            if self.seeds:
                self.switch.dial_peers(*self.seeds)
            return None
        for p in peers:
            if p.is_outbound:
                self._mark_connected(p)
        peer = peers[self.rng.randrange(len(peers))]
        self._spawn_request(peer)
        return peer

    def _mark_connected(self, peer: PeerConn) -> None:
        self.book.mark_connected(peer.socket_addr)

    def _spawn_request(self, peer: PeerConn) -> None:
        if self._tasks.running:
            self._tasks.spawn(self._request(peer), name=f"request {peer.id}")

    async def _request(self, peer: PeerConn) -> None:
        st = self._state.get(peer)
        if st is None:
            return
        st.asked_at = self.clock.monotonic()
        self.stats.requests_sent += 1
        if not await peer.send(CHANNEL, encode_request()):
            log.debug("cannot send a discovery request to %s", peer.id)

    # -- reactor hooks ---------------------------------------------------------------------------
    def add_peer(self, peer: PeerConn) -> None:
        if peer.is_outbound:
            # We chose this peer and it proved its ID on that address: worth keeping, worth asking.
            addr = peer.socket_addr
            if not self.switch.is_private_peer(peer.id):
                self.book.add(addr)
            self.book.mark_connected(addr)
            self._spawn_request(peer)

    async def receive(self, ch_id: int, peer: PeerConn, msg: bytes) -> None:
        if len(msg) > MAX_MESSAGE_SIZE:
            self.stats.oversize += 1
            return
        try:
            m = decode(msg)
        except DecodeError as e:
            self.stats.garbage += 1
            log.debug("undecodable discovery message from %s: %s", peer.id, e)
            return
        st = self._state.get(peer)
        if st is None:
            return
        if isinstance(m, Request):
            self.stats.requests_received += 1
            if not st.requests.try_take():
                self.stats.rate_limited += 1
                return
            self._answer(peer)
        else:
            self._handle_response(peer, st, m)

    def shareable(self, exclude: str | None = None) -> list[str]:
        """Advertised addresses of our non-private peers whose address is valid."""
        out: list[str] = []
        for p in self.switch.peers().list():
            if p.id == exclude or p.is_private or self.switch.is_private_peer(p.id):
                continue
            addr = p.node_info.net_address
            if not addr.is_valid():
                continue
            if addr.id != p.id:
                continue  # advertises someone else's ID
            out.append(str(addr))
        return out

    def _answer(self, peer: PeerConn) -> None:
        addrs = self.shareable(exclude=peer.id)
        if not addrs:
            return
        self.rng.shuffle(addrs)
        if peer.try_send(CHANNEL, encode_response(addrs[:MAX_PEERS_SHARED])):
            self.stats.responses_sent += 1

    def _handle_response(self, peer: PeerConn, st: _PeerDiscovery, m: Response) -> None:
        self.stats.responses_received += 1
        now = self.clock.monotonic()
        if st.asked_at is None or now - st.asked_at > RESPONSE_WINDOW:
            self.stats.unsolicited += 1
            return
        st.asked_at = None
        if not m.peers:
            self.stats.garbage += 1
            return
        if len(m.peers) > MAX_PEERS_SHARED:
            self.stats.too_many += 1
            return
        own = self.switch.own_address()
        own_id = self.switch.own_id()
        good: list[NetAddress] = []
        for text in m.peers:
            try:
                addr = NetAddress.from_amino(text)  # a peer's words: no hostnames
                addr.validate()
            except (DecodeError, AddressError):
                self.stats.filtered_invalid += 1
                continue
            if addr.id == own_id or (own is not None and addr.same(own)):
                self.stats.filtered_own += 1
                continue
            if self.switch.is_private_peer(addr.id):
                self.stats.filtered_private += 1
                continue
            good.append(addr)
        if not good:
            return
        self.stats.addresses_accepted += len(good)
        self.book.add(*good)
        self.switch.dial_peers(*good)
