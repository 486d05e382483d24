"""The contracts between the switch, the transport and the peers (the seed's Go interfaces).

These are :class:`typing.Protocol` s: the TCP ``MultiplexTransport`` and the
in-memory transport used by tests both satisfy them, and the switch depends
on nothing else. Go names map one to one (``CloseConn`` -> ``close_conn``,
``ReactorChDescriptors`` -> ``reactor_ch_descriptors``...).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from peerwire.tm2._keys import ID
from peerwire.tm2._mconn import ChannelDescriptor
from peerwire.tm2._transport import ConnInfo

__all__ = [
    "ChannelDescriptor",
    "ConnInfo",
    "DialAddress",
    "PeerBehavior",
    "PeerConn",
    "Receiver",
    "Transport",
]


class DialAddress(Protocol):
    """What a transport dials (a :class:`NetAddress`): ID, resolved IP, port; ``str`` is ``id@ip:port``."""

    @property
    def id(self) -> ID: ...
    @property
    def ip(self) -> Any: ...
    @property
    def port(self) -> int: ...


@runtime_checkable
class PeerConn(Protocol):
    """A verified, multiplexed peer connection (gno ``PeerConn``), whole.

    ``get`` / ``set`` is the seed's key-value store on the peer, kept for
    compatibility; reactors should prefer :class:`peerwire.tm2.PeerStates`,
    typed per-peer state owned by the reactor.
    """

    @property
    def id(self) -> ID: ...
    @property
    def remote_ip(self) -> str: ...
    @property
    def remote_addr(self) -> Any: ...
    @property
    def socket_addr(self) -> Any: ...
    @property
    def node_info(self) -> Any: ...
    @property
    def is_outbound(self) -> bool: ...
    @property
    def is_persistent(self) -> bool: ...
    @property
    def is_private(self) -> bool: ...
    def status(self) -> Any: ...
    def start(self) -> Awaitable[None] | None: ...
    async def stop(self) -> None: ...
    async def close_conn(self) -> None: ...
    async def send(self, ch_id: int, msg: bytes) -> bool: ...
    def try_send(self, ch_id: int, msg: bytes) -> bool: ...
    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...


class Receiver(Protocol):
    """Anything a connection hands complete channel messages to."""

    async def receive(self, ch_id: int, peer: PeerConn, msg: bytes) -> None: ...


class PeerBehavior(Protocol):
    """What a transport needs from the switch to build peers (gno ``PeerBehavior``).

    ``reactors()`` maps a channel to the object whose ``async receive(ch, peer, msg)``
    the connection calls for each complete message. The switch hands out
    dispatchers there that only enqueue, so a connection's read loop never waits
    on a reactor.
    """

    def reactor_ch_descriptors(self) -> Sequence[ChannelDescriptor]: ...
    def reactors(self) -> Mapping[int, Receiver]: ...
    def handle_peer_error(self, peer: PeerConn, err: BaseException) -> None: ...
    def is_persistent_peer(self, peer_id: str) -> bool: ...
    def is_private_peer(self, peer_id: str) -> bool: ...


@runtime_checkable
class Transport(Protocol):
    """Dials and accepts verified peers (gno ``Transport``)."""

    def net_address(self) -> Any: ...
    async def listen(self, addr: Any) -> None: ...
    async def accept(self, behavior: PeerBehavior) -> PeerConn: ...
    async def dial(self, addr: Any, behavior: PeerBehavior) -> PeerConn: ...
    def remove(self, peer: PeerConn) -> None: ...
    async def close(self) -> None: ...
