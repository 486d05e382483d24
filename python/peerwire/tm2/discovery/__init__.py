"""Peer discovery (peer exchange) on channel 0x50, as gno's ``tm2/pkg/p2p/discovery``."""

from __future__ import annotations

from peerwire.tm2.discovery._book import AddressBook
from peerwire.tm2.discovery._codec import Request, Response, decode, encode_request, encode_response
from peerwire.tm2.discovery._reactor import (
    CHANNEL,
    DEFAULT_INTERVAL,
    MAX_PEERS_SHARED,
    DiscoveryStats,
    Reactor,
)

__all__ = [
    "CHANNEL",
    "DEFAULT_INTERVAL",
    "MAX_PEERS_SHARED",
    "AddressBook",
    "DiscoveryStats",
    "Reactor",
    "Request",
    "Response",
    "decode",
    "encode_request",
    "encode_response",
]
