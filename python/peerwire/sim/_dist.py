"""Durations ("10m", "250ms") and delay distributions ("uniform(10ms, 100ms)") in scenario files."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

__all__ = ["Distribution", "parse_duration"]

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(us|ms|s|m|h)?\s*$")
_CALL = re.compile(r"^\s*([a-z]+)\s*\((.*)\)\s*$")


def parse_duration(value: str | float | int) -> float:
    """Seconds from a number (seconds) or a string with a unit: us, ms, s, m, h."""
    if isinstance(value, int | float):
        return float(value)
    m = _DURATION.match(value)
    if m is None:
        raise ValueError(f"not a duration: {value!r} (try '250ms', '10s', '5m')")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


@dataclass(frozen=True)
class Distribution:
    """A distribution of delays in seconds: const, uniform, normal (clipped at 0) or exp."""

    kind: str
    a: float
    b: float = 0.0

    @classmethod
    def parse(cls, text: str | float | int) -> Distribution:
        if isinstance(text, int | float) or _CALL.match(text) is None:
            return cls("const", parse_duration(text))
        m = _CALL.match(text)
        assert m is not None
        kind = m.group(1)
        args = [parse_duration(a) for a in m.group(2).split(",") if a.strip()]
        want = {"const": 1, "uniform": 2, "normal": 2, "exp": 1}
        if kind not in want:
            raise ValueError(f"unknown distribution {kind!r}; one of {sorted(want)}")
        if len(args) != want[kind]:
            raise ValueError(f"{kind}() takes {want[kind]} argument(s), got {text!r}")
        return cls(kind, args[0], args[1] if len(args) > 1 else 0.0)

    def sample(self, rng: random.Random) -> float:
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b)
        if self.kind == "normal":
            return max(0.0, rng.gauss(self.a, self.b))
        if self.kind == "exp":
            return rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        return self.a

    def __str__(self) -> str:
        return (
            f"{self.kind}({self.a}, {self.b})"
            if self.kind in ("uniform", "normal")
            else f"{self.kind}({self.a})"
        )
