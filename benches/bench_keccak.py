"""keccak256 throughput of peerwire._core against the best Python keccaks, same run.

Run with ``make bench``. Each bench checks its result before timing it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sha3  # safe-pysha3: C keccak, the fastest pure-Python-stack option
from eth_hash.backends import pycryptodome as eth_hash_pycryptodome  # eth-hash's pycryptodome backend
from pytest_benchmark.fixture import BenchmarkFixture

from peerwire._core import keccak

SIZES = {"64B": 64, "1KiB": 1024, "1MiB": 1 << 20}


def _pysha3(data: bytes) -> bytes:
    return sha3.keccak_256(data).digest()


IMPLS: dict[str, Callable[[bytes], bytes]] = {
    "peerwire": keccak.keccak256,
    "safe-pysha3": _pysha3,
    "eth-hash-pycryptodome": eth_hash_pycryptodome.keccak256,
}


@pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))
@pytest.mark.parametrize("impl", list(IMPLS), ids=list(IMPLS))
def bench_keccak256(benchmark: BenchmarkFixture, impl: str, size: str) -> None:
    data = bytes(range(256)) * (SIZES[size] // 256) if SIZES[size] >= 256 else b"\x5a" * SIZES[size]
    fn = IMPLS[impl]
    assert fn(data) == sha3.keccak_256(data).digest()
    benchmark.group = f"keccak256 {size}"
    benchmark.extra_info["bytes"] = len(data)
    benchmark(fn, data)
