"""Dial diagnostics: which peers could not be reached, why, and when they are tried again.

Each devp2p ``Server`` and TM2 ``MultiplexSwitch`` keeps a :class:`DialFailureTable`
(``server.dial_failures()`` / ``switch.dial_failures()``), updated from its own dial and
handshake code paths: an outbound dial that failed, an inbound handshake that failed or
was refused, a peer that connected after failures (its entry is removed). Each entry is
one peer (by node ID; an inbound connection that failed before its ID was known is kept
by remote host) with a :class:`FailureCategory`, a human message (TM2: what
:func:`peerwire.tm2.profiles.explain_incompatibility` says; devp2p: geth's disconnect
reason names), the error text, the number of failures in a row, the first and last
failure, and for persistent (TM2) or static (devp2p) peers the backoff and the time of
the next retry.

Logging, on the stack's logger (``peerwire.tm2.dial`` / ``peerwire.devp2p.dial``):

* the first failure of a peer, and every change of its category, is one WARNING
  (inbound refusals by our own policy, such as "too many peers", are DEBUG);
* a repeat with the same category is DEBUG, except that a persistent peer is reported
  again at WARNING on attempts 2, 4, 8, 16, ... with the attempt count and the next retry,
  so a peer that keeps failing is never silent;
* a peer that connects after failures is one INFO line;
* at most :data:`MAX_WARNINGS_PER_WINDOW` WARNING lines about non-persistent peers per
  :data:`WARNING_WINDOW`; the rest go to DEBUG, and the next WARNING says how many were held.

Failures that are not the peer's fault (the peer is already connected, we are stopping)
are counted by the metrics but not kept or warned about.

Times in a :class:`DialFailureRecord` are UNIX seconds (the stack's clock); the admin RPC
``admin_dialFailures`` renders them as ISO 8601 UTC.
"""

from __future__ import annotations

import enum
import logging
from collections import OrderedDict
from dataclasses import dataclass

from peerwire._clock import Clock
from peerwire.events import DialFailureReason, Direction, HandshakeFailureReason

__all__ = [
    "MAX_DIAL_FAILURE_RECORDS",
    "MAX_FAILURE_TEXT",
    "MAX_WARNINGS_PER_WINDOW",
    "WARNING_WINDOW",
    "DialFailureRecord",
    "DialFailureTable",
    "FailureCategory",
    "failure_category",
]

#: Peers (or remote hosts) the table remembers. Any remote can make us fail a handshake
#: from many addresses; past this bound the entry that failed longest ago (persistent
#: peers last) is dropped, so a flood of failing connections cannot grow memory.
MAX_DIAL_FAILURE_RECORDS = 1024
#: Longest message or error text kept per entry: the text can quote what a peer sent
#: (a moniker, a client name), and must not let one peer make an entry large.
MAX_FAILURE_TEXT = 512
#: WARNING lines about non-persistent peers per window: a scan from many addresses, or
#: a public network where most discovered nodes are full, must not flood the log (the
#: held-back lines go to DEBUG and are counted in the next WARNING).
MAX_WARNINGS_PER_WINDOW = 20
WARNING_WINDOW = 600.0


class FailureCategory(enum.StrEnum):
    """Why a dial or a handshake failed, in few words (a metrics label, a JSON value)."""

    RESOLVE = "resolve"  # the host name did not resolve, or the node has no known address
    REFUSED = "refused"  # the TCP connect was refused (nothing listening)
    TIMEOUT = "timeout"  # no TCP connection, or a handshake step ran out of time
    HANDSHAKE = "handshake"  # the encrypted handshake failed, or the connection closed in it
    INCOMPATIBLE = "incompatible"  # TM2 NodeInfo: version set, major version or network differ
    PROTOCOL = "protocol"  # no capability / channel in common (devp2p "useless peer")
    IDENTITY = "identity"  # the remote is not the node we dialed, or its identity is invalid
    TOO_MANY_PEERS = "too_many_peers"  # either side has no slot left
    ALREADY_CONNECTED = "already_connected"  # a connection to that node exists (or is dialing)
    SELF = "self"  # the address is our own node
    RESTRICTED = "restricted"  # outside net_restrict
    THROTTLED = "throttled"  # the same host connected (or was dialed) again too soon
    STOPPED = "stopped"  # the server / switch is shutting down
    OTHER = "other"


_CATEGORY_OF: dict[str, FailureCategory] = {
    # the two reason enums share their values where they mean the same thing
    "already connected": FailureCategory.ALREADY_CONNECTED,
    "already dialing": FailureCategory.ALREADY_CONNECTED,
    "too many peers": FailureCategory.TOO_MANY_PEERS,
    "connected to self": FailureCategory.SELF,
    "not contained in netrestrict list": FailureCategory.RESTRICTED,
    "recently dialed": FailureCategory.THROTTLED,
    "too many attempts": FailureCategory.THROTTLED,
    "resolve failed": FailureCategory.RESOLVE,
    "connection refused": FailureCategory.REFUSED,
    "connect timeout": FailureCategory.TIMEOUT,
    "handshake timeout": FailureCategory.TIMEOUT,
    "handshake failed": FailureCategory.HANDSHAKE,
    "connection closed": FailureCategory.HANDSHAKE,
    "useless peer": FailureCategory.PROTOCOL,
    "incompatible node info": FailureCategory.INCOMPATIBLE,
    "unexpected identity": FailureCategory.IDENTITY,
    "stopped": FailureCategory.STOPPED,
}

#: Categories that say nothing against the peer: not kept, never warned about.
_NOT_THE_PEERS_FAULT = frozenset({FailureCategory.ALREADY_CONNECTED, FailureCategory.STOPPED})
#: Inbound refusals by our own policy: kept and counted, logged at DEBUG.
_LOCAL_POLICY = frozenset(
    {
        FailureCategory.TOO_MANY_PEERS,
        FailureCategory.THROTTLED,
        FailureCategory.RESTRICTED,
        FailureCategory.SELF,
    }
)


def failure_category(reason: DialFailureReason | HandshakeFailureReason) -> FailureCategory:
    """The category of a lifecycle event's reason (what the metrics label and the table hold)."""
    return _CATEGORY_OF.get(reason.value, FailureCategory.OTHER)


@dataclass(frozen=True, slots=True)
class DialFailureRecord:
    """One peer that failed: a snapshot, times in UNIX seconds."""

    #: Lowercase hex node ID (devp2p) / bech32 ID (TM2); ``None``: an inbound connection
    #: that failed before the remote's ID was known (kept by remote host).
    peer_id: str | None
    #: The remote ``host:port`` of the last failure.
    address: str
    direction: Direction
    reason: FailureCategory
    #: What a user can act on, e.g. "gnoland requires version set entries abci, app, bft, blockchain".
    message: str
    #: The last error as raised (type and text).
    error: str
    #: Failures in a row since the peer was first seen failing (or last connected).
    attempts: int
    first_failure: float
    last_failure: float
    #: When the stack dials the peer again on its own (persistent / static peers), else ``None``.
    next_retry: float | None
    #: Seconds between the last failure and ``next_retry`` (``None`` when not retried).
    backoff: float | None
    #: A TM2 persistent peer or a devp2p static peer.
    persistent: bool


class _Entry:
    __slots__ = (
        "address",
        "attempts",
        "backoff",
        "direction",
        "error",
        "first",
        "last",
        "message",
        "next_retry",
        "peer_id",
        "persistent",
        "reason",
        "warned",
    )

    def __init__(self, peer_id: str | None, now: float) -> None:
        self.peer_id = peer_id
        self.first = now
        self.last = now
        self.attempts = 0
        self.address = ""
        self.direction = Direction.OUTBOUND
        self.reason = FailureCategory.OTHER
        self.message = ""
        self.error = ""
        self.next_retry: float | None = None
        self.backoff: float | None = None
        self.persistent = False
        #: The category last reported at WARNING (None: none yet).
        self.warned: FailureCategory | None = None


def _host(address: str) -> str:
    host = address.rpartition(":")[0] if ":" in address else address
    return host.strip("[]")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_FAILURE_TEXT else text[: MAX_FAILURE_TEXT - 3] + "..."


def _is_escalation(attempts: int) -> bool:
    """Attempts 2, 4, 8, 16, ...: a persistent peer that keeps failing is reported again."""
    return attempts >= 2 and attempts & (attempts - 1) == 0


class DialFailureTable:
    """The failed dials and handshakes of one stack, bounded by :data:`MAX_DIAL_FAILURE_RECORDS`.

    Every method is called from the event loop the stack runs on; none of them blocks.
    """

    def __init__(
        self,
        clock: Clock,
        logger: logging.Logger,
        *,
        max_records: int = MAX_DIAL_FAILURE_RECORDS,
        max_warnings: int = MAX_WARNINGS_PER_WINDOW,
    ) -> None:
        self._clock = clock
        self._log = logger
        self._max = max_records
        self._max_warnings = max_warnings
        # key -> entry, least recently failed first
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._window_start = clock.monotonic()
        self._warnings = 0
        self._held = 0

    def __len__(self) -> int:
        return len(self._entries)

    # -- updates from the stack -------------------------------------------------------------------
    def failed(
        self,
        *,
        peer_id: str | None,
        address: str,
        direction: Direction,
        reason: FailureCategory,
        message: str,
        error: BaseException | str,
        persistent: bool = False,
        next_retry: float | None = None,
    ) -> DialFailureRecord | None:
        """Record one failure (``next_retry``: the stack's monotonic time, or ``None``).

        Returns the entry as it is now, or ``None`` when the failure is not kept (the peer is
        already connected, or the stack is stopping).
        """
        now = self._clock.monotonic()
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        message = _clip(message or text)
        if reason in _NOT_THE_PEERS_FAULT:
            self._log.debug("%s: %s (%s)", self._who(peer_id, address, direction), message, reason.value)
            return None
        key = peer_id or f"@{_host(address)}"
        e = self._entries.get(key)
        if e is None:
            self._make_room()
            e = self._entries[key] = _Entry(peer_id, now)
        self._entries.move_to_end(key)
        e.attempts += 1
        e.last = now
        e.address = address
        e.direction = direction
        e.reason = reason
        e.message = message
        e.error = _clip(text)
        e.persistent = e.persistent or persistent
        e.next_retry = next_retry
        e.backoff = None if next_retry is None else max(0.0, next_retry - now)
        self._report(e)
        return self._snapshot(e, self._wall_offset())

    def succeeded(self, peer_id: str) -> None:
        """``peer_id`` connected: its entry is removed (one INFO line if it had failed)."""
        e = self._entries.pop(peer_id, None)
        if e is not None and e.warned is not None:
            self._log.info(
                "%s connected after %d failed attempt%s (last: %s)",
                peer_id,
                e.attempts,
                "" if e.attempts == 1 else "s",
                e.message,
                extra={"peer": peer_id, "attempts": e.attempts},
            )

    def forget(self, peer_id: str) -> None:
        """Drop ``peer_id``'s entry (it is no longer a peer we dial)."""
        self._entries.pop(peer_id, None)

    # -- reading ------------------------------------------------------------------------------------
    def records(self) -> list[DialFailureRecord]:
        """Every entry, the most recent failure first."""
        offset = self._wall_offset()
        return [self._snapshot(e, offset) for e in reversed(self._entries.values())]

    def get(self, peer_id: str) -> DialFailureRecord | None:
        e = self._entries.get(peer_id)
        return None if e is None else self._snapshot(e, self._wall_offset())

    # -- internals ----------------------------------------------------------------------------------
    def _wall_offset(self) -> float:
        return self._clock.time() - self._clock.monotonic()

    @staticmethod
    def _snapshot(e: _Entry, offset: float) -> DialFailureRecord:
        return DialFailureRecord(
            peer_id=e.peer_id,
            address=e.address,
            direction=e.direction,
            reason=e.reason,
            message=e.message,
            error=e.error,
            attempts=e.attempts,
            first_failure=e.first + offset,
            last_failure=e.last + offset,
            next_retry=None if e.next_retry is None else e.next_retry + offset,
            backoff=e.backoff,
            persistent=e.persistent,
        )

    def _make_room(self) -> None:
        if len(self._entries) < self._max:
            return
        victim = next((k for k, e in self._entries.items() if not e.persistent), None)
        if victim is None:
            victim = next(iter(self._entries))
        del self._entries[victim]

    @staticmethod
    def _who(peer_id: str | None, address: str, direction: Direction) -> str:
        if direction is Direction.INBOUND:
            return f"inbound handshake from {address}" + (f" ({peer_id})" if peer_id else "")
        return f"dial {peer_id}@{address}" if peer_id else f"dial {address}"

    def _report(self, e: _Entry) -> None:
        inbound = e.direction is Direction.INBOUND
        new_reason = e.warned != e.reason
        retry = ""
        if e.next_retry is not None and e.backoff is not None:
            retry = f", next retry in {e.backoff:.1f} s"
        extra = {
            "peer": e.peer_id or "",
            "address": e.address,
            "reason": e.reason.value,
            "attempt": e.attempts,
        }
        who = self._who(e.peer_id, e.address, e.direction)
        if inbound and e.reason in _LOCAL_POLICY:
            self._log.debug("%s refused: %s", who, e.message, extra=extra)
            return
        if new_reason and (e.persistent or self._may_warn()):
            e.warned = e.reason
            kind = "persistent peer, " if e.persistent else ""
            self._log.warning(
                "%s failed: %s (%s; %sattempt %d%s)",
                who,
                e.message,
                e.reason.value,
                kind,
                e.attempts,
                retry,
                extra=extra,
            )
        elif not new_reason and e.persistent and _is_escalation(e.attempts):
            self._log.warning(
                "persistent peer %s@%s still failing after %d attempts: %s (%s%s)",
                e.peer_id,
                e.address,
                e.attempts,
                e.message,
                e.reason.value,
                retry,
                extra=extra,
            )
        else:
            self._log.debug(
                "%s failed: %s (%s; attempt %d%s)",
                who,
                e.message,
                e.reason.value,
                e.attempts,
                retry,
                extra=extra,
            )

    def _may_warn(self) -> bool:
        """Whether one more WARNING about a non-persistent peer fits this window."""
        now = self._clock.monotonic()
        if now - self._window_start >= WARNING_WINDOW:
            if self._held:
                self._log.warning(
                    "%d more dial/handshake failures were logged at DEBUG only in the last %.0f s "
                    "(too many to report; see admin_dialFailures and peerwire_dial_failures_total)",
                    self._held,
                    now - self._window_start,
                )
            self._window_start, self._warnings, self._held = now, 0, 0
        if self._warnings < self._max_warnings:
            self._warnings += 1
            return True
        self._held += 1
        return False
