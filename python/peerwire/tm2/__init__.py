"""Tendermint2 p2p as gno speaks it: node keys, the secret connection, MConnection, switch."""

from __future__ import annotations

from peerwire.tm2._keys import ID, NodeKey, id_from_public_key, validate_id
from peerwire.tm2._mconn import ChannelDescriptor, ChannelStatus, ConnectionStatus, MConnConfig, MConnection
from peerwire.tm2._netaddr import NetAddress
from peerwire.tm2._nodeinfo import (
    MAX_NODE_INFO_SIZE,
    NodeInfo,
    NodeInfoError,
    NodeInfoOther,
    VersionInfo,
)
from peerwire.tm2._secret import SecretConnection
from peerwire.tm2._transport import ConnInfo, MultiplexTransport, Peer, PeerBehavior, Reactor

__all__ = [
    "ID",
    "ChannelDescriptor",
    "ChannelStatus",
    "ConnInfo",
    "ConnectionStatus",
    "MConnConfig",
    "MConnection",
    "MultiplexTransport",
    "Peer",
    "PeerBehavior",
    "Reactor",
    "MAX_NODE_INFO_SIZE",
    "NetAddress",
    "NodeInfo",
    "NodeInfoError",
    "NodeInfoOther",
    "NodeKey",
    "SecretConnection",
    "VersionInfo",
    "id_from_public_key",
    "validate_id",
]
