"""devp2p secp256k1 keys (mirrors python/peerwire/devp2p/_keys.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import coincurve
import pytest

from peerwire import devp2p
from peerwire.errors import InvalidKeyError


def test_eip8_key_vectors(vectors: Callable[[str], Any]) -> None:
    v = vectors("rlpx_eip8.json")
    pubs = v["public_keys"]
    for who in ("static", "ephemeral"):
        for side in ("a", "b"):
            key = devp2p.PrivateKey.from_hex(v["keys"][f"{who}_key_{side}"]["hex"])
            assert key.public_key.to_hex() == pubs[f"{who}_pub_{side}"]["hex"], f"{who} {side}"


def test_node_id_vector(vectors: Callable[[str], Any]) -> None:
    v = vectors("rlpx_eip8.json")
    b = devp2p.PrivateKey.from_hex(v["keys"]["static_key_b"]["hex"])
    assert b.public_key.node_id.hex() == v["node_id_b"]["hex"]


def test_coincurve_agrees_with_rust_core() -> None:
    for _ in range(20):
        ours = devp2p.PrivateKey.generate()
        cc = ours.to_coincurve()
        assert cc.public_key.format(compressed=False)[1:] == ours.public_key.to_bytes()
        back = devp2p.PrivateKey.from_coincurve(cc)
        assert back == ours
        assert devp2p.PublicKey.from_coincurve(cc.public_key) == ours.public_key
        # Signatures made by libsecp256k1 in Rust verify and recover in coincurve and vice versa.
        h = bytes(range(32))
        sig = ours.sign_recoverable(h)
        assert sig == cc.sign_recoverable(h, hasher=None)  # both RFC 6979, low S
        assert devp2p.recover_public_key(h, sig) == ours.public_key
        # ECDH: X coordinate of the shared point equals coincurve's raw multiply.
        other = coincurve.PrivateKey()
        shared = ours.ecdh(devp2p.PublicKey.from_coincurve(other.public_key))
        point = other.public_key.multiply(ours.to_bytes()).format(compressed=False)
        assert shared == point[1:33]


def test_public_key_forms() -> None:
    k = devp2p.PrivateKey.generate().public_key
    assert devp2p.PublicKey(k.to_compressed()) == k
    assert devp2p.PublicKey(b"\x04" + k.to_bytes()) == k
    assert len({k, devp2p.PublicKey(k.to_bytes())}) == 1


def test_repr_hides_secret() -> None:
    k = devp2p.PrivateKey.generate()
    assert k.to_hex() not in repr(k)
    assert k.to_hex()[:16] not in repr(k)


@pytest.mark.parametrize("bad", ["zz" * 32, "00" * 32, "ff" * 32, "01" * 31])
def test_invalid_private_keys(bad: str) -> None:
    with pytest.raises(InvalidKeyError):
        devp2p.PrivateKey.from_hex(bad)


def test_secret_lives_in_rust_until_exported() -> None:
    from peerwire._core import secp256k1

    key = devp2p.PrivateKey.generate()
    assert isinstance(key.native, secp256k1.Secp256k1SecretKey)
    # no attribute of the key object holds the secret as Python bytes
    assert not any(isinstance(getattr(key, slot), bytes) for slot in type(key).__slots__)
    assert "Secp256k1SecretKey" in repr(key.native) and key.to_hex() not in repr(key.native)
    exported = key.to_bytes()  # the one way out
    assert devp2p.PrivateKey(exported) == key and devp2p.PrivateKey(exported).native == key.native
    assert devp2p.PrivateKey(key.native).public_key == key.public_key


def test_core_calls_that_sign_take_the_key_object() -> None:
    """RLPx handshakes, ENR signing and the discv5 codec use the Rust key, as discv4 does."""
    from peerwire._core import discv5, enr, keccak, rlpx

    a, b = devp2p.PrivateKey.generate(), devp2p.PrivateKey.generate()
    pairs = [(b"tcp", b"\x82\x76\x5f")]
    signed = enr.Record.sign_v4(a.native, 7, pairs)
    assert signed.verify_v4() == a.public_key.to_bytes()
    assert signed.raw == enr.Record.sign_v4(a.to_bytes(), 7, pairs).raw  # RFC 6979: same bytes
    codec = discv5.Codec(a.native, signed.raw)
    assert codec.local_id == keccak.keccak256(a.public_key.to_bytes())
    initiator, auth = rlpx.Handshake.initiator(a.native, b.public_key.to_bytes())
    recipient = rlpx.Handshake.recipient(b.native)
    done_b = recipient.feed(auth)
    assert done_b is not None and done_b.remote_public_key == a.public_key.to_bytes()
    done_a = initiator.feed(done_b.send)
    assert done_a is not None and done_a.remote_public_key == b.public_key.to_bytes()
    assert (done_a.aes_secret, done_a.mac_secret) == (done_b.aes_secret, done_b.mac_secret)


def test_equal_public_keys_built_from_the_same_bytes_are_one_object() -> None:
    """A simulated network holds each key once per node that knows it: built from the same
    bytes, a live key is shared (its ID hashed once), and a key no one holds leaves the cache."""
    import copy
    import gc
    import pickle

    from peerwire.devp2p import _keys

    key = devp2p.PrivateKey.generate().public_key
    raw = key.to_bytes()
    again = devp2p.PublicKey(raw)
    assert again is key and again.node_id is key.node_id
    assert pickle.loads(pickle.dumps(key)) is key and copy.deepcopy(key) is key
    uncompressed = devp2p.PublicKey(b"\x04" + raw)  # another form: equal, not necessarily shared
    assert uncompressed == key and hash(uncompressed) == hash(key)
    with pytest.raises(InvalidKeyError):
        devp2p.PublicKey(b"\x00" * 64)  # a bad point is refused, not cached
    assert b"\x00" * 64 not in _keys._LIVE
    del key, again, uncompressed
    gc.collect()
    assert raw not in _keys._LIVE
