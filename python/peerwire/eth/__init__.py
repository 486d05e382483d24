"""The ``eth`` capability: chains and fork IDs, the ENR entry, Status and an eth peer."""

from __future__ import annotations

from peerwire.eth._chain import Chain, ForkFilter, ForkID, Head
from peerwire.eth._enr import enr_filter
from peerwire.eth._messages import ETH_VERSIONS, BlockHeader, Status
from peerwire.eth._protocol import EthHandshakeError, EthPeer, EthProtocolError, Protocol, Provider

__all__ = [
    "ETH_VERSIONS",
    "BlockHeader",
    "Chain",
    "EthHandshakeError",
    "EthPeer",
    "EthProtocolError",
    "ForkFilter",
    "ForkID",
    "Head",
    "Protocol",
    "Provider",
    "Status",
    "enr_filter",
]
