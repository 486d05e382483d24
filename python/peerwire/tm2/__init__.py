"""Tendermint2 p2p as gno speaks it: node keys, the secret connection, MConnection, switch."""

from __future__ import annotations

from peerwire.tm2 import discovery, observe, profiles  # profiles + observe: gno.land (issue 15)
from peerwire.tm2._addr import AddressError, NetAddress
from peerwire.tm2._config import (
    ConfigError,
    SwitchConfig,
    SwitchOption,
    with_allow_duplicate_ip,
    with_broadcast_queue_size,
    with_clock,
    with_dial_timeout,
    with_dispatch_queue_size,
    with_max_concurrent_dials,
    with_max_inbound_peers,
    with_max_outbound_peers,
    with_node_budget_bytes,
    with_persistent_peers,
    with_private_peers,
    with_reactor,
    with_redial_interval,
    with_resolver,
    with_rng,
)
from peerwire.tm2._contracts import ConnInfo, PeerBehavior, PeerConn, Reactor, Receiver, SwitchView, Transport
from peerwire.tm2._errors import (
    IncompatibleNodeInfoError,
    NodeBudgetError,
    NodeInfoError,
    PacketDecodeError,
    PeerRefusedError,
    PongTimeoutError,
    RecvAssemblyTimeoutError,
    RefusalReason,
    SecretFrameError,
    SecretHandshakeError,
    Tm2RemoteError,
    WriteTimeoutError,
)
from peerwire.tm2._events import (
    Event,
    EventType,
    PeerConnectedEvent,
    PeerDisconnectedEvent,
    Subscription,
)
from peerwire.tm2._keys import ID, NodeKey, id_from_public_key, validate_id
from peerwire.tm2._mconn import ChannelDescriptor, ChannelStatus, ConnectionStatus, MConnConfig, MConnection
from peerwire.tm2._nodeinfo import MAX_NODE_INFO_SIZE, NodeInfo, NodeInfoOther, VersionInfo
from peerwire.tm2._peerset import PeerSet
from peerwire.tm2._reactor import BaseReactor, PeerStates
from peerwire.tm2._record import PeerState, SwitchStats
from peerwire.tm2._secret import SecretConnection
from peerwire.tm2._switch import MultiplexSwitch
from peerwire.tm2._transport import MultiplexTransport, Peer
from peerwire.tm2.profiles import NodeProfile

__all__ = [
    "ID",
    "AddressError",
    "ConfigError",
    "IncompatibleNodeInfoError",
    "PacketDecodeError",
    "PeerRefusedError",
    "PeerState",
    "NodeBudgetError",
    "PongTimeoutError",
    "RecvAssemblyTimeoutError",
    "Receiver",
    "RefusalReason",
    "SecretFrameError",
    "SecretHandshakeError",
    "SwitchConfig",
    "SwitchView",
    "Tm2RemoteError",
    "WriteTimeoutError",
    "MAX_NODE_INFO_SIZE",
    "BaseReactor",
    "ChannelDescriptor",
    "ChannelStatus",
    "ConnInfo",
    "ConnectionStatus",
    "Event",
    "EventType",
    "MConnConfig",
    "MConnection",
    "MultiplexSwitch",
    "MultiplexTransport",
    "NetAddress",
    "NodeInfo",
    "NodeInfoError",
    "NodeInfoOther",
    "NodeKey",
    "NodeProfile",
    "Peer",
    "PeerBehavior",
    "PeerConn",
    "PeerConnectedEvent",
    "PeerDisconnectedEvent",
    "PeerSet",
    "PeerStates",
    "Reactor",
    "SecretConnection",
    "Subscription",
    "SwitchOption",
    "SwitchStats",
    "Transport",
    "VersionInfo",
    "discovery",
    "observe",
    "profiles",
    "id_from_public_key",
    "validate_id",
    "with_broadcast_queue_size",
    "with_clock",
    "with_dial_timeout",
    "with_allow_duplicate_ip",
    "with_dispatch_queue_size",
    "with_node_budget_bytes",
    "with_max_concurrent_dials",
    "with_max_inbound_peers",
    "with_max_outbound_peers",
    "with_persistent_peers",
    "with_private_peers",
    "with_reactor",
    "with_redial_interval",
    "with_resolver",
    "with_rng",
]
