"""``peerwire bench``: run the pytest-benchmark suite in ``benches/`` and print peerwire's ratios.

Within each benchmark group the entry whose implementation is ``peerwire`` (its ``impl``
parameter, or its name) is the reference; every other entry gets ``its mean / peerwire's
mean`` — above 1.0 means peerwire is faster by that factor.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BenchRow", "load_rows", "ratio_rows", "render", "run_bench"]

REFERENCE = "peerwire"


@dataclass(frozen=True, slots=True)
class BenchRow:
    group: str
    impl: str
    mean: float
    ops: float
    ratio: float | None  # other mean / peerwire mean; None for peerwire itself or no reference


def _impl_of(bench: dict[str, Any]) -> str:
    params = bench.get("params") or {}
    if isinstance(params, dict) and "impl" in params:
        return str(params["impl"])
    name = str(bench.get("name", "?"))
    return REFERENCE if REFERENCE in name else name


def load_rows(doc: dict[str, Any]) -> list[tuple[str, str, float, float]]:
    """``(group, impl, mean seconds, ops/s)`` from a pytest-benchmark JSON document."""
    out = []
    for b in doc.get("benchmarks", []):
        stats = b.get("stats") or {}
        mean = float(stats.get("mean", 0.0))
        ops = float(stats.get("ops", 1.0 / mean if mean else 0.0))
        out.append((str(b.get("group") or b.get("fullname") or "?"), _impl_of(b), mean, ops))
    return out


def ratio_rows(rows: list[tuple[str, str, float, float]]) -> list[BenchRow]:
    ref = {g: m for g, impl, m, _ in rows if impl == REFERENCE}
    out = []
    for g, impl, mean, ops in sorted(rows, key=lambda r: (r[0], r[1] != REFERENCE, r[2])):
        r = None if impl == REFERENCE or g not in ref or ref[g] == 0 else mean / ref[g]
        out.append(BenchRow(g, impl, mean, ops, r))
    return out


def _fmt_time(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.2f} {unit}"
    return f"{s / 1e-9:.1f} ns"


def render(rows: list[BenchRow]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="benchmarks: other implementation's mean / peerwire's mean (>1 = peerwire faster)")
    for col in ("group", "implementation", "mean", "ops/s", "ratio"):
        t.add_column(col, justify="left" if col in ("group", "implementation") else "right")
    for r in rows:
        ratio = "reference" if r.impl == REFERENCE else ("n/a" if r.ratio is None else f"{r.ratio:.2f}x")
        t.add_row(r.group, r.impl, _fmt_time(r.mean), f"{r.ops:,.0f}", ratio)
    Console().print(t)


def run_bench(json_file: str | None = None, benches: str | None = None, select: str | None = None) -> int:
    if json_file is not None:
        try:
            doc = json.loads(Path(json_file).read_text())
        except (OSError, ValueError) as e:
            print(f"error: cannot read benchmark results {json_file}: {e}", file=sys.stderr)
            return 2
        render(ratio_rows(load_rows(doc)))
        return 0
    bdir = Path(benches) if benches else Path("benches")
    if not bdir.is_dir():
        print(
            f"error: no benchmark directory {bdir} (run from a peerwire source checkout or pass --benches)",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="peerwire-bench-") as tmp:
        out = Path(tmp) / "bench.json"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            str(bdir.resolve()),
            "-q",
            "-p",
            "no:cacheprovider",
            "--benchmark-enable",
            "--benchmark-only",
            f"--benchmark-json={out}",
        ]
        if select:
            cmd += ["-k", select]
        proc = subprocess.run(cmd, cwd=bdir.resolve().parent, check=False)
        if not out.exists():
            print(
                f"error: the benchmark run produced no results (pytest exit {proc.returncode})",
                file=sys.stderr,
            )
            return 1
        render(ratio_rows(load_rows(json.loads(out.read_text()))))
    return 0 if proc.returncode == 0 else 1
