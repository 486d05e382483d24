"""The lifecycle feed a stack publishes its :mod:`peerwire.events` on (one per server / switch).

A :class:`LifecycleFeed` is a :class:`~peerwire._pubsub.PubSub` of events with one
method per fact, so a stack's hooks are one line each. The stack supplies how its
errors map onto the reason enums (by type and protocol code, never by text).
"""

from __future__ import annotations

from collections.abc import Callable

from peerwire._pubsub import PubSub
from peerwire.events import (
    DialFailed,
    DialFailureReason,
    DialStarted,
    Direction,
    DropReason,
    Event,
    HandshakeFailed,
    HandshakeFailureReason,
    PeerAdded,
    PeerDropped,
)

__all__ = ["LifecycleFeed", "PeerId", "caused_by", "dial_reason_for", "handshake_reason_for"]

#: A node ID as the stacks hold it: devp2p ``bytes``, TM2 hex ``str``; events carry hex text.
PeerId = bytes | str

_DIAL_VALUES = frozenset(r.value for r in DialFailureReason)
_HANDSHAKE_VALUES = frozenset(r.value for r in HandshakeFailureReason)


def caused_by(err: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``err`` or anything in its cause / context chain is a ``kind``."""
    seen: BaseException | None = err
    for _ in range(32):  # a chain is short; a cycle must not loop forever
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def dial_reason_for(reason: HandshakeFailureReason) -> DialFailureReason:
    """The dial failure a handshake failure of an outbound connection amounts to."""
    if reason.value in _DIAL_VALUES:  # the two enums share the values they have in common
        return DialFailureReason(reason.value)
    if reason is HandshakeFailureReason.CONNECTION_CLOSED:
        return DialFailureReason.HANDSHAKE_FAILED
    return DialFailureReason.OTHER


def handshake_reason_for(reason: DialFailureReason) -> HandshakeFailureReason | None:
    """The handshake failure behind a dial failure, ``None`` when no connection was made."""
    if reason.value in _HANDSHAKE_VALUES:
        return HandshakeFailureReason(reason.value)
    return None


def _hex(peer_id: PeerId | None) -> str | None:
    if peer_id is None or peer_id in (b"", ""):
        return None
    return peer_id.hex() if isinstance(peer_id, bytes) else peer_id


def _direction(inbound: bool) -> Direction:
    return Direction.INBOUND if inbound else Direction.OUTBOUND


class LifecycleFeed(PubSub[Event]):
    """One stack's lifecycle events.

    ``dial_reason`` / ``handshake_reason`` map the stack's errors onto the enums.
    ``dial_failure_implies_handshake``: the stack's dial covers the handshakes (TM2's
    ``transport.dial``), so a dial that failed in a handshake also publishes the
    :class:`HandshakeFailed`; a stack that reports handshake failures itself (devp2p)
    leaves it false.
    """

    __slots__ = ("_dial_reason", "_handshake_reason", "_implies_handshake")

    def __init__(
        self,
        *,
        dial_reason: Callable[[BaseException], DialFailureReason],
        handshake_reason: Callable[[BaseException], HandshakeFailureReason],
        dial_failure_implies_handshake: bool = False,
    ) -> None:
        super().__init__()
        self._dial_reason = dial_reason
        self._handshake_reason = handshake_reason
        self._implies_handshake = dial_failure_implies_handshake

    def dial_started(self, peer_id: PeerId | None, address: str) -> None:
        self.publish(DialStarted(_hex(peer_id), address))

    def dial_failed(self, peer_id: PeerId | None, address: str, err: BaseException) -> None:
        reason = self._dial_reason(err)
        hs = handshake_reason_for(reason) if self._implies_handshake else None
        if hs is not None:
            self.publish(HandshakeFailed(_hex(peer_id), address, Direction.OUTBOUND, hs, str(err)))
        self.publish(DialFailed(_hex(peer_id), address, reason, str(err)))

    def handshake_failed(
        self, peer_id: PeerId | None, address: str, inbound: bool, err: BaseException
    ) -> None:
        reason = self._handshake_reason(err)
        self.publish(HandshakeFailed(_hex(peer_id), address, _direction(inbound), reason, str(err)))

    def refused(self, peer_id: PeerId, address: str, inbound: bool, reason: HandshakeFailureReason) -> None:
        """A verified connection the stack did not take (policy); outbound, that ends its dial."""
        self.publish(HandshakeFailed(_hex(peer_id), address, _direction(inbound), reason))
        if not inbound:
            self.publish(DialFailed(_hex(peer_id), address, dial_reason_for(reason)))

    def peer_added(self, peer_id: PeerId, address: str, inbound: bool) -> None:
        self.publish(PeerAdded(_hex(peer_id) or "", address, _direction(inbound)))

    def peer_dropped(
        self, peer_id: PeerId, address: str, inbound: bool, reason: DropReason, detail: str = ""
    ) -> None:
        self.publish(PeerDropped(_hex(peer_id) or "", address, _direction(inbound), reason, detail))
