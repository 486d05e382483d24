"""``peerwire bench`` from a checkout: the list, and a pytest-benchmark file read back."""

from __future__ import annotations

import json
from pathlib import Path

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
    ]
}


def test_bench_lists_its_comparisons(peerwire_bin: Path) -> None:
    res = run_cli("bench", "--list")
    assert res.returncode == 0, res.stderr
    for name in ("rlpx-codec", "tm2-codec", "rlpx-e2e", "tm2-secret-connection", "tm2-handshakes"):
        assert name in res.stdout


def test_bench_prints_table_from_pytest_benchmark_json(tmp_path: Path, peerwire_bin: Path) -> None:
    (tmp_path / "b.json").write_text(json.dumps(DOC))
    res = run_cli("bench", "--from", str(tmp_path / "b.json"))
    assert res.returncode == 0, res.stderr
    assert "3.00x" in res.stdout and "safe-pysha3" in res.stdout and "n/a" not in res.stdout
