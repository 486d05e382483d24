"""Address rules shared by the discovery protocols (go-ethereum ``p2p/netutil``).

Which IPs a node may relay to which sender (``check_relay_addr``) and the
conversions between the wire's packed IPs and the text form the socket and
the node database use. Nothing here touches the network.
"""

from __future__ import annotations

import functools
import ipaddress

from peerwire import kad

__all__ = ["check_relay_addr", "ip_bytes", "ip_str", "norm_ip"]

_SPECIAL4 = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "192.0.0.0/29",
        "192.0.0.9/32",
        "192.0.0.170/31",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "255.255.255.255/32",
    )
]
_SPECIAL6 = [
    ipaddress.ip_network(n)
    for n in ("100::/64", "2001::/32", "2001:1::1/128", "2001:2::/48", "2001:3::/32", "2001:4:112::/48")
]


def _is_special(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip.is_multicast:
        return True
    nets = _SPECIAL4 if ip.version == 4 else _SPECIAL6
    return any(ip in n for n in nets)


#: (sender, address) verdicts remembered: each Neighbors answer checks up to 16 pairs, with
#: the same few senders and table entries again and again. An LRU, bounded against floods.
RELAY_CACHE_SIZE = 8192


@functools.lru_cache(maxsize=RELAY_CACHE_SIZE)
def check_relay_addr(sender: str, addr: str) -> str | None:
    """geth ``netutil.CheckRelayAddr``: why ``addr`` may not be relayed to ``sender`` (None = fine)."""
    try:
        a = ipaddress.ip_address(addr)
        s = ipaddress.ip_address(sender)
    except ValueError:
        return "invalid IP"
    if a.is_unspecified:
        return "unspecified address"
    if _is_special(a):
        return "special network"
    if a.is_loopback and not s.is_loopback:
        return "loopback address from non-loopback host"
    if kad.is_lan(addr) and not kad.is_lan(sender):
        return "LAN address from WAN host"
    return None


#: Packed <-> text conversions remembered: every packet converts its sender and every
#: Neighbors entry, from the few hundred addresses a node talks to. An LRU, bounded against
#: floods from many sources.
CONVERSION_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=CONVERSION_CACHE_SIZE)
def ip_str(raw: bytes) -> str | None:
    """The text form of a packed 4- or 16-byte IP (IPv4-mapped IPv6 as IPv4); None if malformed."""
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if len(raw) == 16:
        v6 = ipaddress.IPv6Address(raw)
        return str(v6.ipv4_mapped or v6)
    return None


@functools.lru_cache(maxsize=CONVERSION_CACHE_SIZE)
def ip_bytes(ip: str) -> bytes:
    """The packed form of ``ip`` (IPv4-mapped IPv6 packed as 4 bytes)."""
    a = ipaddress.ip_address(ip)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return a.packed


def norm_ip(ip: str) -> str:
    """One text form per address, so (ID, IP) keys match whatever the socket reported."""
    if ":" not in ip:
        return ip  # dotted IPv4 as the socket reports it: already normal (hot path)
    a = ipaddress.ip_address(ip)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        return str(a.ipv4_mapped)
    return str(a)
