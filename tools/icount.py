#!/usr/bin/env python3
"""Instruction counts of the hot paths against a stored baseline: a CI regression gate without noise.

Wall-clock benchmarks on a shared machine move by tens of percent; instruction counts under
``valgrind --tool=callgrind`` repeat exactly. Each path of ``rust/core/examples/hotpath_icount.rs``
(RLPx and secret-connection frame seal+open, both handshakes' crypto) runs twice, with 0 and
with N repetitions; the difference divided by N is its cost per operation, free of process
start-up. A path more than ``TOLERANCE`` above ``tools/icount_baseline.json`` fails the check.

    python3 tools/icount.py            # check (make icount; part of make test)
    python3 tools/icount.py --update   # write the baseline after an intended change

Standard library only, so it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tools" / "icount_baseline.json"
BINARY = ROOT / "target" / "release" / "examples" / "hotpath_icount"
#: A path this much more expensive than its baseline fails the check.
TOLERANCE = 0.03
#: Repetitions per path: enough that the measured loop dwarfs set-up (keys, sessions).
REPS = {
    "rlpx_seal_open_1k": 2000,
    "rlpx_seal_open_16k": 200,
    "tm2_seal_open_1k": 2000,
    "tm2_seal_open_64k": 50,
    "rlpx_handshake": 10,
    "tm2_handshake": 10,
}
COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


class CheckError(RuntimeError):
    pass


def build() -> None:
    cmd = [
        "cargo",
        "build",
        "--release",
        "--locked",
        "-q",
        "-p",
        "peerwire-core",
        "--example",
        "hotpath_icount",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise CheckError(f"building the hot-path example failed: {' '.join(cmd)}")


def instructions(path: str, reps: int) -> int:
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", str(BINARY), path, str(reps)],
        capture_output=True,
        text=True,
        check=False,
    )
    m = COLLECTED.search(proc.stderr)
    if proc.returncode != 0 or m is None:
        raise CheckError(f"callgrind run of {path} x{reps} failed:\n{proc.stderr[-2000:]}")
    return int(m.group(1))


def per_op(path: str) -> float:
    reps = REPS[path]
    return (instructions(path, reps) - instructions(path, 0)) / reps


def measure(paths: list[str]) -> dict[str, float]:
    with ThreadPoolExecutor(max_workers=2) as pool:  # valgrind is single-threaded; CI has 2 cores
        return dict(zip(paths, pool.map(per_op, paths), strict=True))


def compare(baseline: dict[str, float], now: dict[str, float], tolerance: float = TOLERANCE) -> list[str]:
    """Failures: a path above baseline by more than ``tolerance``, or a path with no baseline."""
    failures = []
    for path, cost in now.items():
        base = baseline.get(path)
        if base is None:
            failures.append(f"{path}: no baseline (run `make icount-update` and commit the file)")
        elif cost > base * (1 + tolerance):
            failures.append(f"{path}: {cost:,.0f} instructions/op, {cost / base - 1:+.1%} over {base:,.0f}")
    return failures


def _tool_versions() -> dict[str, str]:
    def first_line(*cmd: str) -> str:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
        return out.splitlines()[0] if out else "?"

    return {"rustc": first_line("rustc", "--version"), "valgrind": first_line("valgrind", "--version")}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update", action="store_true", help="write the measured counts as the new baseline")
    ap.add_argument("--no-build", action="store_true", help="use the example binary as built")
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        print(
            "error: valgrind is needed for the instruction-count check (make icount / make test): "
            "install it (Debian/Ubuntu: apt-get install valgrind)",
            file=sys.stderr,
        )
        return 2
    try:
        if not args.no_build:
            build()
        now = measure(list(REPS))
    except CheckError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    doc = json.loads(BASELINE.read_text()) if BASELINE.exists() else {"paths": {}}
    baseline = {k: float(v) for k, v in doc.get("paths", {}).items()}
    print(f"{'path':22} {'instr/op':>14} {'baseline':>14} {'change':>8}")
    for path, cost in now.items():
        base = baseline.get(path)
        change = f"{cost / base - 1:+.2%}" if base else "new"
        print(f"{path:22} {cost:>14,.0f} {base or 0:>14,.0f} {change:>8}")
    if args.update:
        tools = _tool_versions()
        BASELINE.write_text(
            json.dumps({**tools, "paths": {k: round(v) for k, v in now.items()}}, indent=2) + "\n"
        )
        print(f"baseline written to {BASELINE.relative_to(ROOT)}")
        return 0
    tools = _tool_versions()
    for k, v in tools.items():
        if doc.get(k) not in (None, v):
            print(f"note: baseline measured with {doc[k]}, now {v}: counts may shift", file=sys.stderr)
    failures = compare(baseline, now)
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    if failures:
        print(f"instruction counts regressed by more than {TOLERANCE:.0%} (tools/icount.py)", file=sys.stderr)
        return 1
    print(f"instruction counts within +{TOLERANCE:.0%} of the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
