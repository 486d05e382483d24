"""The devp2p stack behind ``peerwire node``: a :class:`NodeBackend` over ``devp2p.Server``.

Metrics come from two typed feeds of the server and nothing else: the lifecycle
events (:mod:`peerwire.events`: dials, handshake failures, peers added and
dropped, with direction and enum reasons) via
:meth:`~peerwire._metrics.NetMetrics.consume`, and geth's message events
(``MSG_SEND`` / ``MSG_RECV``, with ``enable_msg_events``) via
:func:`count_traffic`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable
from typing import Any

from peerwire._metrics import NetMetrics
from peerwire._tasks import TaskScope
from peerwire.cli._adapt import dial_failures_json, to_json
from peerwire.cli._addr import parse_peer_url
from peerwire.cli._config import NodeConfig
from peerwire.devp2p import Config, Node, PeerEvent, PeerEventType, PrivateKey, Server

__all__ = ["ServerBackend", "count_traffic", "server_config"]

log = logging.getLogger(__name__)


def server_config(cfg: NodeConfig, key: PrivateKey, **overrides: Any) -> Config:
    """The ``devp2p.Config`` a node.toml describes (``overrides``: extra ``Config`` fields)."""
    d = cfg.devp2p
    fields: dict[str, Any] = {
        "private_key": key,
        "name": d.name,
        "listen_addr": f"[{d.listen_host}]:{d.port}" if ":" in d.listen_host else f"{d.listen_host}:{d.port}",
        "max_peers": d.maxpeers,
        "max_pending_peers": d.max_pending_peers,
        "no_discovery": d.nodiscover,
        "discovery_v4": d.discovery_v4,
        "discovery_v5": d.discovery_v5,
        "bootstrap_nodes": list(d.bootnodes),
        "static_nodes": list(d.static_nodes),
        "trusted_nodes": list(d.trusted_nodes),
        "net_restrict": [str(n) for n in d.netrestrict] or None,
        "node_database": str(cfg.node_db_path),
        "protocols": [],
        "enable_msg_events": True,
    }
    fields.update(overrides)
    return Config(**fields)


async def count_traffic(events: AsyncIterable[PeerEvent], metrics: NetMetrics) -> None:
    """Count geth's MSG_SEND / MSG_RECV events as traffic until the stream ends (peers come
    from the lifecycle events, not from here)."""
    async for ev in events:
        if ev.type is PeerEventType.MSG_SEND:
            metrics.message_out(ev.protocol or "unknown", ev.msg_size or 0)
        elif ev.type is PeerEventType.MSG_RECV:
            metrics.message_in(ev.protocol or "unknown", ev.msg_size or 0)


class ServerBackend:
    """:class:`~peerwire.cli.NodeBackend` over a ``devp2p.Server`` (not yet started).

    With ``metrics``, :meth:`start` also runs the two metric feeds in its own task scope.
    """

    def __init__(self, server: Server, *, network_id: int, metrics: NetMetrics | None = None) -> None:
        self.stack = "devp2p"
        self._server = server
        self._network_id = network_id
        self._metrics = metrics
        self._tasks = TaskScope("devp2p-backend")
        self._running = False

    @property
    def server(self) -> Server:
        return self._server

    async def start(self) -> None:
        await self._tasks.start()
        if self._metrics is not None:
            # subscribe before the server starts, so the first dials are counted
            lifecycle = self._server.subscribe_lifecycle()
            self._tasks.spawn(self._metrics.consume(lifecycle), name="lifecycle-metrics")
        await self._server.start()
        self._running = True
        if self._metrics is not None:
            traffic = self._server.subscribe_events()
            self._tasks.spawn(count_traffic(traffic, self._metrics), name="traffic-metrics")

    async def stop(self) -> None:
        if self._running:
            self._running = False
            await self._server.stop()
        await self._tasks.stop()

    def node_info(self) -> dict[str, Any]:
        info: dict[str, Any] = to_json(self._server.node_info())
        return info

    def peers_info(self) -> list[dict[str, Any]]:
        peers: list[dict[str, Any]] = to_json(list(self._server.peers_info()))
        return sorted(peers, key=lambda p: str(p.get("id", "")))

    def peer_count(self) -> int:
        return self._server.peer_count()

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

    @staticmethod
    def _node(url: str) -> Node:
        return Node.parse(parse_peer_url("devp2p", url))

    def dial_failures(self) -> list[dict[str, Any]]:
        return dial_failures_json(self._server.dial_failures())

    async def add_peer(self, url: str) -> bool:
        self._server.add_peer(self._node(url))
        return True

    async def remove_peer(self, url: str) -> bool:
        self._server.remove_peer(self._node(url))
        return True

    async def add_trusted_peer(self, url: str) -> bool:
        self._server.add_trusted_peer(self._node(url))
        return True

    async def remove_trusted_peer(self, url: str) -> bool:
        self._server.remove_trusted_peer(self._node(url))
        return True
