"""``peerwire bench``: the ratio table (mirrors python/peerwire/cli/_bench.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peerwire.cli._bench import load_rows, ratio_rows

from .conftest import run_cli

DOC = {
    "benchmarks": [
        {
            "group": "keccak256 64B",
            "name": "bench_keccak256[peerwire-64B]",
            "params": {"impl": "peerwire"},
            "stats": {"mean": 1e-6, "ops": 1e6},
        },
        {
            "group": "keccak256 64B",
            "name": "bench_keccak256[safe-pysha3-64B]",
            "params": {"impl": "safe-pysha3"},
            "stats": {"mean": 3e-6, "ops": 333333},
        },
        {"group": "lonely", "name": "bench_x", "params": {}, "stats": {"mean": 2e-3, "ops": 500}},
    ]
}


def test_ratio_rows() -> None:
    rows = ratio_rows(load_rows(DOC))
    assert [(r.group, r.impl) for r in rows] == [
        ("keccak256 64B", "peerwire"),
        ("keccak256 64B", "safe-pysha3"),
        ("lonely", "bench_x"),
    ]
    assert rows[0].ratio is None
    assert rows[1].ratio == pytest.approx(3.0)
    assert rows[2].ratio is None


def test_bench_prints_table_from_json(tmp_path: Path, peerwire_bin: Path) -> None:
    (tmp_path / "b.json").write_text(json.dumps(DOC))
    res = run_cli("bench", "--json", str(tmp_path / "b.json"))
    assert res.returncode == 0, res.stderr
    assert "3.00x" in res.stdout and "reference" in res.stdout and "n/a" in res.stdout
    res = run_cli("bench", "--json", str(tmp_path / "missing.json"))
    assert res.returncode == 2 and "cannot read benchmark results" in res.stderr
    res = run_cli("bench", "--benches", str(tmp_path / "nope"))
    assert res.returncode == 2 and "no benchmark directory" in res.stderr


@pytest.mark.slow
def test_bench_runs_the_suite(peerwire_bin: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    res = run_cli("bench", "-k", "keccak256 and 64B", cwd=root, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "keccak256 64B" in res.stdout
    assert "reference" in res.stdout and "safe-pysha3" in res.stdout
