"""The devp2p crawl engine: walk discv4 + discv5, probe every dialable node, accept inbound.

Walk: breadth-first. Every node found is asked, once, for its record (EIP-868
on v4, FINDNODE distance 0 on v5) and for its neighbours: on v4 FINDNODE for
its own key and ``random_targets`` random keys (v4 targets are hashed, so a
distance cannot be asked for directly); on v5 FINDNODE at every distance from
256 down until ``EMPTY_DISTANCES_TO_STOP`` in a row come back empty. Random
lookups run alongside. One semaphore bounds discovery requests in flight.

Probe: every node with a TCP port, once; with a chain only nodes whose record
carries a compatible ``eth`` entry (``CrawlConfig.enr_filter``): a v4 node is
probed when its EIP-868 record arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from peerwire import eth, kad
from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._core.keccak import keccak256
from peerwire.crawl._config import CrawlConfig
from peerwire.crawl._probe import ProbeResult, hello_payload, probe_connection, probe_node
from peerwire.crawl._store import Store
from peerwire.devp2p import ENR, Node, PrivateKey, PublicKey, discover, rlpx
from peerwire.errors import PeerwireError

__all__ = ["Devp2pEngine"]

#: Stop walking a v5 node's distances after this many empty answers in a row.
EMPTY_DISTANCES_TO_STOP = 3
#: Random lookups running at once (each keeps 3 queries in flight itself).
PARALLEL_LOOKUPS = 4
#: Random 64-byte FINDNODE targets drawn once per engine (1.5 MiB with their IDs). A v4 node
#: answers with the nodes closest to keccak(target), so walking it bucket by bucket needs a
#: target at each log distance; a random one lands at distance d with chance 2^(d-257), so
#: this many cover the distances down to ~243, below which tables of real networks are empty.
V4_TARGET_POOL = 1 << 14
_FAILURES = (PeerwireError, OSError, TimeoutError)


class Devp2pEngine:
    def __init__(
        self, config: CrawlConfig, store: Store, on_change: Callable[[], None], clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.key = config.key or PrivateKey.generate()
        self._on_change = on_change
        self._sem = asyncio.Semaphore(config.parallel)
        self._dial_sem = asyncio.Semaphore(config.dial_parallel)
        self._walked: set[bytes] = set()  # walked this run (ids only: ~100 B each)
        self._v5_walked: set[bytes] = set()
        self._probed: set[bytes] = set()
        self._busy = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._disc: Any = None
        self._v4_targets: tuple[list[bytes], npt.NDArray[np.uint8]] | None = None
        self._hello = b""
        # With a chain, geth's eth node filter: a node is dialed once its record shows it is ours.
        self._keep = eth.enr_filter(config.chain) if config.chain is not None and config.enr_filter else None
        self.filtered_out = 0
        self.queries = 0
        self.query_failures = 0
        self.inbound = 0
        self.ready = asyncio.Event()  # set once discovery and the listener are up

    # -- lifecycle -------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        cfg = self.config
        host = cfg.listen.rpartition(":")[0].strip("[]") or "0.0.0.0"
        async with contextlib.AsyncExitStack() as stack:
            listener = None
            if cfg.accept_inbound:
                listener = await stack.enter_async_context(
                    rlpx.listen(host, 0, private_key=self.key, clock=self.clock)
                )
            tcp = listener.port if listener is not None else 0
            self._hello = hello_payload(self.key, listen_port=tcp)
            self._disc = await stack.enter_async_context(
                discover.listen(
                    self.key,
                    cfg.listen,
                    v4=cfg.v4,
                    v5=cfg.v5,
                    bootnodes=list(cfg.bootnodes),
                    net_restrict=cfg.net_restrict,
                    tcp_port=tcp,
                    clock=self.clock,
                )
            )
            try:
                if listener is not None:
                    self._spawn(self._accept_loop(listener))
                for b in cfg.bootnodes:
                    self.found(Node.parse(b), via="bootnode")
                self._resume()
                self.ready.set()
                if cfg.random_lookups:
                    for _ in range(PARALLEL_LOOKUPS):
                        self._spawn(self._lookup_loop())
                await stop.wait()
            finally:
                for t in list(self._tasks):
                    t.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def idle(self) -> bool:
        return self._busy == 0

    def self_node(self) -> Node:
        assert self._disc is not None
        node: Node = self._disc.self_node()
        return node

    def _spawn(self, coro: Any, *, counted: bool = False) -> None:
        if counted:
            self._busy += 1
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if counted:
                self._busy -= 1
            self._on_change()

        task.add_done_callback(done)

    def _resume(self) -> None:
        """Walk again what an earlier run stored, and dial what is due."""
        due = {t.id for t in self.store.due_for_dial("devp2p")}
        for row in self.store.rows("WHERE stack='devp2p' AND pubkey IS NOT NULL AND ip IS NOT NULL"):
            if row["id"] not in due:
                self._probed.add(bytes.fromhex(row["id"]))  # backing off or banned
            with contextlib.suppress(PeerwireError, ValueError):
                rec = ENR.decode(row["enr"]) if row["enr"] else None
                n = Node(PublicKey.from_hex(row["pubkey"]), row["ip"], row["tcp"] or 0, row["udp"] or 0, rec)
                self.found(n, via="resume")

    # -- walk ------------------------------------------------------------------------
    def found(self, node: Node, *, via: str) -> None:
        """A node seen anywhere: store it, walk it once, probe it once."""
        if node.id == self.key.public_key.node_id or node.ip is None:
            return
        rec = node.record
        self.store.seen(
            node.id.hex(),
            "devp2p",
            ip=node.ip,
            tcp=node.tcp_port,
            udp=node.udp_port,
            pubkey=node.public_key.to_hex(),
            enr=str(rec) if rec else None,
            enr_seq=rec.seq if rec else None,
            via=via,
        )
        if node.id not in self._walked and node.udp_port:
            self._walked.add(node.id)
            if self.config.v4 and self._disc.v4 is not None:
                self._spawn(self._walk_v4(node), counted=True)
        if rec is not None and node.id not in self._v5_walked and self._disc.v5 is not None:
            self._v5_walked.add(node.id)
            self._spawn(self._walk_v5(node), counted=True)
        if self.config.probe and node.tcp_port and node.id not in self._probed:
            if self._keep is not None and not self._keep(node):
                self.filtered_out += rec is not None  # without one, a later record may pass
                return
            self._probed.add(node.id)
            self._spawn(self._probe(node), counted=True)

    async def _query(self, fn: Callable[..., Any], *args: Any) -> Any:
        async with self._sem:
            self.queries += 1
            try:
                return await fn(*args)
            except _FAILURES:
                self.query_failures += 1
                return None

    async def _walk_v4(self, node: Node) -> None:
        """ENR, then FINDNODE for the node's own key and one target per log distance from the
        farthest bucket down: ``random_targets`` of them at once, then deeper one at a time
        while answers still hold nodes at the asked distance (random targets would only ever
        reach the farthest few buckets, and the nodes kept in nearer ones would be missed)."""
        d4 = self._disc.v4
        rec = await self._query(d4.request_enr, node)
        if isinstance(rec, ENR):
            self.found(node.with_record(rec), via="v4-enr")
        by_distance = self._targets_by_distance(node.id)
        first = sorted(by_distance, reverse=True)[: self.config.random_targets]
        targets = [node.public_key.to_bytes()] + [by_distance[d] for d in first]
        results = await asyncio.gather(*(self._query(d4.find_node, node, t) for t in targets))
        for nodes in results:
            for n in nodes or ():
                self.found(n, via="v4")
        if not first or not any(results):
            return
        empty = 0
        for d in range(first[-1] - 1, 0, -1):
            if d not in by_distance or empty >= EMPTY_DISTANCES_TO_STOP:
                return
            nodes = await self._query(d4.find_node, node, by_distance[d])
            for n in nodes or ():
                self.found(n, via="v4")
            at_d = any(kad.log_distance(node.id, n.id) == d for n in nodes or ())
            empty = 0 if at_d else empty + 1

    def _targets_by_distance(self, node_id: bytes) -> dict[int, bytes]:
        """One pool target per log distance from ``node_id`` (distance of keccak(target))."""
        if self._v4_targets is None:
            keys = [os.urandom(64) for _ in range(V4_TARGET_POOL)]
            ids = np.frombuffer(b"".join(keccak256(k) for k in keys), dtype=np.uint8).reshape(-1, 32)
            self._v4_targets = (keys, ids)
        keys, ids = self._v4_targets
        out: dict[int, bytes] = {}
        for i, d in enumerate(kad.log_distances(node_id, ids).tolist()):
            out.setdefault(d, keys[i])
        return out

    async def _walk_v5(self, node: Node) -> None:
        d5 = self._disc.v5
        empty, got_any = 0, False
        for dist in range(256, 0, -1):
            nodes = await self._query(d5.find_node, node, [dist])
            if nodes is None and not got_any:
                return  # does not speak v5 (or is gone)
            for n in nodes or ():
                self.found(n, via="v5")
            got_any = got_any or bool(nodes)
            empty = 0 if nodes else empty + 1
            if empty >= EMPTY_DISTANCES_TO_STOP and got_any:
                return

    async def _lookup_loop(self) -> None:
        while True:
            if self._disc.v4 is not None:
                for n in await self._query(self._disc.v4.lookup, None) or ():
                    self.found(n, via="v4-lookup")
            if self._disc.v5 is not None:
                for n in await self._query(self._disc.v5.lookup, None) or ():
                    self.found(n, via="v5-lookup")
            await self.clock.sleep(1.0)

    # -- probe -----------------------------------------------------------------------
    async def _probe(self, node: Node) -> None:
        assert node.ip is not None
        async with self._dial_sem:
            res = await probe_node(
                self.key,
                self._hello,
                node.public_key,
                node.ip,
                node.tcp_port,
                self.config.chain,
                self.config.dial_timeout,
                clock=self.clock,
            )
        self._record(res, inbound=False)

    async def _accept_loop(self, listener: rlpx.Listener) -> None:
        while True:
            conn = await listener.accept()
            self.inbound += 1
            self._spawn(self._inbound(conn))

    async def _inbound(self, conn: rlpx.Connection) -> None:
        pub = conn.remote_public_key
        self.store.seen(pub.node_id.hex(), "devp2p", ip=None, pubkey=pub.to_hex(), via="inbound")
        res = await probe_connection(
            conn, self._hello, self.config.chain, self.config.dial_timeout, clock=self.clock
        )
        self._record(res, inbound=True)

    def _record(self, res: ProbeResult, *, inbound: bool) -> None:
        nid = res.node_id.hex()
        if res.client:
            self.store.record_hello(nid, res.client, res.caps, res.p2p_version)
        s = res.status
        if s is not None:
            head = s.head if s.version == 68 else s.latest_hash
            self.store.record_status(
                nid,
                eth_version=s.version,
                network_id=s.network_id,
                genesis=s.genesis,
                fork_hash=s.fork_id.hash,
                fork_next=s.fork_id.next,
                head=head,
                head_number=s.latest,
            )
        # Dialable = RLPx and Hello went through; a failed Status is kept as the error.
        if not inbound or res.client:
            self.store.record_dial(nid, bool(res.client), res.error, inbound=inbound)
