"""The iterative Kademlia lookup, independent of the wire protocol.

v4 asks ``FindNode(target key)``, v5 asks ``FINDNODE(distances)``; both walk
towards the target the same way: keep ``ALPHA`` queries in flight to the
closest nodes not asked yet, merge what they return, stop when the closest
``BUCKET_SIZE`` have all been asked (go-ethereum ``p2p/discover/lookup.go``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from peerwire.devp2p._enode import Node

__all__ = ["ALPHA", "BUCKET_SIZE", "iterative_lookup"]

ALPHA = 3
"""Concurrent queries per lookup."""
BUCKET_SIZE = 16
"""Nodes per lookup result."""

Query = Callable[[Node], Coroutine[Any, Any, list[Node]]]


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

    # Keep ALPHA queries in flight: a slow node does not hold up the others. The queries
    # are tasks of this call's TaskGroup: none outlives the lookup, even when it is cancelled.
    inflight: set[asyncio.Task[list[Node]]] = set()
    # Answers are handled in query order, not set order (a task's hash is its address, so
    # set order differs between processes): the same answers then give the same table,
    # which a seeded simulation relies on to replay exactly.
    order: dict[asyncio.Task[list[Node]], int] = {}
    async with asyncio.TaskGroup() as group:
        while True:
            best = sorted(result.values(), key=dist)[:BUCKET_SIZE]
            for n in best:
                if len(inflight) >= ALPHA:
                    break
                if n.id not in asked:
                    asked.add(n.id)
                    task = group.create_task(query(n))
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
                    if on_found is not None:
                        on_found(n)
    raise AssertionError("unreachable")  # the loop returns from inside the group
