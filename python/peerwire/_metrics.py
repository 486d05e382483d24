"""Prometheus metrics of one node, for the stacks to call and ``/metrics`` to serve.

Each :class:`NetMetrics` owns its own ``CollectorRegistry``, so a testnet of many nodes in
one process keeps their figures apart; ``peerwire node`` serves its node's registry at
``/metrics``. The stacks report through a handful of methods::

    m = NetMetrics("devp2p")
    m.dial_attempt()                       ; m.dial_result("success" | "<reason>")
    m.handshake_failure("bad-mac")         # RLPx / STS / Hello / NodeInfo failures
    m.peer_added(inbound=True)             ; m.peer_removed(inbound=True, reason="too many peers")
    m.message_in("eth", size)              ; m.message_out("0x40", size, count=n)

Label values are bounded: after :data:`MAX_LABEL_VALUES` distinct reasons (or protocols)
further ones are counted under ``"other"``, so a peer that makes up error strings cannot
grow the registry without limit. Plain-int totals are kept alongside for :meth:`snapshot`,
which the testnet view reads several times a second.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Info, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "MAX_LABEL_VALUES", "MetricsSnapshot", "NetMetrics"]

#: Distinct values one label may take before new ones fold into "other" (cardinality bomb guard).
MAX_LABEL_VALUES = 64
_OTHER = "other"

Direction = Literal["in", "out"]


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
        self._disconnects = Counter(
            "peerwire_disconnects",
            "Peers removed, by direction and reason",
            ["stack", "direction", "reason"],
            registry=r,
        )
        self._messages = Counter(
            "peerwire_messages",
            "Messages by direction and protocol (devp2p) or channel (tm2)",
            ["stack", "direction", "protocol"],
            registry=r,
        )
        self._bytes = Counter(
            "peerwire_message_bytes",
            "Message payload bytes by direction and protocol or channel",
            ["stack", "direction", "protocol"],
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
        self._msg_children: dict[tuple[str, str], tuple[Counter, Counter]] = {}
        self._n = {
            "in": 0,
            "out": 0,
            "dials": 0,
            "dial_fail": 0,
            "hs_fail": 0,
            "disc": 0,
            "msg_in": 0,
            "msg_out": 0,
            "bytes_in": 0,
            "bytes_out": 0,
        }

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

    def handshake_failure(self, reason: str) -> None:
        with self._lock:
            self._n["hs_fail"] += 1
            self._handshake_failures.labels(self.stack, self._reasons(reason)).inc()

    # -- traffic (call once per batch where possible: count= and the summed size)
    def _children(self, direction: Direction, protocol: str) -> tuple[Counter, Counter]:
        key = (direction, protocol)
        pair = self._msg_children.get(key)
        if pair is None:
            label = self._protocols(protocol)
            pair = (
                self._messages.labels(self.stack, direction, label),
                self._bytes.labels(self.stack, direction, label),
            )
            self._msg_children[key] = pair
        return pair

    def message_in(self, protocol: str, size: int, count: int = 1) -> None:
        with self._lock:
            msgs, nbytes = self._children("in", protocol)
            msgs.inc(count)
            nbytes.inc(size)
            self._n["msg_in"] += count
            self._n["bytes_in"] += size

    def message_out(self, protocol: str, size: int, count: int = 1) -> None:
        with self._lock:
            msgs, nbytes = self._children("out", protocol)
            msgs.inc(count)
            nbytes.inc(size)
            self._n["msg_out"] += count
            self._n["bytes_out"] += size

    # -- reading
    def snapshot(self) -> MetricsSnapshot:
        with self._lock:
            n = dict(self._n)
        return MetricsSnapshot(
            peers_inbound=n["in"],
            peers_outbound=n["out"],
            dials=n["dials"],
            dial_failures=n["dial_fail"],
            handshake_failures=n["hs_fail"],
            disconnects=n["disc"],
            messages_in=n["msg_in"],
            messages_out=n["msg_out"],
            bytes_in=n["bytes_in"],
            bytes_out=n["bytes_out"],
        )

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (``CONTENT_TYPE_LATEST``)."""
        return generate_latest(self.registry)
