"""Byte budgets shared by all peers of one node (issue 12: memory bounded per node).

A per-peer bound stops one peer, not many: 40 peers each just under their own bound
still add up. A :class:`NodeBudget` counts what every peer of a node holds for one
purpose (decoded messages waiting for handlers, say). When a charge takes the node
over its limit, the holder with the most bytes is ended through the callback it
registered: a flood costs the flooder, not whichever peer's message arrives next.
An ended holder's bytes stop counting against the others at once (they are freed
when it releases them, a moment later).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["NodeBudget"]


class NodeBudget:
    """Bytes the peers of one node may hold together; over the limit, the largest holder ends."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a budget needs a positive limit")
        self.limit = limit
        self._held: dict[object, int] = {}
        self._end: dict[object, Callable[[], None]] = {}
        self._ending: set[object] = set()
        self._used = 0  # held by holders not being ended (kept, not summed: charged per message)
        #: Holders ended because the node went over its limit.
        self.ended = 0

    @property
    def used(self) -> int:
        """Bytes held by holders that are not being ended."""
        return self._used

    def register(self, holder: object, end: Callable[[], None]) -> None:
        """``end()`` is called (once) if ``holder`` must go to bring the node under its limit."""
        self._end[holder] = end

    def charge(self, holder: object, n: int) -> None:
        """Count ``n`` more bytes for ``holder``; over the limit, end the largest holders."""
        self._held[holder] = self._held.get(holder, 0) + n
        if holder not in self._ending:
            self._used += n
        while self._used > self.limit:
            victim = max((h for h in self._held if h not in self._ending), key=self._held.__getitem__)
            self._ending.add(victim)
            self._used -= self._held[victim]
            self.ended += 1
            end = self._end.get(victim)
            if end is not None:
                end()

    def release(self, holder: object, n: int) -> None:
        had = self._held.get(holder, 0)
        n = min(n, had)
        if holder not in self._ending:
            self._used -= n
        if had - n > 0:
            self._held[holder] = had - n
        else:
            self._held.pop(holder, None)

    def forget(self, holder: object) -> None:
        """``holder`` is gone: whatever it still held is freed."""
        had = self._held.pop(holder, 0)
        if holder not in self._ending:
            self._used -= had
        self._end.pop(holder, None)
        self._ending.discard(holder)
