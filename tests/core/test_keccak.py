"""peerwire._core.keccak (mirrors rust/core/src/hash.rs)."""

from __future__ import annotations

import hashlib

import sha3  # safe-pysha3: an independent keccak implementation
from hypothesis import given
from hypothesis import strategies as st

from peerwire._core import keccak


def test_keccak_known_values() -> None:
    assert keccak.keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak.keccak256(b"abc") != hashlib.sha3_256(b"abc").digest()  # legacy keccak, not NIST


@given(st.binary(max_size=5000))
def test_keccak_matches_pysha3(data: bytes) -> None:
    assert keccak.keccak256(data) == sha3.keccak_256(data).digest()


def test_keccak_large_input_releases_gil_and_is_correct() -> None:
    data = bytes(range(256)) * 4096
    assert keccak.keccak256(data) == sha3.keccak_256(data).digest()
