"""The TM2 stack behind ``peerwire node``: a :class:`NodeBackend` over ``tm2.MultiplexSwitch``.

Written against the switch surface in API.md (the switch as an async context manager,
``peers()`` → PeerSet with ``list()`` / ``get(id)``, ``dial_peers(addr)``,
``stop_peer_for_error(peer, err)``, ``subscribe(filter)``; PeerConn's ``id``,
``node_info``, ``is_outbound``, ``is_persistent``, ``remote_ip``, ``remote_addr``,
``status()``). Not registered automatically; the integration builds the switch and wraps it.

``net_info`` has gno's ``ResultNetInfo`` shape (amino JSON: ``n_peers`` as a string);
the ``admin_*`` methods answer in geth's shapes with TM2 values (``enode`` is ``id@host:port``).
TM2 has no trusted peers: ``admin_addTrustedPeer`` / ``admin_removeTrustedPeer`` are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from peerwire._metrics import NetMetrics
from peerwire.cli._adapt import event_kind, maybe_await, to_json
from peerwire.cli._addr import parse_peer_url
from peerwire.cli._backend import BackendRefusal

__all__ = ["SwitchBackend", "bridge_tm2_events"]


async def bridge_tm2_events(
    events: AsyncIterator[Any], metrics: NetMetrics, outbound_of: Callable[[Any], bool | None]
) -> None:
    """Feed switch events (PeerConnected / PeerDisconnected) into ``metrics``."""
    inbound: dict[Any, bool] = {}
    async for ev in events:
        kind = event_kind(ev)
        pid = getattr(ev, "peer_id", None)
        if kind == "peerconnected":
            is_in = not bool(outbound_of(pid))
            inbound[pid] = is_in
            metrics.peer_added(inbound=is_in)
        elif kind == "peerdisconnected":
            reason = getattr(ev, "reason", None)
            metrics.peer_removed(inbound=inbound.pop(pid, True), reason=str(reason) if reason else "unknown")


class SwitchBackend:
    """:class:`~peerwire.cli.NodeBackend` over a ``tm2.MultiplexSwitch`` (not yet entered)."""

    def __init__(
        self,
        switch: Any,
        node_info: Any,
        *,
        listen_addr: str,
        metrics: NetMetrics | None = None,
        parse_address: Callable[[str], Any] | None = None,
    ) -> None:
        self.stack = "tm2"
        self._switch = switch
        self._info = node_info
        self._listen_addr = listen_addr
        self._metrics = metrics
        self._parse_address = parse_address
        self._bridge: asyncio.Task[None] | None = None
        self._running = False

    async def start(self) -> None:
        await self._switch.__aenter__()
        self._running = True
        if self._metrics is not None:
            events = self._switch.subscribe(lambda e: True)
            self._bridge = asyncio.create_task(bridge_tm2_events(events, self._metrics, self._outbound_of))

    def _outbound_of(self, peer_id: Any) -> bool | None:
        peer = self._switch.peers().get(peer_id)
        return None if peer is None else bool(peer.is_outbound)

    async def stop(self) -> None:
        if self._bridge is not None:
            self._bridge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._bridge
        if self._running:
            self._running = False
            await self._switch.__aexit__(None, None, None)

    def _node_info_json(self, info: Any) -> dict[str, Any]:
        out: dict[str, Any] = to_json(info, camel=False)
        if isinstance(getattr(info, "channels", None), bytes):
            out["channels"] = info.channels.hex().upper()  # Go HexBytes
        if "net_address" in out:
            out["net_address"] = str(info.net_address)
        return out

    def node_info(self) -> dict[str, Any]:
        addr = str(self._info.net_address)
        node_id, _, hostport = addr.partition("@")
        host, _, port = hostport.rpartition(":")
        return {
            "id": node_id,
            "name": self._info.moniker,
            "enode": addr,
            "enr": "",
            "ip": host.strip("[]"),
            "ports": {"discovery": 0, "listener": int(port) if port.isdigit() else 0},
            "listenAddr": self._listen_addr,
            "protocols": {"tm2": self._node_info_json(self._info)},
            "network": self._info.network,
        }

    def _peers(self) -> list[Any]:
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

    async def add_peer(self, url: str) -> bool:
        text = parse_peer_url("tm2", url)
        # the switch takes ``id@host:port`` strings; parse_address turns them into its address type
        addr = self._parse_address(text) if self._parse_address is not None else text
        await maybe_await(self._switch.dial_peers(addr))
        return True

    async def remove_peer(self, url: str) -> bool:
        node_id = parse_peer_url("tm2", url).partition("@")[0]
        peer = self._switch.peers().get(node_id)
        if peer is not None:
            await maybe_await(
                self._switch.stop_peer_for_error(peer, BackendRefusal("removed by admin_removePeer"))
            )
        return True

    async def add_trusted_peer(self, url: str) -> bool:
        parse_peer_url("tm2", url)
        raise BackendRefusal("TM2 has no trusted peers (use persistent_peers)")

    async def remove_trusted_peer(self, url: str) -> bool:
        parse_peer_url("tm2", url)
        raise BackendRefusal("TM2 has no trusted peers (use persistent_peers)")
