"""TM2 node keys and IDs (mirrors python/peerwire/tm2/_keys.py)."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from peerwire import tm2
from peerwire._core.ed25519 import Ed25519SecretKey
from peerwire.errors import DecodeError, InvalidKeyError


def test_primary_id_vectors(vectors: Callable[[str], Any]) -> None:
    v = vectors("tm2.json")["node_ids"]
    zero = v["primary_examples"][0]
    assert tm2.validate_id(zero["id"]) == zero["id"]
    pv = v["primary_examples"][1]
    nk = tm2.NodeKey.from_go_bytes(bytes.fromhex(pv["priv_key_hex"]))
    assert nk.public_key.hex() == pv["pub_key"]
    assert nk.id == pv["id"]
    assert nk.to_go_bytes() == base64.b64decode(pv["priv_key_base64"])


def test_derived_id_vectors(vectors: Callable[[str], Any]) -> None:
    for ex in vectors("tm2.json")["node_ids"]["derived_examples"]:
        nk = (
            tm2.NodeKey.from_secret(ex["secret"].encode())
            if "secret" in ex
            else tm2.NodeKey.from_seed(bytes.fromhex(ex["seed"]))
        )
        assert nk.to_bytes().hex() == ex["seed"]
        assert nk.public_key.hex() == ex["pub_key"]
        assert nk.to_go_bytes().hex() == ex["priv_key_hex"]
        assert nk.id == ex["id"]


def test_go_layout_checks_public_half() -> None:
    raw = bytearray(tm2.NodeKey.generate().to_go_bytes())
    raw[40] ^= 1
    with pytest.raises(InvalidKeyError):
        tm2.NodeKey.from_go_bytes(bytes(raw))


def test_save_load_roundtrip_mode_0600(tmp_path: Path) -> None:
    nk = tm2.NodeKey.generate()
    path = tmp_path / "node_key.json"
    nk.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tm2.NodeKey.load(path) == nk
    assert set(json.loads(path.read_text())) == {"priv_key"}


def test_load_rejects_garbage(tmp_path: Path) -> None:
    p = tmp_path / "k.json"
    p.write_text("{not json")
    with pytest.raises(DecodeError):
        tm2.NodeKey.load(p)
    p.write_text(json.dumps({"priv_key": base64.b64encode(b"x" * 10).decode()}))
    with pytest.raises(InvalidKeyError):
        tm2.NodeKey.load(p)


@pytest.mark.parametrize("bad", ["g1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqluuxf", "cosmos1abc", "", "g1"])
def test_invalid_ids(bad: str) -> None:
    with pytest.raises(DecodeError):
        tm2.validate_id(bad)


def test_repr_hides_seed() -> None:
    nk = tm2.NodeKey.generate()
    assert nk.to_bytes().hex()[:16] not in repr(nk) and nk.id in repr(nk)
    assert nk.to_bytes().hex()[:16] not in repr(nk.native)


def test_secret_lives_in_rust_until_exported() -> None:
    nk = tm2.NodeKey.generate()
    seed, go = nk.to_bytes(), nk.to_go_bytes()  # the ways out
    assert isinstance(nk.native, Ed25519SecretKey)
    # No attribute of the key object holds the seed as Python bytes.
    held = [getattr(nk, slot) for slot in type(nk).__slots__]
    assert not any(isinstance(v, bytes) and seed in v for v in held)
    assert go == seed + nk.public_key
    again = tm2.NodeKey.from_seed(seed)
    assert again == nk and hash(again) == hash(nk) and again.native == nk.native
    assert tm2.NodeKey(nk.native) == nk and tm2.NodeKey.from_go_bytes(go) == nk
    assert nk != tm2.NodeKey.generate()


def test_sign_matches_an_independent_ed25519_on_the_same_seed() -> None:
    seed = bytes(range(32))
    ref = Ed25519PrivateKey.from_private_bytes(seed)
    nk = tm2.NodeKey.from_seed(seed)
    for msg in (b"", b"challenge", b"x" * 5000):
        assert nk.sign(msg) == ref.sign(msg)
