"""Discovery messages on channel 0x50 (gno ``discovery/types.go``): amino ``Any``, no size prefix.

``Request{}`` is ``0a 0c "/p2p.Request"``; ``Response{Peers}`` is
``0a 0d "/p2p.Response" 12 <len> (0a <len> "id@ip:port")*`` (proto3
``repeated string peers = 1``). Decoding is strict (unknown or repeated
envelope fields, trailing bytes, non-minimal lengths beyond the input are
errors) and bounded by :data:`MAX_MESSAGE_SIZE` before any parsing.
"""

from __future__ import annotations

from dataclasses import dataclass

from peerwire.errors import DecodeError

__all__ = [
    "MAX_MESSAGE_SIZE",
    "REQUEST_URL",
    "RESPONSE_URL",
    "Request",
    "Response",
    "decode",
    "encode_request",
    "encode_response",
]

REQUEST_URL = "/p2p.Request"
RESPONSE_URL = "/p2p.Response"
# A legitimate Response holds at most 30 addresses of ~60-100 bytes. Anything far
# larger is a peer wasting our CPU and memory: it is dropped before parsing.
MAX_MESSAGE_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    pass


@dataclass(frozen=True, slots=True)
class Response:
    peers: tuple[str, ...]


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_bytes(num: int, data: bytes) -> bytes:
    return _uvarint(num << 3 | 2) + _uvarint(len(data)) + data


def encode_request() -> bytes:
    return _field_bytes(1, REQUEST_URL.encode())


def encode_response(peers: list[str] | tuple[str, ...]) -> bytes:
    value = b"".join(_field_bytes(1, p.encode()) for p in peers)
    out = _field_bytes(1, RESPONSE_URL.encode())
    if value:
        out += _field_bytes(2, value)
    return out


def _read_uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    n = 0
    for shift in range(0, 64, 7):
        if pos >= len(buf):
            raise DecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, pos
    raise DecodeError("varint too long")


def _fields(buf: bytes) -> list[tuple[int, bytes]]:
    """Length-delimited fields only (all this protocol has)."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _read_uvarint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire != 2 or num == 0:
            raise DecodeError(f"unexpected field {num} wire type {wire}")
        length, pos = _read_uvarint(buf, pos)
        if length > len(buf) - pos:
            raise DecodeError("field runs past the end")
        out.append((num, buf[pos : pos + length]))
        pos += length
    return out


def decode(msg: bytes) -> Request | Response:
    """Raises:
    DecodeError: oversize, malformed, or an unknown message type."""
    msg = bytes(msg)
    if len(msg) > MAX_MESSAGE_SIZE:
        raise DecodeError(f"discovery message of {len(msg)} bytes exceeds {MAX_MESSAGE_SIZE}")
    fields = _fields(msg)
    nums = [n for n, _ in fields]
    if nums not in ([1], [1, 2]):
        raise DecodeError(f"bad Any envelope fields {nums}")
    try:
        url = fields[0][1].decode("ascii")
    except UnicodeDecodeError:
        raise DecodeError("type URL is not ASCII") from None
    value = fields[1][1] if len(fields) == 2 else b""
    if url == REQUEST_URL:
        if value:
            raise DecodeError("Request carries a value")
        return Request()
    if url == RESPONSE_URL:
        peers: list[str] = []
        for num, data in _fields(value):
            if num != 1:
                raise DecodeError(f"unknown Response field {num}")
            try:
                peers.append(data.decode("utf-8"))
            except UnicodeDecodeError:
                raise DecodeError("peer address is not UTF-8") from None
        return Response(tuple(peers))
    raise DecodeError(f"unknown discovery message type {url!r}")
