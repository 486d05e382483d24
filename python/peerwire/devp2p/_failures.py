"""What the server remembers about a failed connection setup: reasons, not objects.

A raised exception holds its traceback, the traceback holds every frame it
passed through, and those frames hold the dead connection's protocol object
with its receive buffer. Keeping the exception in a diagnostics deque kept up
to 16 MiB per failed peer alive after the peer was gone (issue 12, item 3:
64 failed setups held over 1 GiB). :class:`SetupFailure` copies out the type,
message and reason codes and keeps nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SetupFailure"]

#: Longest message kept per failure: the text of an exception can quote peer
#: input (a Hello's client name, a disconnect reason); the deque stays small.
MAX_FAILURE_MESSAGE = 256


@dataclass(frozen=True, slots=True)
class SetupFailure:
    """A failed or refused setup: the error's type, message and reason codes."""

    kind: type[BaseException]
    message: str
    #: The devp2p ``DiscReason`` the error carried (sent or received), if any.
    disconnect_reason: int | None = None
    #: A policy reason (``DialError.reason``), if any.
    reason: str | None = None
    #: Types of the chained causes (``__cause__``/``__context__``), outermost first.
    causes: tuple[type[BaseException], ...] = ()

    @classmethod
    def of(cls, err: BaseException) -> SetupFailure:
        causes: list[type[BaseException]] = []
        cause = err.__cause__ or err.__context__
        while cause is not None and len(causes) < 8:
            causes.append(type(cause))
            cause = cause.__cause__ or cause.__context__
        disc = getattr(err, "disconnect_reason", None)
        reason = getattr(err, "reason", None)
        return cls(
            kind=type(err),
            message=str(err)[:MAX_FAILURE_MESSAGE],
            disconnect_reason=disc if isinstance(disc, int) else None,
            reason=reason if isinstance(reason, str) else None,
            causes=tuple(causes),
        )

    def is_a(self, cls: type[BaseException]) -> bool:
        """Whether the error (or one of its causes) was a ``cls``."""
        return issubclass(self.kind, cls) or any(issubclass(c, cls) for c in self.causes)

    def __str__(self) -> str:
        return self.message
