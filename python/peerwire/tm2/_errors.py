"""TM2's errors, each with a direction and none with a devp2p disconnect code.

TM2 has no disconnect message: a peer is told nothing, the connection just
closes. So every protocol error raised here has ``disconnect_reason = None``
(the devp2p ``DiscReason`` defaults of :mod:`peerwire.errors` do not apply).

- :class:`PeerRefusedError` is a *policy* refusal (inbound limit, a duplicate
  connection, ourselves): nobody broke the protocol, so it is not a
  ``ProtocolError``. ``reason`` is a :class:`RefusalReason`.
- :class:`Tm2RemoteError` and its subclasses: the remote broke the protocol.
- Bad input from the user (an address string) is :class:`AddressError`, a ``ValueError``.
"""

from __future__ import annotations

import enum

from peerwire.errors import DecodeError, FrameError, HandshakeError, PeerwireError, RemoteProtocolError
from peerwire.tm2._addr import AddressError

__all__ = [
    "AddressError",
    "IncompatibleNodeInfoError",
    "NodeBudgetError",
    "NodeInfoError",
    "PacketDecodeError",
    "PeerRefusedError",
    "PongTimeoutError",
    "RecvAssemblyTimeoutError",
    "RefusalReason",
    "SecretFrameError",
    "SecretHandshakeError",
    "Tm2RemoteError",
    "WriteTimeoutError",
]


class RefusalReason(enum.Enum):
    """Why the switch refused a connection (a decision, not a fault)."""

    INBOUND_FULL = "too many inbound peers"
    DUPLICATE = "already connected"
    DUPLICATE_IP = "peer from this IP already connected"
    SELF = "connection to ourselves"
    STOPPING = "switch is not running"
    ID_MISMATCH = "dialed one ID, reached another"
    REPLACED = "replaced by a simultaneous connection"


class PeerRefusedError(PeerwireError):
    """The switch refused or replaced a connection by policy; ``reason`` says which."""

    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason


class Tm2RemoteError(RemoteProtocolError):
    """The TM2 peer broke the protocol (no disconnect code: TM2 sends none)."""

    default_reason = None


class NodeInfoError(HandshakeError):
    """A NodeInfo is invalid, or incompatible with ours."""

    default_reason = None


class IncompatibleNodeInfoError(NodeInfoError):
    """A valid NodeInfo that fails gno's ``CompatibleWith`` against ours.

    ``explanation`` is the sentence a user can act on (``tm2.profiles.explain_incompatibility``,
    e.g. "gnoland requires version set entries abci, app, bft, blockchain"); ``kinds`` the
    checks that failed (``tm2.profiles.INCOMPATIBILITY_KINDS``). The text is the explanation
    followed by gno's own error in parentheses.
    """

    def __init__(
        self, explanation: str, gno_error: str, kinds: tuple[str, ...] = (), remote_id: str = ""
    ) -> None:
        super().__init__(f"{explanation} ({gno_error})" if explanation != gno_error else gno_error)
        self.explanation = explanation
        self.gno_error = gno_error
        self.kinds = kinds
        #: The remote's ID (its NodeInfo is valid and matches its key; "" if unknown).
        self.remote_id = remote_id


class PacketDecodeError(DecodeError):
    """An MConnection packet that does not decode, or breaks a size or channel rule."""

    default_reason = None


class SecretHandshakeError(HandshakeError):
    """The secret-connection handshake failed (bad key message, low-order point, bad signature)."""

    default_reason = None


class SecretFrameError(FrameError):
    """A secret-connection frame failed to open (bad tag, bad length)."""

    default_reason = None


class PongTimeoutError(Tm2RemoteError):
    """The peer did not answer our ping within ``pong_timeout``."""


class WriteTimeoutError(Tm2RemoteError):
    """The peer did not take our bytes within ``write_timeout``: it stopped reading."""


class RecvAssemblyTimeoutError(Tm2RemoteError):
    """A message stayed incomplete for ``recv_assembly_timeout`` (gno v1.7.1): the peer
    dribbled its packets, or stopped in the middle of it."""


class NodeBudgetError(Tm2RemoteError):
    """The node held more than its budget for all its peers, and this peer held the most."""
