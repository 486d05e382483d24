"""``NetAddress``: ``<id>@<ip>:<port>`` as gno's ``tm2/pkg/p2p/types/netaddress.go`` reads and writes it."""

from __future__ import annotations

import ipaddress
import socket

from peerwire.errors import DecodeError
from peerwire.tm2._keys import ID, validate_id

__all__ = ["NetAddress"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_RFC3849 = ipaddress.ip_network("2001:db8::/32")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")


def _split_host_port(addr: str) -> tuple[str, str]:
    """Go's ``net.SplitHostPort``."""
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0 or addr[end + 1 : end + 2] != ":":
            raise DecodeError(f"address {addr!r}: missing port or bad brackets")
        host, port = addr[1:end], addr[end + 2 :]
    else:
        i = addr.rfind(":")
        if i < 0:
            raise DecodeError(f"address {addr!r}: missing port")
        host, port = addr[:i], addr[i + 1 :]
        if ":" in host:
            raise DecodeError(f"address {addr!r}: too many colons")
    if "[" in port or "]" in port:
        raise DecodeError(f"address {addr!r}: bad port")
    return host, port


def _parse_ip(host: str) -> IPAddress | None:
    if "%" in host:
        return None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class NetAddress:
    """A peer address: node ID (may be empty), IP and TCP port."""

    __slots__ = ("id", "ip", "port")

    def __init__(self, id: str, ip: IPAddress | str, port: int) -> None:
        self.id: ID = ID(id)
        parsed = _parse_ip(str(ip))
        if parsed is None:
            raise DecodeError(f"not an IP address: {ip!r}")
        self.ip: IPAddress = parsed
        if not 0 <= port <= 0xFFFF:
            raise DecodeError(f"port {port} out of range")
        self.port = port

    @classmethod
    def parse(cls, text: str, *, resolve: bool = True) -> NetAddress:
        """Parse ``[scheme://]<id>@<host>:<port>`` like ``NewNetAddressFromString``.

        A host that is not an IP literal is resolved with DNS (first result), as gno
        does, unless ``resolve`` is False (then it is an error, as in amino decoding).

        Raises:
            DecodeError: the string is not a valid address.
        """
        if "://" in text:
            text = text.split("://", 1)[1]
        parts = text.split("@")
        if len(parts) != 2:
            raise DecodeError(f"invalid net address {text!r}: expected <id>@<host>:<port>")
        node_id = validate_id(parts[0])
        host, port_s = _split_host_port(parts[1])
        if not host:
            raise DecodeError(f"invalid net address {text!r}: empty host")
        if not port_s.isdigit() or not port_s.isascii() or int(port_s) > 0xFFFF:
            raise DecodeError(f"invalid net address {text!r}: bad port {port_s!r}")
        ip = _parse_ip(host)
        if ip is None:
            if not resolve:
                raise DecodeError(f"invalid net address {text!r}: host is not an IP address")
            try:
                infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except OSError as e:
                raise DecodeError(f"unable to look up IP of {host!r}: {e}") from None
            if not infos:
                raise DecodeError(f"unable to look up IP of {host!r}: empty result")
            ip = _parse_ip(str(infos[0][4][0]))
            if ip is None:
                raise DecodeError(f"unable to look up IP of {host!r}")
        return cls(node_id, ip, int(port_s))

    @classmethod
    def from_amino(cls, text: str) -> NetAddress:
        """Decode the amino repr (``UnmarshalAmino``): like :meth:`parse` but hostnames are errors."""
        return cls.parse(text, resolve=False)

    def dial_string(self) -> str:
        """``host:port`` (``net.JoinHostPort``)."""
        if isinstance(self.ip, ipaddress.IPv6Address):
            return f"[{self.ip}]:{self.port}"
        return f"{self.ip}:{self.port}"

    def __str__(self) -> str:
        return f"{self.id}@{self.dial_string()}" if self.id else self.dial_string()

    def __repr__(self) -> str:
        return f"NetAddress({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NetAddress) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash(str(self))

    def validate(self) -> None:
        """gno's ``NetAddress.Validate``: valid ID, specified IP, not RFC 3849, not broadcast.

        Raises:
            DecodeError: the address is not valid.
        """
        validate_id(self.id)
        if self.ip.is_unspecified:
            raise DecodeError(f"{self}: unspecified IP")
        if self.ip in _RFC3849 or self.ip == _BROADCAST:
            raise DecodeError(f"{self}: invalid IP")

    def same(self, other: NetAddress) -> bool:
        """Same dial string, or the same non-empty ID."""
        return self.dial_string() == other.dial_string() or (bool(self.id) and self.id == other.id)
