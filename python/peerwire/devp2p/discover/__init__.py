"""Node discovery: v4 and v5 (go-ethereum ``p2p/discover``)."""

from __future__ import annotations

from peerwire.devp2p._nodedb import NodeDB
from peerwire.devp2p.discover._v4 import (
    BOND_EXPIRATION,
    EXPIRATION,
    NEIGHBORS_SETTLE,
    RESP_TIMEOUT,
    UDPv4,
    check_relay_addr,
    listen_v4,
)
from peerwire.devp2p.discover._v5 import RESP_TIMEOUT as V5_RESP_TIMEOUT
from peerwire.devp2p.discover._v5 import TalkHandler, lookup_distances
from peerwire.devp2p.discover._v5lookup import UDPv5, listen_v5
from peerwire.devp2p.discover._v5ping import ping_v5
from peerwire.devp2p.discover._v5shared import Discovery, is_v4_packet, listen

__all__ = [
    "BOND_EXPIRATION",
    "Discovery",
    "EXPIRATION",
    "NEIGHBORS_SETTLE",
    "RESP_TIMEOUT",
    "NodeDB",
    "V5_RESP_TIMEOUT",
    "TalkHandler",
    "UDPv4",
    "UDPv5",
    "check_relay_addr",
    "is_v4_packet",
    "listen",
    "listen_v4",
    "listen_v5",
    "lookup_distances",
    "ping_v5",
]
