"""The iterative Kademlia lookup, independent of the wire protocol.

v4 asks ``FindNode(target key)``, v5 asks ``FINDNODE(distances)``; both walk
towards the target the same way: keep ``ALPHA`` queries in flight to the
closest nodes not asked yet, merge what they return, stop when the closest
``BUCKET_SIZE`` have all been asked (go-ethereum ``p2p/discover/lookup.go``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from peerwire.devp2p._enode import Node

__all__ = ["ALPHA", "BUCKET_SIZE", "iterative_lookup"]

ALPHA = 3
"""Concurrent queries per lookup."""
BUCKET_SIZE = 16
"""Nodes per lookup result."""

Query = Callable[[Node], Awaitable[list[Node]]]


async def iterative_lookup(
    target_id: bytes,
    start: Iterable[Node],
    query: Query,
    *,
    exclude: Iterable[bytes] = (),
    on_found: Callable[[Node], None] | None = None,
) -> list[Node]:
    """Walk towards ``target_id`` from ``start``; returns the closest nodes found, closest first.

    ``query(node)`` returns the node's answer and must not raise for an
    unresponsive node (return ``[]``). ``on_found`` sees every new node once.
    """
    tint = int.from_bytes(target_id, "big")

    def dist(n: Node) -> int:
        return int.from_bytes(n.id, "big") ^ tint

    result: dict[bytes, Node] = {n.id: n for n in start}
    asked: set[bytes] = set(exclude)
    seen: set[bytes] = set(result) | asked

    # Keep ALPHA queries in flight: a slow node does not hold up the others.
    inflight: set[asyncio.Task[list[Node]]] = set()
    try:
        while True:
            best = sorted(result.values(), key=dist)[:BUCKET_SIZE]
            for n in best:
                if len(inflight) >= ALPHA:
                    break
                if n.id not in asked:
                    asked.add(n.id)
                    inflight.add(asyncio.ensure_future(query(n)))
            if not inflight:
                return best
            done, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                for n in task.result():
                    if n.id in seen:
                        continue
                    seen.add(n.id)
                    result[n.id] = n
                    if on_found is not None:
                        on_found(n)
    finally:
        for task in inflight:
            task.cancel()
