"""A pure-Python RLPx frame writer: the baseline a Python devp2p stack would write itself.

It follows go-ethereum's ``rlpx`` frame layout (and trinity's / pydevp2p's writers) with the
fastest Python building blocks there are: AES from ``cryptography`` (OpenSSL) or pycryptodome,
and a C keccak that can keep absorbing after a digest (safe-pysha3, or pycryptodome with
``update_after_digest``). peerwire's codec opens what it writes, which is how the benchmark
checks it before timing it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

__all__ = ["PyFrameWriter", "available"]

HEADER_DATA = b"\xc2\x80\x80"  # RLP [0, 0]: capability-id and context-id, unused by devp2p


def _have(mod: str) -> bool:
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


def _keccak_factory() -> Callable[[bytes], Any] | None:
    if _have("sha3"):
        import sha3  # type: ignore[import-untyped,unused-ignore]  # safe-pysha3 ships no stubs

        return lambda seed: sha3.keccak_256(seed)
    if _have("Crypto.Hash"):
        from Crypto.Hash import keccak

        return lambda seed: keccak.new(data=seed, digest_bits=256, update_after_digest=True)
    return None


def _aes_factories() -> (
    tuple[Callable[[bytes], Callable[[bytes], bytes]], Callable[[bytes], Callable[[bytes], bytes]]] | None
):
    """(streaming AES-256-CTR with a zero IV, single-block AES-256-ECB) makers, or ``None``."""
    if _have("cryptography"):
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        def ctr(key: bytes) -> Callable[[bytes], bytes]:
            return Cipher(algorithms.AES256(key), modes.CTR(bytes(16))).encryptor().update

        def ecb(key: bytes) -> Callable[[bytes], bytes]:
            return Cipher(algorithms.AES256(key), modes.ECB()).encryptor().update

        return ctr, ecb
    if _have("Crypto.Cipher"):
        from Crypto.Cipher import AES

        def ctr_pcd(key: bytes) -> Callable[[bytes], bytes]:
            return AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=bytes(16)).encrypt

        def ecb_pcd(key: bytes) -> Callable[[bytes], bytes]:
            return AES.new(key, AES.MODE_ECB).encrypt

        return ctr_pcd, ecb_pcd
    return None


def available() -> str | None:
    """``None`` when the writer can run here, else what is missing."""
    if _keccak_factory() is None:
        return "no keccak that absorbs after a digest (install safe-pysha3 or pycryptodome)"
    if _aes_factories() is None:
        return "no AES (install cryptography or pycryptodome)"
    return None


def _code(code: int) -> bytes:
    """A message code as an RLP unsigned integer."""
    if code == 0:
        return b"\x80"
    if code < 0x80:
        return bytes([code])
    raw = code.to_bytes((code.bit_length() + 7) // 8, "big")
    return bytes([0x80 + len(raw)]) + raw


class PyFrameWriter:
    """Seals messages into RLPx frames, as go-ethereum's ``rlpx.Conn`` writes them (no snappy)."""

    def __init__(self, aes_secret: bytes, mac_secret: bytes, egress_seed: bytes) -> None:
        keccak, aes = _keccak_factory(), _aes_factories()
        if keccak is None or aes is None:
            raise RuntimeError(available())
        ctr, ecb = aes
        self._enc = ctr(aes_secret)
        self._mac_block = ecb(mac_secret)
        self._egress = keccak(egress_seed)

    def _mac(self, sum1: bytes, seed: bytes) -> bytes:
        block = self._mac_block(sum1[:16])
        x = int.from_bytes(block, "big") ^ int.from_bytes(seed[:16], "big")
        self._egress.update(x.to_bytes(16, "big"))
        return bytes(self._egress.digest()[:16])

    def seal(self, code: int, payload: bytes) -> bytes:
        head = _code(code)
        size = len(head) + len(payload)
        header_ct = self._enc(size.to_bytes(3, "big") + HEADER_DATA + bytes(10))
        header_mac = self._mac(self._egress.digest(), header_ct)
        body_ct = self._enc(head + payload + bytes(-size % 16))
        self._egress.update(body_ct)
        seed = self._egress.digest()
        return header_ct + header_mac + body_ct + self._mac(seed, seed)
