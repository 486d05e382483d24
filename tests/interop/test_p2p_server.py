"""peerwire's devp2p Server against go-ethereum's p2p.Server (Go harness `p2pserver`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.devp2p._aio import aio
from tests.interop._goserver import GoServer

from peerwire._clock import FakeClock
from peerwire.devp2p import (
    ENR,
    Config,
    DiscReason,
    MsgReadWriter,
    Node,
    Peer,
    PeerEventType,
    PrivateKey,
    Protocol,
    Server,
)

pytestmark = pytest.mark.interop

GO_PROTOS = "echo/1/2,echo/2/3,other/1/4"


async def parked(peer: Peer, rw: MsgReadWriter) -> None:
    while True:
        await rw.read_msg()


def py_server(protocols: list[Protocol] | None = None, **kw: Any) -> Server:
    if protocols is None:
        protocols = [
            Protocol("echo", 1, 2, parked),
            Protocol("echo", 2, 3, parked),
            Protocol("other", 1, 4, parked),
        ]
    kw.setdefault("listen_addr", "127.0.0.1:0")
    kw.setdefault("name", "peerwire-test")
    return Server(Config(private_key=PrivateKey.generate(), protocols=protocols, **kw))


async def until(cond: Callable[[], bool], within: float = 10) -> None:
    async with asyncio.timeout(within):
        while not cond():  # noqa: ASYNC110 - state spread over tasks
            await asyncio.sleep(0.02)


@aio
async def test_peerwire_dials_geth_echo_with_right_codes(go_harness: Path) -> None:
    go = await GoServer.start(go_harness, "-protos", GO_PROTOS, "-name", "geth-harness")
    replies: asyncio.Queue[tuple[str, int, bytes]] = asyncio.Queue(maxsize=10)

    def sender(label: str, code: int, payload: bytes) -> Protocol:
        name, version = label.split("/")

        async def run(peer: Peer, rw: MsgReadWriter) -> None:
            await rw.write_msg(code, payload)
            m = await rw.read_msg()
            await replies.put((label, m.code, m.payload))
            await asyncio.Event().wait()

        return Protocol(name, int(version), {"echo/1": 2, "echo/2": 3, "other/1": 4}[label], run)

    srv = py_server(
        [sender("echo/1", 1, b"\x01"), sender("echo/2", 2, b"\x82v2"), sender("other/1", 3, b"\x83oth")]
    )
    try:
        async with srv:
            srv.add_peer(Node.parse(go.enode))
            got = sorted([await asyncio.wait_for(replies.get(), 10) for _ in range(2)])
            # echo/2 (the highest shared version, length 3) at 16..18, other/1 at 19..22
            assert got == [("echo/2", 2, b"\x82v2"), ("other/1", 3, b"\x83oth")]
            recvs = sorted((e["proto"], e["code"], e["payload"]) for e in go.seen if e["event"] == "recv")
            assert recvs == [("echo/2", 2, "827632"), ("other/1", 3, "836f7468")]
            [p] = srv.peers()
            assert p.name == "geth-harness" and p.id == go.id and not p.inbound
            assert [str(c) for c in p.caps] == ["echo/1", "echo/2", "other/1"]
            peers = (await go.cmd("peers"))["peers"]
            assert len(peers) == 1 and peers[0]["name"] == "peerwire-test"
            assert peers[0]["id"] == srv.self_node().id.hex() and peers[0]["inbound"] is True
            assert peers[0]["caps"] == ["echo/1", "echo/2", "other/1"]
            # geth sends on its own: relative codes arrive in the right protocol
            await go.cmd("send", id=srv.self_node().id.hex(), proto="other", code=1, payload="c0")
    finally:
        await go.close()


@aio
async def test_geth_dials_peerwire_and_echoes(go_harness: Path) -> None:
    go = await GoServer.start(go_harness, "-protos", GO_PROTOS)

    async def answer(peer: Peer, rw: MsgReadWriter) -> None:
        # geth's harness echoes everything, so answer only what we did not send ("!" marks ours)
        while True:
            m = await rw.read_msg()
            if not m.payload.endswith(b"!"):
                await rw.write_msg(m.code, m.payload + b"!")

    srv = py_server([Protocol("echo", 2, 3, answer), Protocol("other", 1, 4, answer)])
    try:
        async with srv:
            ev = srv.subscribe_events()
            await go.cmd("add_peer", enode=srv.self_node().enode_url())
            add = await asyncio.wait_for(anext(ev), 10)
            assert add.type is PeerEventType.ADD and add.peer == go.id
            [p] = srv.peers()
            assert p.inbound and p.name == "geth-harness"
            await go.wait(lambda e: e["event"] == "add")
            r = await go.cmd("send", id=srv.self_node().id.hex(), proto="echo", code=2, payload="c3010203")
            assert not r.get("error"), r
            try:
                back = await go.wait(lambda e: e["event"] == "recv")
            except TimeoutError:
                raise AssertionError(f"no echo; go saw {go.seen}; py peers {srv.peers_info()}") from None
            assert (back["proto"], back["code"], back["payload"]) == ("echo/2", 2, "c301020321")
            await go.cmd("send", id=srv.self_node().id.hex(), proto="other", code=3, payload="80")
            back = await go.wait(lambda e: e["event"] == "recv")
            assert (back["proto"], back["code"], back["payload"]) == ("other/1", 3, "8021")
    finally:
        await go.close()


@aio
async def test_too_many_peers_both_directions(go_harness: Path) -> None:
    # geth with MaxPeers=1 has no inbound slot: peerwire's dial is refused before Hello.
    go = await GoServer.start(go_harness, "-maxpeers", "1")
    srv = py_server(max_peers=1)  # and peerwire with max_peers=1 refuses geth's dial
    try:
        async with srv:
            srv.add_peer(Node.parse(go.enode))
            await until(lambda: bool(srv.setup_failures))
            err = srv.setup_failures[-1][1]
            assert getattr(err, "disconnect_reason", None) == DiscReason.TOO_MANY_PEERS, err
            r = await go.cmd("setup_conn", enode=srv.self_node().enode_url())
            assert r.get("reason") == int(DiscReason.TOO_MANY_PEERS), r
            assert "too many peers" in r["error"]
    finally:
        await go.close()


@aio
async def test_useless_peer_both_directions(go_harness: Path) -> None:
    """Each side in turn has no protocols (so it does not check); the other must refuse."""
    go = await GoServer.start(go_harness, "-protos", "echo/1/2")
    srv = py_server([])
    try:
        async with srv:
            # geth refuses peerwire: peerwire sees UselessPeer from geth
            ev = srv.subscribe_events()
            srv.add_peer(Node.parse(go.enode))
            await until(lambda: bool(srv.setup_failures) or ev._q.qsize() >= 2)
            if srv.setup_failures:
                assert (
                    getattr(srv.setup_failures[-1][1], "disconnect_reason", None) == DiscReason.USELESS_PEER
                )
            else:
                evs = [await anext(ev), await anext(ev)]
                assert [e.type for e in evs] == [PeerEventType.ADD, PeerEventType.DROP]
                assert evs[1].error == "useless peer"
    finally:
        await go.close()
    go = await GoServer.start(go_harness, "-protos", "")
    srv = py_server([Protocol("nothing", 1, 1, parked)])
    try:
        async with srv:
            # peerwire refuses geth: geth's connection ends with UselessPeer sent by peerwire
            r = await go.cmd("setup_conn", enode=srv.self_node().enode_url())
            if r["error"]:
                assert r.get("reason") == int(DiscReason.USELESS_PEER), r
            else:
                drop = await go.wait(lambda e: e["event"] == "drop")
                assert drop["error"] == "useless peer", drop
            assert srv.peer_count() == 0
            assert getattr(srv.setup_failures[-1][1], "disconnect_reason", None) == DiscReason.USELESS_PEER
    finally:
        await go.close()


@aio
async def test_trusted_peer_admitted_past_max_peers(go_harness: Path) -> None:
    go = await GoServer.start(go_harness)
    srv = py_server(max_peers=1)  # no inbound slot at all
    try:
        async with srv:
            srv.add_trusted_peer(Node.parse(go.enode))
            await go.cmd("add_peer", enode=srv.self_node().enode_url())
            await until(lambda: srv.peer_count() == 1)
            [p] = srv.peers()
            assert p.trusted and p.inbound
        # and geth trusts us past its own limit
        go2 = await GoServer.start(go_harness, "-maxpeers", "1")
        srv2 = py_server()
        try:
            async with srv2:
                await go2.cmd("add_trusted", enode=srv2.self_node().enode_url())
                srv2.add_peer(Node.parse(go2.enode))
                await until(lambda: srv2.peer_count() == 1)
                peers = (await go2.cmd("peers"))["peers"]
                assert peers[0]["trusted"] is True
        finally:
            await go2.close()
    finally:
        await go.close()


@aio
async def test_static_peer_redialed_after_geth_drops_it(go_harness: Path) -> None:
    go = await GoServer.start(go_harness)
    clock = FakeClock()
    srv = py_server(clock=clock)
    try:
        async with srv:
            srv.add_peer(Node.parse(go.enode))
            await until(lambda: srv.peer_count() == 1)
            ev = srv.subscribe_events()
            await go.cmd("drop", id=srv.self_node().id.hex(), reason=int(DiscReason.REQUESTED))
            drop = await asyncio.wait_for(anext(ev), 10)
            assert drop.type is PeerEventType.DROP and drop.error == "disconnect requested"
            await go.wait(lambda e: e["event"] == "drop")  # geth's peer set no longer has us
            await clock.advance(36)  # past the 35 s dial history
            try:
                add = await asyncio.wait_for(anext(ev), 10)
            except TimeoutError:
                d = srv.dialer
                raise AssertionError(
                    f"no redial: failures={list(srv.setup_failures)} log={d.failures_log} hist={d.history} "
                    f"pool={d.static_pool} dialing={d.dialing} peers={d.peers} now={clock.monotonic()}"
                ) from None
            assert add.type is PeerEventType.ADD and add.peer == go.id
            assert srv.peers()[0].static
    finally:
        await go.close()


def _shape(v: Any) -> Any:
    """The JSON structure without the values: key sets, recursively, and value types."""
    if isinstance(v, dict):
        return {k: _shape(x) for k, x in v.items() if k != "protocols"}
    if isinstance(v, list):
        return [_shape(v[0])] if v else []
    return type(v).__name__


@aio
async def test_node_info_and_peers_info_have_geths_admin_shape(go_harness: Path) -> None:
    go = await GoServer.start(go_harness, "-protos", "echo/1/2")
    srv = py_server([Protocol("echo", 1, 2, parked)], name="peerwire/v0.1")
    try:
        async with srv:
            srv.add_peer(Node.parse(go.enode))
            await until(lambda: srv.peer_count() == 1)
            await go.wait(lambda e: e["event"] == "add")
            go_node = (await go.cmd("node_info"))["info"]
            go_peers = (await go.cmd("peers_info"))["info"]
            ours_node, ours_peers = srv.node_info(), srv.peers_info()
            assert _shape(ours_node) == _shape(go_node)
            assert _shape(ours_peers) == _shape(go_peers)
            assert set(ours_node["protocols"]) == set(go_node["protocols"]) == {"echo"}
            assert ours_node["ports"]["listener"] == srv.listen_port
            rec = ENR.decode(ours_node["enr"])
            rec.verify()
            assert rec.node_id == srv.self_node().id and rec[b"tcp"] == srv.listen_port.to_bytes(2, "big")
            # each side describes the other the same way
            [theirs_about_us] = go_peers
            [ours_about_them] = ours_peers
            assert theirs_about_us["id"] == ours_node["id"] and ours_about_them["id"] == go_node["id"]
            assert theirs_about_us["name"] == "peerwire/v0.1" and ours_about_them["name"] == go_node["name"]
            assert theirs_about_us["caps"] == ours_about_them["caps"] == ["echo/1"]
            assert (
                theirs_about_us["network"]["inbound"] is True and ours_about_them["network"]["static"] is True
            )
            assert theirs_about_us["network"]["remoteAddress"] == ours_about_them["network"]["localAddress"]
    finally:
        await go.close()
