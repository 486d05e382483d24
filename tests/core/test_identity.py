"""peerwire._core.identity: keccak, RLP and raw key primitives (mirrors rust/core/src/{hash,rlp,keys}.rs)."""

from __future__ import annotations

import hashlib

import pytest
import sha3  # safe-pysha3: an independent keccak implementation
from hypothesis import given
from hypothesis import strategies as st

from peerwire._core import identity
from peerwire.errors import DecodeError, InvalidKeyError


def test_keccak_known_values() -> None:
    assert identity.keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert identity.keccak256(b"abc") != hashlib.sha3_256(b"abc").digest()  # legacy keccak, not NIST


@given(st.binary(max_size=5000))
def test_keccak_matches_pysha3(data: bytes) -> None:
    assert identity.keccak256(data) == sha3.keccak_256(data).digest()


def test_keccak_large_input_releases_gil_and_is_correct() -> None:
    data = bytes(range(256)) * 4096
    assert identity.keccak256(data) == sha3.keccak_256(data).digest()


rlp_values = st.recursive(
    st.binary(max_size=80), lambda children: st.lists(children, max_size=6), max_leaves=30
)


@given(rlp_values)
def test_rlp_roundtrip(value: object) -> None:
    assert identity.rlp_decode(identity.rlp_encode(value)) == value


def test_rlp_known_and_ints() -> None:
    assert identity.rlp_encode(b"dog") == b"\x83dog"
    assert identity.rlp_encode([b"cat", b"dog"]) == b"\xc8\x83cat\x83dog"
    assert identity.rlp_encode(0) == b"\x80"
    assert identity.rlp_encode(15) == b"\x0f"
    assert identity.rlp_encode(1024) == b"\x82\x04\x00"
    with pytest.raises(TypeError, match="str"):
        identity.rlp_encode("text")
    with pytest.raises(OverflowError):
        identity.rlp_encode(-1)


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
        identity.rlp_decode(bad)


def test_secp_sign_recover_roundtrip() -> None:
    sk = identity.secp256k1_generate()
    pub = identity.secp256k1_public_key(sk)
    h = identity.keccak256(b"hello")
    sig = identity.secp256k1_sign_recoverable(sk, h)
    assert len(sig) == 65 and sig[64] in (0, 1)
    assert identity.secp256k1_recover(h, sig) == pub
    # low S: s <= n/2
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    assert int.from_bytes(sig[32:64], "big") <= n // 2


def test_secp_rejects_off_curve_and_bad_lengths() -> None:
    with pytest.raises(InvalidKeyError, match="not a point"):
        identity.secp256k1_normalize_public(b"\x00" * 63 + b"\x07")
    with pytest.raises(InvalidKeyError):
        identity.secp256k1_normalize_public(b"\x01" * 10)
    with pytest.raises(InvalidKeyError):
        identity.secp256k1_public_key(b"\x00" * 32)  # zero is not a valid secret
    with pytest.raises(InvalidKeyError):
        identity.secp256k1_public_key(bytes.fromhex("ff" * 32))  # >= n


def test_ecdh_is_symmetric() -> None:
    a, b = identity.secp256k1_generate(), identity.secp256k1_generate()
    pa, pb = identity.secp256k1_public_key(a), identity.secp256k1_public_key(b)
    assert identity.secp256k1_ecdh(a, pb) == identity.secp256k1_ecdh(b, pa)


def test_ed25519_sign_verify() -> None:
    seed = identity.ed25519_generate()
    pub = identity.ed25519_public_key(seed)
    sig = identity.ed25519_sign(seed, b"challenge")
    assert identity.ed25519_verify(pub, b"challenge", sig)
    assert not identity.ed25519_verify(pub, b"challengf", sig)
    assert not identity.ed25519_verify(pub[:31], b"challenge", sig)
