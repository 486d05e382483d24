"""devp2p as go-ethereum speaks it: keys, nodes and records, RLPx, the server and discovery."""

from __future__ import annotations

from peerwire.devp2p import discover, rlpx
from peerwire.devp2p._base import Cap, ConnFlag, DiscReason, Msg, PeerEvent, PeerEventType
from peerwire.devp2p._config import Config
from peerwire.devp2p._enode import Node
from peerwire.devp2p._enr import ENR, LocalNode
from peerwire.devp2p._failures import SetupFailure
from peerwire.devp2p._hello import Hello, encode_hello, exchange_hello
from peerwire.devp2p._keys import PrivateKey, PublicKey, recover_public_key
from peerwire.devp2p._peer import MsgReadWriter, Peer, Protocol
from peerwire.devp2p._server import EventSubscription, Server

__all__ = [
    "ENR",
    "Cap",
    "Config",
    "ConnFlag",
    "DiscReason",
    "EventSubscription",
    "Hello",
    "LocalNode",
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
    "SetupFailure",
    "discover",
    "encode_hello",
    "exchange_hello",
    "recover_public_key",
    "rlpx",
]
