"""devp2p as go-ethereum speaks it: keys, nodes, RLPx, the server and discovery."""

from __future__ import annotations

from peerwire.devp2p import rlpx
from peerwire.devp2p._base import Cap, ConnFlag, DiscReason, Msg, PeerEvent, PeerEventType
from peerwire.devp2p._enode import Node
from peerwire.devp2p._keys import PrivateKey, PublicKey, recover_public_key
from peerwire.devp2p._peer import MsgReadWriter, Peer, Protocol
from peerwire.devp2p._server import Config, EventSubscription, Server

__all__ = [
    "Cap",
    "Config",
    "ConnFlag",
    "DiscReason",
    "EventSubscription",
    "Msg",
    "MsgReadWriter",
    "Node",
    "Peer",
    "PeerEvent",
    "PeerEventType",
    "PrivateKey",
    "Protocol",
    "PublicKey",
    "Server",
    "recover_public_key",
    "rlpx",
]
