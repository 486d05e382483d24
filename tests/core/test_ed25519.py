"""peerwire._core.ed25519: the opaque TM2 node key (rust/core/src/keys.rs)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from peerwire._core import ed25519
from peerwire.errors import InvalidKeyError

SecretKey = ed25519.Ed25519SecretKey

# RFC 8032 section 7.1, TEST 2 (one-byte message).
RFC8032_SEED = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
RFC8032_PUBLIC = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
RFC8032_MSG = bytes.fromhex("72")
RFC8032_SIG = bytes.fromhex(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)


def test_rfc8032_vector() -> None:
    sk = SecretKey(RFC8032_SEED)
    assert sk.public_key() == RFC8032_PUBLIC
    assert sk.sign(RFC8032_MSG) == RFC8032_SIG
    assert ed25519.verify(RFC8032_PUBLIC, RFC8032_MSG, RFC8032_SIG)


@pytest.mark.parametrize("seed", [b"\x01" * 32, bytes(range(32)), b"\xff" * 32])
def test_signing_equals_an_independent_implementation_on_the_same_seed(seed: bytes) -> None:
    ref = Ed25519PrivateKey.from_private_bytes(seed)
    sk = SecretKey(seed)
    for msg in (b"", b"challenge", bytes(range(256)) * 9):
        assert sk.sign(msg) == ref.sign(msg)  # Ed25519 signatures are deterministic


def test_verify_rejects_wrong_message_key_and_lengths() -> None:
    sk = SecretKey.generate()
    pub, sig = sk.public_key(), sk.sign(b"challenge")
    assert ed25519.verify(pub, b"challenge", sig)
    assert not ed25519.verify(pub, b"challengf", sig)
    assert not ed25519.verify(SecretKey.generate().public_key(), b"challenge", sig)
    assert not ed25519.verify(pub[:31], b"challenge", sig)
    assert not ed25519.verify(pub, b"challenge", sig[:63])


def test_export_round_trips_through_seed_and_go_layout() -> None:
    sk = SecretKey.generate()
    seed, go = sk.to_bytes(), sk.to_go_bytes()
    assert len(seed) == 32 and go == seed + sk.public_key()
    assert SecretKey(seed) == sk and SecretKey.from_go(go) == sk
    assert hash(SecretKey(seed)) == hash(sk)
    assert sk != SecretKey.generate() and sk != seed


def test_go_layout_checks_the_public_half_and_lengths() -> None:
    go = bytearray(SecretKey.generate().to_go_bytes())
    go[40] ^= 1
    with pytest.raises(InvalidKeyError, match="does not match"):
        SecretKey.from_go(bytes(go))
    with pytest.raises(InvalidKeyError, match="64 bytes"):
        SecretKey.from_go(bytes(go[:63]))
    with pytest.raises(InvalidKeyError, match="32 bytes"):
        SecretKey(b"\x01" * 31)


def test_repr_shows_no_key_material() -> None:
    sk = SecretKey.generate()
    assert repr(sk) == "<Ed25519SecretKey>" and str(sk) == "<Ed25519SecretKey>"
    assert sk.to_bytes().hex()[:16] not in repr(sk)
