"""What the admin RPC talks to: the :class:`NodeBackend` protocol, and the backends of this build.

A stack plugs into ``peerwire node`` by implementing :class:`NodeBackend` (results in
go-ethereum's JSON shapes for ``admin_*`` / ``net_*`` and gno's ``ResultNetInfo`` shape for
``net_info``) and registering a factory with :func:`register_backend`. Until the devp2p
``Server`` and the TM2 ``MultiplexSwitch`` are part of the build, :class:`IdentityBackend`
serves: the node's real identity and configuration, no peers, ``net_listening`` false, and
peer management calls answer geth's "node not started" error instead of pretending.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from peerwire._metrics import NetMetrics
from peerwire.cli._addr import parse_peer_url
from peerwire.cli._config import NodeConfig
from peerwire.devp2p import Node, PrivateKey
from peerwire.errors import PeerwireError
from peerwire.tm2 import NodeKey

__all__ = [
    "BackendRefusal",
    "BackendUnavailable",
    "IdentityBackend",
    "NodeBackend",
    "NodeNotStarted",
    "backend_factories",
    "make_backend",
    "register_backend",
]

log = logging.getLogger(__name__)


class BackendRefusal(PeerwireError):
    """The backend refuses a call; the admin RPC answers -32000 with this message."""


class NodeNotStarted(BackendRefusal):
    """The p2p server is not running (geth's ``ErrNodeStopped``: "node not started")."""


class BackendUnavailable(PeerwireError):
    """The requested stack is not part of this build."""


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

    async def add_peer(self, url: str) -> bool: ...

    async def remove_peer(self, url: str) -> bool: ...

    async def add_trusted_peer(self, url: str) -> bool: ...

    async def remove_trusted_peer(self, url: str) -> bool: ...


Identity = PrivateKey | NodeKey
BackendFactory = Callable[[NodeConfig, Identity, NetMetrics], Awaitable[NodeBackend]]
_FACTORIES: dict[str, BackendFactory] = {}


def register_backend(stack: str, factory: BackendFactory) -> None:
    """Make ``peerwire node`` run ``stack`` through ``factory`` (called by a stack's integration)."""
    _FACTORIES[stack] = factory


def backend_factories() -> dict[str, BackendFactory]:
    return dict(_FACTORIES)


class IdentityBackend:
    """A node whose identity and configuration are real and whose p2p server is not running.

    Used when the stack is not in this build (or for ``--no-p2p``). ``net_listening`` is false
    and peer management answers :class:`NodeNotStarted`, as geth does with no server.
    """

    def __init__(self, cfg: NodeConfig, identity: Identity, reason: str) -> None:
        self.stack: str = cfg.stack
        self._cfg = cfg
        self._identity = identity
        self.reason = reason

    async def start(self) -> None:
        log.warning(
            "p2p server not started; serving identity and admin endpoints only",
            extra={"stack": self.stack, "reason": self.reason},
        )

    async def stop(self) -> None:
        return None

    def node_info(self) -> dict[str, Any]:
        if isinstance(self._identity, PrivateKey):
            d = self._cfg.devp2p
            ip = "127.0.0.1" if d.listen_host in ("0.0.0.0", "::") else d.listen_host
            udp = 0 if d.nodiscover else d.port  # geth: no discovery, no UDP port (enode gets ?discport=0)
            self_node = Node(self._identity.public_key, ip, d.port, udp)
            return {
                "id": self._identity.public_key.node_id.hex(),
                "name": d.name,
                "enode": self_node.enode_url(),
                "enr": "",
                "ip": ip,
                "ports": {"discovery": udp, "listener": d.port},
                "listenAddr": f"{'' if d.listen_host == '0.0.0.0' else d.listen_host}:{d.port}",
                "protocols": {},
            }
        host, port = self._cfg.p2p.listen_host_port
        return {
            "id": str(self._identity.id),
            "name": self._cfg.moniker,
            "enode": f"{self._identity.id}@{host}:{port}",
            "enr": "",
            "ip": host,
            "ports": {"discovery": 0, "listener": port},
            "listenAddr": self._cfg.p2p.laddr,
            "protocols": {},
            "network": self._cfg.network,
        }

    def peers_info(self) -> list[dict[str, Any]]:
        return []

    def peer_count(self) -> int:
        return 0

    def listening(self) -> bool:
        return False

    def network_version(self) -> str:
        return str(self._cfg.devp2p.network_id) if self.stack == "devp2p" else self._cfg.network

    def net_info(self) -> dict[str, Any]:
        return {"listening": False, "listeners": [], "n_peers": "0", "peers": []}

    async def _refuse(self, url: str) -> bool:
        parse_peer_url(self.stack, url)
        raise NodeNotStarted(f"node not started ({self.reason})")

    async def add_peer(self, url: str) -> bool:
        return await self._refuse(url)

    async def remove_peer(self, url: str) -> bool:
        return await self._refuse(url)

    async def add_trusted_peer(self, url: str) -> bool:
        return await self._refuse(url)

    async def remove_trusted_peer(self, url: str) -> bool:
        return await self._refuse(url)


def stack_missing_reason(stack: str) -> str | None:
    """Why ``stack`` cannot run in this build, or ``None`` if it can."""
    if stack in _FACTORIES:
        return None
    if stack == "devp2p":
        return "peerwire.devp2p.Server is not in this build"
    return "peerwire.tm2.MultiplexSwitch is not in this build"


async def make_backend(
    cfg: NodeConfig, identity: Identity, metrics: NetMetrics, *, require_p2p: bool = False
) -> NodeBackend:
    """The backend for ``cfg.stack``: the stack's own when registered, else :class:`IdentityBackend`.

    Raises:
        BackendUnavailable: ``require_p2p`` and the stack is not in this build.
    """
    factory = _FACTORIES.get(cfg.stack)
    if factory is not None:
        return await factory(cfg, identity, metrics)
    reason = stack_missing_reason(cfg.stack) or "unavailable"
    if require_p2p:
        raise BackendUnavailable(reason)
    return IdentityBackend(cfg, identity, reason)
