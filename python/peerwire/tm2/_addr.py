"""Dial addresses as the switch and discovery handle them: ``id@host:port``.

gno's ``NewNetAddressFromString`` resolves a hostname with DNS the moment the
string is parsed, once, and keeps the IP for ever (gnolang/gno #2580: a
persistent peer whose IP changes is never found again). Here parsing never
touches the network: a :class:`PeerAddress` keeps the host as written, and the
switch resolves it (through an injected resolver) on every dial.

``validate`` mirrors ``NetAddress.Validate`` (a valid ID; an IP that is not
unspecified, not RFC 3849 documentation space, not the IPv4 broadcast) and is
stricter on one point: port 0 is refused, since nothing listens there.
Loopback and private ranges are accepted on purpose, as gno does: local
networks gossip 127.0.0.1 addresses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from peerwire.errors import DecodeError
from peerwire.tm2._keys import ID, validate_id

__all__ = ["MAX_ADDRESS_LEN", "PeerAddress", "is_ip_literal"]

# Longest "id@host:port" accepted: a bech32 ID (~40 chars), a 253-char DNS
# name and a port. Bounds the work done on strings a peer sends us.
MAX_ADDRESS_LEN = 320

_DOC_NET = ipaddress.ip_network("2001:db8::/32")
_BROADCAST = ipaddress.ip_address("255.255.255.255")


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class PeerAddress:
    """``id@host:port``; ``host`` is an IP literal or a DNS name (not resolved here)."""

    id: ID
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> PeerAddress:
        """Parse ``[scheme://]id@host:port`` (IPv6 hosts in brackets).

        Raises:
            DecodeError: malformed, over-long, bad ID, bad port.
        """
        if not isinstance(text, str) or len(text) > MAX_ADDRESS_LEN:
            raise DecodeError("address too long or not a string")
        if "://" in text:
            text = text.split("://", 1)[1]
        parts = text.split("@")
        if len(parts) != 2:
            raise DecodeError(f"address {text!r} must be id@host:port")
        node_id = validate_id(parts[0])
        hostport = parts[1]
        if hostport.startswith("["):
            end = hostport.find("]")
            if end < 0 or not hostport[end + 1 :].startswith(":"):
                raise DecodeError(f"bad IPv6 address in {text!r}")
            host, port_s = hostport[1:end], hostport[end + 2 :]
            if not is_ip_literal(host):
                raise DecodeError(f"bad IPv6 address in {text!r}")
        else:
            host, sep, port_s = hostport.rpartition(":")
            if not sep or ":" in host:
                raise DecodeError(f"address {text!r} must be id@host:port")
        if not host:
            raise DecodeError(f"empty host in {text!r}")
        if not port_s.isdigit() or len(port_s) > 5 or int(port_s) > 0xFFFF:
            raise DecodeError(f"bad port in {text!r}")
        return cls(node_id, host.lower(), int(port_s))

    @property
    def is_resolved(self) -> bool:
        return is_ip_literal(self.host)

    @property
    def ip(self) -> str:
        """The host, which must be an IP literal (see :meth:`with_ip`)."""
        return self.host

    def with_ip(self, ip: str) -> PeerAddress:
        return PeerAddress(self.id, ip, self.port)

    def dial_string(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.id}@{self.dial_string()}"

    def validate(self) -> None:
        """Raise :class:`DecodeError` unless this is a dialable address (IP literal hosts only)."""
        try:
            ip = ipaddress.ip_address(self.host)
        except ValueError:
            raise DecodeError(f"host {self.host!r} is not an IP address") from None
        if ip.is_unspecified:
            raise DecodeError("unspecified IP")
        if ip == _BROADCAST or (ip.version == 6 and ip in _DOC_NET):
            raise DecodeError(f"non-dialable IP {ip}")
        if self.port == 0:
            raise DecodeError("port 0")

    def is_valid(self) -> bool:
        try:
            self.validate()
        except DecodeError:
            return False
        return True

    def same(self, other: PeerAddress) -> bool:
        """gno's ``Same``: same dial string, or the same ID."""
        return self.id == other.id or self.dial_string() == other.dial_string()
