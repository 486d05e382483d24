"""A peerwire devp2p Server running discovery v5 only, against a real go-ethereum v1.17.5 ``geth``.

geth runs with discovery v4 off and v5 on, on 127.0.0.1 with ``--netrestrict
127.0.0.0/8``, no DNS discovery, no NAT, and no bootnode but ours (or none):

* geth is told only our ``enr:``; it finds our Server through discv5 (its eth
  dial candidates are its v5 random walk filtered by the ENR ``eth`` fork id we
  publish) and dials it; our Server does not dial at all;
* our Server is told only geth's ``enr:`` as a discovery bootnode; it finds geth
  through discv5 and dials it as a dynamic peer. Our record carries no ``eth``
  entry here, so geth's filter never dials us: the connection can only be ours.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest
from tests.interop._geth import run_geth
from tests.interop.test_eth_geth import CHAIN, GENESIS, NETWORK_ID

from peerwire import devp2p, eth

pytestmark = [pytest.mark.interop, pytest.mark.slow]

GETH_V5_ONLY = ("--discovery.v4=false", "--discovery.v5")


def _server(protocols: list[devp2p.Protocol], **kw: Any) -> devp2p.Server:
    cfg = devp2p.Config(
        private_key=devp2p.PrivateKey.generate(),
        name="peerwire-v5-test",
        listen_addr="127.0.0.1:0",
        protocols=protocols,
        net_restrict=["127.0.0.0/8"],
        no_discovery=False,
        discovery_v4=False,
        discovery_v5=True,
        **kw,
    )
    return devp2p.Server(cfg)


def _geth_peer(geth: Any, node_id: bytes) -> dict[str, Any] | None:
    for p in geth.rpc("admin_peers"):
        if p["id"] == node_id.hex():
            return dict(p)
    return None


def test_geth_finds_our_v5_only_server_through_discv5_and_dials_it(tmp_path: Path) -> None:
    async def main() -> None:
        proto = eth.Protocol(CHAIN)
        async with _server(proto.protocols(), no_dial=True) as srv:
            assert srv.discovery is not None and srv.discovery.v4 is None
            enr = srv.node_info()["enr"]
            rec = devp2p.ENR.decode(enr)
            assert (rec.tcp, rec.udp) == (srv.listen_port, srv.discovery.udp_port)
            assert eth.ForkID.from_enr(rec) == CHAIN.fork_id(0, CHAIN.genesis_time)
            with run_geth(
                GENESIS, tmp_path, network_id=NETWORK_ID, bootnodes=[enr], extra_args=GETH_V5_ONLY
            ) as geth:
                info = await asyncio.to_thread(geth.rpc, "admin_nodeInfo")
                assert info["ports"]["discovery"] != 0
                ep = await proto.wait_peer(timeout=120)
                assert ep.peer.inbound, "geth must have dialed us"
                assert ep.status.genesis == CHAIN.genesis_hash
                seen = await asyncio.to_thread(_geth_peer, geth, srv.self_node().id)
                assert seen is not None and not seen["network"]["inbound"]  # geth's side: it dialed
                # geth learnt our endpoint over discv5 only (v4 is off on both sides)
                assert srv.discovery.v5 is not None
                geth_id = bytes.fromhex(info["id"])
                assert geth_id in {n.id for n in srv.discovery.v5.table_nodes()}
                assert "discv4" not in " ".join(srv.dial_candidate_sources)

    asyncio.run(asyncio.wait_for(main(), 240))


def test_our_v5_only_server_finds_geth_through_discv5_and_dials_it(tmp_path: Path) -> None:
    async def main(geth: Any) -> None:
        info = await asyncio.to_thread(geth.rpc, "admin_nodeInfo")
        geth_enr = info["enr"]
        geth_id = bytes.fromhex(info["id"])
        proto = eth.Protocol(CHAIN)
        # no eth entry in our record: geth's dial filter skips us, so the connection is ours
        quiet = [dataclasses.replace(p, attributes={}) for p in proto.protocols()]
        async with _server(quiet, bootstrap_nodes=[geth_enr]) as srv:
            assert srv.dial_candidate_sources == ["discv5-default"]
            assert srv.discovery is not None
            assert "eth" not in srv.discovery.record
            ep = await proto.wait_peer(timeout=120)
            assert ep.peer.id == geth_id
            assert not ep.peer.inbound and ep.peer.flags & devp2p.ConnFlag.DYN_DIALED
            assert ep.version == 72 and ep.status.genesis == CHAIN.genesis_hash
            deadline = time.monotonic() + 10
            seen = None
            while seen is None and time.monotonic() < deadline:
                seen = await asyncio.to_thread(_geth_peer, geth, srv.self_node().id)
                await asyncio.sleep(0.2)
            assert seen is not None and seen["network"]["inbound"]  # geth's side: we dialed

    with run_geth(GENESIS, tmp_path, network_id=NETWORK_ID, extra_args=GETH_V5_ONLY) as geth:
        asyncio.run(asyncio.wait_for(main(geth), 240))
