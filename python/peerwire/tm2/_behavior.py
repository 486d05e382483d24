"""The switch as its transport and connections see it: :class:`SwitchBehavior` and the dispatchers.

Kept apart from the switch so the switch module stays a size a reader can
hold; both are thin adapters over the switch's public surface plus the one
entry point :meth:`SwitchCore.deliver` (a complete message from a connection).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from peerwire._budget import NodeBudget
from peerwire.tm2._contracts import ChannelDescriptor, PeerConn, Receiver
from peerwire.tm2._keys import ID

__all__ = ["Dispatcher", "SwitchBehavior", "SwitchCore"]


class SwitchCore(Protocol):
    """What the adapters need from the switch."""

    def channel_descriptors(self) -> Sequence[ChannelDescriptor]: ...
    def dispatchers(self) -> Mapping[int, Receiver]: ...
    async def deliver(self, ch_id: int, peer: PeerConn, msg: bytes) -> None: ...
    def stop_peer_for_error(self, peer: PeerConn, err: BaseException | None) -> None: ...
    def is_persistent_peer(self, peer_id: str) -> bool: ...
    def is_private_peer(self, peer_id: str) -> bool: ...
    @property
    def node_budget(self) -> NodeBudget: ...


class Dispatcher:
    """What ``PeerBehavior.reactors()`` hands to connections: queue the message (waiting while full)."""

    __slots__ = ("_sw",)

    def __init__(self, sw: SwitchCore) -> None:
        self._sw = sw

    async def receive(self, ch_id: int, peer: PeerConn, msg: bytes) -> None:
        await self._sw.deliver(ch_id, peer, msg)


class SwitchBehavior:
    """The switch as the transport sees it (gno ``reactorPeerBehavior``)."""

    def __init__(self, sw: SwitchCore) -> None:
        self._sw = sw

    def reactor_ch_descriptors(self) -> Sequence[ChannelDescriptor]:
        return self._sw.channel_descriptors()

    def reactors(self) -> Mapping[int, Receiver]:
        return self._sw.dispatchers()

    def handle_peer_error(self, peer: PeerConn, err: BaseException) -> None:
        self._sw.stop_peer_for_error(peer, err)

    def is_persistent_peer(self, peer_id: ID) -> bool:
        return self._sw.is_persistent_peer(peer_id)

    def is_private_peer(self, peer_id: ID) -> bool:
        return self._sw.is_private_peer(peer_id)

    def node_budget(self) -> NodeBudget:
        return self._sw.node_budget
