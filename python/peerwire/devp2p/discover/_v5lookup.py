"""discv5 lookups and table upkeep (geth ``lookup.go``, ``table.go`` refresh/revalidation, ``v5_udp.go``).

Lookups ask each node for the distances [d, d+1, d-1] around its log distance
to the target (geth ``lookupDistances``) in the walk shared with v4
(``_lookup.iterative_lookup``: ALPHA queries in flight, owned by its task group) and
return the 16 closest. Refresh and revalidation run on the injected clock, as
in v4; the routing table (and its IP limits) is the same Rust ``kad.Table``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire.devp2p._enode import Node
from peerwire.devp2p._enr import LocalNode
from peerwire.devp2p._keys import PrivateKey
from peerwire.devp2p._nodedb import NodeDB
from peerwire.devp2p.discover._lookup import iterative_lookup
from peerwire.devp2p.discover._refresh import Refresher
from peerwire.devp2p.discover._v5 import FINDNODE_RESULT_LIMIT, RESP_TIMEOUT, V5Transport, lookup_distances
from peerwire.errors import PeerwireError, TimeoutError

__all__ = ["UDPv5", "listen_v5", "local_node", "parse_bootnodes"]

SEED_COUNT = 30
MIN_LOOKUP_INTERVAL = 1.0
"""random_nodes() starts lookups at least this far apart."""
RECV_BUFFER = 4 * 1024 * 1024
"""Requested socket receive buffer (the kernel may cap it at rmem_max)."""


class UDPv5(V5Transport):
    """A running discv5 node. Create it with :func:`listen_v5` (or ``listen`` for v4+v5)."""

    @functools.cached_property
    def refresher(self) -> Refresher:
        """Table refresh on schedule and when random_nodes() finds the table empty."""
        return Refresher(self.table, self.clock, self.refresh)

    async def start(self) -> None:
        """Open the task scope and start refresh and revalidation (stopped by :meth:`close`)."""
        await self.tasks.start()
        self.spawn(self.refresher.run(lambda: self.closed), "refresh")
        self.spawn(self._revalidate_loop(), "revalidate")

    async def lookup(
        self, target_id: bytes | None = None, *, found: Callable[[Node], None] | None = None
    ) -> list[Node]:
        """Iterative lookup for ``target_id`` (random when None); the 16 closest found.

        The shared Kademlia walk (``_lookup.iterative_lookup``), asking each node
        FINDNODE for the distances around its distance to the target. ``found``
        sees every new node of every reply (geth's lookup iterator yields those).
        """
        if target_id is None:
            target = os.urandom(32) if self.lookup_rng is None else self.lookup_rng.randbytes(32)
        else:
            target = bytes(target_id)
        start = [self.nodes[i] for i in self.table.closest(target, FINDNODE_RESULT_LIMIT) if i in self.nodes]
        if not start:
            start = self.bootnodes
        if found is not None:  # as geth: the table's answer is the lookup's first reply
            for n in start:
                found(n)

        async def query(n: Node) -> list[Node]:
            try:
                answer = await self.find_node(n, lookup_distances(target, n.id))
            except (TimeoutError, PeerwireError, OSError):
                return []
            self.add_node(n, inbound=False)
            return [f for f in answer if f.id != self.id]

        def on_found(n: Node) -> None:
            self.add_node(n, inbound=False)
            if found is not None:
                found(n)

        return await iterative_lookup(target, start, query, exclude=(self.id,), on_found=on_found)

    async def random_nodes(self) -> AsyncIterator[Node]:
        """Endless iterator over the nodes that chained random lookups meet (for the dialer).

        As geth's lookup iterator: every node of every reply, not only the closest;
        and on an empty table it first waits for a refresh (geth's ``lookupFailed``).
        """
        while not self.closed:
            started = self.clock.monotonic()
            await self.refresher.wait_refilled(lambda: len(self.table))
            met: list[Node] = []
            await self.lookup(None, found=met.append)
            for n in met:
                yield n
            wait = MIN_LOOKUP_INTERVAL - (self.clock.monotonic() - started)
            if wait > 0:
                await self.clock.sleep(wait)

    # ---------------------------------------------------------- background
    async def refresh(self) -> None:
        """Seed the table from the DB and bootnodes, then look up self and three random targets."""
        await self._fetch_bootnode_records()
        seeds = [n for n in self.db.query_seeds(self.clock.time(), SEED_COUNT) if n.record is not None]
        for n in seeds + self.bootnodes:
            self.add_node(n, inbound=False)
        await self.lookup(self.id)
        for _ in range(3):
            await self.lookup(None)

    async def _fetch_bootnode_records(self) -> None:
        """An ``enode:`` bootnode is reached with its key alone; its record (FINDNODE 0, inside
        the session that opened) is what lets it into the table and our answers."""

        async def fetch(n: Node) -> None:
            with contextlib.suppress(TimeoutError, PeerwireError, OSError):
                rec = await self.request_enr(n)
                if rec.ip is not None and rec.udp:
                    self.update_bootnode(Node.from_record(rec))
                else:  # a record without an endpoint: keep the one the URL gave
                    assert n.ip is not None
                    self.update_bootnode(
                        Node(
                            public_key=n.public_key,
                            host=n.ip,
                            udp_port=n.udp_port,
                            tcp_port=n.tcp_port,
                            record=rec,
                        )
                    )

        await asyncio.gather(*(fetch(n) for n in self.bootnodes if n.record is None))

    async def _revalidate_loop(self) -> None:
        while not self.closed:
            for i in self.table.due_revalidations(self.clock.monotonic()):
                n = self.nodes.get(i)
                if n is not None:
                    self.spawn(self._revalidate(n), "revalidate node")
            await self.clock.sleep(0.25)

    async def _revalidate(self, node: Node) -> None:
        try:
            seq = await self.ping(node)
        except (TimeoutError, PeerwireError, OSError):
            removed, _ = self.table.mark_dead(node.id)
            if removed:
                self.nodes.pop(node.id, None)
            return
        self.table.mark_live(node.id)
        known = node.record.seq if node.record is not None else 0
        if seq > known:
            with contextlib.suppress(TimeoutError, PeerwireError, OSError):
                rec = await self.request_enr(node)
                if rec.ip is not None and rec.udp:
                    self.add_node(Node.from_record(rec), inbound=False)
        live = self.table.liveness(node.id)
        if live is not None and live > 5:
            self.db.update_node(self.nodes.get(node.id, node))


def local_node(key: PrivateKey, db: NodeDB, host: str, port: int, clock: Clock) -> LocalNode:
    """Our record with the listen endpoint, its seq kept in the node DB (as v4)."""
    nid = key.public_key.node_id
    stored = db.local_seq(nid)
    local = LocalNode(
        key,
        seq=stored + 1 if stored is not None else None,
        clock=clock,
        store_seq=lambda s: db.store_local_seq(nid, s),
    )
    fields: dict[str, Any] = {"udp": port}
    ip = ipaddress.ip_address(host)
    if not ip.is_unspecified:
        fields["ip" if ip.version == 4 else "ip6"] = str(ip)
    local.update(**fields)
    return local


def parse_bootnodes(bootnodes: Iterable[Node | str]) -> list[Node]:
    """``enr:`` or ``enode:`` text, or Nodes (geth takes both for v5: a handshake needs only the
    key, and the record is fetched from the node); each needs an IP address and a UDP port."""
    out = []
    for b in bootnodes:
        n = Node.parse(b) if isinstance(b, str) else b
        if n.ip is None or not n.udp_port:
            raise PeerwireError(f"discv5 bootnode {n.id.hex()[:16]} has no IP address and UDP port")
        out.append(n)
    return out


def split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


async def bind_udp(
    protocol: asyncio.DatagramProtocol, host: str, port: int
) -> tuple[asyncio.DatagramTransport, int]:
    """Bind ``protocol`` to ``host:port`` through the running loop (not a socket of our own,
    so a simulated loop serves it too), with the deep receive queue; returns the bound port."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: protocol, local_addr=(host, port))
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER)
    return transport, int(transport.get_extra_info("sockname")[1])


@contextlib.asynccontextmanager
async def listen_v5(
    key: PrivateKey,
    addr: str = "0.0.0.0:0",
    *,
    bootnodes: Iterable[Node | str] = (),
    node_database: str | Path | NodeDB | None = None,
    net_restrict: Sequence[str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    resp_timeout: float = RESP_TIMEOUT,
    findnode_liveness_check: bool = True,
    seed: int | None = None,
) -> AsyncIterator[UDPv5]:
    """Run discovery v5 on ``addr`` ("host:port") until the block exits."""
    host, port = split_addr(addr)
    boots = parse_bootnodes(bootnodes)
    own_db = not isinstance(node_database, NodeDB)
    db = node_database if isinstance(node_database, NodeDB) else NodeDB(node_database)
    proto: UDPv5 | None = None
    try:
        local = local_node(key, db, host, port, clock)
        proto = UDPv5(
            key,
            db=db,
            local=local,
            bootnodes=boots,
            net_restrict=net_restrict,
            clock=clock,
            resp_timeout=resp_timeout,
            findnode_liveness_check=findnode_liveness_check,
            seed=seed,
        )
        _transport, bound = await bind_udp(proto, host, port)
        if bound != port:  # port 0: the record names the port the system chose
            local.update(udp=bound)
        await proto.start()
        yield proto
    finally:
        if proto is not None:
            await proto.close()
        if own_db:
            db.close()
