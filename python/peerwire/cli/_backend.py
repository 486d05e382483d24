"""What the admin RPC talks to: the :class:`NodeBackend` protocol.

Two classes implement it, one per stack: ``ServerBackend`` (devp2p, in
``_devp2p_backend``) and ``SwitchBackend`` (TM2, in ``_tm2_backend``); results are in
go-ethereum's JSON shapes for ``admin_*`` / ``net_*`` and gno's ``ResultNetInfo``
shape for ``net_info``. ``peerwire node`` picks one by the config's ``stack``
(``_stacks.make_backend``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from peerwire.devp2p import PrivateKey
from peerwire.errors import PeerwireError
from peerwire.tm2 import NodeKey

__all__ = ["BackendRefusal", "Identity", "NodeBackend", "NodeNotStarted"]


class BackendRefusal(PeerwireError):
    """The backend refuses a call; the admin RPC answers -32000 with this message."""


class NodeNotStarted(BackendRefusal):
    """The p2p server is not running (geth's ``ErrNodeStopped``: "node not started")."""


@runtime_checkable
class NodeBackend(Protocol):
    """The node as the admin RPC sees it. A stack implements this."""

    stack: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def node_info(self) -> dict[str, Any]:
        """``admin_nodeInfo``: ``{id, name, enode, enr, ip, ports: {discovery, listener}, listenAddr,
        protocols}``."""
        ...

    def peers_info(self) -> list[dict[str, Any]]:
        """``admin_peers``: ``[{enode, id, name, caps, network: {localAddress, remoteAddress, inbound,
        trusted, static}, protocols}]`` sorted by id."""
        ...

    def peer_count(self) -> int: ...

    def listening(self) -> bool: ...

    def network_version(self) -> str: ...

    def net_info(self) -> dict[str, Any]:
        """gno ``ResultNetInfo``: ``{listening, listeners, n_peers, peers}``."""
        ...

    def dial_failures(self) -> list[dict[str, Any]]:
        """``admin_dialFailures``: the stack's failed dials and handshakes
        (``_adapt.dial_failures_json``), newest first."""
        ...

    async def add_peer(self, url: str) -> bool: ...

    async def remove_peer(self, url: str) -> bool: ...

    async def add_trusted_peer(self, url: str) -> bool: ...

    async def remove_trusted_peer(self, url: str) -> bool: ...


Identity = PrivateKey | NodeKey
