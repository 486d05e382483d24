"""Node key files: go-ethereum's ``nodekey`` (64 hex characters) and gno's ``node_key.json``.

Files are written atomically with mode 0600 (created that way, never chmod-ed after the
fact); reading warns when a key file is readable by group or others.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Literal

from peerwire import _net
from peerwire.devp2p import PrivateKey
from peerwire.errors import DecodeError, InvalidKeyError
from peerwire.tm2 import NodeKey

__all__ = [
    "KeyKind",
    "detect_key_kind",
    "ensure_private_dir",
    "load_devp2p_key",
    "load_tm2_key",
    "save_devp2p_key",
    "save_tm2_key",
    "write_private_file",
]

log = logging.getLogger(__name__)

KeyKind = Literal["devp2p", "tm2"]
#: Largest key file read; both formats are well under 1 KiB.
MAX_KEY_FILE = 4096


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) with mode 0700 if missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def write_private_file(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` atomically to ``path`` with mode 0600 (:func:`peerwire._net.write_private_file`).

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
    """
    try:
        _net.write_private_file(path, data, overwrite=overwrite)
    except FileExistsError:
        raise FileExistsError(f"{path} already exists (use --force to replace it)") from None


def _check_mode(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "key file is accessible by group or others; run chmod 600 on it",
            extra={"path": str(path), "mode": oct(mode & 0o777)},
        )


def _read_small(path: Path) -> bytes:
    with path.open("rb") as f:
        data = f.read(MAX_KEY_FILE + 1)
    if len(data) > MAX_KEY_FILE:
        raise DecodeError(f"{path}: too large to be a key file")
    return data


def load_devp2p_key(path: Path) -> PrivateKey:
    """geth's ``crypto.LoadECDSA``: 64 hex characters, optionally followed by whitespace."""
    data = _read_small(path)
    _check_mode(path)
    text = data.decode("ascii", "replace")
    head, tail = text[:64], text[64:]
    if len(head) < 64:
        raise DecodeError(f"{path}: key file too short, want 64 hex characters")
    if tail.strip():
        raise DecodeError(f"{path}: key file too long, want 64 hex characters")
    try:
        return PrivateKey.from_hex(head)
    except InvalidKeyError:
        raise InvalidKeyError(f"{path}: not a valid secp256k1 private key") from None


def save_devp2p_key(key: PrivateKey, path: Path, *, overwrite: bool = False) -> None:
    """geth's ``crypto.SaveECDSA`` layout: hex, no newline, mode 0600."""
    write_private_file(path, key.to_hex().encode(), overwrite=overwrite)


def load_tm2_key(path: Path) -> NodeKey:
    _read_small(path)
    _check_mode(path)
    return NodeKey.load(path)


def save_tm2_key(key: NodeKey, path: Path, *, overwrite: bool = False) -> None:
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists (use --force to replace it)")
    ensure_private_dir(path.parent)
    key.save(path)


def detect_key_kind(path: Path) -> KeyKind:
    """Which stack a key file belongs to, from its content."""
    data = _read_small(path).strip()
    if data.startswith(b"{"):
        return "tm2"
    if len(data) == 64:
        return "devp2p"
    raise DecodeError(f"{path}: neither a devp2p nodekey (64 hex) nor a TM2 node_key.json")
