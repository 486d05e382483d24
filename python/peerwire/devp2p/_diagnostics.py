"""The server's dial diagnostics: devp2p errors as human reasons in a :class:`DialFailureTable`.

A devp2p remote that refuses us says why with a Disconnect; its reason is named as geth
names it (``DiscReason``: "too many peers", "useless peer", ...), and so is a refusal of
ours. The category is the one the lifecycle events carry
(:func:`peerwire.diagnostics.failure_category`), so the table and the metrics agree.
"""

from __future__ import annotations

import logging

from peerwire._clock import Clock
from peerwire._lifecycle import caused_by
from peerwire.devp2p._base import DiscReason
from peerwire.devp2p._dial import FailedDial
from peerwire.devp2p._hello import Hello
from peerwire.devp2p._lifecycle import dial_failure_reason, handshake_failure_reason
from peerwire.diagnostics import DialFailureTable, failure_category
from peerwire.errors import ConnectionClosedError, DialError, PeerwireError, RefusedError
from peerwire.events import DialFailureReason, Direction, HandshakeFailureReason

__all__ = ["ServerFailures", "describe_failure", "useless_peer_note"]

log = logging.getLogger("peerwire.devp2p.dial")


def describe_failure(err: BaseException) -> str:
    """A sentence for a failed devp2p dial or handshake (the error itself is kept beside it)."""
    disc = getattr(err, "disconnect_reason", None)
    if isinstance(err, RefusedError) and disc is not None:
        if err.by_remote:
            return f"the remote disconnected: {DiscReason.from_wire(int(disc))}"
        return f"we refused the connection: {str(err).removeprefix('rejected: ')}"
    if isinstance(err, PeerwireError) and isinstance(disc, int):  # e.g. an unexpected identity
        name = str(DiscReason.from_wire(disc))
        return str(err) if str(err) == name else f"{name}: {err}"
    if caused_by(err, ConnectionRefusedError) or (
        isinstance(err, DialError) and err.reason is DialFailureReason.CONNECT_REFUSED
    ):
        return "connection refused: nothing listens at that address"
    if isinstance(err, DialError):
        return str(err)
    if isinstance(err, TimeoutError):
        return "timed out (TCP connect, RLPx handshake or Hello exchange)"
    if isinstance(err, ConnectionClosedError | OSError):
        return f"the connection closed during the handshake ({err or type(err).__name__})"
    if isinstance(err, PeerwireError):
        return f"handshake failed: {err}"
    return f"{type(err).__name__}: {err}"


def useless_peer_note(reason: DiscReason, hello: Hello) -> str:
    """What a useless peer offered (capabilities can be long: the first few)."""
    if reason is not DiscReason.USELESS_PEER:
        return ""
    caps = ", ".join(f"{n}/{v}" for n, v in list(hello.caps)[:8]) or "nothing"
    return f" ({hello.name[:64]} offers {caps})"


class ServerFailures:
    """The failed dials and handshakes of one server (``Server.dial_failures()``)."""

    def __init__(self, clock: Clock) -> None:
        self.table = DialFailureTable(clock, log)

    def dial_failed(self, peer_id: str, address: str, failed: FailedDial) -> None:
        self.table.failed(
            peer_id=peer_id,
            address=address,
            direction=Direction.OUTBOUND,
            reason=failure_category(dial_failure_reason(failed.error)),
            message=describe_failure(failed.error),
            error=failed.error,
            persistent=failed.static,
            next_retry=failed.retry_at,
        )

    def handshake_failed(
        self,
        peer_id: str | None,
        address: str,
        err: BaseException,
        reason: HandshakeFailureReason | None = None,
        *,
        static: bool = False,
    ) -> None:
        """An inbound connection failed or was refused (``reason``: the one already decided)."""
        self.table.failed(
            peer_id=peer_id,
            address=address,
            direction=Direction.INBOUND,
            reason=failure_category(reason or handshake_failure_reason(err)),
            message=describe_failure(err),
            error=err,
            persistent=static,
        )

    def connected(self, peer_id: str) -> None:
        self.table.succeeded(peer_id)
