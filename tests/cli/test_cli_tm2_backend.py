"""The tm2.MultiplexSwitch adapter against a stand-in with the switch's surface
(mirrors python/peerwire/cli/_tm2_backend.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from peerwire._metrics import NetMetrics
from peerwire._pubsub import PubSub, Subscription
from peerwire.cli._admin import build_dispatcher
from peerwire.cli._tm2_backend import SwitchBackend
from peerwire.events import Direction, DropReason, PeerAdded, PeerDropped
from peerwire.events import Event as LifecycleEvent
from peerwire.tm2 import NetAddress, NodeKey

A = NodeKey.from_secret(b"a").id
B = NodeKey.from_secret(b"b").id
SELF = NodeKey.from_secret(b"self").id


class EventType(enum.Enum):
    PEER_CONNECTED = "PeerConnected"
    PEER_DISCONNECTED = "PeerDisconnected"


@dataclasses.dataclass
class Event:
    type: EventType
    peer_id: str
    reason: Exception | None = None


@dataclasses.dataclass
class VersionInfo:
    name: str
    version: str


@dataclasses.dataclass
class NodeInfo:
    version_set: list[VersionInfo]
    net_address: NetAddress
    network: str
    software: str
    version: str
    channels: bytes
    moniker: str


@dataclasses.dataclass
class Status:
    duration: int
    send_rate: int


@dataclasses.dataclass
class Peer:
    id: str
    is_outbound: bool
    node_info: NodeInfo
    remote_ip: str = "127.0.0.1"
    remote_addr: str = "127.0.0.1:5555"
    socket_addr: str = "127.0.0.1:26656"
    is_persistent: bool = False

    def status(self) -> Status:
        return Status(5, 100)


class PeerSet:
    def __init__(self, peers: list[Peer]) -> None:
        self._peers = peers

    def list(self) -> list[Peer]:
        return list(self._peers)

    def get(self, pid: str) -> Peer | None:
        return next((p for p in self._peers if p.id == pid), None)


def _info(node_id: str, moniker: str, port: int) -> NodeInfo:
    return NodeInfo(
        [VersionInfo("p2p", "v1.0.0-rc.0")],
        NetAddress(node_id, "127.0.0.1", port),
        "dev",
        "gno",
        "v1.0.0-rc.0",
        bytes([0x40, 0x50]),
        moniker,
    )


class FakeSwitch:
    def __init__(self) -> None:
        self.peer_list = [Peer(B, True, _info(B, "b", 2)), Peer(A, False, _info(A, "a", 1))]
        self.dialed: list[Any] = []
        self.stopped: list[tuple[str, str]] = []
        self.events: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=16)
        self.entered = self.exited = False
        self.lifecycle: PubSub[LifecycleEvent] = PubSub()

    async def start(self) -> None:
        self.entered = True

    async def stop(self) -> None:
        self.exited = True

    def subscribe_lifecycle(self) -> Subscription[LifecycleEvent]:
        return self.lifecycle.subscribe()

    def peers(self) -> PeerSet:
        return PeerSet(self.peer_list)

    def dial_peers(self, *addrs: Any) -> None:
        self.dialed.extend(addrs)

    def stop_peer_for_error(self, peer: Peer, err: Exception) -> None:
        self.stopped.append((peer.id, str(err)))

    async def subscribe(self, flt: Callable[[Event], bool]) -> AsyncIterator[Event]:
        while (ev := await self.events.get()) is not None:
            if flt(ev):
                yield ev


def _rpc(d: Any, method: str, *params: Any) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    return json.loads(asyncio.run(d.handle_bytes(body)))


def _backend(sw: FakeSwitch, metrics: NetMetrics | None = None) -> SwitchBackend:
    return SwitchBackend(
        sw,
        _info(SELF, "me", 26656),
        listen_addr="tcp://127.0.0.1:26656",
        metrics=metrics,
    )


def test_net_info_and_admin_shapes() -> None:
    sw = FakeSwitch()
    d = build_dispatcher(_backend(sw))
    ni = _rpc(d, "net_info")["result"]
    assert ni["listening"] is False and ni["n_peers"] == "2"
    p0 = ni["peers"][0]
    assert p0["is_outbound"] is True and p0["remote_ip"] == "127.0.0.1"
    assert p0["node_info"]["channels"] == "4050" and p0["node_info"]["net_address"] == f"{B}@127.0.0.1:2"
    assert p0["node_info"]["version_set"] == [{"name": "p2p", "version": "v1.0.0-rc.0"}]
    assert p0["connection_status"] == {"duration": 5, "send_rate": 100}
    info = _rpc(d, "admin_nodeInfo")["result"]
    assert (info["id"], info["enode"], info["name"]) == (SELF, f"{SELF}@127.0.0.1:26656", "me")
    assert info["ports"]["listener"] == 26656
    peers = _rpc(d, "admin_peers")["result"]
    assert [p["id"] for p in peers] == sorted([A, B])
    by_id = {p["id"]: p for p in peers}
    assert by_id[A]["network"]["inbound"] is True and by_id[B]["network"]["inbound"] is False
    assert _rpc(d, "net_peerCount")["result"] == "0x2"
    assert _rpc(d, "net_version")["result"] == "dev"


def test_peer_management() -> None:
    sw = FakeSwitch()
    d = build_dispatcher(_backend(sw))
    assert _rpc(d, "admin_addPeer", f"{A}@127.0.0.1:9")["result"] is True
    assert sw.dialed == [f"{A}@127.0.0.1:9"]
    assert _rpc(d, "admin_removePeer", f"{A}@127.0.0.1:1")["result"] is True
    assert sw.stopped == [(A, "removed by admin_removePeer")]
    assert _rpc(d, "admin_removePeer", f"{SELF}@127.0.0.1:1")["result"] is True  # unknown peer: no-op
    assert len(sw.stopped) == 1
    err = _rpc(d, "admin_addTrustedPeer", f"{A}@127.0.0.1:1")["error"]
    assert err["code"] == -32000 and "no trusted peers" in err["message"]
    bad = _rpc(d, "admin_addPeer", "g1nope@127.0.0.1:1")["error"]
    assert bad["code"] == -32000 and bad["message"].startswith("invalid address")
    assert len(sw.dialed) == 1
    plain = FakeSwitch()
    backend = SwitchBackend(plain, _info(SELF, "me", 1), listen_addr="tcp://127.0.0.1:1")
    assert asyncio.run(backend.add_peer(f"tcp://{B}@127.0.0.1:7")) is True
    assert plain.dialed == [f"{B}@127.0.0.1:7"]  # the switch takes id@host:port strings


def test_lifecycle_and_event_bridge() -> None:
    async def main() -> tuple[FakeSwitch, NetMetrics]:
        sw = FakeSwitch()
        metrics = NetMetrics("tm2")
        backend = _backend(sw, metrics)
        await backend.start()
        assert backend.listening()
        for ev in (
            PeerAdded(A, "127.0.0.1:1", Direction.INBOUND),
            PeerAdded(B, "127.0.0.1:2", Direction.OUTBOUND),
            PeerDropped(B, "127.0.0.1:2", Direction.OUTBOUND, DropReason.CONNECTION_CLOSED, "reset"),
        ):
            sw.lifecycle.publish(ev)
        for _ in range(50):
            if metrics.snapshot().disconnects:
                break
            await asyncio.sleep(0.01)
        await backend.stop()
        return sw, metrics

    sw, metrics = asyncio.run(main())
    assert sw.entered and sw.exited
    snap = metrics.snapshot()
    assert (snap.peers_inbound, snap.peers_outbound, snap.disconnects) == (1, 0, 1)
    assert b'direction="outbound",reason="connection closed"' in metrics.exposition()
