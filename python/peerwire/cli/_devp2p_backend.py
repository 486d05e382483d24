"""The devp2p stack behind ``peerwire node``: a :class:`NodeBackend` over ``devp2p.Server``.

Written against the server surface in API.md (``devp2p.Config``, ``devp2p.Server`` as an
async context manager, ``node_info()``, ``peers_info()``, ``add_peer(node)``, …,
``subscribe_events()``). It is *not* registered automatically: once ``devp2p.Server`` is in
the build, the integration calls::

    from peerwire.cli import register_backend
    from peerwire.cli._devp2p_backend import devp2p_backend
    register_backend("devp2p", devp2p_backend)

:func:`bridge_devp2p_events` turns the server's peer event feed into
:class:`~peerwire._metrics.NetMetrics` updates (peers by direction, disconnects by reason,
messages and bytes per protocol, with ``enable_msg_events``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from peerwire._metrics import NetMetrics
from peerwire.cli._adapt import event_kind, maybe_await, to_json
from peerwire.cli._addr import parse_peer_url
from peerwire.cli._backend import Identity
from peerwire.cli._config import NodeConfig
from peerwire.devp2p import Node, PrivateKey

__all__ = ["ServerBackend", "bridge_devp2p_events", "devp2p_backend", "server_config_kwargs"]

log = logging.getLogger(__name__)


def server_config_kwargs(cfg: NodeConfig, key: PrivateKey) -> dict[str, Any]:
    """``devp2p.Config`` keyword arguments (API.md names) for a node.toml."""
    d = cfg.devp2p
    return {
        "private_key": key,
        "name": d.name,
        "listen_addr": f"{d.listen_host}:{d.port}",
        "max_peers": d.maxpeers,
        "max_pending_peers": d.max_pending_peers,
        "no_discovery": d.nodiscover,
        "bootstrap_nodes": list(d.bootnodes),
        "static_nodes": list(d.static_nodes),
        "trusted_nodes": list(d.trusted_nodes),
        "net_restrict": [str(n) for n in d.netrestrict] or None,
        "node_database": str(cfg.node_db_path),
        "protocols": [],
        "enable_msg_events": True,
    }


async def bridge_devp2p_events(
    events: AsyncIterator[Any], metrics: NetMetrics, inbound_of: Callable[[Any], bool | None]
) -> None:
    """Feed ``PeerEvent``s into ``metrics`` until the stream ends.

    ``inbound_of(peer_id)`` tells the direction of a peer that was just added (the event
    does not carry it); the direction is remembered for its drop.
    """
    direction: dict[Any, bool] = {}
    async for ev in events:
        kind = event_kind(ev)
        peer = getattr(ev, "peer", None)
        if kind == "add":
            inbound = bool(inbound_of(peer))
            direction[peer] = inbound
            metrics.peer_added(inbound=inbound)
        elif kind == "drop":
            inbound = direction.pop(peer, False)
            metrics.peer_removed(inbound=inbound, reason=str(getattr(ev, "error", "") or "unknown"))
        elif kind in ("msgsend", "msgrecv"):
            proto = str(getattr(ev, "protocol", "") or "unknown")
            size = int(getattr(ev, "msg_size", 0) or 0)
            (metrics.message_out if kind == "msgsend" else metrics.message_in)(proto, size)


class ServerBackend:
    """:class:`~peerwire.cli.NodeBackend` over a ``devp2p.Server`` (not yet entered)."""

    def __init__(self, server: Any, *, network_id: int, metrics: NetMetrics | None = None) -> None:
        self.stack = "devp2p"
        self._server = server
        self._network_id = network_id
        self._metrics = metrics
        self._bridge: asyncio.Task[None] | None = None
        self._running = False

    async def start(self) -> None:
        await self._server.__aenter__()
        self._running = True
        if self._metrics is not None and hasattr(self._server, "subscribe_events"):
            self._bridge = asyncio.create_task(
                bridge_devp2p_events(self._server.subscribe_events(), self._metrics, self._inbound_of)
            )

    def _inbound_of(self, peer_id: Any) -> bool | None:
        for p in self._server.peers():
            if getattr(p, "id", None) == peer_id:
                return bool(getattr(p, "inbound", False))
        return None

    async def stop(self) -> None:
        if self._bridge is not None:
            self._bridge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._bridge
        if self._running:
            self._running = False
            await self._server.__aexit__(None, None, None)

    def node_info(self) -> dict[str, Any]:
        info: dict[str, Any] = to_json(self._server.node_info())
        return info

    def peers_info(self) -> list[dict[str, Any]]:
        peers: list[dict[str, Any]] = to_json(list(self._server.peers_info()))
        return sorted(peers, key=lambda p: str(p.get("id", "")))

    def peer_count(self) -> int:
        return int(self._server.peer_count())

    def listening(self) -> bool:
        return self._running

    def network_version(self) -> str:
        return str(self._network_id)

    def net_info(self) -> dict[str, Any]:
        peers = self.peers_info()
        listeners = [str(self.node_info().get("listenAddr", ""))] if self._running else []
        return {
            "listening": self._running,
            "listeners": listeners,
            "n_peers": str(len(peers)),
            "peers": peers,
        }

    async def _call(self, method: str, url: str) -> bool:
        node = Node.parse(parse_peer_url("devp2p", url))
        await maybe_await(getattr(self._server, method)(node))
        return True

    async def add_peer(self, url: str) -> bool:
        return await self._call("add_peer", url)

    async def remove_peer(self, url: str) -> bool:
        return await self._call("remove_peer", url)

    async def add_trusted_peer(self, url: str) -> bool:
        return await self._call("add_trusted_peer", url)

    async def remove_trusted_peer(self, url: str) -> bool:
        return await self._call("remove_trusted_peer", url)


async def devp2p_backend(cfg: NodeConfig, identity: Identity, metrics: NetMetrics) -> ServerBackend:
    """The backend factory to register for ``"devp2p"`` once ``devp2p.Server`` exists."""
    from peerwire import devp2p

    if not isinstance(identity, PrivateKey):
        raise TypeError("the devp2p backend needs a secp256k1 PrivateKey")
    # getattr: these names join the build with the server branch (and mypy must pass before and after)
    config_cls: Any = getattr(devp2p, "Config")  # noqa: B009
    server_cls: Any = getattr(devp2p, "Server")  # noqa: B009
    server = server_cls(config_cls(**server_config_kwargs(cfg, identity)))
    return ServerBackend(server, network_id=cfg.devp2p.network_id, metrics=metrics)
