"""Kademlia XOR-distance helpers and the routing table (Rust core).

``log_distances`` computes over a numpy ``(N, 32) uint8`` array in one call:
the IDs cross into Rust as one buffer, not N Python objects.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from peerwire._core import kad as _kad

__all__ = [
    "BUCKET_SIZE",
    "AddResult",
    "MAX_REPLACEMENTS",
    "N_BUCKETS",
    "Table",
    "is_lan",
    "log_distance",
    "log_distances",
]

BUCKET_SIZE: int = _kad.BUCKET_SIZE
N_BUCKETS: int = _kad.N_BUCKETS
MAX_REPLACEMENTS: int = _kad.MAX_REPLACEMENTS
Table = _kad.Table
AddResult = _kad.AddResult
is_lan = _kad.is_lan


def log_distance(a: bytes, b: bytes) -> int:
    """256 minus the leading zero bits of ``a XOR b`` (0 when equal); 32-byte IDs."""
    return _kad.log_distance(a, b)


def log_distances(target: bytes, ids: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint16]:
    """Log distances from ``target`` to every row of an ``(N, 32)`` uint8 array."""
    arr = np.ascontiguousarray(ids, dtype=np.uint8)
    if arr.ndim != 2 or arr.shape[1] != 32:
        raise ValueError(f"ids must have shape (N, 32), got {arr.shape}")
    out = _kad.log_distances(target, arr)
    return np.frombuffer(out, dtype=np.uint16)
