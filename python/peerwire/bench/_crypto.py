"""Single-core bounds of the raw primitives, and pure-Python baselines, from optional packages.

The bounds come from ``cryptography`` (OpenSSL) when installed, else from pycryptodome; when
neither is installed the comparison is skipped with a note, never an error. Each function
returns ``None`` when its backend is missing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

__all__ = ["aes256_ctr", "chacha20poly1305_roundtrip", "crypto_backend", "keccak_baselines"]


def _have(mod: str) -> bool:
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


def crypto_backend() -> str | None:
    """``"cryptography"``, ``"pycryptodome"`` or ``None``."""
    if _have("cryptography"):
        return "cryptography"
    if _have("Crypto.Cipher"):
        return "pycryptodome"
    return None


def aes256_ctr(key: bytes) -> Callable[[bytes], bytes] | None:
    """A fresh AES-256-CTR keystream application per call (zero IV), or ``None``."""
    backend = crypto_backend()
    if backend == "cryptography":
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        def ctr(data: bytes) -> bytes:
            return Cipher(algorithms.AES256(key), modes.CTR(bytes(16))).encryptor().update(data)

        return ctr
    if backend == "pycryptodome":
        from Crypto.Cipher import AES

        def ctr_pcd(data: bytes) -> bytes:
            return bytes(AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=bytes(16)).encrypt(data))

        return ctr_pcd
    return None


def chacha20poly1305_roundtrip(key: bytes) -> Callable[[bytes], bytes] | None:
    """One AEAD seal and one open of the whole buffer (the secret connection's crypto), or ``None``."""
    nonce = bytes(12)
    backend = crypto_backend()
    if backend == "cryptography":
        from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

        aead = ChaCha20Poly1305(key)

        def rt(data: bytes) -> bytes:
            return aead.decrypt(nonce, aead.encrypt(nonce, data, None), None)

        return rt
    if backend == "pycryptodome":
        from Crypto.Cipher import ChaCha20_Poly1305

        def rt_pcd(data: bytes) -> bytes:
            ct, tag = ChaCha20_Poly1305.new(key=key, nonce=nonce).encrypt_and_digest(data)
            return bytes(ChaCha20_Poly1305.new(key=key, nonce=nonce).decrypt_and_verify(ct, tag))

        return rt_pcd
    return None


def keccak_baselines() -> dict[str, Callable[[bytes], bytes]]:
    """The Python keccak-256 implementations installed here (C-backed, the best Python has)."""
    out: dict[str, Callable[[bytes], bytes]] = {}
    if _have("sha3"):
        import sha3  # type: ignore[import-untyped,unused-ignore]  # safe-pysha3 ships no stubs

        out["safe-pysha3"] = lambda d: bytes(sha3.keccak_256(d).digest())
    if _have("Crypto.Hash"):
        from Crypto.Hash import keccak

        out["pycryptodome"] = lambda d: bytes(keccak.new(digest_bits=256, data=d).digest())
    return out
