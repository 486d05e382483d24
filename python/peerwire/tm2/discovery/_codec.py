"""Discovery messages on channel 0x50 (gno ``discovery/types.go``): amino ``Any``, no size prefix.

``Request{}`` is ``0a 0c "/p2p.Request"``; ``Response{Peers}`` is
``0a 0d "/p2p.Response" 12 <len> (0a <len> "id@ip:port")*`` (proto3
``repeated string peers = 1``). The codec is the Rust core's
(``peerwire._core.tm2``, strict: unknown fields and types are errors); this
module adds the size bound, checked before any parsing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from peerwire._core import tm2 as _tm2
from peerwire.errors import DecodeError

__all__ = [
    "MAX_MESSAGE_SIZE",
    "Request",
    "Response",
    "decode",
    "encode_request",
    "encode_response",
]

# A legitimate Response holds at most 30 addresses of ~60-100 bytes. Anything far
# larger is a peer wasting our CPU and memory: it is dropped before parsing.
MAX_MESSAGE_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    pass


@dataclass(frozen=True, slots=True)
class Response:
    peers: tuple[str, ...]


def encode_request() -> bytes:
    return _tm2.encode_pex_request()


def encode_response(peers: Sequence[str]) -> bytes:
    return _tm2.encode_pex_response(list(peers))


def decode(msg: bytes) -> Request | Response:
    """Raises:
    DecodeError: oversize, malformed, or an unknown message type."""
    if len(msg) > MAX_MESSAGE_SIZE:
        raise DecodeError(f"discovery message of {len(msg)} bytes exceeds {MAX_MESSAGE_SIZE}")
    peers = _tm2.decode_pex(bytes(msg))
    return Request() if peers is None else Response(tuple(peers))
