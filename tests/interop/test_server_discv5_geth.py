"""A peerwire devp2p Server running discovery v5 only, against a real go-ethereum v1.17.5 ``geth``.

geth runs with discovery v4 off and v5 on, on 127.0.0.1 with ``--netrestrict
127.0.0.0/8``, no DNS discovery, no NAT. Its only bootnode is a peerwire discv5
node that runs no server (``listen_v5``), and so is ours: neither side is told
about the other.

* geth finds our Server through discv5 (its eth dial candidates are its v5
  random walk filtered by the ENR ``eth`` fork id we publish) and dials it; our
  Server does not dial at all;
* our Server finds geth through discv5 and dials it as a dynamic peer. Our
  record carries no ``eth`` entry there, so geth's filter never dials us: the
  connection can only be ours.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from tests.interop._geth import run_geth
from tests.interop.test_eth_geth import CHAIN, GENESIS, NETWORK_ID

from peerwire import devp2p, eth
from peerwire.devp2p.discover import listen_v5

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


def test_geth_finds_our_v5_only_server_through_discv5_and_dials_it(tmp_path: Path) -> None:
    async def main() -> None:
        proto = eth.Protocol(CHAIN)
        async with (
            listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0") as boot,
            _server(proto.protocols(), no_dial=True, bootstrap_nodes=[str(boot.local.record)]) as srv,
        ):
            assert srv.discovery is not None and srv.discovery.v4 is None
            rec = devp2p.ENR.decode(srv.node_info()["enr"])
            assert (rec.tcp, rec.udp) == (srv.listen_port, srv.discovery.udp_port)
            assert eth.ForkID.from_enr(rec) == CHAIN.fork_id(0, CHAIN.genesis_time)
            boot_enr = str(boot.local.record)
            with run_geth(
                GENESIS, tmp_path, network_id=NETWORK_ID, bootnodes=[boot_enr], extra_args=GETH_V5_ONLY
            ) as geth:
                info = await asyncio.to_thread(geth.rpc, "admin_nodeInfo")
                assert info["ports"]["discovery"] != 0
                ep = await proto.wait_peer(timeout=120)
                assert ep.peer.inbound, "geth must have dialed us"
                assert ep.status.genesis == CHAIN.genesis_hash
                seen = await asyncio.to_thread(geth.wait_peer, srv.self_node().id, "eth")
                assert not seen["network"]["inbound"]  # geth's side: it dialed
                # geth learnt our endpoint over discv5 only (v4 is off on both sides)
                assert srv.discovery.v5 is not None
                geth_id = bytes.fromhex(info["id"])
                assert geth_id in {n.id for n in srv.discovery.v5.table_nodes()}
                assert "discv4" not in " ".join(srv.dial_candidate_sources)

    asyncio.run(asyncio.wait_for(main(), 240))


def test_our_v5_only_server_finds_geth_through_discv5_and_dials_it(tmp_path: Path) -> None:
    async def main(geth: Any, boot_enr: str) -> None:
        info = await asyncio.to_thread(geth.rpc, "admin_nodeInfo")
        geth_id = bytes.fromhex(info["id"])
        proto = eth.Protocol(CHAIN)
        # no eth entry in our record: geth's dial filter skips us, so the connection is ours
        quiet = [dataclasses.replace(p, attributes={}) for p in proto.protocols()]
        async with _server(quiet, bootstrap_nodes=[boot_enr]) as srv:
            assert srv.dial_candidate_sources == ["discv5-default"]
            assert srv.discovery is not None
            assert "eth" not in srv.discovery.record
            ep = await proto.wait_peer(timeout=120)
            assert ep.peer.id == geth_id
            assert not ep.peer.inbound and ep.peer.flags & devp2p.ConnFlag.DYN_DIALED
            assert ep.version == 72 and ep.status.genesis == CHAIN.genesis_hash
            seen = await asyncio.to_thread(geth.wait_peer, srv.self_node().id, None)
            assert seen["network"]["inbound"]  # geth's side: we dialed

    async def with_bootnode() -> None:
        async with listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0") as boot:
            boot_enr = str(boot.local.record)
            with run_geth(
                GENESIS, tmp_path, network_id=NETWORK_ID, bootnodes=[boot_enr], extra_args=GETH_V5_ONLY
            ) as geth:
                await main(geth, boot_enr)

    asyncio.run(asyncio.wait_for(with_bootnode(), 240))
