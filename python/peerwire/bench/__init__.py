"""Benchmarks that ship with peerwire: ``peerwire bench`` and a pytest-benchmark plugin.

``peerwire bench`` measures peerwire against the baselines available on this machine, in
the same run: the raw crypto bounds (``cryptography`` or pycryptodome), Python keccaks and
pure-Python code, and go-ethereum and gno when Go is installed (the interop harness is built
into the user cache). Each result is a :class:`Comparison` whose ``ratio`` is > 1 when
peerwire is better.

The pytest plugin (:mod:`peerwire.bench.plugin`, registered as the ``pytest11`` entry
point ``peerwire``) gives connected pairs as fixtures: ``peerwire_rlpx_pair``,
``peerwire_secret_pair``, ``peerwire_mconnection_pair``, ``peerwire_server_pair`` and
``peerwire_switch_pair``; see docs/guide/benchmarks.md.
"""

from __future__ import annotations

from peerwire.bench._pairs import (
    Pair,
    SwitchPair,
    mconnection_pair,
    rlpx_pair,
    secret_pair,
    secret_pair_memory,
    server_pair,
    switch_pair,
)
from peerwire.bench._report import (
    JSON_SCHEMA,
    Comparison,
    ReportError,
    compare_runs,
    from_pytest_benchmark,
    load,
    record,
    to_json,
)

__all__ = [
    "JSON_SCHEMA",
    "Comparison",
    "Pair",
    "ReportError",
    "SwitchPair",
    "compare_runs",
    "from_pytest_benchmark",
    "load",
    "mconnection_pair",
    "record",
    "rlpx_pair",
    "secret_pair",
    "secret_pair_memory",
    "server_pair",
    "switch_pair",
    "to_json",
]
