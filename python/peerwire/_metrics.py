"""Prometheus metrics of one node, for the stacks to call and ``/metrics`` to serve.

Each :class:`NetMetrics` owns its own ``CollectorRegistry``, so a testnet of many nodes in
one process keeps their figures apart; ``peerwire node`` serves its node's registry at
``/metrics``. The peer lifecycle comes from the stacks' typed events
(:mod:`peerwire.events`): metrics are a pure consumer of them::

    m = NetMetrics("devp2p")
    await m.consume(server.subscribe_lifecycle())   # or m.observe(ev) per event

    DialStarted            -> dial attempt
    PeerAdded(OUTBOUND)    -> dial result "success"; PeerAdded -> peers gauge + 1
    DialFailed(reason)     -> dial result reason.value
    HandshakeFailed        -> handshake failure reason.value (refusals by policy are not failures)
    PeerDropped(reason)    -> peers gauge - 1, disconnect reason.value
    DialFailed, HandshakeFailed(INBOUND)
                           -> peerwire_dial_failures_total{direction, reason}: every failed dial
                              (outbound) or handshake (inbound) by its short category
                              (peerwire.diagnostics.FailureCategory: "timeout", "incompatible", ...)

Traffic and the lower-level counters have plain methods::

    m.dial_attempt()                       ; m.dial_result("success" | "<reason>")
    m.handshake_failure("bad-mac")         # RLPx / STS / Hello / NodeInfo failures
    m.peer_added(inbound=True)             ; m.peer_removed(inbound=True, reason="too many peers")
    m.message_in("eth", size)              ; m.message_out("0x40", size, count=n)

Label values are bounded: after :data:`MAX_LABEL_VALUES` distinct reasons (or protocols)
further ones are counted under ``"other"``, so a peer that makes up error strings cannot
grow the registry without limit. Plain-int totals are kept alongside for :meth:`snapshot`,
which the testnet view reads several times a second.

Traffic (``message_in`` / ``message_out``) is on every stack's hot path, so it only adds to
plain integers; a custom collector turns them into ``peerwire_messages_total`` and
``peerwire_message_bytes_total`` when ``/metrics`` is scraped. Call the traffic methods from
the event loop's thread (the stacks do); the rare events (peers, dials, failures) are
thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Info, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from peerwire.diagnostics import FailureCategory, failure_category
from peerwire.events import (
    DialFailed,
    DialStarted,
    Direction,
    Event,
    HandshakeFailed,
    PeerAdded,
    PeerDropped,
)

__all__ = ["CONTENT_TYPE_LATEST", "MAX_LABEL_VALUES", "MetricsSnapshot", "NetMetrics"]

#: Distinct values one label may take before new ones fold into "other" (cardinality bomb guard).
MAX_LABEL_VALUES = 64
#: Raw protocol strings remembered by the traffic fast path (beyond it, lookups go through "other").
_MAX_TRAFFIC_KEYS = 1024
_OTHER = "other"

TrafficDirection = Literal["in", "out"]


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """Totals since start (monotonic except the peer gauges)."""

    peers_inbound: int
    peers_outbound: int
    dials: int
    dial_failures: int
    handshake_failures: int
    disconnects: int
    messages_in: int
    messages_out: int
    bytes_in: int
    bytes_out: int

    @property
    def peers(self) -> int:
        return self.peers_inbound + self.peers_outbound


class _Bounded:
    """Maps free-form label values onto at most ``MAX_LABEL_VALUES`` distinct ones."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        if len(self._seen) >= MAX_LABEL_VALUES:
            return _OTHER
        self._seen.add(value)
        return value


class NetMetrics:
    """The p2p metrics of one node (one stack)."""

    def __init__(self, stack: str, registry: CollectorRegistry | None = None, *, version: str = "") -> None:
        self.stack = stack
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self._peers = Gauge(
            "peerwire_peers", "Connected peers by direction", ["stack", "direction"], registry=r
        )
        self._dials = Counter("peerwire_dials", "Outbound dial attempts", ["stack"], registry=r)
        self._dial_results = Counter(
            "peerwire_dial_results",
            "Finished dials by result (success or failure reason)",
            ["stack", "result"],
            registry=r,
        )
        self._handshake_failures = Counter(
            "peerwire_handshake_failures", "Failed handshakes by reason", ["stack", "reason"], registry=r
        )
        self._dial_failures = Counter(
            "peerwire_dial_failures",
            "Failed dials (outbound) and handshakes (inbound) by reason category",
            ["stack", "direction", "reason"],
            registry=r,
        )
        self._disconnects = Counter(
            "peerwire_disconnects",
            "Peers removed, by direction and reason",
            ["stack", "direction", "reason"],
            registry=r,
        )
        info = Info("peerwire_build", "peerwire build information", registry=r)
        info.info({"version": version or "unknown", "stack": stack})
        self._lock = threading.Lock()
        self._reasons = _Bounded()
        self._protocols = _Bounded()
        self._results = _Bounded()
        self._peer_in = self._peers.labels(stack, "inbound")
        self._peer_out = self._peers.labels(stack, "outbound")
        self._peer_in.set(0)
        self._peer_out.set(0)
        self._dial_counter = self._dials.labels(stack)
        self._dial_counter.inc(0)
        # traffic: [messages, bytes] per label, and a cache from raw protocol to that list
        self._traffic: dict[str, dict[str, list[int]]] = {"in": {}, "out": {}}
        self._traffic_cache: dict[str, dict[str, list[int]]] = {"in": {}, "out": {}}
        r.register(_TrafficCollector(self))
        self._n = {
            "in": 0,
            "out": 0,
            "dials": 0,
            "dial_fail": 0,
            "hs_fail": 0,
            "disc": 0,
        }

    # -- typed lifecycle events
    def observe(self, ev: Event) -> None:
        """Count one lifecycle event (see the module doc for what each one moves)."""
        if isinstance(ev, PeerAdded):
            self.peer_added(inbound=ev.direction is Direction.INBOUND)
            if ev.direction is Direction.OUTBOUND:
                self.dial_result("success")
        elif isinstance(ev, PeerDropped):
            self.peer_removed(inbound=ev.direction is Direction.INBOUND, reason=ev.reason.value)
        elif isinstance(ev, DialStarted):
            self.dial_attempt()
        elif isinstance(ev, DialFailed):
            self.dial_result(ev.reason.value)
            self.dial_failure(failure_category(ev.reason), inbound=False)
        elif isinstance(ev, HandshakeFailed):
            if not ev.reason.is_policy_refusal:
                # refusals by policy ("already connected" races, a full table) are not failures
                self.handshake_failure(ev.reason.value)
            if ev.direction is Direction.INBOUND:  # an outbound one is counted by its DialFailed
                self.dial_failure(failure_category(ev.reason), inbound=True)

    async def consume(self, events: AsyncIterable[Event]) -> None:
        """:meth:`observe` every event of ``events`` until it ends (run it as a task)."""
        async for ev in events:
            self.observe(ev)

    # -- peers
    def peer_added(self, *, inbound: bool) -> None:
        with self._lock:
            if inbound:
                self._n["in"] += 1
                self._peer_in.inc()
            else:
                self._n["out"] += 1
                self._peer_out.inc()

    def peer_removed(self, *, inbound: bool, reason: str) -> None:
        with self._lock:
            key = "in" if inbound else "out"
            self._n[key] = max(0, self._n[key] - 1)
            (self._peer_in if inbound else self._peer_out).set(self._n[key])
            self._n["disc"] += 1
            self._disconnects.labels(
                self.stack, "inbound" if inbound else "outbound", self._reasons(reason)
            ).inc()

    # -- dials and handshakes
    def dial_attempt(self) -> None:
        with self._lock:
            self._n["dials"] += 1
            self._dial_counter.inc()

    def dial_result(self, result: str) -> None:
        """``"success"`` or the failure reason."""
        with self._lock:
            if result != "success":
                self._n["dial_fail"] += 1
            self._dial_results.labels(self.stack, self._results(result)).inc()

    def dial_failure(self, reason: FailureCategory, *, inbound: bool) -> None:
        """A failed dial (outbound) or handshake (inbound); the label set is the enum's (bounded)."""
        with self._lock:
            self._dial_failures.labels(self.stack, "inbound" if inbound else "outbound", reason.value).inc()

    def handshake_failure(self, reason: str) -> None:
        with self._lock:
            self._n["hs_fail"] += 1
            self._handshake_failures.labels(self.stack, self._reasons(reason)).inc()

    # -- traffic (call once per batch where possible: count= and the summed size)
    def _slot(self, direction: str, protocol: str) -> list[int]:
        with self._lock:
            label = self._protocols(protocol)
            slot = self._traffic[direction].setdefault(label, [0, 0])
            cache = self._traffic_cache[direction]
            if len(cache) < _MAX_TRAFFIC_KEYS:
                cache[protocol] = slot
            return slot

    def message_in(self, protocol: str, size: int, count: int = 1) -> None:
        slot = self._traffic_cache["in"].get(protocol) or self._slot("in", protocol)
        slot[0] += count
        slot[1] += size

    def message_out(self, protocol: str, size: int, count: int = 1) -> None:
        slot = self._traffic_cache["out"].get(protocol) or self._slot("out", protocol)
        slot[0] += count
        slot[1] += size

    # -- reading
    def traffic(self) -> dict[tuple[str, str], tuple[int, int]]:
        """``(direction, protocol label) -> (messages, bytes)`` so far."""
        with self._lock:
            return {
                (d, label): (v[0], v[1]) for d, slots in self._traffic.items() for label, v in slots.items()
            }

    def snapshot(self) -> MetricsSnapshot:
        with self._lock:
            n = dict(self._n)
            tin = [sum(v) for v in zip(*self._traffic["in"].values(), strict=False)] or [0, 0]
            tout = [sum(v) for v in zip(*self._traffic["out"].values(), strict=False)] or [0, 0]
        return MetricsSnapshot(
            peers_inbound=n["in"],
            peers_outbound=n["out"],
            dials=n["dials"],
            dial_failures=n["dial_fail"],
            handshake_failures=n["hs_fail"],
            disconnects=n["disc"],
            messages_in=tin[0],
            messages_out=tout[0],
            bytes_in=tin[1],
            bytes_out=tout[1],
        )

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (``CONTENT_TYPE_LATEST``)."""
        return generate_latest(self.registry)


class _TrafficCollector:
    """Exposes a :class:`NetMetrics`' traffic integers as two Prometheus counters at scrape time."""

    def __init__(self, metrics: NetMetrics) -> None:
        self._m = metrics

    def collect(self) -> Iterator[Metric]:
        labels = ["stack", "direction", "protocol"]
        msgs = CounterMetricFamily(
            "peerwire_messages", "Messages by direction and protocol (devp2p) or channel (tm2)", labels=labels
        )
        nbytes = CounterMetricFamily(
            "peerwire_message_bytes",
            "Message payload bytes by direction and protocol or channel",
            labels=labels,
        )
        for (direction, protocol), (count, size) in sorted(self._m.traffic().items()):
            msgs.add_metric([self._m.stack, direction, protocol], count)
            nbytes.add_metric([self._m.stack, direction, protocol], size)
        yield msgs
        yield nbytes
