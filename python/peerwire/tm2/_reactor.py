"""Reactors (gno ``p2p.Reactor`` / ``BaseReactor``) and reactor-owned typed peer state.

A reactor owns one or more channels. The switch calls, for every peer:
``init_peer`` (before the peer starts; may return a wrapped peer),
``add_peer`` (after it started and joined the peer set), ``receive`` for each
message on the reactor's channels, and ``remove_peer`` once when it goes.

``receive`` runs on a per-peer, per-channel dispatch task (see the switch):
while it awaits, only that channel of that peer waits; other channels, other
peers and the connection's ping/pong go on. ``add_peer`` / ``remove_peer`` may
be plain or ``async`` methods; they must not block for long.

Per-peer state: gno hangs it on the peer (``peer.Set(key, any)``), which the
seed itself calls a design flaw. Here a reactor declares
``self.states = self.peer_states(MyState)``; the switch lifecycle creates an
entry at ``init_peer`` and drops it at ``remove_peer``, and ``self.states[peer]``
is typed ``MyState``. ``peer.get`` / ``peer.set`` still exist for
compatibility.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Generic, TypeVar

from peerwire.tm2._contracts import ChannelDescriptor, PeerConn, SwitchView
from peerwire.tm2._keys import ID

__all__ = ["BaseReactor", "PeerStates"]

S = TypeVar("S")


class PeerStates(Generic[S]):
    """Typed per-peer state owned by a reactor, keyed by peer ID."""

    def __init__(self, factory: Callable[[PeerConn], S]) -> None:
        self._factory = factory
        self._states: dict[ID, S] = {}

    def create(self, peer: PeerConn) -> S:
        st = self._factory(peer)
        self._states[peer.id] = st
        return st

    def discard(self, peer: PeerConn | ID) -> None:
        self._states.pop(peer if isinstance(peer, str) else peer.id, None)

    def __getitem__(self, peer: PeerConn | ID) -> S:
        return self._states[peer if isinstance(peer, str) else peer.id]

    def get(self, peer: PeerConn | ID) -> S | None:
        return self._states.get(peer if isinstance(peer, str) else peer.id)

    def __contains__(self, peer: object) -> bool:
        key = peer if isinstance(peer, str) else getattr(peer, "id", None)
        return key in self._states

    def __len__(self) -> int:
        return len(self._states)

    def __iter__(self) -> Iterator[ID]:
        return iter(list(self._states))


class BaseReactor:
    """Default no-op reactor; subclass it and override what you need."""

    def __init__(self, name: str = "") -> None:
        self.name = name or type(self).__name__
        self._switch: SwitchView | None = None
        self._peer_states: list[PeerStates[object]] = []

    # -- wiring ---------------------------------------------------------------------------------
    def set_switch(self, switch: SwitchView) -> None:
        self._switch = switch

    @property
    def switch(self) -> SwitchView:
        if self._switch is None:
            raise RuntimeError(f"reactor {self.name} is not attached to a switch")
        return self._switch

    def peer_states(self, factory: Callable[[PeerConn], S]) -> PeerStates[S]:
        """Declare typed per-peer state, managed by the peer lifecycle (see the module doc)."""
        st: PeerStates[S] = PeerStates(factory)
        self._peer_states.append(st)  # type: ignore[arg-type]
        return st

    def create_peer_states(self, peer: PeerConn) -> None:
        """Called by the switch right before ``init_peer``, whatever the subclass overrides."""
        for st in getattr(self, "_peer_states", ()):
            st.create(peer)

    def drop_peer_states(self, peer: PeerConn) -> None:
        """Called by the switch right after ``remove_peer``."""
        for st in getattr(self, "_peer_states", ()):
            st.discard(peer)

    # -- service ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Called when the switch starts, before its loops run."""

    async def stop(self) -> None:
        """Called when the switch stops, after every peer is gone."""

    # -- the Reactor interface ---------------------------------------------------------------------
    def get_channels(self) -> Sequence[ChannelDescriptor]:
        return []

    def init_peer(self, peer: PeerConn) -> PeerConn:
        return peer

    def add_peer(self, peer: PeerConn) -> Awaitable[None] | None:
        return None

    def remove_peer(self, peer: PeerConn, reason: BaseException | None) -> Awaitable[None] | None:
        return None

    async def receive(self, ch_id: int, peer: PeerConn, msg: bytes) -> None:
        return None
