"""Ed25519 node keys and IDs for Tendermint2 (gno ``tm2/pkg/p2p/types``).

The node ID is the bech32 (BIP-173) string with prefix ``g`` of
sha256(pubkey)[:20]. Go keeps the private key as 64 bytes seed||pub and
stores it in ``node_key.json`` as ``{"priv_key": "<base64 of those 64 bytes>"}``
(amino JSON); :meth:`NodeKey.load` and :meth:`NodeKey.save` read and write
that file, so a gnoland node's key can be used as is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path
from typing import NewType

from peerwire._core import ed25519 as _ed25519
from peerwire._core import tm2 as _tm2
from peerwire._net import write_private_file
from peerwire.errors import DecodeError, InvalidKeyError

__all__ = ["ID", "NodeKey", "id_from_public_key", "validate_id"]

ID = NewType("ID", str)
"""A TM2 node ID: bech32 ``g1…`` of sha256(ed25519 pubkey)[:20]."""


def id_from_public_key(public_key: bytes) -> ID:
    """The node ID of a 32-byte Ed25519 public key."""
    return ID(_tm2.node_id(public_key))


def validate_id(text: str) -> ID:
    """Check that ``text`` is a valid node ID (prefix, checksum, 20-byte payload).

    Raises:
        DecodeError: it is not.
    """
    _tm2.decode_node_id(text)
    return ID(text)


class NodeKey:
    """An Ed25519 node key, held by the Rust core.

    The secret exists as Python bytes only when exported (:meth:`to_bytes`,
    :meth:`to_go_bytes`, :meth:`save`); signing and the secret connection
    handshake use it inside Rust. Its repr shows only the ID.
    """

    __slots__ = ("_id", "_key", "_public")

    def __init__(self, seed: bytes | _ed25519.Ed25519SecretKey) -> None:
        """Build from a 32-byte Ed25519 seed (or the Rust key object).

        Raises:
            InvalidKeyError: the seed is not 32 bytes.
        """
        self._key = (
            seed if isinstance(seed, _ed25519.Ed25519SecretKey) else _ed25519.Ed25519SecretKey(bytes(seed))
        )
        self._public: bytes = self._key.public_key()
        self._id = id_from_public_key(self._public)

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(_ed25519.Ed25519SecretKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> NodeKey:
        return cls(seed)

    @classmethod
    def from_secret(cls, secret: bytes) -> NodeKey:
        """gno's ``GenPrivKeyFromSecret``: seed = sha256(secret). For tests and fixtures."""
        return cls(hashlib.sha256(secret).digest())

    @classmethod
    def from_go_bytes(cls, raw: bytes) -> NodeKey:
        """Import Go's 64-byte seed||pub private key (the public half is checked).

        Raises:
            InvalidKeyError: not 64 bytes, or the public half does not match the seed.
        """
        return cls(_ed25519.Ed25519SecretKey.from_go(bytes(raw)))

    def to_go_bytes(self) -> bytes:
        """Export Go's 64-byte seed||pub layout."""
        return self._key.to_go_bytes()

    def to_bytes(self) -> bytes:
        """Export the 32-byte seed."""
        return self._key.to_bytes()

    @property
    def native(self) -> _ed25519.Ed25519SecretKey:
        """The key as the Rust core holds it: pass this to ``peerwire._core`` calls
        (the secret connection handshake), so the secret is not copied into Python bytes."""
        return self._key

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self._public

    @property
    def id(self) -> ID:
        return self._id

    def sign(self, msg: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``msg``."""
        return self._key.sign(msg)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> NodeKey:
        """Load a gno ``node_key.json``.

        Raises:
            DecodeError: the file is not a node key file.
            InvalidKeyError: the key inside is inconsistent.
        """
        text = Path(path).read_text()
        try:
            b64 = json.loads(text)["priv_key"]
            raw = base64.b64decode(b64, validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as e:
            raise DecodeError(f"{path}: not a node key file ({e.__class__.__name__}: {e})") from None
        if len(raw) != 64:
            raise InvalidKeyError(f"{path}: priv_key must hold 64 bytes, got {len(raw)}")
        return cls.from_go_bytes(raw)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a gno-compatible ``node_key.json`` atomically with mode 0600."""
        body = json.dumps({"priv_key": base64.b64encode(self.to_go_bytes()).decode()}, indent=2)
        write_private_file(Path(path), body.encode())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeKey) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._public)

    def __repr__(self) -> str:
        return f"NodeKey(id={self._id!r})"
