"""``peerwire sim``: run a simulation scenario (or a sweep) and write its results."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_sim_parser", "cmd_sim"]

EXIT_OK = 0
EXIT_USAGE = 2


def add_sim_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    sm = sub.add_parser("sim", parents=[common], help="simulate a network of real nodes on virtual time")
    sm.add_argument("scenario", help="scenario TOML file, or a shipped scenario name (e.g. churn)")
    sm.add_argument("--out", "-o", default="sim-out", help="directory for result.json and plots")
    sm.add_argument("--seed", type=int, default=1, help="seed of every random draw (default 1)")
    sm.add_argument(
        "--sweep", default=None, metavar="PARAM=VALUES", help="e.g. seed=1..32 or loss=0,0.01,0.05"
    )
    sm.add_argument(
        "--dask", default=None, metavar="tcp://HOST:PORT", help="run the sweep on this Dask scheduler"
    )
    sm.add_argument("--workers", type=int, default=None, help="local processes for a sweep (default: CPUs)")
    sm.add_argument("--no-live", action="store_true", help="no progress bar")
    sm.set_defaults(func=cmd_sim)


def _bar(live: bool, total: float, label: str) -> tuple[Callable[[float, float], None], Callable[[], None]]:
    """A rich progress bar (when live and on a terminal-capable console) or nothing."""
    if not live:
        return (lambda done, tot: None), (lambda: None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    prog = Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f}"),
        TimeElapsedColumn(),
        transient=True,
    )
    task = prog.add_task(label, total=total)
    prog.start()
    return (lambda done, tot: prog.update(task, completed=done, total=tot)), prog.stop


def cmd_sim(args: argparse.Namespace) -> int:
    from peerwire import sim

    try:
        scenario = sim.Scenario.load(args.scenario)
    except (OSError, ValueError) as e:
        print(f"error: scenario {args.scenario}: {e}", file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out)
    live = not args.no_live
    if args.sweep is None:
        update, stop = _bar(live, scenario.duration, f"{scenario.name} (simulated s)")
        started = time.perf_counter()
        try:
            result = sim.run(scenario, args.seed, progress=update)
        finally:
            stop()
        result.real_seconds = time.perf_counter() - started
        result.write(out)
        print(result.summary())
        return EXIT_OK
    try:
        param, values = sim.parse_sweep(args.sweep)
        if param != "seed":
            scenario.with_param(param, values[0])
    except (ValueError, TypeError) as e:
        print(f"error: --sweep: {e}", file=sys.stderr)
        return EXIT_USAGE
    update, stop = _bar(live, len(values), f"{scenario.name} sweep {param} (runs)")
    try:
        results = sim.sweep(
            scenario,
            param,
            values,
            seed=args.seed,
            dask=args.dask,
            workers=args.workers,
            on_done=lambda n, tot: update(n, tot),
        )
    finally:
        stop()
    for r, v in zip(results, values, strict=True):
        r.write(out / f"{param}={v}")
    agg = sim.aggregate(results, param, values)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(agg, indent=1))
    for row in agg["rows"]:
        t90 = row["t90_mean"]
        gossip = ""
        if row["gossip_coverage_mean"] is not None:
            p90 = row["delay_p90_mean"]
            gossip = f", gossip {100 * row['gossip_coverage_mean']:.1f}% p90 " + (
                "-" if p90 is None else f"{1000 * p90:.0f} ms"
            )
        print(
            f"{param}={row[param]}: converged {100 * row['converged_mean']:.0f}% "
            f"(min {100 * row['converged_min']:.0f}%), "
            f"t90 {'-' if t90 is None else f'{t90:.0f} s'}, table {row['table_mean']:.1f}{gossip}"
        )
    combined = "".join(r.trace_hash for r in results)
    import hashlib

    print(f"trace_hash={hashlib.blake2b(combined.encode(), digest_size=16).hexdigest()}")
    return EXIT_OK
