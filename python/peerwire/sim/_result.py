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

    def add_sample(
        self,
        t: float,
        *,
        live: int,
        table_sizes: list[int],
        dead_entries: list[int],
        attacker_entries: list[int],
        counters: dict[str, int],
    ) -> None:
        want = min(CONVERGED_TABLE, max(0, live - 1))
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
            }
        )
        self.final_table_sizes = list(table_sizes)

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
            f"trace_hash={self.trace_hash}",
        ]
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
            "distributions": {"table_size": self.final_table_sizes},
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
    ax.hist(result.final_table_sizes, bins=30)
    ax.set_xlabel("table entries (degree)")
    ax.set_ylabel("nodes")
    ax.set_title("degree distribution at end")
    save(fig, "degree.png")

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(t, [s["udp_delivered"] for s in result.series], label="datagrams delivered")
    ax.plot(t, [s["udp_dropped"] for s in result.series], label="datagrams dropped")
    ax.plot(t, [s["tcp_resets"] for s in result.series], label="stream resets")
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
                "trace_hashes": sorted({r.trace_hash for r in rs}),
            }
        )
    return {"param": param, "rows": rows}
