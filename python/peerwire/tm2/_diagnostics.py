"""The switch's dial diagnostics: TM2 errors as human reasons in a :class:`DialFailureTable`.

TM2 tells a refused peer nothing (no disconnect message): a node that rejects our
NodeInfo just closes. So the reason a user can act on comes from our own side of the
handshake: our check of the remote's NodeInfo is gno's ``CompatibleWith`` (symmetric), and
:class:`~peerwire.tm2.IncompatibleNodeInfoError` carries what
:func:`peerwire.tm2.profiles.explain_incompatibility` says about it. The category is the
one the lifecycle events carry (:func:`peerwire.diagnostics.failure_category`), so the
table and the metrics agree.
"""

from __future__ import annotations

import logging

from peerwire._clock import Clock
from peerwire.diagnostics import DialFailureRecord, DialFailureTable, failure_category
from peerwire.errors import ConnectionClosedError, DecodeError, DialError, FrameError
from peerwire.errors import TimeoutError as PeerwireTimeoutError
from peerwire.events import DialFailureReason, Direction
from peerwire.tm2._errors import (
    IncompatibleNodeInfoError,
    NodeInfoError,
    PeerRefusedError,
    RefusalReason,
    SecretHandshakeError,
)
from peerwire.tm2._lifecycle import dial_failure_reason, handshake_failure_reason, refusal_reason

__all__ = ["SwitchFailures", "describe_failure"]

log = logging.getLogger("peerwire.tm2.dial")

_REFUSALS = {
    RefusalReason.INBOUND_FULL: "no inbound slot left (max_num_inbound_peers)",
    RefusalReason.DUPLICATE: "already connected to this peer",
    RefusalReason.SELF: "the address is our own node",
    RefusalReason.STOPPING: "the switch is stopping",
    RefusalReason.ID_MISMATCH: "the node reached is not the one dialed",
    RefusalReason.REPLACED: "replaced by a simultaneous connection",
}

_DIAL_ERRORS = {
    DialFailureReason.CONNECT_REFUSED: "connection refused: nothing listens at that address",
    DialFailureReason.CONNECT_TIMEOUT: "no TCP connection within the dial timeout",
}


def describe_failure(err: BaseException) -> str:
    """A sentence for a failed TM2 dial or handshake (the error itself is kept beside it)."""
    if isinstance(err, IncompatibleNodeInfoError):
        return err.explanation
    if isinstance(err, PeerRefusedError):
        return _REFUSALS.get(err.reason, str(err))
    if isinstance(err, DialError):
        fixed = _DIAL_ERRORS.get(err.reason) if err.reason is not None else None
        return fixed or str(err)
    if isinstance(err, PeerwireTimeoutError | TimeoutError):
        return "the handshake did not complete in time (secret connection or NodeInfo exchange)"
    if isinstance(err, SecretHandshakeError):
        return f"secret connection handshake failed: {err}"
    if isinstance(err, NodeInfoError):
        return f"bad NodeInfo: {err}"
    if isinstance(err, DecodeError | FrameError):
        return f"handshake failed: {err}"
    if isinstance(err, ConnectionClosedError | OSError):
        # A TM2 node refuses a peer by closing (its NodeInfo check failed, or it is full).
        return "the remote closed the connection during the handshake (it refused us, or is full)"
    return f"{type(err).__name__}: {err}"


class SwitchFailures:
    """The failed dials and handshakes of one switch (``MultiplexSwitch.dial_failures()``)."""

    def __init__(self, clock: Clock) -> None:
        self.table = DialFailureTable(clock, log)

    def dial_failed(
        self, peer_id: str, address: str, err: BaseException, *, persistent: bool, next_retry: float | None
    ) -> DialFailureRecord | None:
        """An outbound dial ended without a peer (``next_retry``: monotonic, persistent peers)."""
        return self.table.failed(
            peer_id=peer_id,
            address=address,
            direction=Direction.OUTBOUND,
            reason=failure_category(dial_failure_reason(err)),
            message=describe_failure(err),
            error=err,
            persistent=persistent,
            next_retry=next_retry,
        )

    def handshake_failed(self, peer_id: str | None, address: str, err: BaseException) -> None:
        """An inbound connection failed its handshake (an incompatible one names the remote)."""
        if peer_id is None and isinstance(err, IncompatibleNodeInfoError) and err.remote_id:
            peer_id = err.remote_id
        self.table.failed(
            peer_id=peer_id,
            address=address,
            direction=Direction.INBOUND,
            reason=failure_category(handshake_failure_reason(err)),
            message=describe_failure(err),
            error=err,
        )

    def refused(
        self,
        peer_id: str,
        address: str,
        inbound: bool,
        reason: RefusalReason,
        *,
        persistent: bool = False,
        next_retry: float | None = None,
    ) -> None:
        """A verified connection the switch did not keep (policy)."""
        err = PeerRefusedError(reason)
        self.table.failed(
            peer_id=peer_id,
            address=address,
            direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
            reason=failure_category(refusal_reason(reason)),
            message=describe_failure(err),
            error=err,
            persistent=persistent,
            next_retry=None if inbound else next_retry,
        )

    def connected(self, peer_id: str) -> None:
        self.table.succeeded(peer_id)
