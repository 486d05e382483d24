"""The set of connected peers (gno ``set.go``): by ID, with inbound/outbound counts."""

from __future__ import annotations

from collections.abc import Iterator

from peerwire.errors import LocalProtocolError
from peerwire.tm2._contracts import PeerConn

__all__ = ["PeerSet"]


class PeerSet:
    """Connected peers by ID. Single event loop: no locks needed."""

    def __init__(self) -> None:
        self._peers: dict[str, PeerConn] = {}
        self._inbound = 0
        self._outbound = 0

    def add(self, peer: PeerConn) -> None:
        """Raises:
        LocalProtocolError: a peer with this ID is already in the set."""
        if peer.id in self._peers:
            raise LocalProtocolError(f"peer {peer.id} already in the peer set")
        self._peers[peer.id] = peer
        if peer.is_outbound:
            self._outbound += 1
        else:
            self._inbound += 1

    def remove(self, peer_id: str) -> bool:
        peer = self._peers.pop(peer_id, None)
        if peer is None:
            return False
        if peer.is_outbound:
            self._outbound -= 1
        else:
            self._inbound -= 1
        return True

    def has(self, peer_id: str) -> bool:
        return peer_id in self._peers

    def get(self, peer_id: str) -> PeerConn | None:
        return self._peers.get(peer_id)

    def list(self) -> list[PeerConn]:
        return list(self._peers.values())

    def has_ip(self, ip: str, *, but: str) -> bool:
        """Whether a peer other than ``but`` connects from ``ip`` (gno ``hasPeerFromIP``)."""
        return any(p.remote_ip == ip and p.id != but for p in self._peers.values())

    def num_inbound(self) -> int:
        return self._inbound

    def num_outbound(self) -> int:
        return self._outbound

    def __len__(self) -> int:
        return len(self._peers)

    def __contains__(self, peer_id: object) -> bool:
        return peer_id in self._peers

    def __iter__(self) -> Iterator[PeerConn]:
        return iter(list(self._peers.values()))
