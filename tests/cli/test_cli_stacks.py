"""The real stacks behind testnet/node, in process: metrics are fed by what really happens."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from peerwire import devp2p
from peerwire._metrics import NetMetrics
from peerwire.cli._stacks import (
    Devp2pNode,
    Devp2pTestnetStack,
    Tm2Node,
    Tm2TestnetStack,
    demo_protocol,
    free_port,
)
from peerwire.devp2p import Config, PrivateKey
from peerwire.tm2 import NodeKey


async def _until(cond: Callable[[], bool], within: float = 10.0) -> None:
    """Poll ``cond`` every 50 ms (many tasks change the state: there is no one event to wait on)."""
    for _ in range(int(within / 0.05)):
        if cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached within {within} s")


def test_devp2p_node_counts_a_garbage_handshake() -> None:
    async def main() -> None:
        key = PrivateKey.generate()
        cfg = Config(private_key=key, listen_addr="127.0.0.1:0", protocols=[demo_protocol()])
        node = Devp2pNode("n", key, NetMetrics("devp2p"), config=cfg)  # no_discovery: the default
        await node.start()
        try:
            assert node.self_node().udp_port == 0 and node.disc is None
            _, w = await asyncio.open_connection("127.0.0.1", node.server.listen_port)
            w.write(b"\x00" * 400)  # not an EIP-8 auth message
            await w.drain()
            await _until(lambda: node.metrics.snapshot().handshake_failures == 1)
            w.close()
            # an outbound dial to a closed port: counted as a dial with its failure reason
            node.server.add_peer(devp2p.Node(PrivateKey.generate().public_key, "127.0.0.1", free_port(), 0))
            await _until(lambda: node.metrics.snapshot().dial_failures == 1)
            assert node.metrics.snapshot().dials == 1
            body = node.metrics.exposition().decode()
            assert 'peerwire_dial_results_total{result="connection refused",stack="devp2p"} 1.0' in body, body
        finally:
            await node.stop()

    asyncio.run(main())


def test_devp2p_stack_three_nodes_meet_through_discovery(tmp_path: Path) -> None:
    async def main() -> None:
        nodes = list(await Devp2pTestnetStack().create(3, tmp_path))
        await nodes[0].start()
        await asyncio.gather(*(n.start() for n in nodes[1:]))
        try:
            assert nodes[0].disc is nodes[0].server.discovery is not None  # the server's own discovery
            # told about the bootnode after it started
            assert list(nodes[1].server.config.bootstrap_nodes) == [nodes[0].self_node()]
            await _until(lambda: all(n.metrics.snapshot().peers == 2 for n in nodes), 20)
            await _until(lambda: all(n.metrics.snapshot().messages_in > 0 for n in nodes))
            snap = nodes[1].metrics.snapshot()
            assert snap.peers_inbound + snap.peers_outbound == 2
            traffic = nodes[1].metrics.traffic()  # from the server's MSG_RECV events: 10-byte payloads
            msgs, size = traffic[("in", "demo")]
            assert msgs > 0 and size == 10 * msgs
        finally:
            await asyncio.gather(*(n.stop() for n in nodes))
        assert all(n.metrics.snapshot().peers == 0 for n in nodes)

    asyncio.run(main())


def test_tm2_stack_joins_from_seed_and_counts_failed_dials(tmp_path: Path) -> None:
    async def main() -> None:
        nodes = list(await Tm2TestnetStack().create(3, tmp_path))
        assert nodes[1].pex is not None and [str(s) for s in nodes[1].pex.seeds] == [nodes[0].address]
        for n in nodes:
            await n.start()
        try:
            await _until(lambda: all(n.metrics.snapshot().peers == 2 for n in nodes), 20)
            await _until(lambda: all(n.metrics.snapshot().messages_in > 0 for n in nodes))
            dead = f"{NodeKey.generate().id}@127.0.0.1:{free_port()}"
            nodes[0].switch.dial_peers(dead)
            # a refused connect is a failed dial, not a failed handshake (typed reason, no text)
            await _until(lambda: nodes[0].metrics.snapshot().dial_failures == 1)
            assert nodes[0].metrics.snapshot().handshake_failures == 0
            body = nodes[0].metrics.exposition().decode()
            assert 'peerwire_dial_results_total{result="connection refused",stack="tm2"} 1.0' in body, body
        finally:
            for n in nodes:
                await n.stop()

    asyncio.run(main())


def test_tm2_node_without_pex_has_only_the_demo_channel() -> None:
    node = Tm2Node(
        "x",
        NodeKey.generate(),
        NetMetrics("tm2"),
        host="0.0.0.0",
        port=1234,
        moniker="x",
        network="n",
        pex=False,
    )
    assert node.info.channels == b"\x77" and node.pex is None
    assert node.address.endswith("@127.0.0.1:1234")  # a wildcard listen address is advertised as loopback
