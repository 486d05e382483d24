"""peerwire._core.rlp (mirrors rust/core/src/rlp.rs)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peerwire._core import rlp
from peerwire.errors import DecodeError

rlp_values = st.recursive(
    st.binary(max_size=80), lambda children: st.lists(children, max_size=6), max_leaves=30
)


@given(rlp_values)
def test_rlp_roundtrip(value: object) -> None:
    assert rlp.decode(rlp.encode(value)) == value


def test_rlp_known_and_ints() -> None:
    assert rlp.encode(b"dog") == b"\x83dog"
    assert rlp.encode([b"cat", b"dog"]) == b"\xc8\x83cat\x83dog"
    assert rlp.encode(0) == b"\x80"
    assert rlp.encode(15) == b"\x0f"
    assert rlp.encode(1024) == b"\x82\x04\x00"
    with pytest.raises(TypeError, match="str"):
        rlp.encode("text")
    with pytest.raises(OverflowError):
        rlp.encode(-1)


@pytest.mark.parametrize(
    "bad",
    [b"\x81\x05", b"\xb8\x01\xff", b"\x83d", b"\xc1", b"\x80\x80", b"\xf8\x00"],
    ids=[
        "wrapped-single-byte",
        "long-form-short-string",
        "truncated",
        "truncated-list",
        "trailing",
        "zero-long-len",
    ],
)
def test_rlp_rejects_non_canonical(bad: bytes) -> None:
    with pytest.raises(DecodeError):
        rlp.decode(bad)
