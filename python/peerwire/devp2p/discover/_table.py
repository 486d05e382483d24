"""The discovery routing table with the nodes it names.

The Rust ``kad.Table`` keeps IDs, buckets, IP limits and liveness; this keeps
the :class:`Node` behind each ID and the record-seq rule for hearsay. It is
protocol-neutral: v4 and v5 discovery each own one.
"""

from __future__ import annotations

import secrets

from peerwire import kad
from peerwire._clock import Clock
from peerwire.devp2p._enode import Node
from peerwire.devp2p.discover._addr import norm_ip

__all__ = ["MAX_KNOWN_NODES", "NodeTable"]

MAX_KNOWN_NODES = 2 * kad.N_BUCKETS * (kad.BUCKET_SIZE + kad.MAX_REPLACEMENTS)
"""Nodes kept behind table IDs; past this, those no longer in the table or its
replacement lists are forgotten (hearsay cannot grow the map without bound)."""


class NodeTable:
    """A ``kad.Table`` of node IDs plus the :class:`Node` each ID stands for."""

    def __init__(self, self_id: bytes, clock: Clock, *, seed: int | None = None) -> None:
        self.ids = kad.Table(self_id, seed=secrets.randbits(63) if seed is None else seed)
        self._clock = clock
        self._nodes: dict[bytes, Node] = {}

    def __contains__(self, node_id: bytes) -> bool:
        return node_id in self.ids

    def __len__(self) -> int:
        return len(self.ids)

    def get(self, node_id: bytes) -> Node | None:
        """The node behind ``node_id`` (in the table or a replacement list), if known."""
        return self._nodes.get(node_id)

    def nodes(self) -> list[Node]:
        """The table's nodes, bucket by bucket."""
        return [self._nodes[i] for i in self.ids.nodes() if i in self._nodes]

    def closest(self, target_id: bytes, k: int, *, prefer_live: bool = False) -> list[Node]:
        """Up to ``k`` known nodes closest to ``target_id``, closest first."""
        found = []
        for i in self.ids.closest(target_id, k, prefer_live=prefer_live):
            n = self._nodes.get(i)
            if n is not None:
                found.append(n)
        return found

    def add(self, node: Node, *, inbound: bool) -> None:
        """Offer ``node`` to the table; ``inbound`` is the node's own contact, not hearsay."""
        if node.ip is None:
            return
        old = self._nodes.get(node.id)
        if old is not None and not inbound and node.id in self.ids:
            # As geth: hearsay (Neighbors, lookups) updates an entry only with a newer record;
            # the node's own contact (inbound) may change anything.
            old_seq = old.record.seq if old.record is not None else 0
            if (node.record.seq if node.record is not None else 0) <= old_seq:
                return
        res = self.ids.add(node.id, norm_ip(node.ip), self._clock.monotonic(), inbound)
        if not res.startswith("rejected"):
            self._nodes[node.id] = node
        if len(self._nodes) > MAX_KNOWN_NODES:
            keep = set(self.ids.nodes())
            for i in list(self._nodes):
                if i not in keep and i not in self.ids.replacements(i):
                    del self._nodes[i]

    def remove(self, node_id: bytes) -> None:
        """Drop ``node_id`` (a replacement may take its place)."""
        self.ids.remove(node_id)
        if node_id not in self.ids and node_id not in self.ids.replacements(node_id):
            self._nodes.pop(node_id, None)

    def mark_dead(self, node_id: bytes) -> None:
        """Count a failed revalidation; forget the node once the table drops it."""
        removed, _ = self.ids.mark_dead(node_id)
        if removed:
            self._nodes.pop(node_id, None)
