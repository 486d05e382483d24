"""The devp2p.Server adapter against a stand-in with the server's surface
(mirrors python/peerwire/cli/_devp2p_backend.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from peerwire._metrics import NetMetrics
from peerwire._pubsub import PubSub, Subscription
from peerwire.cli._admin import build_dispatcher
from peerwire.cli._config import parse_config
from peerwire.cli._devp2p_backend import ServerBackend, count_traffic, server_config
from peerwire.devp2p import Node, PeerEvent, PeerEventType, PrivateKey
from peerwire.events import (
    DialFailed,
    DialFailureReason,
    DialStarted,
    Direction,
    DropReason,
    Event,
    HandshakeFailed,
    HandshakeFailureReason,
    PeerAdded,
    PeerDropped,
)

Ev = PeerEvent


@dataclasses.dataclass
class Ports:
    discovery: int
    listener: int


@dataclasses.dataclass
class NodeInfo:
    id: str
    name: str
    enode: str
    enr: str
    ip: str
    ports: Ports
    listen_addr: str
    protocols: dict[str, Any]


@dataclasses.dataclass
class FakePeer:
    id: bytes
    inbound: bool


class FakeServer:
    """API.md's devp2p.Server surface, recording calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.entered = self.exited = False
        self.peer_list = [FakePeer(b"\x01", True), FakePeer(b"\x02", False)]
        self.events: asyncio.Queue[Ev | None] = asyncio.Queue(maxsize=16)
        self.lifecycle: PubSub[Event] = PubSub()

    async def start(self) -> None:
        self.entered = True

    async def stop(self) -> None:
        self.exited = True

    def subscribe_lifecycle(self) -> Subscription[Event]:
        return self.lifecycle.subscribe()

    def node_info(self) -> NodeInfo:
        return NodeInfo(
            "ab", "peerwire/x", "enode://…", "enr:…", "127.0.0.1", Ports(1, 2), ":2", {"echo": "unknown"}
        )

    def peers_info(self) -> list[dict[str, Any]]:
        return [{"id": "ff", "network": {"inbound": False}}, {"id": "0a", "network": {"inbound": True}}]

    def peer_count(self) -> int:
        return 2

    def peers(self) -> list[FakePeer]:
        return self.peer_list

    def add_peer(self, node: Node) -> None:
        self.calls.append(("add_peer", node.enode_url()))

    def remove_peer(self, node: Node) -> None:
        self.calls.append(("remove_peer", node.enode_url()))

    def add_trusted_peer(self, node: Node) -> None:
        self.calls.append(("add_trusted_peer", node.enode_url()))

    def remove_trusted_peer(self, node: Node) -> None:
        self.calls.append(("remove_trusted_peer", node.enode_url()))

    async def subscribe_events(self) -> AsyncIterator[Ev]:
        while (ev := await self.events.get()) is not None:
            yield ev


ENODE = f"enode://{PrivateKey.from_hex('22' * 32).public_key.to_hex()}@127.0.0.1:30303"


def _rpc(d: Any, method: str, *params: Any) -> Any:
    raw = asyncio.run(
        d.handle_bytes(
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        )
    )
    return json.loads(raw)


def test_geth_shapes_through_the_dispatcher() -> None:
    server = FakeServer()
    backend = ServerBackend(server, network_id=5)
    d = build_dispatcher(backend)
    info = _rpc(d, "admin_nodeInfo")["result"]
    assert info["listenAddr"] == ":2" and info["ports"] == {"discovery": 1, "listener": 2}
    assert [p["id"] for p in _rpc(d, "admin_peers")["result"]] == ["0a", "ff"]  # sorted by id, as geth
    assert _rpc(d, "net_peerCount")["result"] == "0x2"
    assert _rpc(d, "net_version")["result"] == "5"
    for method in ("admin_addPeer", "admin_removePeer", "admin_addTrustedPeer", "admin_removeTrustedPeer"):
        assert _rpc(d, method, ENODE)["result"] is True
    assert [c[0] for c in server.calls] == [
        "add_peer",
        "remove_peer",
        "add_trusted_peer",
        "remove_trusted_peer",
    ]
    assert all(c[1] == ENODE for c in server.calls)
    assert _rpc(d, "admin_addPeer", "enode://00@1.2.3.4:1")["error"]["message"].startswith("invalid enode")
    assert len(server.calls) == 4


def test_metrics_come_from_the_typed_feeds() -> None:
    A, B = "01" * 32, "02" * 32

    async def main() -> tuple[FakeServer, NetMetrics, bool]:
        server = FakeServer()
        metrics = NetMetrics("devp2p")
        backend = ServerBackend(server, network_id=1, metrics=metrics)  # type: ignore[arg-type]
        await backend.start()
        listening = backend.listening()
        for ev in (
            DialStarted(B, "10.0.0.2:30303"),
            PeerAdded(A, "10.0.0.1:1", Direction.INBOUND),
            PeerAdded(B, "10.0.0.2:30303", Direction.OUTBOUND),
            DialStarted(None, "10.0.0.3:30303"),
            DialFailed(None, "10.0.0.3:30303", DialFailureReason.CONNECT_REFUSED),
            HandshakeFailed(None, "10.0.0.4:1", Direction.INBOUND, HandshakeFailureReason.ALREADY_CONNECTED),
            HandshakeFailed(None, "10.0.0.5:1", Direction.INBOUND, HandshakeFailureReason.FAILED),
            PeerDropped(A, "10.0.0.1:1", Direction.INBOUND, DropReason.REMOTE_DISCONNECT, "too many peers"),
        ):
            server.lifecycle.publish(ev)
        for ev2 in (
            Ev(PeerEventType.MSG_RECV, b"\x01", protocol="echo", msg_size=10),
            Ev(PeerEventType.MSG_SEND, b"\x02", protocol="echo", msg_size=4),
        ):
            await server.events.put(ev2)
        for _ in range(50):
            if metrics.snapshot().messages_out:
                break
            await asyncio.sleep(0.01)
        await backend.stop()
        assert {
            t for t in asyncio.all_tasks() if t is not asyncio.current_task()
        } == set()  # none outlive stop()
        return server, metrics, listening

    server, metrics, listening = asyncio.run(main())
    assert listening and server.entered and server.exited
    snap = metrics.snapshot()
    assert (snap.peers_inbound, snap.peers_outbound, snap.disconnects) == (0, 1, 1)
    assert (snap.dials, snap.dial_failures, snap.handshake_failures) == (2, 1, 1)  # a refusal is no failure
    assert (snap.messages_in, snap.bytes_in, snap.messages_out, snap.bytes_out) == (1, 10, 1, 4)
    body = metrics.exposition()
    assert b'reason="remote disconnect"' in body and b'result="connection refused"' in body
    assert b'result="success"' in body and b'reason="handshake failed"' in body


def test_traffic_counter_ends_with_the_stream() -> None:
    async def events() -> AsyncIterator[Any]:
        yield Ev(PeerEventType.ADD, b"\x09")  # peers are not counted from here
        yield Ev(PeerEventType.MSG_RECV, b"\x09", protocol="eth", msg_size=3)

    m = NetMetrics("devp2p")
    asyncio.run(count_traffic(events(), m))
    assert m.snapshot().peers == 0 and m.traffic() == {("in", "eth"): (1, 3)}


def test_server_config() -> None:
    cfg = parse_config(
        f'[devp2p]\nmaxpeers = 9\nport = 0\nnodiscover = true\nbootnodes = "{ENODE}"\n'
        'netrestrict = "10.0.0.0/8"\n',
        path="n.toml",
        base_dir=Path("/b"),
    )
    key = PrivateKey.generate()
    c = server_config(cfg, key)
    assert c.private_key is key
    assert (c.listen_addr, c.max_peers, c.max_pending_peers, c.no_discovery) == ("0.0.0.0:0", 9, 50, True)
    assert [n.enode_url() for n in c.bootstrap_nodes] == [ENODE]  # type: ignore[union-attr]
    assert list(c.net_restrict or []) == ["10.0.0.0/8"] and c.enable_msg_events
    assert (c.discovery_v4, c.discovery_v5) == (True, True)
    only5 = parse_config("[devp2p]\ndiscovery.v4 = false\n", path="n.toml", base_dir=Path("/b"))
    c = server_config(only5, key)
    assert (c.discovery_v4, c.discovery_v5, c.no_discovery) == (False, True, False)
