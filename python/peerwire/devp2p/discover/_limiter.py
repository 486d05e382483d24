"""The per-source flood limiter in front of discovery's signature checks.

Every datagram costs a signature recovery; a token bucket per source address
drops a flood before that work, and the table of sources is an LRU with a
fixed size, so a flood from many addresses keeps memory bounded and honest
sources keep being served.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["MAX_SOURCES", "SOURCE_BURST", "SOURCE_RATE", "SourceLimiter"]

MAX_SOURCES = 4096
"""Source addresses tracked (LRU): a spoofed-source flood cannot grow the table past this."""
SOURCE_RATE = 50.0
"""Packets per second accepted from one source address (token bucket); a
lookup or revalidation from an honest peer needs a handful..."""
SOURCE_BURST = 50.0
"""...with this burst."""


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class SourceLimiter:
    """Token buckets keyed by source ``(ip, port)``, least recently seen evicted first."""

    def __init__(
        self, *, rate: float = SOURCE_RATE, burst: float = SOURCE_BURST, max_sources: int = MAX_SOURCES
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._max = max_sources
        self._buckets: OrderedDict[tuple[str, int], _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, source: tuple[str, int], now: float) -> bool:
        """Take one token for ``source`` at monotonic time ``now``; False when its bucket is empty."""
        b = self._buckets.get(source)
        if b is None:
            b = _Bucket(self._burst, now)
            self._buckets[source] = b
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(source)
            b.tokens = min(self._burst, b.tokens + (now - b.stamp) * self._rate)
            b.stamp = now
        if b.tokens < 1.0:
            return False
        b.tokens -= 1.0
        return True
