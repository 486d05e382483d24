"""Endpoint proof (bonding) for discovery v4 (go-ethereum ``v4_udp.go`` ``checkBond``/``ensureBond``).

A node proves it owns its (ID, IP) by answering our Ping with a Pong. Until it
has, FindNode and ENRRequest from it get no answer (a spoofed source must not
turn us into an amplifier). Before we query a node we make sure the proof
holds both ways: we ping it, and wait briefly for it to ping us back.

The proofs live in the node database (``lastpong`` = it proved itself to us,
``lastping`` = it pinged us), so they survive restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from peerwire._clock import Clock
from peerwire.devp2p._enode import Node
from peerwire.devp2p._nodedb import NodeDB
from peerwire.devp2p.discover._v4limits import BondBudget
from peerwire.errors import TimeoutError

__all__ = ["BOND_EXPIRATION", "MAX_FINDNODE_FAILURES", "PING_BACK_WAIT", "Bonds"]

BOND_EXPIRATION = 24 * 3600.0
"""Endpoint proofs (pongs) are trusted this long."""
MAX_FINDNODE_FAILURES = 5
"""FindNode timeouts after which a node is re-bonded (and dropped from the table)."""
PING_BACK_WAIT = 0.5
"""How long ``ensure`` waits for the remote to ping us back after our ping."""


class Bonds:
    """Who proved their endpoint, and the bonding step before a query."""

    def __init__(self, db: NodeDB, clock: Clock, *, limit_loopback: bool = False) -> None:
        self._db = db
        self._clock = clock
        #: Nodes we are pinging back right now (one ping-back per node at a time).
        self.pinging_back: set[bytes] = set()
        # (node ID, IP) -> futures of ensure() calls waiting for that node's ping. Only our
        # own ensure() calls add entries (and remove them), so a remote cannot grow this.
        self._ping_waiters: dict[tuple[bytes, str], list[asyncio.Future[None]]] = {}
        #: Unverified IDs per source IP / subnet (identity churn, issue 12 item 5).
        self.budget = BondBudget(limit_loopback=limit_loopback)
        #: Pings from unbonded IDs over their source's budget: answered, not stored or pinged back.
        self.over_budget = 0

    def admit(self, node_id: bytes, ip: str) -> bool:
        """Whether ``node_id`` at ``ip`` may hold a DB row, a ping-back and a pending reply.

        Bonded nodes always may; an unbonded one only inside its IP's and subnet's budget.
        """
        if self.bonded(node_id, ip) or self.budget.admit(node_id, ip, self._clock.monotonic()):
            return True
        self.over_budget += 1
        return False

    def bonded(self, node_id: bytes, ip: str) -> bool:
        """Whether ``node_id`` answered a Ping of ours from ``ip`` within ``BOND_EXPIRATION``."""
        return self._clock.time() - self._db.last_pong_received(node_id, ip) < BOND_EXPIRATION

    def pong_received(self, node_id: bytes, ip: str) -> None:
        self._db.update_last_pong_received(node_id, ip, self._clock.time())
        self.budget.verified(node_id, ip)

    def ping_received(self, node_id: bytes, ip: str, *, store: bool = True) -> None:
        """Record a ping (``store=False``: over budget, only wake our own waiters)."""
        if store:
            self._db.update_last_ping_received(node_id, ip, self._clock.time())
        for fut in self._ping_waiters.get((node_id, ip), ()):
            if not fut.done():
                fut.set_result(None)

    async def ensure(self, node: Node, ip: str, ping: Callable[[Node], Awaitable[object]]) -> None:
        """Bond with ``node`` at ``ip`` unless a recent proof holds (``ping`` sends ours).

        After our ping is answered, waits up to ``PING_BACK_WAIT`` for the remote's own
        ping (so it has bonded with us too), then returns either way, as geth.

        Raises:
            TimeoutError: our ping was not answered.
        """
        stale = self._clock.time() - self._db.last_ping_received(node.id, ip) > BOND_EXPIRATION
        if not stale and self._db.find_fails(node.id, ip) <= MAX_FINDNODE_FAILURES:
            return
        key = (node.id, ip)
        # Listen before pinging: the remote's ping-back may arrive before its pong.
        pinged_back: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ping_waiters.setdefault(key, []).append(pinged_back)
        try:
            await ping(node)
            with contextlib.suppress(TimeoutError):
                async with self._clock.timeout(PING_BACK_WAIT):
                    await pinged_back
        finally:
            waiters = self._ping_waiters[key]
            waiters.remove(pinged_back)
            if not waiters:
                del self._ping_waiters[key]
