"""The TM2 switch's typed lifecycle feed (:mod:`peerwire.events`) and how its errors map onto reasons.

The switch calls these where a dial starts and ends, a connection is refused
after its handshake, and a peer is added or torn down; consumers subscribe with
:meth:`peerwire.tm2.MultiplexSwitch.subscribe_lifecycle`. Reasons come from
error types, never from error text.
"""

from __future__ import annotations

from peerwire._pubsub import PubSub
from peerwire.errors import (
    ConnectionClosedError,
    DialError,
    FrameError,
    HandshakeError,
    LocalProtocolError,
    RemoteProtocolError,
)
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
from peerwire.tm2._nodeinfo import NodeInfoError

__all__ = ["LifecycleFeed", "dial_failure_reason", "drop_reason", "host_port"]


def host_port(addr: object) -> str:
    """``host:port`` of a TM2 address (``NetAddress`` / ``PeerAddress`` or their ``id@host:port`` text)."""
    dial_string = getattr(addr, "dial_string", None)
    if callable(dial_string):
        return str(dial_string())
    return str(addr).rpartition("@")[2]


# What the dial failure means for the handshake event, when the connection got that far.
_HANDSHAKE_OF_DIAL = {
    DialFailureReason.HANDSHAKE_FAILED: HandshakeFailureReason.FAILED,
    DialFailureReason.HANDSHAKE_TIMEOUT: HandshakeFailureReason.TIMEOUT,
    DialFailureReason.INCOMPATIBLE_NODE_INFO: HandshakeFailureReason.INCOMPATIBLE_NODE_INFO,
    DialFailureReason.ID_MISMATCH: HandshakeFailureReason.ID_MISMATCH,
    DialFailureReason.ALREADY_CONNECTED: HandshakeFailureReason.ALREADY_CONNECTED,
    DialFailureReason.TOO_MANY_PEERS: HandshakeFailureReason.TOO_MANY_PEERS,
    DialFailureReason.SELF: HandshakeFailureReason.SELF,
}


def _refused(err: BaseException) -> bool:
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def dial_failure_reason(err: BaseException) -> DialFailureReason:
    """The reason for an error raised by resolve + ``transport.dial``."""
    if isinstance(err, DialError):
        if isinstance(err.reason, DialFailureReason):
            return err.reason
        if err.reason == "resolve":
            return DialFailureReason.RESOLVE_FAILED
        return DialFailureReason.CONNECT_REFUSED if _refused(err) or err.reason else DialFailureReason.OTHER
    if isinstance(err, NodeInfoError):
        return DialFailureReason.INCOMPATIBLE_NODE_INFO
    if isinstance(err, (HandshakeError, FrameError, RemoteProtocolError, ConnectionClosedError)):
        return DialFailureReason.HANDSHAKE_FAILED
    if isinstance(err, TimeoutError):  # today the switch bounds connect + handshakes together
        return DialFailureReason.CONNECT_TIMEOUT
    if isinstance(err, OSError):
        return DialFailureReason.CONNECT_REFUSED
    return DialFailureReason.OTHER


def drop_reason(
    err: BaseException | None, *, stopping: bool, duplicate: type[BaseException] | None = None
) -> DropReason:
    """The reason a registered peer was torn down, from the error it was stopped for."""
    if stopping:
        return DropReason.STOPPED
    if err is None:
        return DropReason.REQUESTED
    if duplicate is not None and isinstance(err, duplicate):
        return DropReason.DUPLICATE
    if isinstance(err, TimeoutError):
        return DropReason.TIMEOUT
    if isinstance(err, (ConnectionClosedError, ConnectionError, EOFError)):
        return DropReason.CONNECTION_CLOSED
    if isinstance(err, RemoteProtocolError):
        return DropReason.PROTOCOL_ERROR
    if isinstance(err, LocalProtocolError):
        return DropReason.REQUESTED
    return DropReason.SERVICE_ERROR


def _direction(outbound: bool) -> Direction:
    return Direction.OUTBOUND if outbound else Direction.INBOUND


class LifecycleFeed(PubSub[Event]):
    """The switch's :class:`PubSub` of :mod:`peerwire.events`, with one method per fact.

    ``duplicate``: the error type the switch stops a peer with when a simultaneous
    connection replaces it (its drop reason is ``DUPLICATE``).
    """

    __slots__ = ("_duplicate",)

    def __init__(self, duplicate: type[BaseException] | None = None) -> None:
        super().__init__()
        self._duplicate = duplicate

    def dial_started(self, peer_id: str, address: str) -> None:
        self.publish(DialStarted(peer_id or None, address))

    def dial_failed(self, peer_id: str, address: str, err: BaseException) -> None:
        reason = dial_failure_reason(err)
        hs = _HANDSHAKE_OF_DIAL.get(reason)
        if hs is not None:
            self.publish(HandshakeFailed(peer_id or None, address, Direction.OUTBOUND, hs, str(err)))
        self.publish(DialFailed(peer_id or None, address, reason, str(err)))

    def refused(self, peer_id: str, address: str, outbound: bool, reason: HandshakeFailureReason) -> None:
        """A verified connection the switch did not take (policy); outbound, it ends its dial."""
        self.publish(HandshakeFailed(peer_id, address, _direction(outbound), reason))
        if outbound:
            dial = (
                DialFailureReason(reason.value) if reason.value in _DIAL_VALUES else DialFailureReason.OTHER
            )
            self.publish(DialFailed(peer_id, address, dial))

    def peer_added(self, peer_id: str, address: str, outbound: bool) -> None:
        self.publish(PeerAdded(peer_id, address, _direction(outbound)))

    def peer_dropped(
        self, peer_id: str, address: str, outbound: bool, err: BaseException | None, *, stopping: bool
    ) -> None:
        detail = "" if err is None else str(err) or type(err).__name__
        why = drop_reason(err, stopping=stopping, duplicate=self._duplicate)
        self.publish(PeerDropped(peer_id, address, _direction(outbound), why, detail))


_DIAL_VALUES = frozenset(r.value for r in DialFailureReason)
