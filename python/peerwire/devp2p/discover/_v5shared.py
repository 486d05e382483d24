"""Discovery v4 and v5 on one UDP socket, as geth runs them (``ListenV4`` with ``Unhandled``).

geth gives every datagram to v4 first and passes what v4 cannot decode to v5.
A v4 packet starts with ``keccak256(rest)``; anything without that hash is not
v4, so it goes to v5 (the same split, without decoding twice). Both protocols
share one :class:`LocalNode`: a record change (new seq) shows in v4 PONGs and
ENR responses and in v5 PONGs and handshakes alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._core import keccak
from peerwire.devp2p._enode import Node
from peerwire.devp2p._enr import LocalNode
from peerwire.devp2p._fairmix import FairMix
from peerwire.devp2p._keys import PrivateKey
from peerwire.devp2p._nodedb import NodeDB
from peerwire.devp2p.discover._v4 import UDPv4
from peerwire.devp2p.discover._v5 import RESP_TIMEOUT
from peerwire.devp2p.discover._v5lookup import UDPv5, bind_udp, local_node, split_addr
from peerwire.errors import PeerwireError

__all__ = ["Discovery", "listen"]

V4_HASH_SIZE = 32
V4_MIN_SIZE = 32 + 65 + 1
"""hash || signature || type: anything shorter is not v4."""
RESOLVE_TIMEOUT = 10.0
"""How long resolving a bootnode's DNS name may take."""


def is_v4_packet(data: bytes) -> bool:
    """Does ``data`` carry a valid discv4 hash (what geth's v4 decoder checks first)?"""
    return len(data) >= V4_MIN_SIZE and keccak.keccak256(data[V4_HASH_SIZE:]) == data[:V4_HASH_SIZE]


class Discovery(asyncio.DatagramProtocol):
    """v4 and/or v5 on one socket; ``v4`` / ``v5`` are None when disabled."""

    def __init__(
        self, v4: UDPv4 | None, v5: UDPv5 | None, local: LocalNode | None, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.v4 = v4
        self.v5 = v5
        self.local = local
        self.clock = clock
        self.unhandled = 0
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.v4 is not None and (self.v5 is None or is_v4_packet(data)):
            self.v4.datagram_received(data, addr)
        elif self.v5 is not None:
            self.v5.datagram_received(data, addr)
        else:
            self.unhandled += 1

    def error_received(self, exc: Exception) -> None:
        pass

    def self_node(self) -> Node:
        assert self.local is not None
        return Node.from_record(self.local.record)

    @property
    def local_addr(self) -> tuple[str, int]:
        """The bound UDP address of the shared socket."""
        assert self._transport is not None
        addr = self._transport.get_extra_info("sockname")
        return (str(addr[0]), int(addr[1]))

    def table_nodes(self) -> list[Node]:
        """The nodes in the v4 and v5 tables (each node once)."""
        out: dict[bytes, Node] = {}
        for svc in (self.v5, self.v4):
            if svc is not None:
                out.update((n.id, n) for n in svc.table_nodes())
        return list(out.values())

    def random_node_sources(self) -> list[tuple[str, AsyncIterator[Node]]]:
        """Each running protocol's random walk, named as geth's ``discv4-default`` / ``discv5-default``."""
        out: list[tuple[str, AsyncIterator[Node]]] = []
        if self.v4 is not None:
            out.append(("discv4-default", self.v4.random_nodes()))
        if self.v5 is not None:
            out.append(("discv5-default", self.v5.random_nodes()))
        return out

    async def random_nodes(self) -> AsyncIterator[Node]:
        """Nodes from both protocols' random walks in one :class:`FairMix`."""
        async with FairMix(self.clock) as mix:
            for name, it in self.random_node_sources():
                mix.add_source(it, name)
            async for n in mix:
                yield n


async def _resolve(node: Node, clock: Clock) -> Node:
    """A bootnode given by DNS name, resolved without blocking the loop."""
    if node.ip is not None or node.host is None:
        return node
    loop = asyncio.get_running_loop()
    async with clock.timeout(RESOLVE_TIMEOUT):
        infos = await loop.getaddrinfo(node.host, node.udp_port, type=socket.SOCK_DGRAM)
    if not infos:
        raise PeerwireError(f"cannot resolve {node.host}")
    host = str(infos[0][4][0])
    return Node(public_key=node.public_key, host=host, tcp_port=node.tcp_port, udp_port=node.udp_port)


@contextlib.asynccontextmanager
async def listen(
    key: PrivateKey,
    addr: str = "0.0.0.0:30303",
    *,
    v4: bool = True,
    v5: bool = True,
    bootnodes: Iterable[Node | str] = (),
    node_database: str | Path | NodeDB | None = None,
    net_restrict: Sequence[str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    tcp_port: int = 0,
    v5_resp_timeout: float = RESP_TIMEOUT,
    findnode_liveness_check: bool = True,
    seed: int | None = None,
) -> AsyncIterator[Discovery]:
    """Run v4 and/or v5 on one UDP socket at ``addr`` until the block exits.

    Bootnodes may be ``enode:`` URLs or ``enr:`` records; both protocols use every one
    (v5 reaches an ``enode:`` bootnode by its key and fetches its record, as geth).
    ``seed`` seeds both protocols' random choices (a simulation replays them).
    """
    if not (v4 or v5):
        raise ValueError("enable at least one of v4 and v5")
    host, port = split_addr(addr)
    boots = [await _resolve(Node.parse(b) if isinstance(b, str) else b, clock) for b in bootnodes]
    own_db = not isinstance(node_database, NodeDB)
    db = node_database if isinstance(node_database, NodeDB) else NodeDB(node_database)
    seeds = random.Random(seed) if seed is not None else None
    seed4, seed5 = (seeds.getrandbits(63), seeds.getrandbits(63)) if seeds is not None else (None, None)
    d4: UDPv4 | None = None
    d5: UDPv5 | None = None
    transport: asyncio.DatagramTransport | None = None
    placeholder = Discovery(None, None, None, clock)
    try:
        transport, bound = await bind_udp(placeholder, host, port)
        if v4:
            d4 = UDPv4(
                key,
                db=db,
                bootnodes=boots,
                net_restrict=net_restrict,
                clock=clock,
                tcp_port=tcp_port,
                seed=seed4,
            )
        if d4 is not None:
            await d4.serve(transport, host, bound)
            assert d4.local is not None
            local = d4.local
        else:
            local = local_node(key, db, host, bound, clock)
            if tcp_port:
                local.update(tcp=tcp_port)
        if v5:
            d5 = UDPv5(
                key,
                db=db,
                local=local,
                bootnodes=boots,
                net_restrict=net_restrict,
                clock=clock,
                resp_timeout=v5_resp_timeout,
                findnode_liveness_check=findnode_liveness_check,
                seed=seed5,
            )
            d5.connection_made(transport)
            await d5.start()
        placeholder.v4, placeholder.v5, placeholder.local = d4, d5, local
        yield placeholder
    finally:
        if d5 is not None:
            await d5.close(close_transport=False)
        if d4 is not None:
            await d4.close()
        if transport is not None:
            transport.close()
        if own_db:
            db.close()
