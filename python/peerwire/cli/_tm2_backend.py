"""The TM2 stack behind ``peerwire node``: a :class:`NodeBackend` over ``tm2.MultiplexSwitch``.

Typed against the switch (``peers()`` → PeerSet, ``dial_peers``, ``stop_peer_for_error``,
``subscribe_lifecycle``) and the PeerConn contract.

``net_info`` has gno's ``ResultNetInfo`` shape (amino JSON: ``n_peers`` as a string);
the ``admin_*`` methods answer in geth's shapes with TM2 values (``enode`` is ``id@host:port``).
TM2 has no trusted peers: ``admin_addTrustedPeer`` / ``admin_removeTrustedPeer`` are refused.
"""

from __future__ import annotations

from typing import Any

from peerwire._metrics import NetMetrics
from peerwire._tasks import TaskScope
from peerwire.cli._adapt import dial_failures_json, to_json
from peerwire.cli._addr import parse_peer_url
from peerwire.cli._backend import BackendRefusal
from peerwire.tm2 import MultiplexSwitch, MultiplexTransport, NetAddress, NodeInfo, PeerConn

__all__ = ["SwitchBackend"]


class SwitchBackend:
    """:class:`~peerwire.cli.NodeBackend` over a ``tm2.MultiplexSwitch`` (not yet started).

    With ``metrics``, :meth:`start` also counts the switch's typed lifecycle events
    (:mod:`peerwire.events`) in its own task scope. With ``transport`` and ``listen``,
    the backend also owns the transport's listener.
    """

    def __init__(
        self,
        switch: MultiplexSwitch,
        node_info: NodeInfo,
        *,
        listen_addr: str,
        metrics: NetMetrics | None = None,
        transport: MultiplexTransport | None = None,
        listen: NetAddress | None = None,
    ) -> None:
        self.stack = "tm2"
        self._transport = transport
        self._listen = listen
        self._listening = False
        self._switch = switch
        self._info = node_info
        self._listen_addr = listen_addr
        self._metrics = metrics
        self._tasks = TaskScope("tm2-backend")
        self._running = False

    @property
    def switch(self) -> MultiplexSwitch:
        return self._switch

    async def start(self) -> None:
        """Listen on ``transport`` (when given), then start the switch."""
        if self._transport is not None and self._listen is not None:
            await self._transport.listen(self._listen)
            self._listening = True
        await self._tasks.start()
        if self._metrics is not None:
            lifecycle = self._switch.subscribe_lifecycle()
            self._tasks.spawn(self._metrics.consume(lifecycle), name="lifecycle-metrics")
        await self._switch.start()
        self._running = True

    async def stop(self) -> None:
        if self._listening and self._transport is not None:
            self._listening = False
            await self._transport.close()
        if self._running:
            self._running = False
            await self._switch.stop()
        await self._tasks.stop()

    @staticmethod
    def _node_info_json(info: NodeInfo) -> dict[str, Any]:
        out: dict[str, Any] = to_json(info, camel=False)
        out["channels"] = bytes(info.channels).hex().upper()  # Go HexBytes
        out["net_address"] = str(info.net_address)
        return out

    def node_info(self) -> dict[str, Any]:
        addr = self._info.net_address
        return {
            "id": str(addr.id),
            "name": self._info.moniker,
            "enode": str(addr),
            "enr": "",
            "ip": str(addr.ip),
            "ports": {"discovery": 0, "listener": addr.port},
            "listenAddr": self._listen_addr,
            "protocols": {"tm2": self._node_info_json(self._info)},
            "network": self._info.network,
        }

    def _peers(self) -> list[PeerConn]:
        return list(self._switch.peers().list())

    def peers_info(self) -> list[dict[str, Any]]:
        out = []
        for p in self._peers():
            out.append(
                {
                    "enode": f"{p.id}@{p.socket_addr}"
                    if "@" not in str(p.socket_addr)
                    else str(p.socket_addr),
                    "id": str(p.id),
                    "name": p.node_info.moniker,
                    "caps": [f"ch{c:02x}" for c in bytes(p.node_info.channels)],
                    "network": {
                        "localAddress": "",
                        "remoteAddress": str(p.remote_addr),
                        "inbound": not p.is_outbound,
                        "trusted": False,
                        "static": bool(p.is_persistent),
                    },
                    "protocols": {"tm2": self._node_info_json(p.node_info)},
                }
            )
        return sorted(out, key=lambda p: str(p["id"]))

    def peer_count(self) -> int:
        return len(self._peers())

    def listening(self) -> bool:
        return self._running

    def network_version(self) -> str:
        return str(self._info.network)

    def net_info(self) -> dict[str, Any]:
        peers = [
            {
                "node_info": self._node_info_json(p.node_info),
                "is_outbound": bool(p.is_outbound),
                "connection_status": to_json(p.status(), camel=False),
                "remote_ip": str(p.remote_ip),
            }
            for p in self._peers()
        ]
        return {
            "listening": self._running,
            "listeners": [self._listen_addr] if self._running else [],
            "n_peers": str(len(peers)),
            "peers": peers,
        }

    def dial_failures(self) -> list[dict[str, Any]]:
        return dial_failures_json(self._switch.dial_failures())

    async def add_peer(self, url: str) -> bool:
        self._switch.dial_peers(parse_peer_url("tm2", url))  # the switch takes id@host:port text
        return True

    async def remove_peer(self, url: str) -> bool:
        node_id = parse_peer_url("tm2", url).partition("@")[0]
        peer = self._switch.peers().get(node_id)
        if peer is not None:
            self._switch.stop_peer_for_error(peer, BackendRefusal("removed by admin_removePeer"))
        return True

    async def add_trusted_peer(self, url: str) -> bool:
        parse_peer_url("tm2", url)
        raise BackendRefusal("TM2 has no trusted peers (use persistent_peers)")

    async def remove_trusted_peer(self, url: str) -> bool:
        parse_peer_url("tm2", url)
        raise BackendRefusal("TM2 has no trusted peers (use persistent_peers)")
