"""The real stacks behind ``peerwire testnet`` and ``peerwire node`` (:func:`make_backend`).

devp2p: a :class:`~peerwire.devp2p.Server` running discovery v4 and/or v5 itself (``Config.no_discovery``
false, ``bootstrap_nodes``, ``node_database``; UDP on the TCP port number when it is free), so
``srv.discovery`` finds the peers the server dials. TM2: a
:class:`~peerwire.tm2.MultiplexTransport` + :class:`~peerwire.tm2.MultiplexSwitch` with the
peer-exchange :class:`peerwire.tm2.discovery.Reactor`.

Both testnet stacks run a small demo protocol so the live view shows traffic: devp2p
``demo/1`` (every :data:`DEMO_INTERVAL` s a Ping carrying a counter, answered by a Pong) and
TM2 channel ``0x77`` (the same, as a reactor).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from peerwire._metrics import NetMetrics
from peerwire._tasks import TaskScope
from peerwire.cli._addr import split_host_port
from peerwire.cli._backend import Identity, NodeBackend
from peerwire.cli._config import NodeConfig
from peerwire.cli._devp2p_backend import ServerBackend, server_config
from peerwire.cli._tm2_backend import SwitchBackend
from peerwire.devp2p import (
    Config,
    Msg,
    MsgReadWriter,
    Node,
    Peer,
    PrivateKey,
    Protocol,
    Server,
)
from peerwire.devp2p._server_discovery import ServerDiscovery
from peerwire.errors import ConnectionClosedError, PeerwireError
from peerwire.tm2 import (
    BaseReactor,
    ChannelDescriptor,
    MConnConfig,
    MultiplexSwitch,
    MultiplexTransport,
    NetAddress,
    NodeInfo,
    NodeKey,
    PeerConn,
    with_allow_duplicate_ip,
    with_max_inbound_peers,
    with_max_outbound_peers,
    with_persistent_peers,
    with_private_peers,
    with_reactor,
)
from peerwire.tm2 import discovery as tm2_discovery
from peerwire.tm2.observe import OBSERVED_CHANNELS, Observer
from peerwire.tm2.profiles import NodeProfile

__all__ = [
    "DEMO_CHANNEL",
    "DEMO_INTERVAL",
    "DemoReactor",
    "Devp2pNode",
    "Devp2pTestnetStack",
    "DiscoveringServerBackend",
    "Tm2Node",
    "Tm2TestnetStack",
    "demo_protocol",
    "devp2p_node_backend",
    "free_port",
    "make_backend",
    "tm2_node_backend",
]

log = logging.getLogger(__name__)

#: Seconds between two demo pings on each connection.
DEMO_INTERVAL = 0.5
#: TM2 channel of the demo reactor.
DEMO_CHANNEL = 0x77
#: Peer exchange interval in the TM2 testnet (gno: 3 s; shorter so a short run converges).
TESTNET_PEX_INTERVAL = 1.0
TM2_NETWORK = "peerwire-testnet"
TM2_VERSION = "v1.0.0"


def free_port(host: str = "127.0.0.1") -> int:
    """A currently free TCP port (TM2's NodeInfo must name the real port before listening)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _rlp_counter(n: int) -> bytes:
    """RLP ``[n]`` with ``n`` as an 8-byte string (a fixed 10-byte payload)."""
    return b"\xc9\x88" + n.to_bytes(8, "big")


# ------------------------------------------------------------------------------------ devp2p


def demo_protocol(interval: float = DEMO_INTERVAL) -> Protocol:
    """``demo/1``: code 0 Ping (RLP counter), code 1 Pong (the same payload back)."""

    async def run(peer: Peer, rw: MsgReadWriter) -> None:
        async def pinger() -> None:
            n = 0
            while True:
                await rw.write_msg(0, _rlp_counter(n))
                n += 1
                await asyncio.sleep(interval)

        task = asyncio.ensure_future(pinger())
        try:
            while True:
                msg: Msg = await rw.read_msg()
                if msg.code == 0:
                    await rw.write_msg(1, msg.payload)
        except ConnectionClosedError:
            return
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, PeerwireError):
                await task

    return Protocol("demo", 1, 2, run, node_info=lambda: {"interval": interval})


class DiscoveringServerBackend(ServerBackend):
    """:class:`ServerBackend` whose ``admin_nodeInfo`` shows the discovery port as geth does
    (``?discport=0`` and port 0 without discovery; ``:30303`` for a wildcard listen address)."""

    def self_node(self) -> Node:
        """The server's node; UDP port 0 without discovery (geth's ``?discport=0``)."""
        n = self.server.self_node()
        udp = n.udp_port if self.server.discovery is not None else 0
        return Node(n.public_key, n.ip or "127.0.0.1", n.tcp_port, udp)

    def node_info(self) -> dict[str, Any]:
        info = super().node_info()
        me = self.self_node()
        info["enode"] = me.enode_url()
        info["ports"] = {"discovery": me.udp_port, "listener": me.tcp_port}
        if self.server.config.listen_addr is not None:
            host, _ = split_host_port(self.server.config.listen_addr)
            if host in ("0.0.0.0", "::"):
                info["listenAddr"] = f":{me.tcp_port}"  # geth prints the configured ``:30303``
        return info


class Devp2pNode:
    """A devp2p server, with the discovery (v4 and/or v5) its ``config`` asks for; metrics fed by its events.

    Discovery is the server's own (``no_discovery``, ``bootstrap_nodes``, ``node_database``,
    ``net_restrict`` of ``config``); :attr:`disc` is the running service, ``None`` without it.
    Traffic metrics need ``config.enable_msg_events`` (the testnet sets it).
    """

    def __init__(
        self, name: str, key: PrivateKey, metrics: NetMetrics, *, config: Config, network_id: int = 1
    ) -> None:
        self.name = name
        self.stack = "devp2p"
        self.key = key
        self.metrics = metrics
        self.backend = DiscoveringServerBackend(Server(config), network_id=network_id, metrics=metrics)

    @property
    def server(self) -> Server:
        return self.backend.server

    @property
    def disc(self) -> ServerDiscovery | None:
        """The server's discovery service (v4 and/or v5) while it runs, else ``None``."""
        return self.server.discovery

    @property
    def address(self) -> str:
        return self.self_node().enode_url()

    def self_node(self) -> Node:
        return self.backend.self_node()

    async def start(self) -> None:
        await self.backend.start()

    async def stop(self) -> None:
        await self.backend.stop()


class Devp2pTestnetStack:
    """``count`` devp2p nodes on 127.0.0.1: node 0 is the discovery bootnode, no static peers.

    Node 0 listens (TCP and discovery UDP) on a port chosen up front, so the other
    nodes' ``bootstrap_nodes`` name it before anything starts.
    """

    name = "devp2p"

    async def create(self, count: int, workdir: Path) -> Sequence[Devp2pNode]:
        nodes: list[Devp2pNode] = []
        boot_key = PrivateKey.generate()
        boot_port = free_port()
        boot = [Node(boot_key.public_key, "127.0.0.1", boot_port, boot_port)]
        for i in range(count):
            key = boot_key if i == 0 else PrivateKey.generate()
            ndir = workdir / f"node-{i}"
            ndir.mkdir(parents=True, exist_ok=True)
            cfg = Config(
                private_key=key,
                name=f"peerwire-testnet/devp2p-{i}",
                listen_addr=f"127.0.0.1:{boot_port if i == 0 else 0}",
                max_peers=max(2 * count, 8),
                protocols=[demo_protocol()],
                no_discovery=False,
                bootstrap_nodes=[] if i == 0 else list(boot),
                node_database=str(ndir / "nodes.db"),
                enable_msg_events=True,
            )
            nodes.append(Devp2pNode(f"devp2p-{i}", key, NetMetrics("devp2p"), config=cfg))
        return nodes


async def devp2p_node_backend(
    cfg: NodeConfig, identity: PrivateKey, metrics: NetMetrics
) -> DiscoveringServerBackend:
    """The ``peerwire node`` backend for ``stack = "devp2p"`` (discovery is the server's own:
    no_discovery, bootstrap_nodes, node_database, net_restrict)."""
    config = server_config(cfg, identity, protocols=[demo_protocol(interval=5.0)])
    return DiscoveringServerBackend(Server(config), network_id=cfg.devp2p.network_id, metrics=metrics)


# ---------------------------------------------------------------------------------------- tm2


class DemoReactor(BaseReactor):
    """Channel 0x77: every ``interval`` s broadcasts ``ping:<n>``, answers each ping with ``pong:<n>``."""

    def __init__(self, metrics: NetMetrics, interval: float = DEMO_INTERVAL) -> None:
        super().__init__("demo")
        self.metrics = metrics
        self.interval = interval
        self._tasks = TaskScope("demo-reactor")

    def get_channels(self) -> list[ChannelDescriptor]:
        return [
            ChannelDescriptor(DEMO_CHANNEL, priority=1, send_queue_capacity=100, recv_message_capacity=4096)
        ]

    async def start(self) -> None:
        await self._tasks.start()
        self._tasks.spawn(self._run(), name="ping")  # a failure is logged and counted, not lost

    async def stop(self) -> None:
        await self._tasks.stop()

    async def _run(self) -> None:
        n = 0
        while True:
            msg = b"ping:%d" % n
            sent = self.switch.broadcast(DEMO_CHANNEL, msg)
            if sent:
                self.metrics.message_out("demo", len(msg) * sent, count=sent)
            n += 1
            await asyncio.sleep(self.interval)

    async def receive(self, ch_id: int, peer: PeerConn, msg: bytes) -> None:
        self.metrics.message_in("demo", len(msg))
        if msg.startswith(b"ping:"):
            reply = b"pong:" + msg[5:]
            if peer.try_send(ch_id, reply):
                self.metrics.message_out("demo", len(reply))


class Tm2Node:
    """A TM2 switch with peer exchange and the demo reactor; metrics fed by switch events."""

    def __init__(
        self,
        name: str,
        key: NodeKey,
        metrics: NetMetrics,
        *,
        host: str,
        port: int,
        moniker: str,
        network: str,
        seeds: Sequence[str] = (),
        pex: bool = True,
        pex_interval: float = tm2_discovery.DEFAULT_INTERVAL,
        address_book: Path | None = None,
        extra_options: Sequence[Any] = (),
        demo_interval: float = DEMO_INTERVAL,
        mconfig: MConnConfig | None = None,
        profile: NodeProfile | None = None,
        external: tuple[str, int] | None = None,
    ) -> None:
        """``external``: the ``(ip, port)`` to advertise in NodeInfo instead of the listen address."""
        self.name = name
        self.stack = "tm2"
        self.key = key
        self.metrics = metrics
        self.listen = NetAddress(str(key.id), host, port)
        if external is not None:
            advertised = NetAddress(str(key.id), *external)
        else:
            advertised = NetAddress(str(key.id), "127.0.0.1" if host in ("0.0.0.0", "::") else host, port)
        self.demo = DemoReactor(metrics, demo_interval)
        self.observer: Observer | None = None
        options: list[Any] = []
        if profile is None:
            channels = [DEMO_CHANNEL] + ([tm2_discovery.CHANNEL] if pex else [])
            self.info = NodeInfo(
                net_address=advertised,
                network=network,
                version=TM2_VERSION,
                channels=bytes(channels),
                moniker=moniker,
            )
            options.append(with_reactor("demo", self.demo))
        else:
            # a chain profile (gno.land by default): its channels, served by the bft observer
            self.info = profile.node_info(advertised, moniker)
            pex = pex and tm2_discovery.CHANNEL in self.info.channels
            if set(OBSERVED_CHANNELS) & set(self.info.channels):
                self.observer = Observer()
                options.append(with_reactor("observer", self.observer))
            if DEMO_CHANNEL in self.info.channels:
                options.append(with_reactor("demo", self.demo))
        self.transport = MultiplexTransport(self.info, key, mconfig)
        options.extend(extra_options)
        self.pex: tm2_discovery.Reactor | None = None
        if pex:
            self.pex = tm2_discovery.Reactor(address_book, seeds=list(seeds), interval=pex_interval)
            options.append(with_reactor("discovery", self.pex))
        self.switch = MultiplexSwitch(self.transport, *options)
        self.backend = SwitchBackend(
            self.switch,
            self.info,
            listen_addr=f"{host}:{port}",
            metrics=metrics,
            transport=self.transport,
            listen=self.listen,
        )

    @property
    def address(self) -> str:
        return str(self.info.net_address)

    async def __aenter__(self) -> Tm2Node:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.backend.start()

    async def stop(self) -> None:
        await self.backend.stop()


class Tm2TestnetStack:
    """``count`` TM2 nodes on 127.0.0.1: node 0 is the seed, the others join through peer exchange."""

    name = "tm2"

    async def create(self, count: int, workdir: Path) -> Sequence[Tm2Node]:
        nodes: list[Tm2Node] = []
        seed = ""
        for i in range(count):
            ndir = workdir / f"node-{i}"
            ndir.mkdir(parents=True, exist_ok=True)
            node = Tm2Node(
                f"tm2-{i}",
                NodeKey.generate(),
                NetMetrics("tm2"),
                host="127.0.0.1",
                port=free_port(),
                moniker=f"tm2-{i}",
                network=TM2_NETWORK,
                seeds=[seed] if seed else [],
                pex_interval=TESTNET_PEX_INTERVAL,
                address_book=ndir / "addrbook.json",
                extra_options=[
                    with_max_outbound_peers(max(count, 10)),
                    with_max_inbound_peers(max(2 * count, 40)),
                ],
            )
            if i == 0:
                seed = node.address
            nodes.append(node)
        return nodes


async def tm2_node_backend(cfg: NodeConfig, identity: NodeKey, metrics: NetMetrics) -> SwitchBackend:
    """The ``peerwire node`` backend for ``stack = "tm2"``."""
    p = cfg.p2p
    host, port = p.listen_host_port
    if port == 0:
        port = free_port(host if host not in ("0.0.0.0", "::") else "127.0.0.1")
    options: list[Any] = [
        with_max_inbound_peers(p.max_num_inbound_peers),
        with_max_outbound_peers(p.max_num_outbound_peers),
        with_allow_duplicate_ip(p.allow_duplicate_ip),
    ]
    if p.persistent_peers:
        options.append(with_persistent_peers(list(p.persistent_peers)))
    if p.private_peer_ids:
        options.append(with_private_peers(list(p.private_peer_ids)))
    external = None
    if p.external_address:
        ext_host, ext_port = split_host_port(p.external_address.split("://", 1)[-1])
        external = (ext_host, ext_port or port)
    node = Tm2Node(
        cfg.moniker,
        identity,
        metrics,
        host=host,
        port=port,
        moniker=cfg.moniker,
        network=cfg.network,
        seeds=list(p.seeds),
        pex=p.pex,
        address_book=cfg.addr_book_path if p.pex else None,
        extra_options=options,
        demo_interval=5.0,
        mconfig=MConnConfig(
            send_rate=p.send_rate,
            recv_rate=p.recv_rate,
            max_packet_msg_payload_size=p.max_packet_msg_payload_size,
            flush_throttle=p.flush_throttle_timeout,
            recv_assembly_timeout=p.recv_assembly_timeout,
            max_recv_buffer_bytes=p.max_recv_buffer_bytes,
            max_send_buffer_bytes=p.max_send_buffer_bytes,
        ),
        profile=cfg.node_profile,
        external=external,
    )
    return node.backend


async def make_backend(cfg: NodeConfig, identity: Identity, metrics: NetMetrics) -> NodeBackend:
    """The ``peerwire node`` backend for ``cfg.stack``, over the real server or switch.

    Raises:
        TypeError: the key does not belong to that stack.
    """
    if cfg.stack == "devp2p":
        if not isinstance(identity, PrivateKey):
            raise TypeError("the devp2p backend needs a secp256k1 PrivateKey")
        return await devp2p_node_backend(cfg, identity, metrics)
    if not isinstance(identity, NodeKey):
        raise TypeError("the TM2 backend needs an Ed25519 NodeKey")
    return await tm2_node_backend(cfg, identity, metrics)
