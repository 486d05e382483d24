"""The dial scheduler: which nodes to dial, when, and how many at once.

A port of the policy of go-ethereum's ``p2p/dial.go`` on an injected clock:

* every candidate passes :meth:`DialScheduler.check_dial` in geth's order
  (self, no port, already dialing, connected, pending inbound, net_restrict,
  recently dialed), then our one addition, endpoint backoff;
* each dial start puts the node in a 35 s history;
* free slots = ``min(2 * (max_dial_peers - dial_peers), max_active_dials) - dialing``;
  static nodes are started first (picked at random from the static pool), then
  dynamic candidates read from an async iterator (see :class:`~peerwire.devp2p._fairmix.FairMix`);
* a static node is put back in the pool whenever it becomes dialable again
  (dial done, peer dropped, pending inbound ended, history or backoff expired),
  so a dropped static peer is redialed;
* unlike geth's fixed 35 s, an endpoint that keeps failing backs off
  exponentially: after the n-th consecutive failure it is not dialed again for
  ``min(BACKOFF_BASE * 2**(n-1), BACKOFF_MAX)``; a successful connection resets it;
* a static node given by DNS name is resolved before each dial (5 s deadline);
  the last good address is kept when a lookup fails;
* every failed dial is reported to ``on_failure`` as a :class:`FailedDial`, with the
  endpoint's failures in a row and, for a static node, when it is dialed again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from peerwire._clock import Clock
from peerwire._net import NetRestrict, resolve
from peerwire.devp2p._base import ConnFlag, DiscReason
from peerwire.devp2p._enode import Node
from peerwire.errors import DialError, TimeoutError
from peerwire.events import DialFailureReason

__all__ = [
    "protocol_node_filter",
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "DIAL_HISTORY_EXPIRATION",
    "DialScheduler",
    "FailedDial",
    "NetRestrict",
]

DISC_ALREADY_CONNECTED = int(DiscReason.ALREADY_CONNECTED)
DIAL_HISTORY_EXPIRATION = 35.0  # geth: inboundThrottleTime + 5 s
BACKOFF_BASE = 35.0  # first failure: the same wait geth always uses
BACKOFF_MAX = 300.0  # cap: a dead static endpoint is still retried every 5 minutes
DNS_TIMEOUT = 5.0
BACKOFF_FORGET = 2 * BACKOFF_MAX  # a failure record older than this is dropped (bounds the table)
FAILURES_KEPT = 64
#: How long an async ``node_filter`` may take for one candidate (a stuck filter must not
#: stop dialing: the candidate is skipped, the next one read).
NODE_FILTER_TIMEOUT = 5.0

# check_dial results (geth's error texts)
ERR_SELF = "is self"
ERR_NO_PORT = "no port"
ERR_ALREADY_DIALING = "already dialing"
ERR_ALREADY_CONNECTED = "already connected"
ERR_PENDING_INBOUND = "peer is pending inbound"
ERR_NET_RESTRICT = "not contained in netrestrict list"
ERR_RECENTLY_DIALED = "recently dialed"
ERR_BACKOFF = "endpoint backing off after failures"

log = logging.getLogger(__name__)

SetUp = Callable[[Node, str, ConnFlag], Awaitable[None]]
Resolver = Callable[[str], Awaitable[list[str]]]


@dataclass
class _Task:
    node: Node
    flags: ConnFlag
    in_pool: bool = False
    resolved_ip: str | None = None


@dataclass
class _Backoff:
    failures: int = 0
    until: float = 0.0
    last_failure: float = 0.0


@dataclass(frozen=True, slots=True)
class FailedDial:
    """A dial that ended without a peer, as the scheduler saw it."""

    error: BaseException
    #: Consecutive failures of the endpoint, this one included.
    failures: int
    #: A static node: it is dialed again on its own.
    static: bool
    #: When a static node can be dialed next (monotonic: history and backoff expired), else None.
    retry_at: float | None
    #: Whether ``set_up`` ran (it publishes the dial's events); False: the dial failed before
    #: (no address, name not resolved, outside net_restrict).
    dialed: bool


@dataclass
class DialScheduler:
    """Decides and starts outbound dials; the server reports peers coming and going."""

    self_id: bytes
    max_dial_peers: int
    max_active_dials: int
    set_up: SetUp
    clock: Clock
    net_restrict: NetRestrict | None = None
    resolve_host: Resolver = resolve
    rand: random.Random = field(default_factory=random.Random)
    #: Finds the endpoint of a static node given by ID only (the server plugs discovery in).
    resolve_node: Callable[[Node], Awaitable[Node | None]] | None = None
    #: Dynamic candidates must pass this before they are dialed (``Config.node_filter``);
    #: a filter that raises or times out rejects the node. Static nodes skip it.
    node_filter: Callable[[Node], bool | Awaitable[bool]] | None = None
    #: Told about every dial that failed (not about one that lost a race to an inbound connection).
    on_failure: Callable[[Node, FailedDial], None] | None = None

    def __post_init__(self) -> None:
        self.dialing: dict[bytes, _Task] = {}
        self.peers: set[bytes] = set()
        self.pending_inbound: set[bytes] = set()
        self.static: dict[bytes, _Task] = {}
        self.static_pool: list[_Task] = []
        self.history: dict[bytes, float] = {}
        self.backoff: dict[bytes, _Backoff] = {}
        self.dial_peers = 0
        self._wake = asyncio.Event()
        self._candidates: asyncio.Queue[Node] = asyncio.Queue(maxsize=1)
        self._tasks: set[asyncio.Task[None]] = set()
        #: Dynamic candidates the node filter rejected (or failed on).
        self.filtered_out = 0
        #: Recent dial failures (node ID, error), newest last, for diagnostics.
        self.failures_log: collections.deque[tuple[bytes, str]] = collections.deque(maxlen=FAILURES_KEPT)

    # -- inputs from the server ------------------------------------------
    def add_static(self, node: Node) -> None:
        if node.id in self.static:
            return
        task = _Task(node, ConnFlag.STATIC_DIALED)
        self.static[node.id] = task
        if self.check_dial(node) is None:
            self._to_pool(task)
        self._wake.set()

    def remove_static(self, node_id: bytes) -> None:
        task = self.static.pop(node_id, None)
        if task is not None and task.in_pool:
            self._from_pool(task)

    def peer_added(self, node_id: bytes, flags: ConnFlag) -> None:
        if flags & (ConnFlag.DYN_DIALED | ConnFlag.STATIC_DIALED):
            self.dial_peers += 1
        self.peers.add(node_id)
        self.backoff.pop(node_id, None)  # a working connection resets the backoff
        task = self.static.get(node_id)
        if task is not None and task.in_pool:
            self._from_pool(task)
        self._wake.set()

    def peer_removed(self, node_id: bytes, flags: ConnFlag) -> None:
        if flags & (ConnFlag.DYN_DIALED | ConnFlag.STATIC_DIALED):
            self.dial_peers -= 1
        self.peers.discard(node_id)
        self._update_static_pool(node_id)
        self._wake.set()

    def add_pending_inbound(self, node_id: bytes) -> None:
        self.pending_inbound.add(node_id)

    def remove_pending_inbound(self, node_id: bytes) -> None:
        self.pending_inbound.discard(node_id)
        self._update_static_pool(node_id)
        self._wake.set()

    # -- policy ------------------------------------------------------------
    def free_dial_slots(self) -> int:
        slots = min((self.max_dial_peers - self.dial_peers) * 2, self.max_active_dials)
        return slots - len(self.dialing)

    def check_dial(self, node: Node) -> str | None:
        """Why ``node`` must not be dialed now, or ``None``."""
        now = self.clock.monotonic()
        nid = node.id
        if nid == self.self_id:
            return ERR_SELF
        if node.ip is not None and node.tcp_port == 0:
            return ERR_NO_PORT
        if nid in self.dialing:
            return ERR_ALREADY_DIALING
        if nid in self.peers:
            return ERR_ALREADY_CONNECTED
        if nid in self.pending_inbound:
            return ERR_PENDING_INBOUND
        # A DNS name is checked against net_restrict after it resolves.
        if self.net_restrict is not None and node.ip is not None and not self.net_restrict.contains(node.ip):
            return ERR_NET_RESTRICT
        if self.history.get(nid, -1.0) > now:
            return ERR_RECENTLY_DIALED
        b = self.backoff.get(nid)
        if b is not None and b.until > now:
            return ERR_BACKOFF
        return None

    def backoff_delay(self, failures: int) -> float:
        """How long an endpoint waits after its ``failures``-th consecutive failure."""
        return float(min(BACKOFF_BASE * 2.0 ** max(0, failures - 1), BACKOFF_MAX))

    # -- pool ----------------------------------------------------------------
    def _to_pool(self, task: _Task) -> None:
        if not task.in_pool:
            task.in_pool = True
            self.static_pool.append(task)

    def _from_pool(self, task: _Task) -> None:
        task.in_pool = False
        self.static_pool.remove(task)

    def _update_static_pool(self, node_id: bytes) -> None:
        task = self.static.get(node_id)
        if task is not None and not task.in_pool and self.check_dial(task.node) is None:
            self._to_pool(task)

    def _expire(self) -> None:
        now = self.clock.monotonic()
        for nid in [n for n, t in self.history.items() if t <= now]:
            del self.history[nid]
            self._update_static_pool(nid)
        for nid, b in list(self.backoff.items()):
            if b.until and b.until <= now:
                b.until = 0.0
                self._update_static_pool(nid)
            if not b.until and b.last_failure + BACKOFF_FORGET <= now:
                del self.backoff[nid]  # quiet for long enough: forget it

    def _next_expiry(self) -> float | None:
        times = list(self.history.values()) + [b.until for b in self.backoff.values() if b.until]
        return min(times) if times else None

    # -- running -------------------------------------------------------------
    def _start_dial(self, task: _Task) -> None:
        nid = task.node.id
        self.history[nid] = self.clock.monotonic() + DIAL_HISTORY_EXPIRATION
        self.dialing[nid] = task
        t = asyncio.ensure_future(self._run_task(task))
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def _run_task(self, task: _Task) -> None:
        node = task.node
        ok = False
        already = False
        dialed = False
        error: BaseException | None = None
        try:
            host = node.ip
            if host is None and node.host is not None:
                try:
                    async with self.clock.timeout(DNS_TIMEOUT):
                        ips = await self.resolve_host(node.host)
                    if ips:
                        task.resolved_ip = ips[0]
                except (OSError, DialError, TimeoutError) as e:
                    self.failures_log.append((node.id, f"dns: {e}"))
                host = task.resolved_ip
            if host is None and node.host is None and self.resolve_node is not None:
                found = await self.resolve_node(node)  # geth: resolve through the DHT, else skip
                if found is not None and found.ip is not None:
                    node, host = found, found.ip
            if host is None:
                raise DialError(
                    f"no address for {node.host or node.id.hex()[:16]}",
                    reason=DialFailureReason.RESOLVE_FAILED,
                )
            if self.net_restrict is not None and not self.net_restrict.contains(host):
                raise DialError(ERR_NET_RESTRICT, reason=DialFailureReason.NET_RESTRICTED)
            dialed = True
            await self.set_up(node, host, task.flags)
            ok = True
        except asyncio.CancelledError:
            raise
        except Exception as e:
            error = e
            self.failures_log.append((node.id, str(e)))
            already = getattr(e, "disconnect_reason", None) == DISC_ALREADY_CONNECTED
        finally:
            self.dialing.pop(node.id, None)
            # ALREADY_CONNECTED while the node connects the other way is no failure of the endpoint.
            connecting = node.id in self.peers or (already and node.id in self.pending_inbound)
            if not ok and not connecting:
                b = self.backoff.setdefault(node.id, _Backoff())
                b.failures += 1
                b.last_failure = self.clock.monotonic()
                b.until = b.last_failure + self.backoff_delay(b.failures)
                if error is not None and self.on_failure is not None:
                    self._report(node, error, b, dialed)
            self._update_static_pool(node.id)
            self._wake.set()

    def _report(self, node: Node, error: BaseException, b: _Backoff, dialed: bool) -> None:
        assert self.on_failure is not None
        static = node.id in self.static
        retry_at = max(b.until, self.history.get(node.id, b.until)) if static else None
        try:
            self.on_failure(node, FailedDial(error, b.failures, static, retry_at, dialed))
        except Exception:  # diagnostics must never stop dialing
            log.exception("on_failure hook failed")

    def _start_static_dials(self, n: int) -> int:
        started = 0
        while started < n and self.static_pool:
            task = self.static_pool[self.rand.randrange(len(self.static_pool))]
            self._from_pool(task)
            self._start_dial(task)
            started += 1
        return started

    async def _read_candidates(self, it: AsyncIterator[Node]) -> None:
        async for node in it:
            if self.node_filter is not None and not await self._passes_filter(node, self.node_filter):
                self.filtered_out += 1
                continue
            await self._candidates.put(node)
            self._wake.set()

    async def _passes_filter(self, node: Node, node_filter: Callable[[Node], bool | Awaitable[bool]]) -> bool:
        try:
            verdict = node_filter(node)
            if inspect.isawaitable(verdict):
                async with self.clock.timeout(NODE_FILTER_TIMEOUT):
                    verdict = await verdict
            return bool(verdict)
        except Exception as e:  # the user's filter failing rejects one node, never the scheduler
            self.failures_log.append((node.id, f"node filter: {type(e).__name__}: {e}"))
            return False

    def step(self) -> None:
        """One scheduling pass: expire, start static dials, then dynamic ones while slots last."""
        self._expire()
        slots = self.free_dial_slots()
        slots -= self._start_static_dials(slots)
        while slots > 0 and not self._candidates.empty():
            node = self._candidates.get_nowait()
            if self.check_dial(node) is None:
                self._start_dial(_Task(node, ConnFlag.DYN_DIALED))
                slots -= 1

    async def run(self, candidates: AsyncIterator[Node] | None = None) -> None:
        """Schedule until cancelled; cancelling also cancels the dials in flight."""
        reader = asyncio.ensure_future(self._read_candidates(candidates)) if candidates is not None else None
        try:
            while True:
                self._wake.clear()
                self.step()
                expiry = self._next_expiry()
                if expiry is None:
                    await self._wake.wait()
                else:
                    with contextlib.suppress(TimeoutError):
                        async with self.clock.deadline_at(expiry):
                            await self._wake.wait()
        finally:
            if reader is not None:
                reader.cancel()
            for t in list(self._tasks):
                t.cancel()
            results = await asyncio.gather(
                *self._tasks, *([reader] if reader else []), return_exceptions=True
            )
            for r in results:  # dial tasks catch their errors; this is a failed candidate reader
                if isinstance(r, Exception):
                    log.error("dial candidate reader failed", exc_info=r)


def protocol_node_filter(
    filters: Sequence[tuple[str, Callable[[Node], bool | Awaitable[bool]] | None]],
    resolve: Callable[[Node], Awaitable[Node | None]],
) -> Callable[[Node], Awaitable[bool]] | None:
    """The protocols' own ``(name, node_filter)`` as one filter, None when no protocol has one.

    A node is kept if any protocol's filter (the first per name) keeps it; a node without a
    record gets it from ``resolve`` first (geth: ``RequestENR`` before the eth filter on discv4).
    """
    by_name: dict[str, Callable[[Node], bool | Awaitable[bool]]] = {}
    for name, f in filters:
        if f is not None:
            by_name.setdefault(name, f)
    if not by_name:
        return None

    async def keep(node: Node) -> bool:
        if node.record is None:
            node = await resolve(node) or node
        for f in by_name.values():
            verdict = f(node)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            if verdict:
                return True
        return False

    return keep
