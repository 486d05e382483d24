"""How the TM2 switch's errors map onto :mod:`peerwire.events` reasons (by type, never by text).

The switch publishes on the shared :class:`peerwire._lifecycle.LifecycleFeed`
built by :func:`lifecycle_feed`; peers are named by their bech32 ID and
addresses are ``host:port``.
"""

from __future__ import annotations

from peerwire._lifecycle import LifecycleFeed, caused_by
from peerwire.errors import (
    ConnectionClosedError,
    DialError,
    FrameError,
    HandshakeError,
    RemoteProtocolError,
)
from peerwire.errors import TimeoutError as PeerwireTimeoutError
from peerwire.events import DialFailureReason, DropReason, HandshakeFailureReason
from peerwire.tm2._errors import (
    IncompatibleNodeInfoError,
    NodeInfoError,
    PeerRefusedError,
    PongTimeoutError,
    RecvAssemblyTimeoutError,
    RefusalReason,
    WriteTimeoutError,
)

__all__ = [
    "dial_failure_reason",
    "drop_reason",
    "handshake_failure_reason",
    "lifecycle_feed",
    "refusal_reason",
]

_REFUSALS = {
    RefusalReason.INBOUND_FULL: HandshakeFailureReason.TOO_MANY_PEERS,
    RefusalReason.DUPLICATE_IP: HandshakeFailureReason.TOO_MANY_PEERS,  # from that IP
    RefusalReason.DUPLICATE: HandshakeFailureReason.ALREADY_CONNECTED,
    RefusalReason.SELF: HandshakeFailureReason.SELF,
    RefusalReason.STOPPING: HandshakeFailureReason.STOPPED,
    RefusalReason.ID_MISMATCH: HandshakeFailureReason.ID_MISMATCH,
    RefusalReason.REPLACED: HandshakeFailureReason.ALREADY_CONNECTED,
}


def refusal_reason(reason: RefusalReason) -> HandshakeFailureReason:
    """The shared reason for a switch policy refusal."""
    return _REFUSALS[reason]


def handshake_failure_reason(err: BaseException) -> HandshakeFailureReason:
    """Why a connection did not become a peer: the transport's handshake steps, or a refusal."""
    if isinstance(err, PeerRefusedError):
        return refusal_reason(err.reason)
    if isinstance(err, PeerwireTimeoutError | TimeoutError):
        return HandshakeFailureReason.TIMEOUT
    if isinstance(err, IncompatibleNodeInfoError):
        if err.kinds == ("no_common_channels",):
            return HandshakeFailureReason.PROTOCOL_MISMATCH
        return HandshakeFailureReason.INCOMPATIBLE_NODE_INFO
    if isinstance(err, NodeInfoError):
        text = str(err)  # NodeInfoError has one type for gno's several errors; its text is ours
        if "does not match" in text:
            return HandshakeFailureReason.ID_MISMATCH
        if "no common channels" in text:
            return HandshakeFailureReason.PROTOCOL_MISMATCH
        return HandshakeFailureReason.INCOMPATIBLE_NODE_INFO
    if isinstance(err, HandshakeError | FrameError | RemoteProtocolError):
        return HandshakeFailureReason.FAILED
    if isinstance(err, ConnectionClosedError | OSError):
        return HandshakeFailureReason.CONNECTION_CLOSED
    return HandshakeFailureReason.OTHER


def dial_failure_reason(err: BaseException) -> DialFailureReason:
    """Why a dial ended without a peer (resolve, connect, then the transport's handshakes)."""
    if isinstance(err, DialError):
        if isinstance(err.reason, DialFailureReason):
            return err.reason
        return DialFailureReason.CONNECT_REFUSED if caused_by(err, OSError) else DialFailureReason.OTHER
    hs = handshake_failure_reason(err)
    if hs is HandshakeFailureReason.CONNECTION_CLOSED:
        return DialFailureReason.HANDSHAKE_FAILED
    try:
        return DialFailureReason(hs.value)  # the two enums share the values they have in common
    except ValueError:
        return DialFailureReason.OTHER


def drop_reason(err: BaseException | None, *, stopping: bool) -> DropReason:
    """Why an active peer went away, from the error it was stopped for."""
    if err is None:
        return DropReason.STOPPED if stopping else DropReason.REQUESTED
    if isinstance(err, PeerRefusedError):
        return DropReason.DUPLICATE if err.reason is RefusalReason.REPLACED else DropReason.REQUESTED
    if isinstance(
        err,
        PeerwireTimeoutError | TimeoutError | PongTimeoutError | WriteTimeoutError | RecvAssemblyTimeoutError,
    ):
        return DropReason.TIMEOUT
    if isinstance(err, ConnectionClosedError | OSError):
        return DropReason.CONNECTION_CLOSED
    if isinstance(err, RemoteProtocolError):
        return DropReason.PROTOCOL_ERROR
    return DropReason.SERVICE_ERROR


def lifecycle_feed() -> LifecycleFeed:
    """The switch's feed (``transport.dial`` covers the handshakes, so a dial that failed in
    one also publishes the handshake failure)."""
    return LifecycleFeed(
        dial_reason=dial_failure_reason,
        handshake_reason=handshake_failure_reason,
        dial_failure_implies_handshake=True,
    )
