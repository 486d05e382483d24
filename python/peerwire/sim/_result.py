"""What a simulation recorded: time series, distributions, the trace hash; JSON and PNG output."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Result", "aggregate"]

#: A table this full counts as converged (a quarter of geth's 17 x 16 buckets is far
#: more than a small network can fill; 16 is one full closest-set).
CONVERGED_TABLE = 16


@dataclass
class Result:
    scenario: str
    seed: int
    trace_hash: str = ""
    simulated_seconds: float = 0.0
    real_seconds: float = 0.0
    series: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    final_table_sizes: list[int] = field(default_factory=list)
    #: full nodes: connected peers per live node at the last sample
    final_peer_counts: list[int] = field(default_factory=list)
    #: gossip: per message, when it was sent and how many nodes it should reach
    messages: list[dict[str, Any]] = field(default_factory=list)
    #: gossip: every (message, receiving node) delay from publication to first receipt, seconds
    propagation_delays: list[float] = field(default_factory=list)
    #: the same delays per stack ("devp2p", "tm2"): stack "both" gossips on each
    delays_by_stack: dict[str, list[float]] = field(default_factory=dict)
    #: stack "both": the TM2 side's connected peers per live node at the last sample
    final_tm2_peer_counts: list[int] = field(default_factory=list)

    def add_sample(
        self,
        t: float,
        *,
        live: int,
        table_sizes: list[int],
        dead_entries: list[int],
        attacker_entries: list[int],
        counters: dict[str, int],
        peer_counts: list[int] | None = None,
        tm2_books: list[int] | None = None,
        tm2_peer_counts: list[int] | None = None,
        protocol_tables: dict[str, list[int]] | None = None,
    ) -> None:
        """One sample. Stack "both" passes its TM2 side as ``tm2_books`` (PEX address book
        sizes) and ``tm2_peer_counts``; the other figures are then the devp2p side's.
        Discovery v4 and v5 together pass each protocol's table sizes as ``protocol_tables``
        (``table_sizes`` counts each node once over both)."""
        want = min(CONVERGED_TABLE, max(0, live - 1))
        peers: dict[str, Any] = {}
        if peer_counts is not None:
            peers |= _mean_min("peers", peer_counts)
            self.final_peer_counts = list(peer_counts)
        if tm2_books is not None:
            peers |= _mean_min("tm2_book", tm2_books)
        if tm2_peer_counts is not None:
            peers |= _mean_min("tm2_peers", tm2_peer_counts)
            self.final_tm2_peer_counts = list(tm2_peer_counts)
        for protocol, sizes in (protocol_tables or {}).items():
            peers |= _mean_min(f"table_{protocol}", sizes)
        self.series.append(
            {
                "t": t,
                "live": live,
                "table_mean": statistics.fmean(table_sizes) if table_sizes else 0.0,
                "table_min": min(table_sizes, default=0),
                "converged": sum(1 for s in table_sizes if s >= want) / len(table_sizes)
                if table_sizes
                else 0.0,
                "dead_entries": sum(dead_entries),
                "attacker_entries_max": max(attacker_entries, default=0),
                "attacker_share": sum(attacker_entries) / max(1, sum(table_sizes)),
                **{
                    k: counters.get(k, 0)
                    for k in ("udp_delivered", "udp_dropped", "tcp_established", "tcp_resets")
                },
                **{k: counters.get(k, 0) for k in ("tcp_connect_timeouts", "tcp_refused")},
                **peers,
            }
        )
        self.final_table_sizes = list(table_sizes)

    def add_message(
        self, msg_id: int, sent: float, eligible: int, delays: list[float], *, stack: str = "devp2p"
    ) -> None:
        """One gossip message on ``stack``: ``delays`` of the ``eligible`` nodes that received it."""
        self.messages.append(
            {"id": msg_id, "t": sent, "stack": stack, "eligible": eligible, "reached": len(delays)}
        )
        self.propagation_delays.extend(delays)
        self.delays_by_stack.setdefault(stack, []).extend(delays)

    @property
    def stacks(self) -> list[str]:
        """The stacks that carried gossip, in the order they first did."""
        return list(self.delays_by_stack)

    def coverage(self, stack: str | None = None) -> float:
        """Share of (message, eligible node) pairs that arrived, over every stack or one:
        1.0 is every message everywhere."""
        ms = [m for m in self.messages if stack is None or m.get("stack") == stack]
        want = sum(m["eligible"] for m in ms)
        return sum(m["reached"] for m in ms) / want if want else 0.0

    def delay_quantile(self, q: float, stack: str | None = None) -> float | None:
        """The ``q`` quantile of the propagation delays (nearest rank) over every stack or
        one, or None without traffic."""
        d = sorted(self.propagation_delays if stack is None else self.delays_by_stack.get(stack, []))
        return d[min(len(d) - 1, int(q * len(d)))] if d else None

    # ---------------------------------------------------------------- views
    def last(self, key: str) -> Any:
        return self.series[-1][key] if self.series else None

    def first_time(self, key: str, at_least: float) -> float | None:
        """The first sample time at which ``key`` reached ``at_least``."""
        return next((s["t"] for s in self.series if s[key] >= at_least), None)

    def summary(self) -> str:
        s = self.series[-1] if self.series else {}
        t90 = self.first_time("converged", 0.9)
        lines = [
            f"scenario {self.scenario} seed {self.seed}: {self.simulated_seconds:.0f} s simulated"
            + (f" in {self.real_seconds:.1f} s real" if self.real_seconds else ""),
            f"live nodes {s.get('live', 0)}; "
            f"table size mean {s.get('table_mean', 0):.1f}, min {s.get('table_min', 0)}",
            f"converged (table >= {CONVERGED_TABLE}): {100 * s.get('converged', 0):.0f}% at end, "
            + (f"90% at t={t90:.0f} s" if t90 is not None else "never 90%"),
            f"dead entries {s.get('dead_entries', 0)}; "
            f"attacker share {100 * s.get('attacker_share', 0):.1f}% "
            f"(max {s.get('attacker_entries_max', 0)} in one table)",
            f"datagrams delivered {self.counters.get('udp_delivered', 0)}, "
            f"dropped {self.counters.get('udp_dropped', 0)}",
        ]
        if "peers_mean" in s:
            lines.append(
                f"peers mean {s['peers_mean']:.1f}, min {s['peers_min']}; "
                f"connections made {s.get('tcp_established', 0)}, reset {s.get('tcp_resets', 0)}"
            )
        if "table_v5_mean" in s:
            lines.append(
                f"discovery v4 table mean {s['table_v4_mean']:.1f} (min {s['table_v4_min']}), "
                f"v5 table mean {s['table_v5_mean']:.1f} (min {s['table_v5_min']})"
            )
        if "tm2_peers_mean" in s:
            lines.append(
                f"tm2: address book mean {s['tm2_book_mean']:.1f}, min {s['tm2_book_min']}; "
                f"peers mean {s['tm2_peers_mean']:.1f}, min {s['tm2_peers_min']}"
            )
        several = len(self.stacks) > 1
        for stack in self.stacks if several else [None]:
            ms = [m for m in self.messages if stack is None or m.get("stack") == stack]
            if not ms:
                continue
            p50, p90, p99 = (self.delay_quantile(q, stack) or 0.0 for q in (0.5, 0.9, 0.99))
            lines.append(
                f"{stack + ' ' if stack else ''}gossip: {len(ms)} messages reached "
                f"{100 * self.coverage(stack):.1f}% of nodes; "
                f"delay p50 {1000 * p50:.0f} ms, p90 {1000 * p90:.0f} ms, p99 {1000 * p99:.0f} ms"
            )
        lines.append(f"trace_hash={self.trace_hash}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "trace_hash": self.trace_hash,
            "simulated_seconds": self.simulated_seconds,
            "real_seconds": self.real_seconds,
            "counters": self.counters,
            "events": self.events,
            "series": self.series,
            "messages": self.messages,
            "distributions": {
                "table_size": self.final_table_sizes,
                "peer_count": self.final_peer_counts,
                "propagation_delay": sorted(self.propagation_delays),
                **(
                    {
                        "tm2_peer_count": self.final_tm2_peer_counts,
                        "propagation_delay_by_stack": {k: sorted(v) for k, v in self.delays_by_stack.items()},
                    }
                    if self.final_tm2_peer_counts
                    else {}
                ),
            },
        }

    def write(self, out: str | Path) -> list[Path]:
        """Write ``result.json`` and, when matplotlib is installed, PNG plots; return the paths."""
        d = Path(out)
        d.mkdir(parents=True, exist_ok=True)
        path = d / "result.json"
        path.write_text(json.dumps(self.to_json(), indent=1))
        return [path, *write_plots(self, d)]


def write_plots(result: Result, d: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    t = [s["t"] for s in result.series]
    out: list[Path] = []

    def save(fig: Any, name: str) -> None:
        p = d / name
        fig.tight_layout()
        fig.savefig(p, dpi=90)
        plt.close(fig)
        out.append(p)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(t, [s["table_mean"] for s in result.series], label="mean table size")
    ax2 = ax.twinx()
    ax2.plot(t, [100 * s["converged"] for s in result.series], color="tab:green", label="% converged")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("table entries")
    ax2.set_ylabel("% nodes converged")
    ax.set_title(f"{result.scenario}: table convergence")
    save(fig, "convergence.png")

    fig, ax = plt.subplots(figsize=(6, 3.5))
    if result.final_tm2_peer_counts:  # stack "both": the two sides side by side
        sides = [result.final_peer_counts, result.final_tm2_peer_counts]
        labels = ["devp2p", "tm2"]
        if not result.final_peer_counts:
            sides, labels = sides[1:], labels[1:]
        top = max(max(x, default=0) for x in sides)
        ax.hist(sides, bins=range(top + 2), label=labels)
        ax.legend()
        ax.set_xlabel("connected peers (degree)")
    elif result.final_peer_counts:
        ax.hist(result.final_peer_counts, bins=range(max(result.final_peer_counts) + 2))
        ax.set_xlabel("connected peers (degree)")
    else:
        ax.hist(result.final_table_sizes, bins=30)
        ax.set_xlabel("table entries (degree)")
    ax.set_ylabel("nodes")
    ax.set_title("degree distribution at end")
    save(fig, "degree.png")

    if result.propagation_delays:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for stack, per_stack in result.delays_by_stack.items():
            delays = sorted(per_stack)
            ys = [(i + 1) / len(delays) for i in range(len(delays))]
            ax.plot([1000 * x for x in delays], ys, label=stack)
        if len(result.delays_by_stack) > 1:
            ax.legend()
        ax.set_xlabel("propagation delay (ms, simulated)")
        ax.set_ylabel("share of deliveries")
        ax.set_title(f"gossip propagation CDF ({100 * result.coverage():.1f}% coverage)")
        save(fig, "propagation.png")

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(t, [s["udp_delivered"] for s in result.series], label="datagrams delivered")
    ax.plot(t, [s["udp_dropped"] for s in result.series], label="datagrams dropped")
    ax.plot(t, [s["tcp_established"] for s in result.series], label="connections made")
    ax.plot(t, [s["tcp_resets"] for s in result.series], label="stream resets")
    ax.plot(t, [s["tcp_connect_timeouts"] for s in result.series], label="connect timeouts")
    ax.set_xlabel("simulated time (s)")
    ax.legend()
    ax.set_title("traffic and failures (cumulative)")
    save(fig, "traffic.png")
    return out


def aggregate(results: list[Result], param: str, values: list[Any]) -> dict[str, Any]:
    """Per parameter value: mean and spread of the end-of-run figures over the runs."""
    rows = []
    for v in sorted(set(values), key=str):
        rs = [r for r, x in zip(results, values, strict=True) if x == v]
        conv = [r.last("converged") or 0.0 for r in rs]
        t90 = [r.first_time("converged", 0.9) for r in rs]
        rows.append(
            {
                param: v,
                "runs": len(rs),
                "converged_mean": statistics.fmean(conv),
                "converged_min": min(conv),
                "t90_mean": statistics.fmean([x for x in t90 if x is not None])
                if any(x is not None for x in t90)
                else None,
                "table_mean": statistics.fmean([r.last("table_mean") or 0.0 for r in rs]),
                "gossip_coverage_mean": _mean_or_none([r.coverage() if r.messages else None for r in rs]),
                "delay_p90_mean": _mean_or_none([r.delay_quantile(0.9) for r in rs]),
                **_per_stack_coverage(rs),
                "trace_hashes": sorted({r.trace_hash for r in rs}),
            }
        )
    return {"param": param, "rows": rows}


def _per_stack_coverage(rs: list[Result]) -> dict[str, Any]:
    """Stack "both": the gossip coverage of each stack, averaged over the runs."""
    stacks = sorted({k for r in rs for k in r.stacks})
    if len(stacks) < 2:
        return {}
    return {"gossip_coverage_by_stack": {k: _mean_or_none([r.coverage(k) for r in rs]) for k in stacks}}


def _mean_min(prefix: str, xs: list[int]) -> dict[str, Any]:
    return {f"{prefix}_mean": statistics.fmean(xs) if xs else 0.0, f"{prefix}_min": min(xs, default=0)}


def _mean_or_none(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.fmean(vals) if vals else None
