"""The per-source flood limiter in front of discovery's signature checks.

Every datagram costs a signature recovery; a token bucket per source IP, and
one per subnet (/24, /56), drop a flood before that work. The port is not
part of the key: one host cycling through 600 source ports is one source
(issue 12, item 5). Loopback sources pass unless ``limit_loopback`` (see
``_v4limits``: they are this machine's own nodes). The tables are LRUs with a fixed size, so a flood from
many addresses keeps memory bounded and honest sources keep being served.
"""

from __future__ import annotations

from collections import OrderedDict

from peerwire._clock import Clock
from peerwire._net import TokenBucket
from peerwire.devp2p.discover._v4limits import is_loopback, subnet_of

__all__ = ["MAX_SOURCES", "SOURCE_BURST", "SOURCE_RATE", "SUBNET_BURST", "SUBNET_RATE", "SourceLimiter"]

MAX_SOURCES = 4096
"""Source addresses tracked (LRU): a spoofed-source flood cannot grow the table past this."""
SOURCE_RATE = 50.0
"""Packets per second accepted from one source address (token bucket); a
lookup or revalidation from an honest peer needs a handful..."""
SOURCE_BURST = 50.0
"""...with this burst."""
SUBNET_RATE = 200.0
"""Packets per second from one /24 (IPv4) or /56 (IPv6): a few honest hosts may share one..."""
SUBNET_BURST = 200.0
"""...with this burst."""


class _Buckets:
    """Token buckets by key, least recently seen evicted first."""

    def __init__(self, clock: Clock, rate: float, burst: float, max_keys: int) -> None:
        self._clock, self._rate, self._burst, self._max = clock, rate, burst, max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> bool:
        b = self._buckets.get(key)
        if b is None:
            # A full bucket is the same as none: forget the least recently seen sources whose
            # buckets have refilled, so sources heard once long ago hold no memory.
            while self._buckets and next(iter(self._buckets.values())).full:
                self._buckets.popitem(last=False)
            b = TokenBucket(self._rate, self._burst, self._clock)
            self._buckets[key] = b
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return b.try_take()


class SourceLimiter:
    """Token buckets keyed by source IP and by its subnet (the source port is ignored)."""

    def __init__(
        self,
        clock: Clock,
        *,
        rate: float = SOURCE_RATE,
        burst: float = SOURCE_BURST,
        max_sources: int = MAX_SOURCES,
        limit_loopback: bool = False,
    ) -> None:
        self._limit_loopback = limit_loopback
        self._ips = _Buckets(clock, rate, burst, max_sources)
        self._subnets = _Buckets(clock, max(rate, SUBNET_RATE), max(burst, SUBNET_BURST), max_sources)

    def __len__(self) -> int:
        return len(self._ips)

    def allow(self, source: tuple[str, int]) -> bool:
        """Take one token for ``source``'s IP and subnet; False when either bucket is empty."""
        ip = source[0]
        if not self._limit_loopback and is_loopback(ip):
            return True
        return self._ips.take(ip) and self._subnets.take(subnet_of(ip))
