"""Node Discovery v4 over an asyncio datagram endpoint (go-ethereum ``p2p/discover/v4_udp.go``).

Packets are decoded and verified in the Rust core (``peerwire._core.discv4``);
the routing table is :class:`~._table.NodeTable`. This module owns the socket,
the pending-reply bookkeeping and the protocol rules; the pieces it builds on
live beside it: the flood limiter (``_limiter``), endpoint proof (``_bond``),
the iterative lookup (``_lookup``) and the address rules (``_addr``).

* Ping/Pong carry ``expiration = now + 20 s``; expired packets are dropped.
* Endpoint proof: FindNode and ENRRequest are answered only if we received a
  Pong from that (ID, IP) in the last 24 h; otherwise nothing is sent back
  (no amplification). Before we query a node we make sure it has bonded
  with us (:meth:`Bonds.ensure`).
* Replies match pending requests by (sender ID, sender IP, packet type) and
  expire after 500 ms. Anything unmatched is unsolicited and dropped.
* Neighbors entries must pass the relay-address rules, UDP port > 1024 and
  ``net_restrict``; ENR responses must verify and match the requested ID.
* Every datagram is handled synchronously in ``datagram_received`` (no
  queue). Per-source token buckets drop floods before signature recovery,
  and the tables that track sources and background tasks are capped, so a
  flood from one address keeps memory bounded and others are still served.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import random
import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias, cast

from peerwire._clock import SYSTEM_CLOCK, Clock, Deadline
from peerwire._core import discv4 as _wire
from peerwire._core import keccak
from peerwire._net import NetRestrict, resolve, split_host_port
from peerwire._tasks import TaskScope
from peerwire.devp2p._enode import Node
from peerwire.devp2p._enr import ENR, LocalNode
from peerwire.devp2p._keys import PrivateKey, PublicKey
from peerwire.devp2p._nodedb import NodeDB
from peerwire.devp2p.discover._addr import check_relay_addr, ip_bytes, ip_str, norm_ip
from peerwire.devp2p.discover._bond import BOND_EXPIRATION, MAX_FINDNODE_FAILURES, Bonds
from peerwire.devp2p.discover._limiter import SourceLimiter
from peerwire.devp2p.discover._lookup import BUCKET_SIZE, iterative_lookup
from peerwire.devp2p.discover._refresh import Refresher
from peerwire.devp2p.discover._table import NodeTable
from peerwire.errors import DecodeError, InvalidKeyError, PeerwireError, TimeoutError

__all__ = [
    "BOND_EXPIRATION",
    "EXPIRATION",
    "NEIGHBORS_SETTLE",
    "RESP_TIMEOUT",
    "UDPv4",
    "check_relay_addr",
    "listen_v4",
]

PING, PONG, FINDNODE, NEIGHBORS, ENR_REQUEST, ENR_RESPONSE = 1, 2, 3, 4, 5, 6

#: Expiry timestamps at or above this are negative as geth's int64: already expired.
_INT64_LIMIT = 1 << 63
EXPIRATION = 20.0
"""Lifetime of our packets on the wire (seconds)."""
RESP_TIMEOUT = 0.5
"""How long a pending request waits for its reply."""
NEIGHBORS_SETTLE = 0.05
"""After a Neighbors packet shorter than geth's ``maxNeighbors`` (12), how long FINDNODE still
waits for more: the sender has run out (geth fills every packet but the last), or chunks
smaller than geth, whose later chunks were sent with it. geth waits out the whole reply
timeout for an answer of fewer than 16 nodes; a walk of small tables spends most of its
time there."""
SEED_COUNT = 30
MAX_PENDING_TASKS = 256
"""Background tasks (ping-backs, revalidations) in flight; beyond, new ones are skipped."""
RECV_BUFFER = 4 * 1024 * 1024
"""Requested socket receive buffer (the kernel may cap it at rmem_max)."""
MIN_LOOKUP_INTERVAL = 1.0
"""random_nodes() starts lookups at least this far apart."""
RESOLVE_TIMEOUT = 10.0
"""How long resolving one bootnode's host name may take."""

#: A decoded, verified packet (frozen classes from the Rust core).
Packet: TypeAlias = (
    _wire.Ping | _wire.Pong | _wire.FindNode | _wire.Neighbors | _wire.EnrRequest | _wire.EnrResponse
)
_Match = Callable[[Packet], tuple[bool, bool]]


@dataclass(eq=False)
class _Pending:
    from_id: bytes
    ip: str
    ptype: int
    match: _Match
    """Return (matched, complete) for a candidate reply."""
    future: asyncio.Future[None]
    replies: int = 0
    #: Whether the replies so far say the rest will come at once (the deadline moves close).
    settle: Callable[[], bool] | None = None
    deadline: Deadline | None = None


@dataclass
class Stats:
    """Counters for tests and metrics."""

    received: int = 0
    dropped_flood: int = 0
    dropped_invalid: int = 0
    dropped_expired: int = 0
    dropped_unsolicited: int = 0
    dropped_unbonded: int = 0
    #: Pings from unbonded IDs over their IP's or subnet's bond budget (answered, not stored).
    over_bond_budget: int = 0
    sent: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class UDPv4(asyncio.DatagramProtocol):
    """A running discv4 node. Create it with :func:`listen_v4`."""

    def __init__(
        self,
        key: PrivateKey,
        *,
        db: NodeDB,
        bootnodes: Sequence[Node] = (),
        net_restrict: Sequence[str] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        tcp_port: int = 0,
        seed: int | None = None,
        limit_loopback: bool = False,
    ) -> None:
        self._key = key
        self._self_id = key.public_key.node_id
        self._secret = key.native  # signs in Rust; no copy of the secret in Python
        self._db = db
        self._clock = clock
        self._bootnodes = list(bootnodes)
        self._restrict = NetRestrict(net_restrict) if net_restrict else None
        self._tcp_port = tcp_port
        self.nodes = NodeTable(self._self_id, clock, seed=seed)
        # With a seed, random lookup targets come from it too, so a simulation replays exactly.
        self._lookup_rng = random.Random(seed) if seed is not None else None
        #: The routing table of node IDs (Rust ``kad.Table``).
        self.table = self.nodes.ids
        self._bonds = Bonds(db, clock, limit_loopback=limit_loopback)
        self._limiter = SourceLimiter(clock, limit_loopback=limit_loopback)
        self._pending: dict[tuple[bytes, str, int], list[_Pending]] = {}
        #: Owns every task of this service (loops, ping-backs, revalidations); see start()/close().
        self.tasks = TaskScope("discv4")
        self._transport: asyncio.DatagramTransport | None = None
        self.local: LocalNode | None = None
        self.stats = Stats()
        self._closed = False
        #: Table refresh on schedule and when a lookup finds the table empty.
        self.refresher = Refresher(self.table, clock, self._refresh, tick=self._expire_db)

    # ----------------------------------------------------------- lifecycle
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def error_received(self, exc: Exception) -> None:  # ICMP errors etc.
        self.stats.extra["socket_errors"] = self.stats.extra.get("socket_errors", 0) + 1

    def _setup_local(self, host: str, port: int) -> None:
        nid = self._self_id
        stored = self._db.local_seq(nid)
        self.local = LocalNode(
            self._key,
            seq=stored + 1 if stored is not None else None,
            clock=self._clock,
            store_seq=lambda s: self._db.store_local_seq(nid, s),
        )
        fields: dict[str, Any] = {"udp": port}
        if self._tcp_port:
            fields["tcp"] = self._tcp_port
        ip = ipaddress.ip_address(host)
        if not ip.is_unspecified:
            fields["ip" if ip.version == 4 else "ip6"] = str(ip)
        self.local.update(**fields)

    async def start(self, *, background: bool = True) -> None:
        """Open the task scope; with ``background`` run the refresh and revalidation loops."""
        await self.tasks.start()
        if background:
            self.tasks.spawn(self.refresher.run(lambda: self._closed), name="refresh")
            self.tasks.spawn(self._revalidate_loop(), name="revalidate")

    async def serve(self, transport: asyncio.BaseTransport, host: str, port: int) -> None:
        """Run on a socket owned by the caller (v4 and v5 on one port, as geth's shared conn)."""
        self.connection_made(transport)
        self._setup_local(host, port)
        await self.start()

    async def close(self) -> None:
        """Stop every task of the service (one scope) and close the socket."""
        self._closed = True
        await self.tasks.stop()
        for reqs in self._pending.values():
            for r in reqs:
                if not r.future.done():
                    r.future.cancel()
        self._pending.clear()
        if self._transport is not None:
            self._transport.close()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        # Ping-backs and revalidations are capped: a flood of pings cannot grow the task set.
        if self._closed or not self.tasks.running or self.tasks.tasks >= MAX_PENDING_TASKS:
            coro.close()
            self.stats.extra["tasks_skipped"] = self.stats.extra.get("tasks_skipped", 0) + 1
            return
        self.tasks.spawn(coro, name=name)

    # -------------------------------------------------------------- public
    def self_node(self) -> Node:
        assert self.local is not None
        return Node.from_record(self.local.record)

    @property
    def local_addr(self) -> tuple[str, int]:
        assert self._transport is not None
        addr = self._transport.get_extra_info("sockname")
        return (str(addr[0]), int(addr[1]))

    def table_nodes(self) -> list[Node]:
        return self.nodes.nodes()

    async def ping(self, node: Node) -> int | None:
        """Ping ``node`` and wait for its Pong; returns the Pong's enr-seq.

        Raises:
            TimeoutError: no matching Pong within 500 ms.
        """
        ip, port = self._addr(node)
        assert self.local is not None
        rec = self.local.record
        me = (ip_bytes(rec.ip) if rec.ip else b"", rec.udp or 0, rec.tcp or 0)
        to = (ip_bytes(ip), port, 0)
        pkt, h = _wire.encode_ping(self._secret, me, to, self._expiration(), self.local.seq)
        seq: list[int | None] = [None]

        def match(f: Packet) -> tuple[bool, bool]:
            if not isinstance(f, _wire.Pong) or f.reply_tok != h:
                return False, False
            seq[0] = f.enr_seq
            return True, True

        await self._request(node.id, ip, PONG, match, pkt, (ip, port))
        return seq[0]

    async def request_enr(self, node: Node) -> ENR:
        """Fetch and verify ``node``'s record (bonding first if needed).

        Raises:
            TimeoutError: no response.
            InvalidKeyError: the record is badly signed or for another node.
        """
        ip, port = self._addr(node)
        await self._bonds.ensure(node, ip, self.ping)
        pkt, h = _wire.encode_enr_request(self._secret, self._expiration())
        got: list[Any] = [None]

        def match(f: Packet) -> tuple[bool, bool]:
            if not isinstance(f, _wire.EnrResponse) or f.reply_tok != h:
                return False, False
            got[0] = f.record
            return True, True

        await self._request(node.id, ip, ENR_RESPONSE, match, pkt, (ip, port))
        rec = ENR(got[0])
        rec.verify()
        if rec.node_id != node.id:
            raise InvalidKeyError("ENR response is for a different node")
        if node.record is not None and rec.seq < node.record.seq:
            return node.record
        if rec.ip is not None and check_relay_addr(ip, rec.ip) is not None:
            raise InvalidKeyError(f"record IP {rec.ip} fails the relay check")
        return rec

    async def find_node(self, node: Node, target: bytes) -> list[Node]:
        """Ask ``node`` for the nodes closest to the 64-byte ``target`` key."""
        ip, port = self._addr(node)
        await self._bonds.ensure(node, ip, self.ping)
        pkt, _ = _wire.encode_findnode(self._secret, target, self._expiration())
        found: list[Node] = []
        seen: set[bytes] = set()
        received = [0]
        short = [False]

        def match(f: Packet) -> tuple[bool, bool]:
            if not isinstance(f, _wire.Neighbors):
                return False, False
            # Complete once 16 entries arrived, valid or not (geth counts them all).
            received[0] += len(f.nodes)
            short[0] = short[0] or len(f.nodes) < _wire.MAX_NEIGHBORS
            for e in f.nodes:
                n = self._validate_neighbor(ip, e.ip, e.udp, e.tcp, e.id)
                if n is not None and n.id not in seen:
                    seen.add(n.id)
                    found.append(n)
            return True, received[0] >= BUCKET_SIZE

        try:
            await self._request(
                node.id, ip, NEIGHBORS, match, pkt, (ip, port), partial_ok=True, settle=lambda: short[0]
            )
        except TimeoutError:
            fails = self._db.find_fails(node.id, ip) + 1
            self._db.update_find_fails(node.id, ip, fails)
            if fails >= MAX_FINDNODE_FAILURES and node.id in self.nodes:
                self.nodes.remove(node.id)
            raise
        if found:
            self._db.update_find_fails(node.id, ip, 0)
        return found

    async def lookup(self, target: PublicKey | bytes | None = None) -> list[Node]:
        """Iterative Kademlia lookup (alpha = 3, 16 results), closest first.

        On an empty table it first waits for a refresh (seeds from the node database
        and the bootnodes), as geth's ``LookupPubkey``.
        """
        await self.refresher.wait_refilled(lambda: len(self.nodes))
        return await self._lookup(target)

    async def _lookup(self, target: PublicKey | bytes | None) -> list[Node]:
        if target is None:
            target64 = os.urandom(64) if self._lookup_rng is None else self._lookup_rng.randbytes(64)
        elif isinstance(target, PublicKey):
            target64 = target.to_bytes()
        else:
            target64 = bytes(target)
        tid = keccak.keccak256(target64)
        start = self.nodes.closest(tid, BUCKET_SIZE) or self._bootnodes

        async def query(n: Node) -> list[Node]:
            try:
                return await self.find_node(n, target64)
            except (TimeoutError, PeerwireError, OSError):
                return []

        return await iterative_lookup(
            tid,
            start,
            query,
            exclude=(self._self_id,),
            on_found=lambda n: self.nodes.add(n, inbound=False),
        )

    async def resolve(self, node: Node) -> Node:
        """The newest record of ``node`` we can find (geth ``UDPv4.Resolve``), else ``node``.

        Asks the node directly, then at the endpoint of a newer table entry, then
        at whatever endpoint a lookup of its key turns up.
        """

        async def ask(n: Node) -> Node | None:
            if n.ip is None or not n.udp_port:
                return None
            try:
                found = Node.from_record(await self.request_enr(n))
            except (TimeoutError, PeerwireError, OSError):
                return None
            return found if found.ip is not None else None

        if (direct := await ask(node)) is not None:
            return direct
        known = self.nodes.get(node.id)
        seq = node.record.seq if node.record is not None else 0
        if known is not None and known.record is not None and known.record.seq > seq:
            node = known
            if (newer := await ask(node)) is not None:
                return newer
        for n in await self.lookup(node.public_key):
            if n.id == node.id and (found := await ask(n)) is not None:
                return found
        return node

    async def random_nodes(self) -> AsyncIterator[Node]:
        """Endless iterator over nodes found by chained random lookups."""
        while not self._closed:
            started = self._clock.monotonic()
            for n in await self.lookup(None):
                yield n
            wait = MIN_LOOKUP_INTERVAL - (self._clock.monotonic() - started)
            if wait > 0:
                await self._clock.sleep(wait)

    # ------------------------------------------------------------- helpers
    def _now(self) -> float:
        return self._clock.time()

    def _expiration(self) -> int:
        return int(self._now() + EXPIRATION)

    def _expired(self, ts: int) -> bool:
        # geth reads the field as int64 (v4wire.Expired): a value >= 2^63 is negative
        # there, so already in the past; read unsigned it would never expire.
        return ts >= _INT64_LIMIT or ts < self._now()

    def _addr(self, node: Node) -> tuple[str, int]:
        if node.ip is None or not node.udp_port:
            raise PeerwireError(f"node {node.id.hex()[:16]} has no UDP endpoint")
        return norm_ip(node.ip), node.udp_port

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        self._transport.sendto(data, addr)
        self.stats.sent += 1

    async def _request(
        self,
        node_id: bytes,
        ip: str,
        ptype: int,
        match: _Match,
        packet: bytes,
        addr: tuple[str, int],
        *,
        partial_ok: bool = False,
        settle: Callable[[], bool] | None = None,
    ) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        p = _Pending(node_id, ip, ptype, match, fut, settle=settle)
        key = (node_id, ip, ptype)
        self._pending.setdefault(key, []).append(p)
        try:
            self._send(packet, addr)
            try:
                async with self._clock.timeout(RESP_TIMEOUT) as p.deadline:  # on the injected clock
                    await fut
            except TimeoutError:
                if partial_ok and p.replies > 0:
                    return
                raise TimeoutError(f"no reply from {node_id.hex()[:16]}@{ip}") from None
        finally:
            lst = self._pending.get(key)
            if lst is not None:
                with contextlib.suppress(ValueError):
                    lst.remove(p)
                if not lst:
                    del self._pending[key]

    def _handle_reply(self, sender_id: bytes, ip: str, ptype: int, f: Packet) -> bool:
        # As geth: the reply goes to EVERY pending request it matches (two concurrent
        # FindNodes to one node both take its Neighbors), not only to the first.
        any_matched = False
        for p in list(self._pending.get((sender_id, ip, ptype), ())):
            matched, complete = p.match(f)
            if matched:
                any_matched = True
                p.replies += 1
                if complete and not p.future.done():
                    p.future.set_result(None)
                elif p.settle is not None and p.deadline is not None and p.settle():
                    soon = self._clock.monotonic() + NEIGHBORS_SETTLE
                    when = p.deadline.when
                    if when is None or soon < when:
                        p.deadline.reschedule(soon)
        return any_matched

    def _validate_neighbor(
        self, sender_ip: str, raw_ip: bytes, udp: int, tcp: int, pub: bytes
    ) -> Node | None:
        ip = ip_str(raw_ip)
        if ip is None or udp <= 1024:
            return None
        if check_relay_addr(sender_ip, ip) is not None:
            return None
        if self._restrict is not None and not self._restrict.contains(ip):
            return None
        try:
            key = PublicKey(pub)
        except InvalidKeyError:
            return None
        if key.node_id == self._self_id:
            return None
        return Node(public_key=key, host=ip, tcp_port=tcp, udp_port=udp)

    def _add(self, node: Node, *, inbound: bool) -> None:
        self.nodes.add(node, inbound=inbound)

    # ------------------------------------------------------------- receive
    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.stats.received += 1
        src = (norm_ip(str(addr[0])), int(addr[1]))
        if not self._limiter.allow(src):
            self.stats.dropped_flood += 1
            return
        if len(data) > _wire.MAX_PACKET_SIZE:
            self.stats.dropped_invalid += 1
            return
        try:
            ptype, h, sender, sender_id, f = _wire.decode(data)
        except (DecodeError, InvalidKeyError):
            self.stats.dropped_invalid += 1
            return
        if sender_id == self._self_id:
            self.stats.dropped_invalid += 1
            return
        try:
            self._dispatch(ptype, h, sender, sender_id, f, src)
        except (DecodeError, InvalidKeyError, ValueError):
            self.stats.dropped_invalid += 1

    def _dispatch(
        self, ptype: int, h: bytes, sender: bytes, sender_id: bytes, f: Packet, src: tuple[str, int]
    ) -> None:
        ip = src[0]
        if not isinstance(f, _wire.EnrResponse) and self._expired(f.expiration):
            self.stats.dropped_expired += 1
            return
        if isinstance(f, _wire.Ping):
            self._on_ping(h, sender, sender_id, f, src)
        elif ptype in (PONG, NEIGHBORS, ENR_RESPONSE):
            if not self._handle_reply(sender_id, ip, ptype, f):
                self.stats.dropped_unsolicited += 1
                return
            if ptype == PONG:
                self._bonds.pong_received(sender_id, ip)
        elif isinstance(f, _wire.FindNode):
            if not self._bonds.bonded(sender_id, ip):
                self.stats.dropped_unbonded += 1
                return
            tid = keccak.keccak256(f.target)
            entries = []
            for n in self.nodes.closest(tid, BUCKET_SIZE, prefer_live=True):
                if n.ip is None or check_relay_addr(ip, n.ip) is not None:
                    continue
                entries.append((ip_bytes(n.ip), n.udp_port, n.tcp_port, n.public_key.to_bytes()))
            for pkt in _wire.encode_neighbors(self._secret, entries, self._expiration()):
                self._send(pkt, src)
        elif ptype == ENR_REQUEST:
            if not self._bonds.bonded(sender_id, ip):
                self.stats.dropped_unbonded += 1
                return
            assert self.local is not None
            pkt, _ = _wire.encode_enr_response(self._secret, h, self.local.record.to_bytes())
            self._send(pkt, src)

    def _on_ping(
        self, h: bytes, sender: bytes, sender_id: bytes, f: _wire.Ping, src: tuple[str, int]
    ) -> None:
        ip, port = src
        assert self.local is not None
        tcp = f.from_.tcp
        pkt, _ = _wire.encode_pong(
            self._secret, (ip_bytes(ip), port, tcp), h, self._expiration(), self.local.seq
        )
        self._send(pkt, src)
        node = Node(public_key=PublicKey(sender), host=ip, tcp_port=tcp, udp_port=port)
        admitted = self._bonds.admit(sender_id, ip)  # identity churn: per-IP/subnet budget
        if not admitted:
            self.stats.over_bond_budget += 1
        if self._bonds.bonded(sender_id, ip):
            self.nodes.add(node, inbound=True)
        elif admitted and sender_id not in self._bonds.pinging_back:
            self._spawn(self._ping_back(node), "ping-back")
        self._bonds.ping_received(sender_id, ip, store=admitted)

    async def _ping_back(self, node: Node) -> None:
        self._bonds.pinging_back.add(node.id)
        try:
            with contextlib.suppress(TimeoutError, PeerwireError, OSError):
                await self.ping(node)
                self.nodes.add(node, inbound=True)
        finally:
            self._bonds.pinging_back.discard(node.id)

    # ---------------------------------------------------------- background
    def _expire_db(self) -> None:
        self._db.maybe_expire(self._now())

    def _seeds(self) -> list[Node]:
        return self._db.query_seeds(self._now(), SEED_COUNT) + self._bootnodes

    async def _refresh(self) -> None:
        for n in self._seeds():
            if n.id != self._self_id:
                self.nodes.add(n, inbound=False)
        await self._lookup(self._key.public_key)
        for _ in range(3):
            await self._lookup(None)

    async def _revalidate_loop(self) -> None:
        while not self._closed:
            for i in self.table.due_revalidations(self._clock.monotonic()):
                n = self.nodes.get(i)
                if n is not None:
                    self._spawn(self._revalidate(n), "revalidate-node")
            await self._clock.sleep(0.25)

    async def _revalidate(self, node: Node) -> None:
        try:
            seq = await self.ping(node)
        except (TimeoutError, PeerwireError, OSError):
            self.nodes.mark_dead(node.id)
            return
        self.table.mark_live(node.id)
        known = node.record.seq if node.record is not None else 0
        if seq is not None and seq > known:
            with contextlib.suppress(TimeoutError, PeerwireError, OSError):
                rec = await self.request_enr(node)
                if rec.ip is not None and rec.udp:
                    # A new endpoint moves the node back to the fast list (Table.add).
                    self.nodes.add(Node.from_record(rec), inbound=False)
        live = self.table.liveness(node.id)
        if live is not None and live > 5:
            self._db.update_node(self.nodes.get(node.id) or node)


async def _resolve(node: Node, clock: Clock) -> Node:
    """Resolve a bootnode given by DNS name (enode URLs keep host names until use)."""
    if node.ip is not None or node.host is None:
        return node
    async with clock.timeout(RESOLVE_TIMEOUT):
        ips = await resolve(node.host, kind=socket.SOCK_DGRAM)
    return Node(public_key=node.public_key, host=ips[0], tcp_port=node.tcp_port, udp_port=node.udp_port)


@contextlib.asynccontextmanager
async def listen_v4(
    key: PrivateKey,
    addr: str = "0.0.0.0:0",
    *,
    bootnodes: Iterable[Node | str] = (),
    node_database: str | Path | NodeDB | None = None,
    net_restrict: Sequence[str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    tcp_port: int = 0,
    seed: int | None = None,
    limit_loopback: bool = False,
) -> AsyncIterator[UDPv4]:
    """Run discovery v4 on ``addr`` ("host:port") until the block exits.

    The per-source flood limiter and bond budget skip loopback sources (this machine's own
    nodes) unless ``limit_loopback`` is true.

    Raises:
        ValueError: ``addr`` or a bootnode URL is malformed.
        DialError: a bootnode's host name does not resolve.
        OSError: the UDP socket cannot be bound.
    """
    host, port = split_host_port(addr, default_host="0.0.0.0")
    boots = [await _resolve(Node.parse(b) if isinstance(b, str) else b, clock) for b in bootnodes]
    own_db = not isinstance(node_database, NodeDB)
    db = node_database if isinstance(node_database, NodeDB) else NodeDB(node_database)
    proto = UDPv4(
        key,
        db=db,
        bootnodes=boots,
        net_restrict=net_restrict,
        clock=clock,
        tcp_port=tcp_port,
        seed=seed,
        limit_loopback=limit_loopback,
    )
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: proto, local_addr=(host, port))
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # A deep receive queue rides out bursts; floods are cut by the per-source limiter.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER)
        proto._setup_local(host, proto.local_addr[1])
        await proto.start()
        yield proto
    finally:
        await proto.close()
        if own_db:
            db.close()
