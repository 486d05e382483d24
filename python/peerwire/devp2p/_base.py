"""Base-protocol vocabulary: disconnect reasons, capabilities, messages, events, flags."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from peerwire._core import p2p_base

__all__ = [
    "BASE_PROTOCOL_LENGTH",
    "BASE_PROTOCOL_VERSION",
    "Cap",
    "ConnFlag",
    "DiscReason",
    "Msg",
    "PeerEvent",
    "PeerEventType",
]

BASE_PROTOCOL_VERSION: int = p2p_base.BASE_PROTOCOL_VERSION
BASE_PROTOCOL_LENGTH: int = p2p_base.BASE_PROTOCOL_LENGTH
SNAPPY_PROTOCOL_VERSION: int = p2p_base.SNAPPY_PROTOCOL_VERSION

HELLO_MSG = 0x00
DISC_MSG = 0x01
PING_MSG = 0x02
PONG_MSG = 0x03

EMPTY_LIST = b"\xc0"

# go-ethereum's timing constants (p2p/peer.go, p2p/server.go, p2p/transport.go).
PING_INTERVAL = 15.0
FRAME_READ_TIMEOUT = 30.0
FRAME_WRITE_TIMEOUT = 20.0
DISC_WRITE_TIMEOUT = 1.0
HANDSHAKE_TIMEOUT = 5.0
DIAL_TIMEOUT = 15.0


class DiscReason(enum.IntEnum):
    """Why a devp2p connection ended (``p2p/peer_error.go``); ``str()`` gives geth's text."""

    REQUESTED = 0x00
    NETWORK_ERROR = 0x01
    PROTOCOL_ERROR = 0x02
    USELESS_PEER = 0x03
    TOO_MANY_PEERS = 0x04
    ALREADY_CONNECTED = 0x05
    INCOMPATIBLE_VERSION = 0x06
    INVALID_IDENTITY = 0x07
    QUITTING = 0x08
    UNEXPECTED_IDENTITY = 0x09
    SELF = 0x0A
    READ_TIMEOUT = 0x0B
    SUBPROTOCOL_ERROR = 0x10
    INVALID = 0xFF  # go-ethereum-internal: an undecodable reason; never sent

    @classmethod
    def from_wire(cls, value: int) -> DiscReason:
        """The reason for a decoded byte; unknown values become :attr:`INVALID`."""
        try:
            return cls(value)
        except ValueError:
            return cls.INVALID

    def __str__(self) -> str:
        return _DISC_STRINGS[self]

    def encode(self) -> bytes:
        """The payload of a Disconnect message carrying this reason."""
        return p2p_base.encode_disconnect(int(self))

    @classmethod
    def decode(cls, payload: bytes) -> DiscReason:
        """The reason in a received Disconnect payload (geth's accepted forms; unknown: INVALID).

        Raises:
            DecodeError: the payload is not a Disconnect.
        """
        return cls.from_wire(p2p_base.decode_disconnect(payload))


_DISC_STRINGS = {
    DiscReason.REQUESTED: "disconnect requested",
    DiscReason.NETWORK_ERROR: "network error",
    DiscReason.PROTOCOL_ERROR: "breach of protocol",
    DiscReason.USELESS_PEER: "useless peer",
    DiscReason.TOO_MANY_PEERS: "too many peers",
    DiscReason.ALREADY_CONNECTED: "already connected",
    DiscReason.INCOMPATIBLE_VERSION: "incompatible p2p protocol version",
    DiscReason.INVALID_IDENTITY: "invalid node identity",
    DiscReason.QUITTING: "client quitting",
    DiscReason.UNEXPECTED_IDENTITY: "unexpected identity",
    DiscReason.SELF: "connected to self",
    DiscReason.READ_TIMEOUT: "read timeout",
    DiscReason.SUBPROTOCOL_ERROR: "subprotocol error",
    DiscReason.INVALID: "invalid disconnect reason",
}


@dataclass(frozen=True, slots=True, order=True)
class Cap:
    """A capability ``name/version``; ordered by name (code points) then version, as geth's ``Cap.Cmp``."""

    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name}/{self.version}"


@dataclass(frozen=True, slots=True)
class Msg:
    """A sub-protocol message: ``code`` relative to the protocol, raw RLP ``payload``."""

    code: int
    payload: bytes
    received_at: float = 0.0

    @property
    def size(self) -> int:
        return len(self.payload)


class PeerEventType(enum.StrEnum):
    """Kinds of :class:`PeerEvent` (values are geth's JSON strings)."""

    ADD = "add"
    DROP = "drop"
    MSG_SEND = "msgsend"
    MSG_RECV = "msgrecv"


@dataclass(frozen=True, slots=True)
class PeerEvent:
    """A peer-set change or message, with go-ethereum's ``p2p.PeerEvent`` fields."""

    type: PeerEventType
    peer: bytes
    error: str | None = None
    protocol: str | None = None
    msg_code: int | None = None
    msg_size: int | None = None
    local_address: str | None = None
    remote_address: str | None = None

    def to_json(self) -> dict[str, object]:
        """The JSON object geth writes (omitempty fields left out)."""
        out: dict[str, object] = {"type": str(self.type), "peer": self.peer.hex()}
        for key, val in (
            ("error", self.error),
            ("protocol", self.protocol),
            ("msg_code", self.msg_code),
            ("msg_size", self.msg_size),
            ("local", self.local_address),
            ("remote", self.remote_address),
        ):
            if val not in (None, ""):
                out[key] = val
        return out


class ConnFlag(enum.IntFlag):
    """How a connection came to be (geth's ``connFlag``)."""

    DYN_DIALED = 1
    STATIC_DIALED = 2
    INBOUND = 4
    TRUSTED = 8

    def describe(self) -> str:
        """geth's ``connFlag.String``: ``trusted-dyndial-staticdial-inbound`` subsets."""
        parts = []
        if self & ConnFlag.TRUSTED:
            parts.append("trusted")
        if self & ConnFlag.DYN_DIALED:
            parts.append("dyndial")
        if self & ConnFlag.STATIC_DIALED:
            parts.append("staticdial")
        if self & ConnFlag.INBOUND:
            parts.append("inbound")
        return "-".join(parts)
