"""Comparisons: peerwire's figure, the peer's figure and the ratio, in one shape.

Every comparison has a unit that says which way is better: rates (``MB/s``, ``msgs/s``,
``handshakes/s``, ``ops/s``) are better high, times (``s``) better low. The ratio is always
oriented so that **> 1 means peerwire is better** (API.md, ``peerwire bench --json``).

:func:`from_pytest_benchmark` turns a pytest-benchmark JSON document into comparisons:
groups where one entry is peerwire's and the others are peers (ratio of mean times), and
figures that a benchmark recorded in ``extra_info`` — either as ready comparisons
(``extra_info["comparisons"]``, what :func:`record` writes) or as paired keys
``peerwire_<what>`` / ``<peer>_<what>`` (what older runs wrote).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "JSON_SCHEMA",
    "Comparison",
    "ReportError",
    "compare_runs",
    "from_pytest_benchmark",
    "load",
    "record",
    "to_json",
]

REFERENCE = "peerwire"
#: Units where a lower figure is better; every other unit is a rate.
LOWER_IS_BETTER = frozenset({"s", "ms", "µs", "ns", "s/op", "KiB/peer", "B/peer"})

#: JSON Schema of ``peerwire bench --json`` (API.md: machine-readable output).
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["comparisons"],
    "additionalProperties": False,
    "properties": {
        "comparisons": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "unit", "peerwire", "peer", "peer_name", "ratio"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "unit": {"type": "string", "minLength": 1},
                    "peerwire": {"type": "number", "exclusiveMinimum": 0},
                    "peer": {"type": "number", "exclusiveMinimum": 0},
                    "peer_name": {"type": "string", "minLength": 1},
                    "ratio": {"type": "number", "exclusiveMinimum": 0},
                },
            },
        }
    },
}


class ReportError(ValueError):
    """A results document that is not a peerwire report nor a pytest-benchmark run."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """One figure of peerwire against one peer, measured in the same run."""

    name: str
    unit: str
    peerwire: float
    peer: float
    peer_name: str

    def __post_init__(self) -> None:
        for what, v in (("peerwire", self.peerwire), ("peer", self.peer)):
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{self.name}: {what} figure must be a positive number, got {v!r}")

    @property
    def lower_is_better(self) -> bool:
        return self.unit in LOWER_IS_BETTER

    @property
    def ratio(self) -> float:
        """> 1 means peerwire is better (faster rate, or less time)."""
        if self.lower_is_better:
            return self.peer / self.peerwire
        return self.peerwire / self.peer

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "peerwire": self.peerwire,
            "peer": self.peer,
            "peer_name": self.peer_name,
            "ratio": self.ratio,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Comparison:
        try:
            return cls(
                str(d["name"]), str(d["unit"]), float(d["peerwire"]), float(d["peer"]), str(d["peer_name"])
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ReportError(f"not a comparison: {d!r} ({e})") from e


def record(extra_info: dict[str, Any], *comparisons: Comparison) -> None:
    """Store comparisons in a pytest-benchmark ``extra_info`` (read back by :func:`from_pytest_benchmark`)."""
    extra_info.setdefault("comparisons", []).extend(c.to_dict() for c in comparisons)


def to_json(comparisons: Iterable[Comparison]) -> str:
    return json.dumps({"comparisons": [c.to_dict() for c in comparisons]}, indent=2)


def _impl_of(bench: Mapping[str, Any]) -> str:
    """The implementation a benchmark measured: ``extra_info["impl"]``, an ``impl``/``*_impl``
    parameter, or ``peerwire`` when its name says so (else its name)."""
    named = (bench.get("extra_info") or {}).get("impl")
    if isinstance(named, str):
        return named
    params = bench.get("params") or {}
    impls = (
        [v for k, v in params.items() if k == "impl" or k.endswith("_impl")]
        if isinstance(params, dict)
        else []
    )
    if impls:
        return str(impls[0])
    name = str(bench.get("name", "?"))
    return REFERENCE if REFERENCE in name else name


def _paired_extra_info(group: str, extra: Mapping[str, Any]) -> list[Comparison]:
    """``peerwire_<what>`` with ``<peer>_<what>`` (e.g. ``peerwire_mb_per_s`` / ``gno_mb_per_s``)."""
    out = []
    prefix = REFERENCE + "_"
    for key, ours in extra.items():
        if not key.startswith(prefix) or not isinstance(ours, int | float):
            continue
        what = key[len(prefix) :]
        for other, theirs in extra.items():
            peer = other[: -len(what) - 1] if other.endswith("_" + what) else ""
            if peer and peer != REFERENCE and isinstance(theirs, int | float) and ours > 0 and theirs > 0:
                unit = what.replace("_per_s", "/s").replace("mb/", "MB/")
                out.append(Comparison(f"{group} ({what})", unit, float(ours), float(theirs), peer))
    return out


def from_pytest_benchmark(doc: Mapping[str, Any]) -> list[Comparison]:
    """Every comparison a pytest-benchmark JSON document holds (see the module doc)."""
    benches = doc.get("benchmarks")
    if not isinstance(benches, list):
        raise ReportError("no 'benchmarks' list: not a pytest-benchmark JSON document")
    out: list[Comparison] = []
    groups: dict[str, list[tuple[str, float]]] = {}
    for b in benches:
        group = str(b.get("group") or b.get("fullname") or b.get("name") or "?")
        mean = float((b.get("stats") or {}).get("mean", 0.0))
        extra = b.get("extra_info") or {}
        ready = extra.get("comparisons")
        if isinstance(ready, list):
            out += [Comparison.from_dict(c) for c in ready]
        else:
            out += _paired_extra_info(group, extra)
        if mean > 0:
            groups.setdefault(group, []).append((_impl_of(b), mean))
    for group, entries in groups.items():
        ours = [m for impl, m in entries if impl == REFERENCE]
        if len(ours) != 1:
            continue
        for impl, mean in entries:
            if impl != REFERENCE:
                out.append(Comparison(group, "s", ours[0], mean, impl))
    return out


def load(path: str | Path) -> list[Comparison]:
    """Comparisons from a saved ``peerwire bench --json`` report or a pytest-benchmark JSON file."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ReportError(f"cannot read benchmark results {path}: {e}") from e
    if isinstance(doc, dict) and isinstance(doc.get("comparisons"), list):
        return [Comparison.from_dict(c) for c in doc["comparisons"]]
    if isinstance(doc, dict):
        return from_pytest_benchmark(doc)
    raise ReportError(f"{path}: not a benchmark report")


@dataclass(frozen=True, slots=True)
class Change:
    """One comparison now against the same comparison in a saved run."""

    name: str
    unit: str
    before: float  # peerwire's figure then
    after: float  # peerwire's figure now
    ratio_before: float
    ratio_after: float

    @property
    def change(self) -> float:
        """Relative change of peerwire's own figure, > 0 means better now."""
        lower = self.unit in LOWER_IS_BETTER
        return (self.before / self.after - 1.0) if lower else (self.after / self.before - 1.0)


def compare_runs(saved: Sequence[Comparison], now: Sequence[Comparison]) -> list[Change]:
    """Pair comparisons by (name, peer, unit) between a saved run and this one."""
    before = {(c.name, c.peer_name, c.unit): c for c in saved}
    out = []
    for c in now:
        old = before.get((c.name, c.peer_name, c.unit))
        if old is not None:
            out.append(Change(c.name, c.unit, old.peerwire, c.peerwire, old.ratio, c.ratio))
    return out
