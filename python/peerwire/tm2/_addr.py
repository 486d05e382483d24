"""``NetAddress``: ``<id>@<host>:<port>``, the one TM2 address type.

Reads and writes the string form of gno's ``tm2/pkg/p2p/types/netaddress.go``
(``net.JoinHostPort``: IPv4 dotted, IPv6 in brackets, IPv4-mapped IPv6 shown
as IPv4). One deliberate difference: gno's ``NewNetAddressFromString``
resolves a hostname with DNS the moment the string is parsed, once, and keeps
the IP for ever (gnolang/gno #2580). Here parsing never touches the network:
the host is kept as written and :meth:`NetAddress.resolve` (async, never
blocking the loop) runs at dial time, on every dial.

Errors have a direction: a string typed by the user that is not an address
raises :class:`AddressError` (a ``ValueError``); an address a *peer* sent
(:meth:`NetAddress.from_amino`) raises :class:`~peerwire.errors.DecodeError`.

``validate`` mirrors ``NetAddress.Validate`` (a valid ID; an IP that is not
unspecified, not RFC 3849 documentation space, not the IPv4 broadcast).
Loopback and private ranges are accepted on purpose, as gno does: local
networks gossip 127.0.0.1 addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from peerwire import _net
from peerwire.errors import DecodeError, DialError, PeerwireError
from peerwire.events import DialFailureReason
from peerwire.tm2._keys import ID, validate_id

__all__ = [
    "MAX_ADDRESS_LEN",
    "AddressError",
    "IPAddress",
    "NetAddress",
    "Resolver",
    "is_ip_literal",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``async (host) -> ip string``; the switch calls it on every dial of a hostname.
Resolver = Callable[[str], Awaitable[str]]

# Longest "scheme://id@host:port" accepted: a bech32 ID (~40 chars), a 253-char DNS
# name, a port and a scheme. Bounds the work done on strings a peer sends us.
MAX_ADDRESS_LEN = 320
#: The switch never lets a DNS lookup hold a dial longer than this.
RESOLVE_TIMEOUT = 5.0

_RFC3849 = ipaddress.ip_network("2001:db8::/32")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")


class AddressError(PeerwireError, ValueError):
    """A string is not a TM2 address (bad input from the user, not from a peer)."""


_parse_ip = _net.parse_ip
is_ip_literal = _net.is_ip_literal


def _split_host_port(addr: str) -> tuple[str, str]:
    """Go's ``net.SplitHostPort``."""
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0 or addr[end + 1 : end + 2] != ":":
            raise AddressError(f"address {addr!r}: missing port or bad brackets")
        host, port = addr[1:end], addr[end + 2 :]
        if _parse_ip(host) is None:
            raise AddressError(f"address {addr!r}: bad IPv6 address")
    else:
        i = addr.rfind(":")
        if i < 0:
            raise AddressError(f"address {addr!r}: missing port")
        host, port = addr[:i], addr[i + 1 :]
        if ":" in host:
            raise AddressError(f"address {addr!r}: too many colons")
    return host, port


async def system_resolver(host: str) -> str:
    """The first IP of ``host`` (IPv4 first), looked up off the loop (:func:`peerwire._net.resolve`).

    Unbounded: the caller owns the deadline (the switch gives it ``RESOLVE_TIMEOUT``).

    Raises:
        DialError: no such host, or no address.
    """
    return (await _net.resolve(host))[0]


@dataclass(frozen=True, slots=True)
class NetAddress:
    """A peer address: node ID (may be empty for a listen address), host and TCP port.

    ``host`` is an IP literal (normalised) or a DNS name kept as written
    (lower-cased); :attr:`ip` is the parsed IP, or None for a hostname.
    """

    id: ID
    host: str
    port: int

    def __init__(self, id: str, host: IPAddress | str, port: int) -> None:
        """Raises:
        AddressError: empty host or port out of range."""
        text = str(host)
        ip = _parse_ip(text)
        norm = str(ip) if ip is not None else text.lower()
        if not norm or len(norm) > MAX_ADDRESS_LEN:
            raise AddressError(f"bad host {text!r}")
        if not isinstance(port, int) or not 0 <= port <= 0xFFFF:
            raise AddressError(f"port {port!r} out of range")
        object.__setattr__(self, "id", ID(id))
        object.__setattr__(self, "host", norm)
        object.__setattr__(self, "port", port)

    @classmethod
    def parse(cls, text: str) -> NetAddress:
        """Parse ``[scheme://]<id>@<host>:<port>`` (IPv6 hosts in brackets); never touches the network.

        Raises:
            AddressError: malformed, over-long, bad ID or bad port.
        """
        if not isinstance(text, str) or len(text) > MAX_ADDRESS_LEN:
            raise AddressError("address too long or not a string")
        if "://" in text:
            text = text.split("://", 1)[1]
        parts = text.split("@")
        if len(parts) != 2:
            raise AddressError(f"invalid net address {text!r}: expected <id>@<host>:<port>")
        try:
            node_id = validate_id(parts[0])
        except DecodeError as e:
            raise AddressError(f"invalid net address {text!r}: {e}") from None
        host, port_s = _split_host_port(parts[1])
        if not host:
            raise AddressError(f"invalid net address {text!r}: empty host")
        if not port_s.isascii() or not port_s.isdigit() or len(port_s) > 5 or int(port_s) > 0xFFFF:
            raise AddressError(f"invalid net address {text!r}: bad port {port_s!r}")
        return cls(node_id, host, int(port_s))

    @classmethod
    def from_amino(cls, text: str) -> NetAddress:
        """Decode an address a peer sent (NodeInfo, discovery): like :meth:`parse`, but a
        hostname is refused (we do not look up names a peer hands us).

        Raises:
            DecodeError: not an ``id@ip:port`` address.
        """
        try:
            addr = cls.parse(text)
        except AddressError as e:
            raise DecodeError(str(e)) from None
        if addr.ip is None:
            raise DecodeError(f"invalid net address {text!r}: host is not an IP address")
        return addr

    @property
    def ip(self) -> IPAddress | None:
        """The IP, or None while the host is a name (see :meth:`resolve`)."""
        return _parse_ip(self.host)

    @property
    def is_resolved(self) -> bool:
        return self.ip is not None

    def with_ip(self, ip: str) -> NetAddress:
        return NetAddress(self.id, ip, self.port)

    async def resolve(self, resolver: Resolver = system_resolver) -> NetAddress:
        """This address with its host resolved to an IP (itself if it already is one).

        Raises:
            DialError: the name did not resolve to an IP.
        """
        if self.is_resolved:
            return self
        ip = await resolver(self.host)
        if not is_ip_literal(ip):
            raise DialError(
                f"resolver returned {ip!r} for {self.host!r}", reason=DialFailureReason.RESOLVE_FAILED
            )
        return self.with_ip(ip)

    def dial_string(self) -> str:
        """``host:port`` (``net.JoinHostPort``)."""
        return _net.join_host_port(self.host, self.port)

    def __str__(self) -> str:
        return f"{self.id}@{self.dial_string()}" if self.id else self.dial_string()

    def __repr__(self) -> str:
        return f"NetAddress({str(self)!r})"

    def validate(self) -> None:
        """gno's ``NetAddress.Validate``: valid ID, an IP (not a name), specified, not RFC 3849,
        not broadcast; and port 0 is refused, since nothing listens there.

        Raises:
            AddressError: the address is not dialable.
        """
        try:
            validate_id(self.id)
        except DecodeError as e:
            raise AddressError(f"{self}: {e}") from None
        ip = self.ip
        if ip is None:
            raise AddressError(f"{self}: host is not an IP address")
        if ip.is_unspecified:
            raise AddressError(f"{self}: unspecified IP")
        if ip in _RFC3849 or ip == _BROADCAST:
            raise AddressError(f"{self}: non-dialable IP")
        if self.port == 0:
            raise AddressError(f"{self}: port 0")

    def is_valid(self) -> bool:
        try:
            self.validate()
        except AddressError:
            return False
        return True

    def same(self, other: NetAddress) -> bool:
        """gno's ``Same``: same dial string, or the same non-empty ID."""
        return self.dial_string() == other.dial_string() or (bool(self.id) and self.id == other.id)
