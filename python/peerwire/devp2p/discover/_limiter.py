"""The per-source flood limiter in front of discovery's signature checks.

Every datagram costs a signature recovery; a token bucket per source address
drops a flood before that work, and the table of sources is an LRU with a
fixed size, so a flood from many addresses keeps memory bounded and honest
sources keep being served.
"""

from __future__ import annotations

from collections import OrderedDict

from peerwire._clock import Clock
from peerwire._net import TokenBucket

__all__ = ["MAX_SOURCES", "SOURCE_BURST", "SOURCE_RATE", "SourceLimiter"]

MAX_SOURCES = 4096
"""Source addresses tracked (LRU): a spoofed-source flood cannot grow the table past this."""
SOURCE_RATE = 50.0
"""Packets per second accepted from one source address (token bucket); a
lookup or revalidation from an honest peer needs a handful..."""
SOURCE_BURST = 50.0
"""...with this burst."""


class SourceLimiter:
    """Token buckets keyed by source ``(ip, port)``, least recently seen evicted first."""

    def __init__(
        self,
        clock: Clock,
        *,
        rate: float = SOURCE_RATE,
        burst: float = SOURCE_BURST,
        max_sources: int = MAX_SOURCES,
    ) -> None:
        self._clock = clock
        self._rate = rate
        self._burst = burst
        self._max = max_sources
        self._buckets: OrderedDict[tuple[str, int], TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, source: tuple[str, int]) -> bool:
        """Take one token for ``source``; False when its bucket is empty."""
        b = self._buckets.get(source)
        if b is None:
            b = TokenBucket(self._rate, self._burst, self._clock)
            self._buckets[source] = b
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(source)
        return b.try_take()
