"""peerwire.eth against a real go-ethereum v1.17.5 ``geth`` on 127.0.0.1 (private genesis,
bootnodes only our node, no DNS discovery, net restricted to loopback, NAT off)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_harness
from tests.eth.test_chain import _private_genesis
from tests.interop._geth import run_geth
from tests.interop.test_eth_genesis import FORK_SETS

from peerwire import devp2p, eth

pytestmark = [pytest.mark.interop, pytest.mark.slow]

NETWORK_ID = 73571
GENESIS = _private_genesis(chainId=NETWORK_ID, **FORK_SETS["prague+future-osaka"])
CHAIN = eth.Chain.from_genesis(GENESIS)
HOLD_SECONDS = 60.0


def _server(proto: eth.Protocol, **kw: Any) -> devp2p.Server:
    cfg = devp2p.Config(
        private_key=devp2p.PrivateKey.generate(),
        name="peerwire-eth-test",
        listen_addr="127.0.0.1:0",
        protocols=proto.protocols(),
        net_restrict=["127.0.0.0/8"],
        **kw,
    )
    return devp2p.Server(cfg)


def test_peerwire_dials_geth_and_fetches_genesis(tmp_path: Path, go_harness: Path) -> None:
    gfile = tmp_path / "genesis.json"
    gfile.write_text(json.dumps(GENESIS))
    geth_view = json.loads(run_harness(go_harness, "genesis-hash", str(gfile)))
    assert CHAIN.genesis_hash.hex() == geth_view["hash"]

    async def main(enode: str) -> None:
        proto = eth.Protocol(CHAIN)
        async with _server(proto, static_nodes=[enode]):
            ep = await proto.wait_peer(timeout=30)
            assert ep.version == 72  # geth v1.17.5's highest
            assert ep.status.network_id == NETWORK_ID
            assert ep.status.genesis == CHAIN.genesis_hash
            assert ep.status.fork_id == CHAIN.fork_id(0, CHAIN.genesis_time)
            assert ep.status.latest_hash == CHAIN.genesis_hash
            (header,) = await ep.get_block_headers(0, 1)
            assert header.hash == CHAIN.genesis_hash
            assert header.encode().hex() == geth_view["header"]
            by_hash = await ep.get_block_headers(CHAIN.genesis_hash, 1)
            assert [h.hash for h in by_hash] == [CHAIN.genesis_hash]

    with run_geth(GENESIS, tmp_path, network_id=NETWORK_ID) as geth:
        asyncio.run(asyncio.wait_for(main(geth.enode), 90))


def test_geth_discovers_dials_and_keeps_peerwire(tmp_path: Path) -> None:
    async def main() -> None:
        proto = eth.Protocol(CHAIN)
        async with _server(proto, no_discovery=False, no_dial=True) as srv:
            enr = srv.node_info()["enr"]
            rec = devp2p.ENR.decode(enr)
            assert eth.ForkID.from_enr(rec) == CHAIN.fork_id(0, CHAIN.genesis_time)
            with run_geth(GENESIS, tmp_path, network_id=NETWORK_ID, bootnodes=[enr]) as geth:
                ep = await proto.wait_peer(timeout=120)
                assert ep.peer.inbound, "geth must have dialed us"
                assert ep.version == 72
                our_id = srv.self_node().id
                seen = await asyncio.to_thread(geth.wait_peer, our_id, "eth")
                assert seen["protocols"]["eth"]["version"] == 72
                start = time.monotonic()
                while time.monotonic() - start < HOLD_SECONDS:
                    await asyncio.sleep(5)
                    still = await asyncio.to_thread(geth.peer, our_id)
                    assert still is not None, f"geth dropped us:\n{geth.log_text()[-3000:]}"
                    assert still["protocols"]["eth"]["version"] == 72
                    assert proto.peers() == [ep]
                assert not seen["network"]["inbound"]  # geth's side: it dialed

    asyncio.run(asyncio.wait_for(main(), 300))


async def _first_drop(proto: eth.Protocol, enode: str) -> str:
    async with _server(proto, static_nodes=[enode]) as srv:
        events = srv.subscribe_events()
        async with asyncio.timeout(30):
            async for ev in events:
                if ev.type is devp2p.PeerEventType.DROP:
                    assert proto.peers() == []
                    return ev.error or ""
    raise AssertionError("no drop event")


def _wait_log(geth: Any, needle: str, within: float = 10.0) -> str:
    deadline = time.monotonic() + within
    while needle not in geth.log_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    return str(geth.log_text())


def test_geth_refuses_our_incompatible_fork_id(tmp_path: Path) -> None:
    # Same genesis, but we passed a fork at genesis_time + 1 that geth never heard of:
    # geth's filter says "local incompatible" (rule 4) and disconnects with DiscSubprotocolError.
    ours = dataclasses.replace(CHAIN, time_forks=(*CHAIN.time_forks, CHAIN.genesis_time + 1))
    head = eth.Head(0, CHAIN.genesis_hash, CHAIN.genesis_time + 0x1000)
    with run_geth(GENESIS, tmp_path, network_id=NETWORK_ID) as geth:
        error = asyncio.run(_first_drop(eth.Protocol(ours, head=head), geth.enode))
        log = _wait_log(geth, "fork ID rejected")
        assert "fork ID rejected: local incompatible or needs update" in log, log[-3000:]
        # Either geth's Disconnect (0x10, "subprotocol error") reached us first, or our own
        # filter refused geth's ID too (remote stale, from our side): both are refusals.
        assert error in ("subprotocol error", "fork ID rejected: remote needs update"), error
        assert geth.rpc("admin_peers") == []


def test_we_refuse_geths_fork_id_that_geth_accepts(tmp_path: Path) -> None:
    # We moved Osaka to 5e9 and our clock is at 4.5e9: geth announces [genesis, next=4e9],
    # a fork that already passed for us -> rule 1 "local incompatible". Geth accepts our
    # [genesis, next=5e9] (not passed on its clock), so only we refuse: deterministic.
    forks = (*(t for t in CHAIN.time_forks if t != 4_000_000_000), 5_000_000_000)
    ours = dataclasses.replace(CHAIN, time_forks=forks)
    head = eth.Head(0, CHAIN.genesis_hash, 4_500_000_000)
    proto = eth.Protocol(ours, head=head)
    assert proto.fork_id() == eth.ForkID(CHAIN.fork_id(0, CHAIN.genesis_time).hash, 5_000_000_000)
    with run_geth(GENESIS, tmp_path, network_id=NETWORK_ID) as geth:
        error = asyncio.run(_first_drop(proto, geth.enode))
        assert error == "fork ID rejected: local incompatible or needs update", error
        log = _wait_log(geth, 'req=true err="subprotocol error"')
        assert "fork ID rejected" not in log  # geth accepted our ID
        # geth's p2p log: we asked (req=true) with DiscSubprotocolError
        assert 'req=true err="subprotocol error"' in log, log[-3000:]
        assert geth.rpc("admin_peers") == []


def test_geth_drops_a_silent_eth_peer_with_read_timeout_after_5s(tmp_path: Path) -> None:
    """geth's handshakeTimeout (5 s) -> DiscReadTimeout, the same bound our handshake uses."""

    async def silent(peer: devp2p.Peer, rw: devp2p.MsgReadWriter) -> None:
        await asyncio.Event().wait()  # speaks eth/72 but never sends Status

    async def main(enode: str) -> tuple[str, float]:
        cfg = devp2p.Config(
            private_key=devp2p.PrivateKey.generate(),
            listen_addr="127.0.0.1:0",
            protocols=[devp2p.Protocol(name="eth", version=72, length=22, run=silent)],
            static_nodes=[enode],
            no_dial=False,
        )
        async with devp2p.Server(cfg) as srv:
            events = srv.subscribe_events()
            added = 0.0
            async with asyncio.timeout(30):
                async for ev in events:
                    if ev.type is devp2p.PeerEventType.ADD:
                        added = time.monotonic()
                    if ev.type is devp2p.PeerEventType.DROP:
                        return ev.error or "", time.monotonic() - added
        raise AssertionError("no drop event")

    with run_geth(GENESIS, tmp_path, network_id=NETWORK_ID) as geth:
        error, after = asyncio.run(main(geth.enode))
    assert error == str(devp2p.DiscReason.READ_TIMEOUT)
    assert 4.0 <= after <= 8.0, after
    assert eth.Protocol(CHAIN).handshake_timeout == 5.0
