"""The devp2p Server with discovery v4 on loopback: discovered nodes are dialed (geth setupDiscovery)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from tests.devp2p._aio import aio

from peerwire.devp2p import (
    ENR,
    Config,
    ConnFlag,
    DiscReason,
    MsgReadWriter,
    Node,
    Peer,
    PrivateKey,
    Protocol,
    Server,
)
from peerwire.devp2p import _dial as dial
from peerwire.devp2p import _server_discovery as server_discovery
from peerwire.devp2p._server_discovery import discovery_address


async def idle(peer: Peer, rw: MsgReadWriter) -> None:
    await asyncio.Event().wait()


def make(name: str, **kw: Any) -> Server:
    cfg: dict[str, Any] = {
        "private_key": PrivateKey.generate(),
        "name": name,
        "listen_addr": "127.0.0.1:0",
        "max_peers": 10,
        "protocols": [Protocol("idle", 1, 1, idle)],
        "no_discovery": False,
    }
    cfg.update(kw)
    return Server(Config(**cfg))


async def wait_for(cond: Callable[[], bool], within: float) -> None:
    async with asyncio.timeout(within):
        while not cond():  # noqa: ASYNC110 (polling state that has no event)
            await asyncio.sleep(0.05)


@aio
async def test_servers_find_each_other_through_one_bootnode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four servers told only about a bootnode end up in a full RLPx mesh, by dialing.

    Servers started together discover each other in the same lookup round and often dial
    each other at the same moment; as in geth, each side then keeps its own outbound
    connection and refuses the other's as "already connected", and both drop. geth (and
    we) retry after the 35 s dial history; here it is shortened so the retry comes soon.
    """
    monkeypatch.setattr(dial, "DIAL_HISTORY_EXPIRATION", 1.0)
    boot = make("boot")
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(boot)
        assert boot.discovery is not None
        boot_node = boot.self_node()
        assert boot_node.udp_port == boot.discovery.udp_port and boot_node.tcp_port == boot.listen_port
        servers = [make(f"s{i}", bootstrap_nodes=[boot_node.enode_url()]) for i in range(3)]
        for s in servers:
            await stack.enter_async_context(s)
        everyone = [boot, *servers]
        ids = {s.self_node().id for s in everyone}

        def meshed() -> bool:
            return all({p.id for p in s.peers()} == ids - {s.self_node().id} for s in everyone)

        await wait_for(meshed, 15)
        # Nobody called add_peer: every connection came from a dial of a discovered node.
        for s in everyone:
            for p in s.peers():
                assert p.inbound or p.flags & ConnFlag.DYN_DIALED
        assert any(p.flags & ConnFlag.DYN_DIALED for s in servers for p in s.peers())
        # The servers' discovery tables learned the others through the bootnode.
        for s in servers:
            assert s.discovery is not None
            assert {n.id for n in s.discovery.table_nodes()} >= {boot_node.id}


@aio
async def test_record_and_node_info_carry_both_ports() -> None:
    async with make("a") as srv:
        assert srv.discovery is not None
        rec = ENR.decode(srv.node_info()["enr"])
        rec.verify()
        assert (rec.ip, rec.tcp, rec.udp) == ("127.0.0.1", srv.listen_port, srv.discovery.udp_port)
        assert srv.node_info()["ports"] == {"discovery": srv.discovery.udp_port, "listener": srv.listen_port}
        me = srv.self_node()
        assert me.record is not None and me.record.seq == rec.seq
        assert Node.parse(me.enode_url()).udp_port == srv.discovery.udp_port
    assert srv.discovery is None


@aio
async def test_discovery_uses_the_tcp_port_when_free_and_the_configured_addr() -> None:
    # listen port 0: UDP tries the port TCP got first.
    async with make("a") as srv:
        assert srv.discovery is not None
        assert srv.discovery.udp_port == srv.listen_port
        assert srv.self_node().udp_port == srv.self_node().tcp_port
    # An explicit discovery address wins (geth DiscAddr).
    port = _free_udp_port()
    async with make("b", discovery_addr=f"127.0.0.1:{port}") as srv:
        assert srv.discovery is not None and srv.discovery.udp_port == port
        assert srv.self_node().udp_port == port


def test_discovery_address_rules() -> None:
    assert discovery_address(None, "127.0.0.1:30303", 30303) == ("127.0.0.1", [30303])
    assert discovery_address(None, "127.0.0.1:0", 41000) == ("127.0.0.1", [41000, 0])
    assert discovery_address("0.0.0.0:0", "127.0.0.1:0", 41000) == ("0.0.0.0", [0])
    assert discovery_address("[::1]:30301", None, 0) == ("::1", [30301])
    assert discovery_address(None, None, 0) == ("0.0.0.0", [0])


@aio
async def test_unspecified_address_advertises_loopback_fallback() -> None:
    async with make("a", listen_addr="0.0.0.0:0") as srv:
        assert srv.discovery is not None
        rec = srv.discovery.record
        assert rec.ip == "127.0.0.1" and rec.tcp == srv.listen_port


@aio
async def test_no_discovery_opens_no_udp_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    loop = asyncio.get_running_loop()
    real = loop.create_datagram_endpoint

    async def spy(*a: Any, **kw: Any) -> Any:
        calls.append((a, kw))
        return await real(*a, **kw)

    monkeypatch.setattr(loop, "create_datagram_endpoint", spy)
    async with make("quiet", no_discovery=True) as srv:
        assert srv.discovery is None
        assert srv.node_info()["ports"]["discovery"] == 0
        assert srv.self_node().record is None
    assert calls == []
    async with make("loud") as srv:
        assert srv.discovery is not None
    assert len(calls) == 1


@aio
async def test_discovery_is_mixed_with_other_candidate_sources(tmp_path: Path) -> None:
    """Discovery is one FairMix source among the configured ones; both kinds get dialed."""
    other = make("other", no_discovery=True)
    boot = make("boot")
    async with other, boot:

        async def extra() -> AsyncIterator[Node]:
            yield other.self_node()
            await asyncio.Event().wait()

        srv = make(
            "mixed",
            bootstrap_nodes=[boot.self_node()],
            dial_candidates=[extra()],
            node_database=str(tmp_path / "nodes.sqlite"),
        )
        async with srv:
            want = {other.self_node().id, boot.self_node().id}
            await wait_for(lambda: want <= {p.id for p in srv.peers()}, 10)
            assert all(p.flags & ConnFlag.DYN_DIALED for p in srv.peers() if p.id in want)
            seq = srv.self_node().record
            assert seq is not None
        # The node database kept the local record's seq (geth's localnode seq via the node DB).
        async with make(
            "mixed", private_key=srv.config.private_key, node_database=str(tmp_path / "nodes.sqlite")
        ) as again:
            rec = again.self_node().record
            assert rec is not None and rec.seq > seq.seq


@aio
async def test_discovery_bind_failure_leaves_nothing_listening() -> None:
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    try:
        port = busy.getsockname()[1]
        srv = make("x", discovery_addr=f"127.0.0.1:{port}")
        with pytest.raises(OSError):
            await srv.start()
        assert not srv.running and srv.discovery is None
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", srv.listen_port)
    finally:
        busy.close()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@aio
async def test_static_node_that_moved_is_resolved_through_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """geth dialTask.resolve: a static node's dial fails at its old endpoint; discovery
    finds its current record and the server connects there (and keeps using it)."""
    _short_retries(monkeypatch)
    async with make("boot") as boot:
        kb = PrivateKey.generate()
        async with make("moved", private_key=kb, bootstrap_nodes=[boot.self_node()], no_dial=True) as b:
            await wait_for(lambda: kb.public_key.node_id in {n.id for n in _table(boot)}, 5)
            dead = _free_udp_port()  # nothing listens here, TCP or UDP
            stale = Node(kb.public_key, "127.0.0.1", dead, dead)
            async with make("a", bootstrap_nodes=[boot.self_node()]) as a:
                a.add_peer(stale)
                await wait_for(lambda: any(p.id == b.self_node().id for p in a.peers()), 10)
                (p,) = [p for p in a.peers() if p.id == b.self_node().id]
                assert p.flags & ConnFlag.STATIC_DIALED and not p.inbound
                assert p.node.tcp_port == b.listen_port != dead


def _short_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded machine can miss discovery's 500 ms reply deadline while resolving; geth's
    (and our) answer is to retry later (35 s dial backoff, 60 s resolve delay). Retry soon."""
    monkeypatch.setattr(dial, "BACKOFF_BASE", 0.3)
    monkeypatch.setattr(dial, "DIAL_HISTORY_EXPIRATION", 0.3)
    monkeypatch.setattr(server_discovery, "INITIAL_RESOLVE_DELAY", 0.3)


def _table(srv: Server) -> list[Node]:
    assert srv.discovery is not None
    return srv.discovery.table_nodes()


@aio
async def test_static_node_given_by_id_only_is_located_through_discovery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """geth: a static node without an IP is resolved through the DHT before it is dialed."""
    _short_retries(monkeypatch)
    async with make("boot") as boot:
        kb = PrivateKey.generate()
        async with make("b", private_key=kb, bootstrap_nodes=[boot.self_node()], no_dial=True) as b:
            await wait_for(lambda: kb.public_key.node_id in {n.id for n in _table(boot)}, 5)
            async with make("a", bootstrap_nodes=[boot.self_node()]) as a:
                a.add_peer(f"enode://{kb.public_key.to_bytes().hex()}")
                await wait_for(lambda: any(p.id == b.self_node().id for p in a.peers()), 10)
                (p,) = [p for p in a.peers() if p.id == b.self_node().id]
                assert p.flags & ConnFlag.STATIC_DIALED and not p.inbound
                assert p.node.tcp_port == b.listen_port
                # after a drop the static node is redialed at the endpoint found before
                p.disconnect(DiscReason.REQUESTED)
                bid = b.self_node().id
                await wait_for(lambda: any(q.id == bid and q is not p for q in a.peers()), 10)
                (q,) = [q for q in a.peers() if q.id == bid]
                assert q.flags & ConnFlag.STATIC_DIALED and q.node.tcp_port == b.listen_port


@aio
async def test_restart_unwraps_the_static_resolver_and_keeps_outer_wrappers() -> None:
    srv = make("r")
    calls: list[bytes] = []
    inner = srv.dialer.set_up

    async def counted(node: Node, host: str, flags: ConnFlag) -> None:
        calls.append(node.id)
        await inner(node, host, flags)

    srv.dialer.set_up = counted  # e.g. the CLI counts dials this way
    for _ in range(2):
        async with srv:
            assert isinstance(srv.dialer.set_up, server_discovery.StaticResolver)
            assert srv.dialer.set_up.set_up is counted and srv.dialer.resolve_node is not None
        assert srv.dialer.set_up is counted and srv.dialer.resolve_node is None
