"""``peerwire bench``: measure peerwire against the peers available here and print the ratios.

Runs the comparisons shipped in :mod:`peerwire.bench` (no source checkout needed). For every
comparison it prints peerwire's figure, the peer's figure and the ratio (> 1 = peerwire
better); ``--json`` prints API.md's ``{"comparisons": [...]}`` instead, ``--compare FILE``
sets this run against a saved one, ``--from FILE`` prints the table of a saved report or of
a pytest-benchmark JSON file (``make bench`` output) without measuring.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from peerwire.bench._report import Change, Comparison, ReportError, compare_runs, load, to_json

__all__ = ["add_arguments", "render", "render_changes", "run_bench"]

EXIT_OK, EXIT_USAGE = 0, 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json", action="store_true", help='print {"comparisons": [...]} (API.md) instead of a table'
    )
    p.add_argument("--quick", action="store_true", help="small volumes, few rounds: a smoke run")
    p.add_argument(
        "--list", action="store_true", help="list the comparisons and their baselines, run nothing"
    )
    p.add_argument(
        "-k",
        default=None,
        metavar="NAMES",
        help="run only comparisons whose name contains one of NAMES (comma-separated)",
    )
    p.add_argument(
        "--compare",
        default=None,
        metavar="SAVED.json",
        help="also show the change against a saved --json run",
    )
    p.add_argument(
        "--from",
        dest="from_file",
        default=None,
        metavar="FILE",
        help="print a saved report or pytest-benchmark JSON, measure nothing",
    )


def _fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def render(comparisons: Sequence[Comparison], notes: Sequence[str] = ()) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="peerwire against its peers, same run (ratio > 1: peerwire better)")
    for col in ("comparison", "unit", "peerwire", "peer", "peer's figure", "ratio"):
        t.add_column(col, justify="left" if col in ("comparison", "unit", "peer") else "right")
    for c in comparisons:
        t.add_row(c.name, c.unit, _fmt(c.peerwire), c.peer_name, _fmt(c.peer), f"{c.ratio:.2f}x")
    con = Console()
    con.print(t)
    for n in notes:
        con.print(f"note: {n}", markup=False)


def render_changes(changes: Sequence[Change], saved: str) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"against the saved run {saved} (change > 0: peerwire better now)")
    for col in ("comparison", "unit", "peerwire then", "peerwire now", "change", "ratio then", "ratio now"):
        t.add_column(col, justify="left" if col in ("comparison", "unit") else "right")
    for c in changes:
        t.add_row(
            c.name,
            c.unit,
            _fmt(c.before),
            _fmt(c.after),
            f"{c.change * 100:+.1f}%",
            f"{c.ratio_before:.2f}x",
            f"{c.ratio_after:.2f}x",
        )
    Console().print(t)


def _list() -> int:
    from peerwire.bench._suite import ENTRIES

    for e in ENTRIES:
        print(f"{e.name:24} against {e.baseline}")
    return EXIT_OK


def run_bench(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    saved: list[Comparison] | None = None
    comparisons: list[Comparison] | None
    notes: list[str] = []
    try:
        if args.compare:
            saved = load(args.compare)
        if args.from_file:
            comparisons = load(args.from_file)
        else:
            comparisons, notes = _measure(args)
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if comparisons is None:
        return EXIT_USAGE
    if args.json:
        print(to_json(comparisons))
        for n in notes:
            print(f"note: {n}", file=sys.stderr)
    else:
        render(comparisons, notes)
    if saved is not None:
        changes = compare_runs(saved, comparisons)
        if args.json:
            print(f"{len(changes)} comparisons matched the saved run", file=sys.stderr)
        else:
            render_changes(changes, args.compare)
    return EXIT_OK


def _measure(args: argparse.Namespace) -> tuple[list[Comparison] | None, list[str]]:
    from peerwire.bench._suite import Context, run_entries, select

    entries = select(args.k)
    if not entries:
        print(f"error: no comparison matches -k {args.k!r} (see `peerwire bench --list`)", file=sys.stderr)
        return None, []
    ctx = Context(quick=args.quick)

    def progress(name: str) -> None:
        print(f"measuring {name} ...", file=sys.stderr, flush=True)

    return run_entries(entries, ctx, progress), ctx.notes
