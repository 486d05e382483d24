"""Node discovery: v4 (go-ethereum ``p2p/discover``)."""

from __future__ import annotations

from peerwire.devp2p._nodedb import NodeDB
from peerwire.devp2p.discover._v4 import (
    BOND_EXPIRATION,
    EXPIRATION,
    RESP_TIMEOUT,
    UDPv4,
    check_relay_addr,
    listen_v4,
)

__all__ = [
    "BOND_EXPIRATION",
    "EXPIRATION",
    "RESP_TIMEOUT",
    "NodeDB",
    "UDPv4",
    "check_relay_addr",
    "listen_v4",
]
