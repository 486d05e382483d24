"""secp256k1 node keys for devp2p.

The wire form of a public key is 64 bytes (X||Y, no 0x04 prefix); the node ID
is keccak256 of it. Keys convert to and from coincurve keys, which users of
the Python Ethereum stack already hold; the Rust core itself uses
libsecp256k1 through the ``secp256k1`` crate.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from peerwire._core import keccak
from peerwire._core import secp256k1 as _secp
from peerwire.errors import InvalidKeyError

if TYPE_CHECKING:
    import coincurve

__all__ = ["PrivateKey", "PublicKey"]


#: Live public keys by the bytes they were built from. A node meets the same few hundred keys
#: in packet after packet, and a simulation holds every key once per node that knows it: one
#: shared immutable object skips the point check and the ID hash, and the copies. Weak, so a
#: key no one holds (a flood of fresh keys included) leaves it.
_LIVE: weakref.WeakValueDictionary[bytes, PublicKey] = weakref.WeakValueDictionary()


class PublicKey:
    """A secp256k1 public key; immutable and hashable (equal keys may be one object)."""

    __slots__ = ("__weakref__", "_node_id", "_raw")
    _raw: bytes
    _node_id: bytes | None

    def __new__(cls, raw: bytes) -> PublicKey:
        """Build from 64 (X||Y), 65 (04||X||Y) or 33 (compressed) bytes.

        Raises:
            InvalidKeyError: the bytes are not a point on the curve.
        """
        raw = bytes(raw)
        live = _LIVE.get(raw)
        if live is not None and type(live) is cls:
            return live
        key = super().__new__(cls)
        key._raw = _secp.normalize_public(raw)
        key._node_id = None
        _LIVE[raw] = key
        return key

    def __reduce__(self) -> tuple[type[PublicKey], tuple[bytes]]:
        return (type(self), (self._raw,))

    @classmethod
    def from_bytes(cls, raw: bytes) -> PublicKey:
        return cls(raw)

    @classmethod
    def from_hex(cls, text: str) -> PublicKey:
        try:
            raw = bytes.fromhex(text.removeprefix("0x"))
        except ValueError as e:
            raise InvalidKeyError(f"public key is not hex: {e}") from None
        return cls(raw)

    @classmethod
    def from_coincurve(cls, key: coincurve.PublicKey) -> PublicKey:
        return cls(key.format(compressed=False))

    def to_coincurve(self) -> coincurve.PublicKey:
        import coincurve

        return coincurve.PublicKey(b"\x04" + self._raw)

    def to_bytes(self) -> bytes:
        """The 64-byte X||Y wire form."""
        return self._raw

    def to_compressed(self) -> bytes:
        """The 33-byte compressed form (as ENR's ``secp256k1`` entry holds it)."""
        return _secp.compress(self._raw)

    def to_hex(self) -> str:
        return self._raw.hex()

    @property
    def node_id(self) -> bytes:
        """keccak256 of the 64-byte form: the devp2p node ID."""
        # Kept once computed: lookups and tables ask a node's ID many times over.
        if self._node_id is None:
            self._node_id = keccak.keccak256(self._raw)
        return self._node_id

    def __bytes__(self) -> bytes:
        return self._raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"PublicKey({self._raw[:8].hex()}…)"


class PrivateKey:
    """A secp256k1 private key, held by the Rust core.

    The secret exists as Python bytes only when exported (:meth:`to_bytes`,
    :meth:`to_hex`, :meth:`to_coincurve`); ``repr`` never shows key material.
    """

    __slots__ = ("_key", "_public")

    def __init__(self, secret: bytes | _secp.Secp256k1SecretKey) -> None:
        """Build from a 32-byte secret in [1, n-1].

        Raises:
            InvalidKeyError: the secret is out of range or not 32 bytes.
        """
        self._key = (
            secret
            if isinstance(secret, _secp.Secp256k1SecretKey)
            else _secp.Secp256k1SecretKey(bytes(secret))
        )
        self._public = PublicKey(self._key.public_key())

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(_secp.Secp256k1SecretKey.generate())

    @classmethod
    def from_bytes(cls, secret: bytes) -> PrivateKey:
        return cls(secret)

    @classmethod
    def from_hex(cls, text: str) -> PrivateKey:
        try:
            raw = bytes.fromhex(text.strip().removeprefix("0x"))
        except ValueError:
            raise InvalidKeyError("private key is not hex") from None
        return cls(raw)

    @classmethod
    def from_coincurve(cls, key: coincurve.PrivateKey) -> PrivateKey:
        return cls(key.secret)

    def to_coincurve(self) -> coincurve.PrivateKey:
        import coincurve

        return coincurve.PrivateKey(self._key.to_bytes())

    def to_bytes(self) -> bytes:
        """Export the 32-byte secret."""
        return self._key.to_bytes()

    def to_hex(self) -> str:
        """Export the secret as hex."""
        return self._key.to_bytes().hex()

    @property
    def native(self) -> _secp.Secp256k1SecretKey:
        """The key as the Rust core holds it: pass this to ``peerwire._core`` calls
        that sign, so the secret is not copied into Python bytes."""
        return self._key

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def sign_recoverable(self, msg_hash: bytes) -> bytes:
        """RFC 6979, low-S recoverable signature r||s||v (65 bytes) over a 32-byte hash."""
        return self._key.sign_recoverable(msg_hash)

    def ecdh(self, public: PublicKey) -> bytes:
        """Raw ECDH: the 32-byte X coordinate of secret·public."""
        return self._key.ecdh(public.to_bytes())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrivateKey) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._public)

    def __repr__(self) -> str:
        return f"PrivateKey(public={self._public!r})"


def recover_public_key(msg_hash: bytes, signature: bytes) -> PublicKey:
    """The public key that produced a 65-byte r||s||v signature of ``msg_hash``."""
    return PublicKey(_secp.recover(msg_hash, signature))
