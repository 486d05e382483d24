"""The devp2p Server with discovery v5 (alone, or with v4 on one port) on loopback (geth setupDiscovery)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from tests.devp2p._aio import aio

from peerwire import eth
from peerwire.devp2p import ENR, Config, ConnFlag, MsgReadWriter, Node, Peer, PrivateKey, Protocol, Server
from peerwire.devp2p import _dial as dial
from peerwire.devp2p.discover import listen_v5

CHAIN = eth.Chain.hoodi()


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


def enr_of(srv: Server) -> str:
    return str(ENR.decode(srv.node_info()["enr"]))


@aio
async def test_v5_only_servers_find_and_dial_only_v5_peers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Servers running only v5, told only the bootnode's ``enr:``, mesh through v5 alone.

    The bootnode runs v4 and v5; a v4-only server also bootstraps from it. The v5-only
    servers never learn of it (it is in no v5 table) and never connect to it.
    """
    monkeypatch.setattr(dial, "DIAL_HISTORY_EXPIRATION", 1.0)  # see test_server_discovery
    boot = make("boot")  # both protocols
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(boot)
        assert boot.discovery is not None and boot.discovery.v4 is not None and boot.discovery.v5 is not None
        v4_only = make("v4only", discovery_v5=False, bootstrap_nodes=[boot.self_node().enode_url()])
        await stack.enter_async_context(v4_only)
        servers = [make(f"v5-{i}", discovery_v4=False, bootstrap_nodes=[enr_of(boot)]) for i in range(3)]
        for s in servers:
            await stack.enter_async_context(s)
            assert s.discovery is not None and s.discovery.v4 is None and s.discovery.v5 is not None
        v5_ids = {boot.self_node().id} | {s.self_node().id for s in servers}

        def meshed() -> bool:
            return all({p.id for p in s.peers()} >= v5_ids - {s.self_node().id} for s in servers)

        await wait_for(meshed, 20)
        await asyncio.sleep(1.5)  # more lookup rounds: still nobody reaches the v4-only server
        x = v4_only.self_node().id
        for s in servers:
            assert s.discovery is not None
            assert x not in {p.id for p in s.peers()}
            assert x not in {n.id for n in s.discovery.table_nodes()}
            # dialed because v5 found them: nobody was given as static or candidate
            assert all(p.inbound or p.flags & ConnFlag.DYN_DIALED for p in s.peers())
        assert any(p.flags & ConnFlag.DYN_DIALED for s in servers for p in s.peers())


@aio
async def test_v4_and_v5_share_one_port_and_both_feed_the_dialer() -> None:
    """One UDP port answers v4 and v5; a v4-only and a v5-only peer are both found and dialed."""
    hub = make("hub")  # both
    async with hub:
        assert hub.discovery is not None
        port = hub.discovery.udp_port
        assert hub.self_node().udp_port == port and hub.discovery.record.udp == port
        assert sorted(hub.dial_candidate_sources) == ["discv4-default", "discv5-default"]
        only4 = make("only4", discovery_v5=False, bootstrap_nodes=[hub.self_node().enode_url()], no_dial=True)
        only5 = make("only5", discovery_v4=False, bootstrap_nodes=[enr_of(hub)], no_dial=True)
        async with only4, only5:
            # both speak to the same hub port: each one's table learns the hub
            await wait_for(
                lambda: all(
                    hub.self_node().id in {n.id for n in s.discovery.table_nodes()}
                    for s in (only4, only5)
                    if s.discovery is not None
                ),
                15,
            )
            # the hub learns each through its own protocol and dials both (they do not dial)
            want = {only4.self_node().id, only5.self_node().id}
            await wait_for(lambda: want <= {p.id for p in hub.peers()}, 20)
            assert all(p.flags & ConnFlag.DYN_DIALED for p in hub.peers() if p.id in want)
            assert hub.discovery.v4 is not None and hub.discovery.v5 is not None
            assert only4.self_node().id in {n.id for n in hub.discovery.v4.table_nodes()}
            assert only5.self_node().id in {n.id for n in hub.discovery.v5.table_nodes()}
            assert only5.self_node().id not in {n.id for n in hub.discovery.v4.table_nodes()}


@aio
async def test_v5_record_carries_tcp_port_and_the_eth_fork_id() -> None:
    """What a v5 peer fetches (FINDNODE distance 0) is our record with tcp, udp and ``eth``."""
    proto = eth.Protocol(CHAIN)
    srv = make("eth", discovery_v4=False, protocols=proto.protocols(), no_dial=True)
    async with srv:
        assert srv.discovery is not None and srv.discovery.v4 is None
        async with listen_v5(PrivateKey.generate(), "127.0.0.1:0") as other:
            rec = await other.request_enr(srv.self_node())
        rec.verify()
        assert (rec.ip, rec.tcp, rec.udp) == ("127.0.0.1", srv.listen_port, srv.discovery.udp_port)
        assert eth.ForkID.from_enr(rec) == proto.fork_id()
        assert rec.seq == srv.discovery.record.seq and str(rec) == srv.node_info()["enr"]


@aio
async def test_v5_only_server_without_v4_has_no_static_resolver_and_stops_cleanly() -> None:
    srv = make("solo", discovery_v4=False)
    async with srv:
        assert srv.discovery is not None
        assert srv.discovery.static_resolver(srv.dialer.set_up, srv.config.clock) is None
        assert srv.dialer.resolve_node is None  # geth: the dialer resolves through discv4 only
        assert srv.dial_candidate_sources == ["discv5-default"]
        v5 = srv.discovery.v5
        assert v5 is not None and v5.tasks.running
        assert srv.node_info()["ports"]["discovery"] == srv.discovery.udp_port
    assert srv.discovery is None and not v5.tasks.running and v5.closed
    assert srv.dial_candidate_sources == []


@aio
async def test_no_v4_no_v5_means_no_discovery() -> None:
    srv = make("none", discovery_v4=False, discovery_v5=False)
    async with srv:
        assert srv.discovery is None
        assert srv.node_info()["ports"]["discovery"] == 0
        assert isinstance(srv.self_node(), Node)


@aio
async def test_v5_only_server_bootstraps_from_an_enode_url() -> None:
    """As geth: an ``enode:`` bootnode serves v5 too (reached by key, its record fetched)."""
    hub = make("hub")
    async with hub:
        only5 = make("only5", discovery_v4=False, bootstrap_nodes=[hub.self_node().enode_url()])
        async with only5:
            disc = only5.discovery
            assert disc is not None and disc.v5 is not None
            hub_id = hub.self_node().id
            await wait_for(lambda: hub_id in {n.id for n in disc.table_nodes()}, 15)
            assert disc.v5.bootnodes[0].record is not None
            await wait_for(lambda: hub_id in {p.id for p in only5.peers()}, 20)
