"""Node Discovery v4 over an asyncio datagram endpoint (go-ethereum ``p2p/discover/v4_udp.go``).

Packets are decoded and verified in the Rust core (``peerwire._core.discv4``);
the routing table is the Rust ``kad.Table``. This module owns the socket, the
clock, the pending-reply bookkeeping and the protocol rules:

* Ping/Pong carry ``expiration = now + 20 s``; expired packets are dropped.
* Endpoint proof: FindNode and ENRRequest are answered only if we received a
  Pong from that (ID, IP) in the last 24 h; otherwise nothing is sent back
  (no amplification). Before we query a node we make sure it has bonded
  with us (``_ensure_bond``).
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
import builtins
import contextlib
import ipaddress
import os
import random
import secrets
import socket
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from peerwire import kad
from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._core import discv4 as _wire
from peerwire._core import identity as _id
from peerwire.devp2p._enode import Node
from peerwire.devp2p._enr import ENR, LocalNode
from peerwire.devp2p._keys import PrivateKey, PublicKey
from peerwire.devp2p._nodedb import NodeDB
from peerwire.errors import DecodeError, InvalidKeyError, PeerwireError, TimeoutError

__all__ = [
    "BOND_EXPIRATION",
    "EXPIRATION",
    "RESP_TIMEOUT",
    "UDPv4",
    "check_relay_addr",
    "listen_v4",
]

PING, PONG, FINDNODE, NEIGHBORS, ENR_REQUEST, ENR_RESPONSE = 1, 2, 3, 4, 5, 6

EXPIRATION = 20.0
"""Lifetime of our packets on the wire (seconds)."""
RESP_TIMEOUT = 0.5
"""How long a pending request waits for its reply."""
BOND_EXPIRATION = 24 * 3600.0
"""Endpoint proofs (pongs) are trusted this long."""
MAX_FINDNODE_FAILURES = 5
ALPHA = 3
"""Concurrent FindNode queries per lookup."""
BUCKET_SIZE = 16
"""Nodes per lookup result / FindNode answer."""
SEED_COUNT = 30
MAX_PENDING_TASKS = 256
"""Background tasks (ping-backs, revalidations) in flight; beyond, new ones are skipped."""
MAX_SOURCES = 4096
"""Source addresses tracked by the flood limiter (LRU)."""
SOURCE_RATE = 50.0
"""Packets per second accepted from one source address (token bucket); a
lookup or revalidation from an honest peer needs a handful..."""
SOURCE_BURST = 50.0
"""...with this burst."""
RECV_BUFFER = 4 * 1024 * 1024
"""Requested socket receive buffer (the kernel may cap it at rmem_max)."""
MIN_LOOKUP_INTERVAL = 1.0
"""random_nodes() starts lookups at least this far apart."""


# ------------------------------------------------------------------ addresses
_SPECIAL4 = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "192.0.0.0/29",
        "192.0.0.9/32",
        "192.0.0.170/31",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "255.255.255.255/32",
    )
]
_SPECIAL6 = [
    ipaddress.ip_network(n)
    for n in ("100::/64", "2001::/32", "2001:1::1/128", "2001:2::/48", "2001:3::/32", "2001:4:112::/48")
]


def _is_special(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip.is_multicast:
        return True
    nets = _SPECIAL4 if ip.version == 4 else _SPECIAL6
    return any(ip in n for n in nets)


def check_relay_addr(sender: str, addr: str) -> str | None:
    """geth ``netutil.CheckRelayAddr``: why ``addr`` may not be relayed to ``sender`` (None = fine)."""
    try:
        a = ipaddress.ip_address(addr)
        s = ipaddress.ip_address(sender)
    except ValueError:
        return "invalid IP"
    if a.is_unspecified:
        return "unspecified address"
    if _is_special(a):
        return "special network"
    if a.is_loopback and not s.is_loopback:
        return "loopback address from non-loopback host"
    if kad.is_lan(addr) and not kad.is_lan(sender):
        return "LAN address from WAN host"
    return None


def _ip_str(raw: bytes) -> str | None:
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if len(raw) == 16:
        v6 = ipaddress.IPv6Address(raw)
        return str(v6.ipv4_mapped or v6)
    return None


def _ip_bytes(ip: str) -> bytes:
    a = ipaddress.ip_address(ip)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return a.packed


def _norm_ip(ip: str) -> str:
    if ":" not in ip:
        return ip  # dotted IPv4 as the socket reports it: already normal (hot path)
    a = ipaddress.ip_address(ip)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        return str(a.ipv4_mapped)
    return str(a)


# ------------------------------------------------------------------- pending
@dataclass(eq=False)
class _Pending:
    from_id: bytes
    ip: str
    ptype: int
    match: Callable[[dict[str, Any]], tuple[bool, bool]]
    """Return (matched, complete) for a candidate reply."""
    future: asyncio.Future[None]
    replies: int = 0


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class Stats:
    """Counters for tests and metrics."""

    received: int = 0
    dropped_flood: int = 0
    dropped_invalid: int = 0
    dropped_expired: int = 0
    dropped_unsolicited: int = 0
    dropped_unbonded: int = 0
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
    ) -> None:
        self._key = key
        self._secret = key.to_bytes()
        self._db = db
        self._clock = clock
        self._bootnodes = list(bootnodes)
        self._restrict = (
            [ipaddress.ip_network(n, strict=False) for n in net_restrict] if net_restrict else None
        )
        self._tcp_port = tcp_port
        self.table = kad.Table(key.public_key.node_id, seed=secrets.randbits(63) if seed is None else seed)
        # With a seed, random lookup targets come from it too, so a simulation replays exactly.
        self._lookup_rng = random.Random(seed) if seed is not None else None
        self._nodes: dict[bytes, Node] = {}
        self._pending: dict[tuple[bytes, str, int], list[_Pending]] = {}
        self._limiter: OrderedDict[tuple[str, int], _Bucket] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pinging_back: set[bytes] = set()
        self._transport: asyncio.DatagramTransport | None = None
        self.local: LocalNode | None = None
        self.stats = Stats()
        self._refreshed = asyncio.Event()
        self._closed = False

    # ----------------------------------------------------------- lifecycle
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def error_received(self, exc: Exception) -> None:  # ICMP errors etc.
        self.stats.extra["socket_errors"] = self.stats.extra.get("socket_errors", 0) + 1

    def _setup_local(self, host: str, port: int) -> None:
        nid = self._key.public_key.node_id
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

    def _start(self) -> None:
        self._spawn(self._refresh_loop(), force=True)
        self._spawn(self._revalidate_loop(), force=True)

    async def close(self) -> None:
        self._closed = True
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for reqs in self._pending.values():
            for r in reqs:
                if not r.future.done():
                    r.future.cancel()
        self._pending.clear()
        if self._transport is not None:
            self._transport.close()

    def _spawn(self, coro: Any, *, force: bool = False) -> None:
        if self._closed or (not force and len(self._tasks) >= MAX_PENDING_TASKS):
            coro.close()
            self.stats.extra["tasks_skipped"] = self.stats.extra.get("tasks_skipped", 0) + 1
            return
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
        return [self._nodes[i] for i in self.table.nodes() if i in self._nodes]

    async def ping(self, node: Node) -> int | None:
        """Ping ``node`` and wait for its Pong; returns the Pong's enr-seq.

        Raises:
            TimeoutError: no matching Pong within 500 ms.
        """
        ip, port = self._addr(node)
        assert self.local is not None
        rec = self.local.record
        me = (_ip_bytes(rec.ip) if rec.ip else b"", rec.udp or 0, rec.tcp or 0)
        to = (_ip_bytes(ip), port, 0)
        pkt, h = _wire.encode_ping(self._secret, me, to, self._expiration(), self.local.seq)
        seq: list[int | None] = [None]

        def match(f: dict[str, Any]) -> tuple[bool, bool]:
            if f["reply_tok"] != h:
                return False, False
            seq[0] = f["enr_seq"]
            return True, True

        await self._request(node.id, ip, PONG, match, pkt, (ip, port))
        return seq[0]

    async def request_enr(self, node: Node) -> ENR:
        """Fetch and verify ``node``'s record (bonding first if needed).

        Raises:
            TimeoutError: no response.
            InvalidKeyError: the record is badly signed or for another node.
        """
        await self._ensure_bond(node)
        ip, port = self._addr(node)
        pkt, h = _wire.encode_enr_request(self._secret, self._expiration())
        got: list[Any] = [None]

        def match(f: dict[str, Any]) -> tuple[bool, bool]:
            if f["reply_tok"] != h:
                return False, False
            got[0] = f["record"]
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
        await self._ensure_bond(node)
        ip, port = self._addr(node)
        pkt, _ = _wire.encode_findnode(self._secret, target, self._expiration())
        found: list[Node] = []
        seen: set[bytes] = set()
        received = [0]

        def match(f: dict[str, Any]) -> tuple[bool, bool]:
            # Complete once 16 entries arrived, valid or not (geth counts them all).
            received[0] += len(f["nodes"])
            for raw_ip, udp, tcp, pub in f["nodes"]:
                n = self._validate_neighbor(ip, raw_ip, udp, tcp, pub)
                if n is not None and n.id not in seen:
                    seen.add(n.id)
                    found.append(n)
            return True, received[0] >= BUCKET_SIZE

        try:
            await self._request(node.id, ip, NEIGHBORS, match, pkt, (ip, port), partial_ok=True)
        except TimeoutError:
            fails = self._db.find_fails(node.id, ip) + 1
            self._db.update_find_fails(node.id, ip, fails)
            if fails >= MAX_FINDNODE_FAILURES and node.id in self.table:
                self._remove(node.id)
            raise
        if found:
            self._db.update_find_fails(node.id, ip, 0)
        return found

    async def lookup(self, target: PublicKey | bytes | None = None) -> list[Node]:
        """Iterative Kademlia lookup (alpha = 3, 16 results), closest first."""
        if target is None:
            target64 = os.urandom(64) if self._lookup_rng is None else self._lookup_rng.randbytes(64)
        elif isinstance(target, PublicKey):
            target64 = target.to_bytes()
        else:
            target64 = bytes(target)
        tid = _id.keccak256(target64)
        tint = int.from_bytes(tid, "big")

        def dist(n: Node) -> int:
            return int.from_bytes(n.id, "big") ^ tint

        result: dict[bytes, Node] = {}
        for i in self.table.closest(tid, BUCKET_SIZE):
            if i in self._nodes:
                result[i] = self._nodes[i]
        if not result:
            for b in self._bootnodes:
                result[b.id] = b
        asked: set[bytes] = {self._key.public_key.node_id}
        seen: set[bytes] = set(result) | asked

        async def query(n: Node) -> list[Node]:
            try:
                return await self.find_node(n, target64)
            except (TimeoutError, PeerwireError, OSError):
                return []

        # Keep ALPHA queries in flight: a slow node does not hold up the others.
        inflight: set[asyncio.Task[list[Node]]] = set()
        # Answers are handled in query order, not set order (task hashes are addresses):
        # the same inputs then give the same table, which a seeded simulation relies on.
        order: dict[asyncio.Task[list[Node]], int] = {}
        try:
            while True:
                best = sorted(result.values(), key=dist)[:BUCKET_SIZE]
                for n in best:
                    if len(inflight) >= ALPHA:
                        break
                    if n.id not in asked:
                        asked.add(n.id)
                        task = asyncio.ensure_future(query(n))
                        order[task] = len(order)
                        inflight.add(task)
                if not inflight:
                    return best
                done, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=order.__getitem__):
                    for n in task.result():
                        if n.id in seen:
                            continue
                        seen.add(n.id)
                        result[n.id] = n
                        self._add(n, inbound=False)
        finally:
            for task in sorted(inflight, key=order.__getitem__):
                task.cancel()

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
        known = self._nodes.get(node.id)
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
            if len(self.table) == 0:
                with contextlib.suppress(builtins.TimeoutError):
                    async with asyncio.timeout(60):
                        await self._refreshed.wait()
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
        return ts < self._now()

    def _addr(self, node: Node) -> tuple[str, int]:
        if node.ip is None or not node.udp_port:
            raise PeerwireError(f"node {node.id.hex()[:16]} has no UDP endpoint")
        return _norm_ip(node.ip), node.udp_port

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
        match: Callable[[dict[str, Any]], tuple[bool, bool]],
        packet: bytes,
        addr: tuple[str, int],
        *,
        partial_ok: bool = False,
    ) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        p = _Pending(node_id, ip, ptype, match, fut)
        key = (node_id, ip, ptype)
        self._pending.setdefault(key, []).append(p)
        try:
            self._send(packet, addr)
            try:
                async with asyncio.timeout(RESP_TIMEOUT):
                    await fut
            except builtins.TimeoutError:
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

    def _handle_reply(self, sender_id: bytes, ip: str, ptype: int, f: dict[str, Any]) -> bool:
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
        return any_matched

    async def _ensure_bond(self, node: Node) -> None:
        ip, _ = self._addr(node)
        now = self._now()
        stale = now - self._db.last_ping_received(node.id, ip) > BOND_EXPIRATION
        if stale or self._db.find_fails(node.id, ip) > MAX_FINDNODE_FAILURES:
            await self.ping(node)
            # Give the remote time to ping us back, so it bonds with us too.
            await self._wait_for_ping(node.id, ip)

    async def _wait_for_ping(self, node_id: bytes, ip: str) -> None:
        deadline = self._clock.monotonic() + RESP_TIMEOUT
        since = self._now()
        while self._clock.monotonic() < deadline:
            if self._db.last_ping_received(node_id, ip) >= since:
                return
            await self._clock.sleep(0.02)

    def _validate_neighbor(
        self, sender_ip: str, raw_ip: bytes, udp: int, tcp: int, pub: bytes
    ) -> Node | None:
        ip = _ip_str(raw_ip)
        if ip is None or udp <= 1024:
            return None
        if check_relay_addr(sender_ip, ip) is not None:
            return None
        if self._restrict is not None and not any(ipaddress.ip_address(ip) in n for n in self._restrict):
            return None
        try:
            key = PublicKey(pub)
        except InvalidKeyError:
            return None
        if key.node_id == self._key.public_key.node_id:
            return None
        return Node(public_key=key, host=ip, tcp_port=tcp, udp_port=udp)

    def _add(self, node: Node, *, inbound: bool) -> None:
        if node.ip is None:
            return
        old = self._nodes.get(node.id)
        if old is not None and not inbound and node.id in self.table:
            # As geth: hearsay (Neighbors, lookups) updates an entry only with a newer record;
            # the node's own contact (inbound) may change anything.
            old_seq = old.record.seq if old.record is not None else 0
            if (node.record.seq if node.record is not None else 0) <= old_seq:
                return
        res = self.table.add(node.id, _norm_ip(node.ip), self._clock.monotonic(), inbound)
        if not res.startswith("rejected"):
            self._nodes[node.id] = node
        if len(self._nodes) > 2 * kad.N_BUCKETS * (kad.BUCKET_SIZE + kad.MAX_REPLACEMENTS):
            keep = set(self.table.nodes())
            for i in list(self._nodes):
                if i not in keep and i not in self.table.replacements(i):
                    del self._nodes[i]

    def _remove(self, node_id: bytes) -> None:
        self.table.remove(node_id)
        if node_id not in self.table and node_id not in self.table.replacements(node_id):
            self._nodes.pop(node_id, None)

    # ------------------------------------------------------------- receive
    def _allow(self, addr: tuple[str, int]) -> bool:
        now = self._clock.monotonic()
        b = self._limiter.get(addr)
        if b is None:
            b = _Bucket(SOURCE_BURST, now)
            self._limiter[addr] = b
            if len(self._limiter) > MAX_SOURCES:
                self._limiter.popitem(last=False)
        else:
            self._limiter.move_to_end(addr)
            b.tokens = min(SOURCE_BURST, b.tokens + (now - b.stamp) * SOURCE_RATE)
            b.stamp = now
        if b.tokens < 1.0:
            return False
        b.tokens -= 1.0
        return True

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.stats.received += 1
        src = (_norm_ip(str(addr[0])), int(addr[1]))
        if not self._allow(src):
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
        if sender_id == self._key.public_key.node_id:
            self.stats.dropped_invalid += 1
            return
        try:
            self._dispatch(ptype, h, sender, sender_id, f, src)
        except (DecodeError, InvalidKeyError, ValueError):
            self.stats.dropped_invalid += 1

    def _dispatch(
        self, ptype: int, h: bytes, sender: bytes, sender_id: bytes, f: dict[str, Any], src: tuple[str, int]
    ) -> None:
        ip = src[0]
        if ptype != ENR_RESPONSE and self._expired(f["expiration"]):
            self.stats.dropped_expired += 1
            return
        if ptype == PING:
            self._on_ping(h, sender, sender_id, f, src)
        elif ptype in (PONG, NEIGHBORS, ENR_RESPONSE):
            if not self._handle_reply(sender_id, ip, ptype, f):
                self.stats.dropped_unsolicited += 1
                return
            if ptype == PONG:
                self._db.update_last_pong_received(sender_id, ip, self._now())
        elif ptype == FINDNODE:
            if not self._bonded(sender_id, ip):
                self.stats.dropped_unbonded += 1
                return
            tid = _id.keccak256(f["target"])
            entries = []
            for i in self.table.closest(tid, BUCKET_SIZE, prefer_live=True):
                n = self._nodes.get(i)
                if n is None or n.ip is None or check_relay_addr(ip, n.ip) is not None:
                    continue
                entries.append((_ip_bytes(n.ip), n.udp_port, n.tcp_port, n.public_key.to_bytes()))
            for pkt in _wire.encode_neighbors(self._secret, entries, self._expiration()):
                self._send(pkt, src)
        elif ptype == ENR_REQUEST:
            if not self._bonded(sender_id, ip):
                self.stats.dropped_unbonded += 1
                return
            assert self.local is not None
            pkt, _ = _wire.encode_enr_response(self._secret, h, self.local.record.to_bytes())
            self._send(pkt, src)

    def _bonded(self, node_id: bytes, ip: str) -> bool:
        return self._now() - self._db.last_pong_received(node_id, ip) < BOND_EXPIRATION

    def _on_ping(
        self, h: bytes, sender: bytes, sender_id: bytes, f: dict[str, Any], src: tuple[str, int]
    ) -> None:
        ip, port = src
        assert self.local is not None
        tcp = f["from"][2]
        pkt, _ = _wire.encode_pong(
            self._secret, (_ip_bytes(ip), port, tcp), h, self._expiration(), self.local.seq
        )
        self._send(pkt, src)
        node = Node(public_key=PublicKey(sender), host=ip, tcp_port=tcp, udp_port=port)
        if self._bonded(sender_id, ip):
            self._add(node, inbound=True)
        elif sender_id not in self._pinging_back:
            self._spawn(self._ping_back(node))
        self._db.update_last_ping_received(sender_id, ip, self._now())

    async def _ping_back(self, node: Node) -> None:
        self._pinging_back.add(node.id)
        try:
            with contextlib.suppress(TimeoutError, PeerwireError, OSError):
                await self.ping(node)
                self._add(node, inbound=True)
        finally:
            self._pinging_back.discard(node.id)

    # ---------------------------------------------------------- background
    def _seeds(self) -> list[Node]:
        return self._db.query_seeds(self._now(), SEED_COUNT) + self._bootnodes

    async def _refresh(self) -> None:
        for n in self._seeds():
            if n.id != self._key.public_key.node_id:
                self._add(n, inbound=False)
        await self.lookup(self._key.public_key)
        for _ in range(3):
            await self.lookup(None)

    async def _refresh_loop(self) -> None:
        while not self._closed:
            now = self._clock.monotonic()
            if self.table.refresh_due(now):
                with contextlib.suppress(PeerwireError, OSError):
                    await self._refresh()
                self.table.refresh_done(self._clock.monotonic())
                self._refreshed.set()
            self._db.maybe_expire(self._now())
            await self._clock.sleep(1.0)

    async def _revalidate_loop(self) -> None:
        while not self._closed:
            for i in self.table.due_revalidations(self._clock.monotonic()):
                n = self._nodes.get(i)
                if n is not None:
                    self._spawn(self._revalidate(n))
            await self._clock.sleep(0.25)

    async def _revalidate(self, node: Node) -> None:
        try:
            seq = await self.ping(node)
        except (TimeoutError, PeerwireError, OSError):
            removed, _ = self.table.mark_dead(node.id)
            if removed:
                self._nodes.pop(node.id, None)
            return
        self.table.mark_live(node.id)
        known = node.record.seq if node.record is not None else 0
        if seq is not None and seq > known:
            with contextlib.suppress(TimeoutError, PeerwireError, OSError):
                rec = await self.request_enr(node)
                if rec.ip is not None and rec.udp:
                    # A new endpoint moves the node back to the fast list (Table.add).
                    self._add(Node.from_record(rec), inbound=False)
        live = self.table.liveness(node.id)
        if live is not None and live > 5:
            self._db.update_node(self._nodes.get(node.id, node))


async def _resolve(node: Node) -> Node:
    """Resolve a bootnode given by DNS name (enode URLs keep host names until use)."""
    if node.ip is not None or node.host is None:
        return node
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(10):
        infos = await loop.getaddrinfo(node.host, node.udp_port, type=socket.SOCK_DGRAM)
    if not infos:
        raise PeerwireError(f"cannot resolve {node.host}")
    ip = str(infos[0][4][0])
    return Node(public_key=node.public_key, host=ip, tcp_port=node.tcp_port, udp_port=node.udp_port)


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
) -> AsyncIterator[UDPv4]:
    """Run discovery v4 on ``addr`` ("host:port") until the block exits."""
    host, _, port = addr.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    boots = [await _resolve(Node.parse(b) if isinstance(b, str) else b) for b in bootnodes]
    own_db = not isinstance(node_database, NodeDB)
    db = node_database if isinstance(node_database, NodeDB) else NodeDB(node_database)
    proto = UDPv4(
        key, db=db, bootnodes=boots, net_restrict=net_restrict, clock=clock, tcp_port=tcp_port, seed=seed
    )
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: proto, local_addr=(host, int(port)))
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # A deep receive queue rides out bursts; floods are cut by the per-source limiter.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER)
        proto._setup_local(host, proto.local_addr[1])
        proto._start()
        yield proto
    finally:
        await proto.close()
        if own_db:
            db.close()
