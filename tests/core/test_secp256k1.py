"""peerwire._core.secp256k1: the opaque secret key and the public-key functions (rust/core/src/keys.rs)."""

from __future__ import annotations

import coincurve  # an independent libsecp256k1 binding
import pytest

from peerwire._core import keccak, secp256k1
from peerwire.errors import InvalidKeyError

SecretKey = secp256k1.Secp256k1SecretKey
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_sign_recover_roundtrip_low_s() -> None:
    sk = SecretKey.generate()
    h = keccak.keccak256(b"hello")
    sig = sk.sign_recoverable(h)
    assert len(sig) == 65 and sig[64] in (0, 1)
    assert secp256k1.recover(h, sig) == sk.public_key()
    assert int.from_bytes(sig[32:64], "big") <= N // 2


def test_agrees_with_coincurve_on_the_same_secret() -> None:
    secret = bytes(range(1, 33))
    sk, ref = SecretKey(secret), coincurve.PrivateKey(secret)
    assert sk.public_key() == ref.public_key.format(compressed=False)[1:]
    h = keccak.keccak256(b"msg")
    assert sk.sign_recoverable(h) == ref.sign_recoverable(h, hasher=None)  # RFC 6979: deterministic
    assert secp256k1.compress(sk.public_key()) == ref.public_key.format(compressed=True)


def test_rejects_off_curve_and_bad_secrets() -> None:
    with pytest.raises(InvalidKeyError, match="not a point"):
        secp256k1.normalize_public(b"\x00" * 63 + b"\x07")
    with pytest.raises(InvalidKeyError):
        secp256k1.normalize_public(b"\x01" * 10)
    with pytest.raises(InvalidKeyError):
        SecretKey(b"\x00" * 32)  # zero is not a valid secret
    with pytest.raises(InvalidKeyError):
        SecretKey(bytes.fromhex("ff" * 32))  # >= n
    with pytest.raises(InvalidKeyError, match="32 bytes"):
        SecretKey(b"\x01" * 31)


def test_normalize_accepts_every_encoding() -> None:
    pub64 = SecretKey.generate().public_key()
    compressed = secp256k1.compress(pub64)
    assert len(compressed) == 33
    for form in (pub64, b"\x04" + pub64, compressed):
        assert secp256k1.normalize_public(form) == pub64


def test_ecdh_is_symmetric() -> None:
    a, b = SecretKey.generate(), SecretKey.generate()
    assert a.ecdh(b.public_key()) == b.ecdh(a.public_key())


def test_opaque_key_repr_equality_and_export() -> None:
    sk = SecretKey.generate()
    secret = sk.to_bytes()
    assert repr(sk) == "<Secp256k1SecretKey>" and secret.hex() not in repr(sk)
    again = SecretKey(secret)
    assert again == sk and hash(again) == hash(sk) and again is not sk
    assert sk != SecretKey.generate() and sk != secret
