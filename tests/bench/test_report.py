"""``peerwire bench`` report: the JSON shape (API.md), ratios from every source, saved-run comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from peerwire.bench import (
    JSON_SCHEMA,
    Comparison,
    _suite,
    compare_runs,
    from_pytest_benchmark,
    load,
    record,
    to_json,
)
from peerwire.bench._harness import HarnessUnavailable, locate
from tests.cli.conftest import run_cli

API_KEYS = {"name", "unit", "peerwire", "peer", "peer_name", "ratio"}


def _bench(name: str, group: str, mean: float, impl: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "group": group,
        "params": {"impl": impl} if impl else {},
        "stats": {"mean": mean, "ops": 1 / mean},
        "extra_info": extra,
    }


def test_ratio_is_oriented_so_above_one_means_peerwire_better() -> None:
    assert Comparison("x", "MB/s", 300.0, 100.0, "gno").ratio == pytest.approx(3.0)
    assert Comparison("x", "handshakes/s", 50.0, 100.0, "geth").ratio == pytest.approx(0.5)
    assert Comparison("x", "s", 1e-6, 3e-6, "pysha3").ratio == pytest.approx(3.0)  # less time is better
    with pytest.raises(ValueError, match="positive"):
        Comparison("x", "MB/s", 0.0, 1.0, "gno")


def test_json_has_exactly_the_api_shape() -> None:
    doc = json.loads(to_json([Comparison("rlpx e2e 1KiB", "MB/s", 120.0, 100.0, "go-ethereum")]))
    jsonschema.validate(doc, JSON_SCHEMA)
    assert list(doc) == ["comparisons"]
    (c,) = doc["comparisons"]
    assert set(c) == API_KEYS and c["ratio"] == pytest.approx(1.2)
    with pytest.raises(jsonschema.ValidationError):  # the schema really rejects a missing ratio
        jsonschema.validate({"comparisons": [{k: v for k, v in c.items() if k != "ratio"}]}, JSON_SCHEMA)


def test_pytest_benchmark_groups_extra_info_and_paired_keys_all_give_numbers() -> None:
    extra: dict[str, Any] = {}
    record(extra, Comparison("rlpx e2e 1KiB", "MB/s", 150.0, 100.0, "go-ethereum"))
    doc = {
        "benchmarks": [
            _bench("bench_keccak256[peerwire-64B]", "keccak256 64B", 1e-6, "peerwire"),
            _bench("bench_keccak256[safe-pysha3-64B]", "keccak256 64B", 3e-6, "safe-pysha3"),
            _bench("bench_e2e_vs_geth[1KiB]", "rlpx e2e 1KiB", 0.5, **extra),
            # the shape older runs stored for gno: paired peerwire_<what> / gno_<what> keys
            _bench(
                "bench_secret_connection_vs_gno[1KiB]",
                "tm2 secret connection 1KiB",
                0.5,
                peerwire_mb_per_s=300.0,
                gno_mb_per_s=100.0,
                ratio=3.0,
            ),
            {**_bench("bench_hub[peerwire]", "broadcast", 0.2), "params": {"hub_impl": "peerwire"}},
            {**_bench("bench_hub[gno]", "broadcast", 0.3), "params": {"hub_impl": "gno"}},
            _bench(
                "bench_rss",
                "rss",
                1.0,
                comparisons=[Comparison("rss", "KiB/peer", 20.0, 40.0, "geth").to_dict()],
            ),
            {**_bench("bench_codec", "codec", 2e-3), "extra_info": {"impl": "peerwire"}},
            {**_bench("bench_bound", "codec", 1e-3), "extra_info": {"impl": "ChaCha20-Poly1305 bound"}},
            _bench("bench_x", "lonely", 2e-3),  # no peer: not a comparison
        ]
    }
    got = {(c.name, c.peer_name): c for c in from_pytest_benchmark(doc)}
    assert set(got) == {
        ("keccak256 64B", "safe-pysha3"),
        ("rlpx e2e 1KiB", "go-ethereum"),
        ("tm2 secret connection 1KiB (mb_per_s)", "gno"),
        ("broadcast", "gno"),
        ("rss", "geth"),
        ("codec", "ChaCha20-Poly1305 bound"),
    }
    assert got["codec", "ChaCha20-Poly1305 bound"].ratio == pytest.approx(0.5)  # named in extra_info
    assert got["broadcast", "gno"].ratio == pytest.approx(1.5)  # parameter named *_impl
    assert got["rss", "geth"].ratio == pytest.approx(2.0)  # memory per peer: less is better
    assert got["keccak256 64B", "safe-pysha3"].ratio == pytest.approx(3.0)
    assert got["rlpx e2e 1KiB", "go-ethereum"].ratio == pytest.approx(1.5)
    gno = got["tm2 secret connection 1KiB (mb_per_s)", "gno"]
    assert (gno.unit, gno.ratio) == ("MB/s", pytest.approx(3.0))
    jsonschema.validate(json.loads(to_json(got.values())), JSON_SCHEMA)


def test_compare_runs_pairs_by_name_peer_and_unit() -> None:
    saved = [Comparison("a", "MB/s", 100.0, 50.0, "gno"), Comparison("t", "s", 2.0, 4.0, "x")]
    now = [
        Comparison("a", "MB/s", 110.0, 50.0, "gno"),
        Comparison("t", "s", 1.0, 4.0, "x"),
        Comparison("new", "MB/s", 1.0, 1.0, "gno"),
    ]
    changes = {c.name: c for c in compare_runs(saved, now)}
    assert set(changes) == {"a", "t"}
    assert changes["a"].change == pytest.approx(0.10)
    assert changes["t"].change == pytest.approx(1.0)  # half the time: twice as good
    assert (changes["a"].ratio_before, changes["a"].ratio_after) == (pytest.approx(2.0), pytest.approx(2.2))


def test_cli_from_json_compare_and_errors(tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    saved.write_text(to_json([Comparison("rlpx e2e 1KiB", "MB/s", 100.0, 100.0, "go-ethereum")]))
    now = tmp_path / "now.json"
    now.write_text(to_json([Comparison("rlpx e2e 1KiB", "MB/s", 125.0, 100.0, "go-ethereum")]))
    res = run_cli("bench", "--from", str(now), "--compare", str(saved), timeout=60)
    assert res.returncode == 0, res.stderr
    assert "1.25x" in res.stdout and "+25.0%" in res.stdout and "n/a" not in res.stdout
    res = run_cli("bench", "--from", str(now), "--json")
    assert res.returncode == 0, res.stderr
    assert [c.ratio for c in load(now)] == [json.loads(res.stdout)["comparisons"][0]["ratio"]]
    res = run_cli("bench", "--from", str(tmp_path / "missing.json"))
    assert res.returncode == 2 and "cannot read benchmark results" in res.stderr
    res = run_cli("bench", "-k", "no-such-comparison")
    assert res.returncode == 2 and "no comparison matches" in res.stderr


def test_cli_quick_run_prints_schema_valid_json_with_a_number_for_every_comparison() -> None:
    res = run_cli("bench", "--quick", "--json", "-k", "codec,kad", timeout=300)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, JSON_SCHEMA)
    names = {c["name"] for c in doc["comparisons"]}
    assert {"rlpx codec seal+open 1KiB", "tm2 frame codec seal+open 1MiB", "kad log_distances"} <= names
    assert all(c["ratio"] > 0 for c in doc["comparisons"])


def test_missing_crypto_backend_is_a_note_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("peerwire.bench._crypto.crypto_backend", lambda: None)
    ctx = _suite.Context(quick=True)
    out = _suite.run_entries(_suite.select("rlpx-codec,tm2-codec"), ctx)
    assert out == []
    assert len(ctx.notes) == 2 and all("install `cryptography` or `pycryptodome`" in n for n in ctx.notes)


def test_missing_go_skips_the_go_peers_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEERWIRE_HARNESS", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(HarnessUnavailable, match="Go is not installed"):
        locate()
    ctx = _suite.Context(quick=True)
    assert _suite.run_entries(_suite.select("rlpx-e2e,tm2-handshakes"), ctx) == []
    assert ctx.notes and all("Go is not installed" in n for n in ctx.notes)
