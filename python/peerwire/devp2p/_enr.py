"""Ethereum Node Records (EIP-778), "v4" identity scheme, and the local record.

The codec and the signature scheme live in the Rust core
(``peerwire._core.enr``); this module gives them a Pythonic face.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._core import enr as _enr
from peerwire._core import rlp as _rlp
from peerwire.devp2p._keys import PrivateKey, PublicKey
from peerwire.errors import DecodeError

__all__ = ["ENR", "SIZE_LIMIT", "LocalNode"]

SIZE_LIMIT: int = _enr.SIZE_LIMIT
"""Largest encoded record (EIP-778)."""

_PREDEFINED = {b"id", b"secp256k1", b"ip", b"ip6", b"tcp", b"udp", b"tcp6", b"udp6"}


def _key(k: bytes | str) -> bytes:
    return k.encode() if isinstance(k, str) else bytes(k)


def _ip_bytes(ip: str, version: int) -> bytes:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        raise DecodeError(f"invalid IP address {ip!r}") from None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None and version == 4:
        addr = addr.ipv4_mapped
    if addr.version != version:
        raise DecodeError(f"{ip!r} is not an IPv{version} address")
    return addr.packed


class ENR:
    """A node record. Immutable; equality is byte equality of the encoding.

    ``rec[key]`` returns the value of an entry: the content of an RLP string
    (``rec[b"ip"] == b"\\x7f\\x00\\x00\\x01"``) or, for a list value, its raw
    RLP encoding. ``rec.raw_value(key)`` always gives the raw RLP.
    """

    __slots__ = ("_rec", "_verified")

    def __init__(self, rec: _enr.Record) -> None:
        self._rec = rec
        self._verified = False

    # ------------------------------------------------------------ creating
    @classmethod
    def decode(cls, data: str | bytes, *, verify: bool = True) -> ENR:
        """Decode ``enr:…`` text or the RLP bytes; verify the v4 signature by default.

        Raises:
            DecodeError: malformed, unsorted/duplicate keys, or over 300 bytes.
            InvalidKeyError: the signature (or identity scheme) is invalid.
        """
        if isinstance(data, str):
            rec = _enr.Record.from_text(data.strip())
        else:
            rec = _enr.Record.decode(bytes(data))
        out = cls(rec)
        if verify:
            out.verify()
        return out

    @classmethod
    def build(
        cls,
        key: PrivateKey,
        seq: int = 1,
        *,
        ip: str | None = None,
        udp: int | None = None,
        tcp: int | None = None,
        ip6: str | None = None,
        udp6: int | None = None,
        tcp6: int | None = None,
        extra: Mapping[str, Any] | Mapping[bytes, Any] | Mapping[bytes | str, Any] | None = None,
    ) -> ENR:
        """Build and sign a v4 record (RFC 6979, low S).

        ``extra`` values are RLP-encoded: bytes, ints and (nested) lists of
        them. Raises LocalProtocolError when the record exceeds 300 bytes.
        """
        pairs: dict[bytes, bytes] = {}
        if ip is not None:
            pairs[b"ip"] = _rlp.encode(_ip_bytes(ip, 4))
        if ip6 is not None:
            pairs[b"ip6"] = _rlp.encode(_ip_bytes(ip6, 6))
        for name, port in ((b"udp", udp), (b"tcp", tcp), (b"udp6", udp6), (b"tcp6", tcp6)):
            if port is not None:
                if not 0 <= port <= 0xFFFF:
                    raise ValueError(f"port {port} out of range")
                pairs[name] = _rlp.encode(port)
        for k, v in (extra or {}).items():
            pairs[_key(k)] = _rlp.encode(v)
        return cls(_enr.Record.sign_v4(key.native, seq, sorted(pairs.items())))

    # ------------------------------------------------------------ reading
    def verify(self) -> None:
        """Check the v4 signature (high-S rejected). Raises InvalidKeyError."""
        # The record's bytes never change: one good check stands (decode, then
        # Node.from_record, each verified the same record before).
        if not self._verified:
            self._rec.verify_v4()
            self._verified = True

    @property
    def seq(self) -> int:
        return self._rec.seq

    @property
    def signature(self) -> bytes:
        return self._rec.signature

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(self._rec.public_key())

    @property
    def node_id(self) -> bytes:
        return self._rec.node_id()

    @property
    def ip(self) -> str | None:
        raw = self._rec.get_ip(b"ip")
        return None if raw is None else str(ipaddress.IPv4Address(raw))

    @property
    def ip6(self) -> str | None:
        raw = self._rec.get_ip(b"ip6")
        return None if raw is None else str(ipaddress.IPv6Address(raw))

    @property
    def udp(self) -> int | None:
        return self._rec.get_port(b"udp")

    @property
    def tcp(self) -> int | None:
        return self._rec.get_port(b"tcp")

    @property
    def udp6(self) -> int | None:
        """``udp6``, falling back to ``udp`` as EIP-778 says."""
        v = self._rec.get_port(b"udp6")
        return self.udp if v is None else v

    @property
    def tcp6(self) -> int | None:
        v = self._rec.get_port(b"tcp6")
        return self.tcp if v is None else v

    def raw_value(self, key: bytes | str) -> bytes | None:
        return self._rec.raw_value(_key(key))

    def __getitem__(self, key: bytes | str) -> bytes:
        raw = self._rec.raw_value(_key(key))
        if raw is None:
            raise KeyError(key)
        value = _rlp.decode(raw)
        return value if isinstance(value, bytes) else raw

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, bytes | str):
            return False
        return self._rec.raw_value(_key(key)) is not None

    def keys(self) -> list[bytes]:
        return [k for k, _ in self._rec.pairs()]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.keys())

    def to_bytes(self) -> bytes:
        return self._rec.raw

    def __bytes__(self) -> bytes:
        return self._rec.raw

    def __str__(self) -> str:
        return self._rec.to_text()

    def __repr__(self) -> str:
        keys = ",".join(k.decode(errors="replace") for k in self.keys())
        return f"ENR(seq={self.seq}, id={self.node_id.hex()[:16]}…, keys={keys})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ENR) and other._rec.raw == self._rec.raw

    def __hash__(self) -> int:
        return hash(self._rec.raw)

    @property
    def _core(self) -> _enr.Record:
        return self._rec


class LocalNode:
    """Our own record: signed with our key, seq bumped and re-signed on change.

    The first seq is the current UNIX time in milliseconds (geth
    ``DB.localSeq``) unless a stored seq is given; every change bumps it by
    one and reports it through ``store_seq`` so it survives restarts.
    """

    def __init__(
        self,
        key: PrivateKey,
        *,
        seq: int | None = None,
        clock: Clock = SYSTEM_CLOCK,
        store_seq: Callable[[int], None] | None = None,
    ) -> None:
        self._key = key
        self._store = store_seq
        self._fields: dict[str, Any] = {}
        self._extra: dict[bytes | str, Any] = {}
        self._seq = int(clock.time() * 1000) if seq is None else seq
        self._record = self._sign()
        if self._store is not None:
            self._store(self._seq)

    def _sign(self) -> ENR:
        return ENR.build(self._key, self._seq, extra=self._extra, **self._fields)

    @property
    def key(self) -> PrivateKey:
        return self._key

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def record(self) -> ENR:
        return self._record

    def update(self, **fields: Any) -> ENR:
        """Set or clear (``None``) predefined entries: ip, ip6, udp, tcp, udp6, tcp6."""
        new = dict(self._fields)
        for k, v in fields.items():
            if k.encode() not in _PREDEFINED or k in ("id", "secp256k1"):
                raise ValueError(f"not a settable predefined key: {k}")
            if v is None:
                new.pop(k, None)
            else:
                new[k] = v
        return self._apply(new, self._extra)

    def set_extra(self, key: bytes | str, value: Any) -> ENR:
        """Set (or with ``None`` delete) a non-predefined entry."""
        k = _key(key)
        if k in _PREDEFINED:
            raise ValueError(f"use update() for predefined key {k!r}")
        extra = dict(self._extra)
        if value is None:
            extra.pop(k, None)
        else:
            extra[k] = value
        return self._apply(self._fields, extra)

    def _apply(self, fields: dict[str, Any], extra: dict[bytes | str, Any]) -> ENR:
        if fields == self._fields and extra == self._extra:
            return self._record
        old = (self._fields, self._extra, self._seq)
        self._fields, self._extra, self._seq = fields, extra, self._seq + 1
        try:
            self._record = self._sign()
        except Exception:
            self._fields, self._extra, self._seq = old
            raise
        if self._store is not None:
            self._store(self._seq)
        return self._record
