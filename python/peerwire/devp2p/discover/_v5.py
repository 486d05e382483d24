"""Node Discovery v5 over an asyncio datagram endpoint (go-ethereum ``p2p/discover/v5_udp.go``).

Packets, sessions and handshakes live in the Rust codec (``peerwire._core.discv5``);
this module owns the socket, the calls and the protocol rules:

* One active call per remote node (geth's call queue): calls to the same node
  run one after the other, so a handshake never races another request.
* A call that has no session is sent as a random packet; the peer's WHOAREYOU
  (matched by nonce, accepted once per call) makes us resend it as a handshake.
* Responses match the active call by node ID, request ID, source address and
  type, and each one re-arms the response timeout (700 ms, geth ``V5RespTimeout``).
  Anything else is unsolicited and dropped: nodes in it are neither contacted
  nor returned.
* FINDNODE, TALKREQ and PING are answered only when they decrypted inside a
  session, which exists only after a handshake from that exact IP:port, so no
  reply but the rate-limited 63-byte WHOAREYOU goes to an unverified address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import random
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from peerwire import kad
from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._core import discv5 as _wire
from peerwire._tasks import TaskScope
from peerwire.devp2p._enode import Node
from peerwire.devp2p._enr import ENR, LocalNode
from peerwire.devp2p._keys import PrivateKey
from peerwire.devp2p._nodedb import NodeDB
from peerwire.devp2p.discover._v4 import check_relay_addr
from peerwire.errors import DecodeError, HandshakeError, InvalidKeyError, PeerwireError, TimeoutError

__all__ = [
    "FINDNODE_RESULT_LIMIT",
    "LOOKUP_REQUEST_LIMIT",
    "RESP_TIMEOUT",
    "TOTAL_NODES_RESPONSE_LIMIT",
    "TalkHandler",
    "V5Transport",
    "lookup_distances",
]

PING, PONG, FINDNODE, NODES, TALKREQ, TALKRESP = 1, 2, 3, 4, 5, 6

RESP_TIMEOUT = 0.7
"""geth ``V5RespTimeout``: how long a call waits for each response packet."""
LOOKUP_REQUEST_LIMIT = 3
"""Distances asked per FINDNODE in a lookup: [d, d+1, d-1]."""
FINDNODE_RESULT_LIMIT = 16
"""Records we put in the answer to one FINDNODE."""
TOTAL_NODES_RESPONSE_LIMIT = 5
"""NODES packets accepted per FINDNODE (``total`` is capped at this)."""
MAX_RECORDS_PER_CALL = TOTAL_NODES_RESPONSE_LIMIT * FINDNODE_RESULT_LIMIT
"""Records kept from the answers to one FINDNODE; a peer stuffing NODES with
tiny records cannot make one call verify and store more than this."""
NODES_SIZE_LIMIT = 1000
"""Bytes of records per NODES packet we send (geth ``packNodes``), leaving
room for the header in a 1280-byte packet."""
MAX_ACTIVE_TALK_REQUESTS = 64
"""TALKREQ handlers running at once; more requests are dropped so a peer
cannot pile up work (geth has 1024 slots and a 400 ms wait)."""
MAX_NODE_LOCKS = 4096
VERIFIED_RECORDS = 2048
"""Records from NODES answers kept after their signature checked out, keyed by their exact
bytes: peers return the same records over and over, and each check costs a signature
verification. Bounded (oldest out first) so a flood of distinct records cannot grow it; a
forged record never matches, since its bytes differ from the verified one's."""
"""Per-node call locks kept; idle ones are dropped beyond this."""

TalkHandler = Callable[[Node, bytes], Awaitable[bytes]]


def lookup_distances(target: bytes, dest: bytes) -> list[int]:
    """geth ``lookupDistances``: [d, d+1, d-1, …] around ``d = logdist(target, dest)`` within 1..256."""
    td = kad.log_distance(target, dest)
    dists = [td]
    i = 1
    while len(dists) < LOOKUP_REQUEST_LIMIT and i <= 256:
        if td + i <= 256:
            dists.append(td + i)
        if td - i > 0 and len(dists) < LOOKUP_REQUEST_LIMIT:
            dists.append(td - i)
        i += 1
    return dists


def _addr_str(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _norm_ip(ip: str) -> str:
    if ":" not in ip:
        return ip
    a = ipaddress.ip_address(ip)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        return str(a.ipv4_mapped)
    return str(a)


@dataclass(eq=False)
class _Call:
    node: Node
    addr: tuple[str, int]
    kind: int
    args: tuple[Any, ...]
    req_id: bytes
    resp_kind: int
    # A call takes at most TOTAL_NODES_RESPONSE_LIMIT packets; more are dropped, not queued.
    responses: asyncio.Queue[tuple[Any, ...]] = field(
        default_factory=lambda: asyncio.Queue(TOTAL_NODES_RESPONSE_LIMIT)
    )
    nonce: bytes = b""
    handshakes: int = 0


@dataclass
class Stats:
    """Counters for tests and metrics."""

    received: int = 0
    sent: int = 0
    not_discv5: int = 0
    dropped_invalid: int = 0
    dropped_unsolicited: int = 0
    whoareyou_sent: int = 0
    whoareyou_suppressed: int = 0
    talk_dropped: int = 0


class V5Transport(asyncio.DatagramProtocol):
    """discv5 packets, calls and request handlers; :class:`UDPv5` adds the table upkeep and lookups."""

    def __init__(
        self,
        key: PrivateKey,
        *,
        db: NodeDB,
        local: LocalNode,
        bootnodes: Sequence[Node] = (),
        net_restrict: Sequence[str] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        resp_timeout: float = RESP_TIMEOUT,
        findnode_liveness_check: bool = True,
        seed: int | None = None,
    ) -> None:
        self._key = key
        self._db = db
        self.local = local
        self._clock = clock
        self.resp_timeout = resp_timeout
        self._liveness_check = findnode_liveness_check
        self._bootnodes = list(bootnodes)
        self._restrict = (
            [ipaddress.ip_network(n, strict=False) for n in net_restrict] if net_restrict else None
        )
        self.id = key.public_key.node_id
        self.codec = _wire.Codec(key.native, local.record.to_bytes())
        self._codec_seq = local.seq
        self.table = kad.Table(self.id, seed=int.from_bytes(os.urandom(7)) if seed is None else seed)
        #: With a seed, random lookup targets come from it too, so a simulation replays exactly.
        self.lookup_rng = random.Random(seed) if seed is not None else None
        self.nodes: dict[bytes, Node] = {}
        self._active: dict[bytes, _Call] = {}
        self._by_nonce: dict[bytes, _Call] = {}
        self._locks: dict[bytes, asyncio.Lock] = {}
        self._talk: dict[bytes, TalkHandler] = {}
        self._talk_active = 0
        #: Owns every task of the service (upkeep loops, revalidations, TALKREQ handlers).
        self.tasks = TaskScope("discv5")
        self._transport: asyncio.DatagramTransport | None = None
        self.stats = Stats()
        self._monotonic = clock.monotonic
        self._addr_strs: dict[tuple[str, int], str] = {}
        self._verified: dict[bytes, Node] = {}
        self.closed = False

    # ----------------------------------------------------------- lifecycle
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def error_received(self, exc: Exception) -> None:  # ICMP errors: nothing to do
        pass

    def spawn(self, coro: Coroutine[Any, Any, None], name: str = "task") -> None:
        """Run ``coro`` as a task of :attr:`tasks` (cancelled by :meth:`close`)."""
        if self.closed or not self.tasks.running:
            coro.close()
            return
        self.tasks.spawn(coro, name=name)

    async def close(self, *, close_transport: bool = True) -> None:
        """Stop every task of the service (one scope); with ``close_transport`` close the socket."""
        self.closed = True
        await self.tasks.stop()
        if close_transport and self._transport is not None:
            self._transport.close()

    # -------------------------------------------------------------- public
    def self_node(self) -> Node:
        return Node.from_record(self.local.record)

    @property
    def local_addr(self) -> tuple[str, int]:
        assert self._transport is not None
        addr = self._transport.get_extra_info("sockname")
        return (str(addr[0]), int(addr[1]))

    def table_nodes(self) -> list[Node]:
        return [self.nodes[i] for i in self.table.nodes() if i in self.nodes]

    def register_talk_handler(self, protocol: bytes, handler: TalkHandler) -> None:
        """Answer TALKREQ for ``protocol`` with ``await handler(node, request)``."""
        self._talk[bytes(protocol)] = handler

    async def ping(self, node: Node) -> int:
        """PING ``node``; returns the ENR seq from its PONG."""
        (resp,) = await self._call(node, PING, (self.local.seq,), PONG)
        return int(resp[2][0])

    async def request_enr(self, node: Node) -> ENR:
        """The node's current record (FINDNODE at distance 0)."""
        nodes = await self.find_node(node, [0])
        if len(nodes) != 1 or nodes[0].record is None:
            raise DecodeError(f"{len(nodes)} nodes in response for distance zero")
        return nodes[0].record

    async def find_node(self, node: Node, distances: Sequence[int]) -> list[Node]:
        """FINDNODE at ``distances``; verified records from up to 5 NODES packets."""
        dists = [int(d) for d in distances]
        resps = await self._call(node, FINDNODE, (dists,), NODES, multi=True)
        out: list[Node] = []
        seen: set[bytes] = set()
        for _kind, _req, (_total, records) in resps:
            for raw in records:
                if len(out) >= MAX_RECORDS_PER_CALL:
                    break
                n = self._verify_response_node(node, raw, dists, seen)
                if n is not None:
                    out.append(n)
        return out

    async def talk_request(self, node: Node, protocol: bytes, request: bytes) -> bytes:
        """TALKREQ; returns the TALKRESP payload."""
        (resp,) = await self._call(node, TALKREQ, (bytes(protocol), bytes(request)), TALKRESP)
        return bytes(resp[2][0])

    # --------------------------------------------------------------- calls
    def _lock(self, node_id: bytes) -> asyncio.Lock:
        lock = self._locks.get(node_id)
        if lock is None:
            if len(self._locks) >= MAX_NODE_LOCKS:
                for k in [k for k, v in self._locks.items() if not v.locked()]:
                    del self._locks[k]
            lock = self._locks[node_id] = asyncio.Lock()
        return lock

    def endpoint(self, node: Node) -> tuple[str, int]:
        if node.ip is None or not node.udp_port:
            raise PeerwireError(f"node {node.id.hex()[:16]} has no UDP endpoint")
        return _norm_ip(node.ip), node.udp_port

    async def _call(
        self, node: Node, kind: int, args: tuple[Any, ...], resp_kind: int, *, multi: bool = False
    ) -> list[tuple[Any, ...]]:
        if self.closed:
            raise PeerwireError("discv5 is closed")
        addr = self.endpoint(node)
        call = _Call(node, addr, kind, args, os.urandom(8), resp_kind)
        async with self._lock(node.id):
            self._active[node.id] = call
            try:
                self._send_call(call)
                out: list[tuple[Any, ...]] = []
                total = -1
                while True:
                    try:
                        async with self._clock.timeout(self.resp_timeout):
                            msg = await call.responses.get()
                    except TimeoutError:
                        if out:
                            return out
                        raise TimeoutError(f"no discv5 reply from {node.id.hex()[:16]}@{addr[0]}") from None
                    out.append(msg)
                    if not multi:
                        return out
                    if total == -1:
                        total = min(int(msg[2][0]), TOTAL_NODES_RESPONSE_LIMIT)
                    if len(out) >= total:
                        return out
            finally:
                del self._active[node.id]
                self._by_nonce.pop(call.nonce, None)

    def _sync_local_record(self) -> None:
        if self.local.seq != self._codec_seq:
            self.codec.set_local_record(self.local.record.to_bytes())
            self._codec_seq = self.local.seq

    def _send_call(self, call: _Call, challenge: tuple[bytes, bytes, int, bytes] | None = None) -> None:
        self._sync_local_record()
        self._by_nonce.pop(call.nonce, None)
        dest = _addr_str(*call.addr)
        if challenge is None:
            pkt, nonce = self.codec.encode(call.node.id, dest, call.kind, call.req_id, call.args)
        elif call.node.record is not None:
            pkt, nonce = self.codec.encode_handshake(
                call.node.id, dest, call.kind, call.req_id, call.args, challenge, call.node.record.to_bytes()
            )
        else:  # an enode: bootnode: its key is all a handshake needs (geth does the same)
            pkt, nonce = self.codec.encode_handshake(
                call.node.id,
                dest,
                call.kind,
                call.req_id,
                call.args,
                challenge,
                call.node.public_key.to_bytes(),
                remote_is_key=True,
            )
        call.nonce = nonce
        self._by_nonce[nonce] = call
        self._send(pkt, call.addr)

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        self._transport.sendto(data, addr)
        self.stats.sent += 1

    def _respond(
        self, node_id: bytes, addr: tuple[str, int], kind: int, req_id: bytes, args: tuple[Any, ...]
    ) -> None:
        self._sync_local_record()
        try:
            pkt, _ = self.codec.encode(node_id, _addr_str(*addr), kind, req_id, args)
        except PeerwireError:  # e.g. a talk response too big for a packet
            self.stats.dropped_invalid += 1
            return
        self._send(pkt, addr)

    def _verify_response_node(
        self, asked: Node, raw: bytes, dists: list[int], seen: set[bytes]
    ) -> Node | None:
        """geth ``verifyResponseNode``: valid record, relayable address, port > 1024, asked distance."""
        n = self._verified.get(raw)
        if n is None:
            try:
                n = Node.from_record(ENR.decode(raw, verify=False))  # from_record verifies
            except (DecodeError, InvalidKeyError):
                return None
            if len(self._verified) >= VERIFIED_RECORDS:
                del self._verified[next(iter(self._verified))]
            self._verified[raw] = n
        if n.ip is None or n.udp_port <= 1024 or asked.ip is None:
            return None
        if check_relay_addr(_norm_ip(asked.ip), n.ip) is not None:
            return None
        if self._restrict is not None and not any(ipaddress.ip_address(n.ip) in r for r in self._restrict):
            return None
        if kad.log_distance(asked.id, n.id) not in dists or n.id in seen:
            return None
        seen.add(n.id)
        return n

    # ------------------------------------------------------------- receive
    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.handle_packet(data, (_norm_ip(str(addr[0])), int(addr[1])))

    def handle_packet(self, data: bytes, src: tuple[str, int]) -> bool:
        """Process one datagram; False when it is not discv5 at all."""
        self.stats.received += 1
        addr = self._addr_strs.get(src)
        if addr is None:
            if len(self._addr_strs) >= MAX_NODE_LOCKS:
                self._addr_strs.clear()
            addr = self._addr_strs[src] = _addr_str(*src)
        try:
            kind, src_id, nonce, payload, node_rec = self.codec.decode(data, addr, self._monotonic())
        except (DecodeError, HandshakeError, InvalidKeyError, PeerwireError):
            self.stats.dropped_invalid += 1
            return True
        if kind == "message":
            if node_rec is not None:
                self._on_handshake_node(node_rec, src)
            try:
                self._on_message(src_id, payload, src)
            except (DecodeError, InvalidKeyError, ValueError, TypeError, IndexError):
                self.stats.dropped_invalid += 1
        elif kind == "unknown":
            try:
                self._on_unknown(src_id, nonce, src, len(data))
            except PeerwireError:
                self.stats.dropped_invalid += 1
        elif kind == "whoareyou":
            self._on_whoareyou(nonce, payload, src)
        else:
            self.stats.not_discv5 += 1
            return False
        return True

    def _on_unknown(self, src_id: bytes, nonce: bytes, src: tuple[str, int], size: int) -> None:
        known = self.nodes.get(src_id) or self._db.node(src_id)
        rec = known.record.to_bytes() if known is not None and known.record is not None else None
        wy = self.codec.whoareyou(src_id, _addr_str(*src), nonce, rec, size, self._clock.monotonic())
        if wy is None:
            self.stats.whoareyou_suppressed += 1
            return
        self.stats.whoareyou_sent += 1
        self._send(wy, src)

    def _on_whoareyou(self, nonce: bytes, payload: Any, src: tuple[str, int]) -> None:
        call = self._by_nonce.get(nonce)
        if call is None or call.handshakes > 0 or call.addr != src:
            self.stats.dropped_unsolicited += 1
            return
        call.handshakes += 1
        id_nonce, enr_seq, cdata = payload
        try:
            self._send_call(call, (nonce, id_nonce, enr_seq, cdata))
        except PeerwireError:
            self.stats.dropped_invalid += 1

    def _on_handshake_node(self, raw: bytes, src: tuple[str, int]) -> None:
        try:
            rec = ENR.decode(raw)
            node = Node.from_record(rec)
        except (DecodeError, InvalidKeyError):
            return
        if node.ip is None:
            node = Node(
                public_key=node.public_key, host=src[0], udp_port=src[1], tcp_port=node.tcp_port, record=rec
            )
        self.add_node(node, inbound=True)

    def _on_message(self, src_id: bytes, msg: tuple[Any, ...], src: tuple[str, int]) -> None:
        kind, req_id, args = msg
        if kind in (PONG, NODES, TALKRESP):
            call = self._active.get(src_id)
            if call is None or call.req_id != req_id or call.addr != src or call.resp_kind != kind:
                self.stats.dropped_unsolicited += 1
                return
            if call.responses.full():
                self.stats.dropped_unsolicited += 1
                return
            call.responses.put_nowait(msg)
        elif kind == PING:
            ip = ipaddress.ip_address(src[0]).packed
            self._respond(src_id, src, PONG, req_id, (self.local.seq, ip, src[1]))
        elif kind == FINDNODE:
            batches = _pack_nodes(self._collect_records(src[0], args[0]))
            for batch in batches:
                self._respond(src_id, src, NODES, req_id, (len(batches), batch))
        elif kind == TALKREQ:
            self._on_talk(src_id, req_id, bytes(args[0]), bytes(args[1]), src)

    def _collect_records(self, requester_ip: str, distances: list[int]) -> list[bytes]:
        out: list[bytes] = []
        done: set[int] = set()
        for d in distances:
            if d in done or d > 256:
                continue
            done.add(d)
            if d == 0:
                out.append(self.local.record.to_bytes())
            else:
                cands = [
                    n for i, n in self.nodes.items() if i in self.table and kad.log_distance(self.id, i) == d
                ]
                for n in cands:
                    if self._liveness_check and not self.table.liveness(n.id):
                        continue
                    if n.record is None or n.ip is None or check_relay_addr(requester_ip, n.ip) is not None:
                        continue
                    out.append(n.record.to_bytes())
                    if len(out) >= FINDNODE_RESULT_LIMIT:
                        return out
            if len(out) >= FINDNODE_RESULT_LIMIT:
                return out[:FINDNODE_RESULT_LIMIT]
        return out

    def _on_talk(
        self, src_id: bytes, req_id: bytes, proto: bytes, request: bytes, src: tuple[str, int]
    ) -> None:
        handler = self._talk.get(proto)
        raw = self.codec.session_record(src_id, _addr_str(*src))
        if handler is None or raw is None:
            self._respond(src_id, src, TALKRESP, req_id, (b"",))
            return
        if self._talk_active >= MAX_ACTIVE_TALK_REQUESTS:
            self.stats.talk_dropped += 1
            return
        node = Node.from_record(ENR.decode(raw))

        async def run() -> None:
            self._talk_active += 1
            try:
                resp = await handler(node, request)
                self._respond(src_id, src, TALKRESP, req_id, (bytes(resp),))
            except Exception:  # a failing handler sends nothing, as geth's would time out
                self.stats.talk_dropped += 1
            finally:
                self._talk_active -= 1

        self.spawn(run(), "talk")

    # --------------------------------------------------------------- table
    def add_node(self, node: Node, *, inbound: bool) -> None:
        """Offer ``node`` to the table (IP limits as v4, LAN exempt)."""
        if node.ip is None or node.id == self.id or node.record is None:
            return
        old = self.nodes.get(node.id)
        if old is not None and not inbound and node.id in self.table:
            old_seq = old.record.seq if old.record is not None else 0
            if node.record.seq <= old_seq:
                return
        res = self.table.add(node.id, _norm_ip(node.ip), self._clock.monotonic(), inbound)
        if res.accepted:
            self.nodes[node.id] = node
        if len(self.nodes) > 2 * kad.N_BUCKETS * (kad.BUCKET_SIZE + kad.MAX_REPLACEMENTS):
            keep = set(self.table.nodes())
            for i in list(self.nodes):
                if i not in keep and i not in self.table.replacements(i):
                    del self.nodes[i]

    def remove_node(self, node_id: bytes) -> None:
        self.table.remove(node_id)
        if node_id not in self.table and node_id not in self.table.replacements(node_id):
            self.nodes.pop(node_id, None)

    @property
    def bootnodes(self) -> list[Node]:
        return list(self._bootnodes)

    def update_bootnode(self, node: Node) -> None:
        """Put ``node`` (an ``enode:`` bootnode now with its record) in place of the one with its ID."""
        self._bootnodes = [node if b.id == node.id else b for b in self._bootnodes]

    @property
    def db(self) -> NodeDB:
        return self._db

    @property
    def clock(self) -> Clock:
        return self._clock


def _pack_nodes(records: list[bytes]) -> list[list[bytes]]:
    """geth ``packNodes``: batches of at most 1000 bytes of records; no records is one empty NODES."""
    batches: list[list[bytes]] = []
    cur: list[bytes] = []
    size = 0
    for r in records:
        if cur and size + len(r) > NODES_SIZE_LIMIT:
            batches.append(cur)
            cur, size = [], 0
        cur.append(r)
        size += len(r)
    if cur or not batches:
        batches.append(cur)
    return batches
