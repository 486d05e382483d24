"""Per-source bounds of discovery v4 against identity churn (issue 12, item 5).

One host cycling through fresh keys and hundreds of source ports looks, to a
limiter keyed by (address, port) or by node ID, like thousands of strangers:
it never trips, every fresh ID earns a node-database row, a ping-back and a
pending reply, and honest peers lose their answers. Everything here is keyed
by what the attacker cannot cheaply multiply: the source IP and its subnet
(/24 for IPv4, /56 for IPv6, the table's own rule for "one operator").

* the flood limiter (``_limiter``) keys its buckets by IP and by subnet, not by port;
* :class:`BondBudget`: how many distinct, not yet bonded node IDs one IP or
  one subnet may have in flight (ping-back + pending reply + DB row) inside a
  window; over it, the ping is still answered but nothing is stored or sent
  back, so the database and pending tables stay bounded per source.

The budget is LRU-bounded in the number of sources it tracks, and a source with
nothing in flight is forgotten.

Loopback sources are exempt unless asked otherwise: they are this machine's own
processes (a testnet, a simulation, a crawler benchmark runs hundreds of nodes on
127.0.0.1), the same reasoning by which go-ethereum's table IP limits skip LAN
addresses (``netutil.AddrIsLAN`` in ``p2p/discover/table.go``).
"""

from __future__ import annotations

import functools
import ipaddress
from collections import OrderedDict

__all__ = [
    "BOND_WINDOW",
    "MAX_BONDING_PER_IP",
    "MAX_BONDING_PER_SUBNET",
    "BondBudget",
    "is_loopback",
    "subnet_of",
]

#: Sources tracked (LRU); an older source starts afresh.
MAX_TRACKED = 4096
#: Not-yet-bonded node IDs one IP may have in flight; more IDs from it are answered but not
#: stored or pinged back (an honest host runs one or two nodes).
MAX_BONDING_PER_IP = 4
#: The same per subnet (a /24 or /56 of honest hosts may run several nodes each).
MAX_BONDING_PER_SUBNET = 16
#: How long an unverified ID counts against its source: longer than a ping-back round trip
#: (its pending reply lasts RESP_TIMEOUT), short enough that an honest restart is not refused.
BOND_WINDOW = 30.0


@functools.lru_cache(maxsize=MAX_TRACKED)  # per packet, from the few sources a node hears
def subnet_of(ip: str) -> str:
    """The /24 (IPv4, IPv4-mapped IPv6 included) or /56 (IPv6) that ``ip`` belongs to."""
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    bits = 24 if addr.version == 4 else 56
    return str(ipaddress.ip_network(f"{addr}/{bits}", strict=False))


@functools.lru_cache(maxsize=MAX_TRACKED)  # per packet, like subnet_of
def is_loopback(ip: str) -> bool:
    """Whether ``ip`` (IPv4-mapped IPv6 included) is a loopback address."""
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


class BondBudget:
    """Distinct unverified node IDs in flight per source IP and per subnet."""

    def __init__(
        self,
        per_ip: int = MAX_BONDING_PER_IP,
        per_subnet: int = MAX_BONDING_PER_SUBNET,
        window: float = BOND_WINDOW,
        *,
        limit_loopback: bool = False,
    ) -> None:
        self._per_ip, self._per_subnet, self._window = per_ip, per_subnet, window
        self._limit_loopback = limit_loopback
        # source -> {node ID: when it started bonding}, oldest first (a plain dict keeps order
        # at half an OrderedDict's size: a node hears from thousands of sources)
        self._by_ip: OrderedDict[str, dict[bytes, float]] = OrderedDict()
        self._by_subnet: OrderedDict[str, dict[bytes, float]] = OrderedDict()

    def _expire(self, ids: dict[bytes, float], now: float) -> None:
        while ids:
            oldest = next(iter(ids))
            if ids[oldest] > now - self._window:
                return
            del ids[oldest]

    def _live(self, table: OrderedDict[str, dict[bytes, float]], key: str, now: float) -> dict[bytes, float]:
        ids = table.get(key)
        if ids is None:
            # A source with nothing in flight is the same as one never seen: forget the least
            # recently seen while they have nothing left, so idle sources hold no memory.
            while table:
                first = next(iter(table.values()))
                self._expire(first, now)
                if first:
                    break
                table.popitem(last=False)
            ids = table[key] = {}
            if len(table) > MAX_TRACKED:
                table.popitem(last=False)
        table.move_to_end(key)
        self._expire(ids, now)
        return ids

    def admit(self, node_id: bytes, ip: str, now: float) -> bool:
        """Whether ``node_id`` from ``ip`` may start bonding (a DB row, a ping-back) now."""
        if not self._limit_loopback and is_loopback(ip):
            return True
        by_ip = self._live(self._by_ip, ip, now)
        by_net = self._live(self._by_subnet, subnet_of(ip), now)
        if node_id in by_ip:
            return True
        if len(by_ip) >= self._per_ip or len(by_net) >= self._per_subnet:
            return False
        by_ip[node_id] = now
        by_net[node_id] = now
        return True

    def verified(self, node_id: bytes, ip: str) -> None:
        """The node proved its endpoint: it no longer counts against its source."""
        for table, key in ((self._by_ip, ip), (self._by_subnet, subnet_of(ip))):
            ids = table.get(key)
            if ids is not None:
                ids.pop(node_id, None)
                if not ids:
                    del table[key]

    def tracked(self) -> tuple[int, int]:
        """How many IPs and subnets the budget holds state for."""
        return len(self._by_ip), len(self._by_subnet)

    def in_flight(self, ip: str) -> int:
        return len(self._by_ip.get(ip, ()))
