"""tools/icount.py: the 3% rule, and the clear error when valgrind is missing."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

TOOL = Path(__file__).resolve().parents[2] / "tools" / "icount.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("icount", TOOL)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_more_than_three_percent_over_the_baseline_fails() -> None:
    icount = _load()
    base = {"a": 1000.0, "b": 1000.0, "c": 1000.0}
    assert icount.compare(base, {"a": 1030.0, "b": 900.0, "c": 1000.0}) == []
    (fail,) = icount.compare(base, {"a": 1031.0, "b": 1000.0, "c": 1000.0})
    assert fail.startswith("a:") and "+3.1%" in fail
    (missing,) = icount.compare(base, {"d": 1.0})
    assert "no baseline" in missing


def test_baseline_covers_every_path() -> None:
    icount = _load()
    assert set(json.loads((TOOL.parent / "icount_baseline.json").read_text())["paths"]) == set(icount.REPS)


def test_missing_valgrind_is_a_clear_error(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, str(TOOL), "--no-build"],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 2
    assert "valgrind is needed" in res.stderr and "apt-get install valgrind" in res.stderr


def test_rust_example_lists_the_same_paths() -> None:
    src = (TOOL.parents[1] / "rust" / "core" / "examples" / "hotpath_icount.rs").read_text()
    assert all(f'"{p}"' in src for p in _load().REPS)
