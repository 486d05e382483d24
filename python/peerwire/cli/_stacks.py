"""The real stacks behind ``peerwire testnet`` and ``peerwire node``, registered on import.

devp2p: a :class:`~peerwire.devp2p.Server` running discovery v4 itself (``Config.no_discovery``
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from peerwire._metrics import NetMetrics
from peerwire.cli._backend import Identity, register_backend
from peerwire.cli._config import NodeConfig
from peerwire.cli._devp2p_backend import ServerBackend, bridge_devp2p_events, server_config_kwargs
from peerwire.cli._testnet import register_testnet_stack
from peerwire.cli._tm2_backend import SwitchBackend, bridge_tm2_events
from peerwire.devp2p import (
    Config,
    ConnFlag,
    DiscReason,
    Msg,
    MsgReadWriter,
    Node,
    Peer,
    PrivateKey,
    Protocol,
    Server,
    SetupFailure,
)
from peerwire.devp2p._server_discovery import ServerDiscovery
from peerwire.errors import ConnectionClosedError, PeerwireError, RemoteProtocolError
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
    with_max_inbound_peers,
    with_max_outbound_peers,
    with_persistent_peers,
    with_private_peers,
    with_reactor,
)
from peerwire.tm2 import discovery as tm2_discovery

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
    "register",
    "tm2_node_backend",
]

log = logging.getLogger(__name__)

#: Seconds between two demo pings on each connection.
DEMO_INTERVAL = 0.5
#: TM2 channel of the demo reactor.
DEMO_CHANNEL = 0x77
#: How often the failure counters of a stack are folded into its metrics (seconds).
POLL_INTERVAL = 0.25
#: Peer exchange interval in the TM2 testnet (gno: 3 s; shorter so a short run converges).
TESTNET_PEX_INTERVAL = 1.0
TM2_NETWORK = "peerwire-testnet"
TM2_VERSION = "v1.0.0"
#: Disconnect reasons that are ordinary races between two nodes dialing each other, not failures.
_BENIGN_REFUSALS = ("already connected", "too many peers")


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


def _is_benign(err: BaseException | SetupFailure) -> bool:
    reason = getattr(err, "disconnect_reason", None)
    text = str(err)
    remote = (
        err.is_a(RemoteProtocolError)
        if isinstance(err, SetupFailure)
        else isinstance(err, RemoteProtocolError)
    )
    return remote and reason is not None and any(b in text for b in _BENIGN_REFUSALS)


def _failure_reason(err: BaseException | SetupFailure) -> str:
    """A short, low-cardinality label for a failed dial or handshake."""
    disc = getattr(err, "disconnect_reason", None)
    if disc is not None:
        with contextlib.suppress(ValueError):
            return str(DiscReason.from_wire(int(disc)))
    reason = getattr(err, "reason", None)
    if isinstance(reason, str) and reason:
        return reason
    if isinstance(err, SetupFailure):
        if err.is_a(ConnectionRefusedError):
            return "connection refused"
        return "timeout" if err.is_a(TimeoutError) else err.kind.__name__
    if isinstance(err, TimeoutError):
        return "timeout"
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    return type(err).__name__


async def _poll_failures(server: Server, metrics: NetMetrics, stop: asyncio.Event) -> None:
    """Fold new entries of ``Server.setup_failures`` (a bounded deque) into ``metrics``.

    Dial results are counted by the wrapper that :class:`Devp2pNode` puts around the
    scheduler's ``set_up``; the scheduler's own ``failures_log`` is a bounded deque.
    """
    failures = server.setup_failures
    last: object | None = None
    while not stop.is_set():
        items = list(failures)
        new: list[Any] = []
        for item in reversed(items):
            if item is last:
                break
            new.append(item)
        if items:
            last = items[-1]
        for _, err in reversed(new):
            if not _is_benign(err):  # "already connected" races are not failures
                metrics.handshake_failure(_failure_reason(err))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(POLL_INTERVAL):
                await stop.wait()


class Devp2pNode:
    """A devp2p server, with the discovery v4 its ``config`` asks for; metrics fed by events.

    Discovery is the server's own (``no_discovery``, ``bootstrap_nodes``, ``node_database``,
    ``net_restrict`` of ``config``); :attr:`disc` is the running service, ``None`` without it.
    """

    def __init__(self, name: str, key: PrivateKey, metrics: NetMetrics, *, config: Config) -> None:
        self.name = name
        self.stack = "devp2p"
        self.key = key
        self.metrics = metrics
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        config.enable_msg_events = True
        self.server = Server(config)
        self._running = False
        self._count_dials()

    def _count_dials(self) -> None:
        """Wrap the dial scheduler's ``set_up`` so every outbound dial and its result are counted."""
        dialer = self.server.dialer
        set_up = dialer.set_up
        metrics = self.metrics

        async def counted(node: Node, host: str, flags: ConnFlag) -> None:
            metrics.dial_attempt()
            try:
                await set_up(node, host, flags)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                metrics.dial_result(_failure_reason(e))
                raise
            metrics.dial_result("success")

        dialer.set_up = counted

    @property
    def disc(self) -> ServerDiscovery | None:
        """The server's discovery v4 service while it runs, else ``None``."""
        return self.server.discovery

    @property
    def address(self) -> str:
        return self.self_node().enode_url()

    def self_node(self) -> Node:
        """The server's node; UDP port 0 without discovery (geth's ``?discport=0``)."""
        n = self.server.self_node()
        udp = n.udp_port if self.disc is not None else 0
        return Node(n.public_key, n.ip or "127.0.0.1", n.tcp_port, udp)

    async def start(self) -> None:
        await self.server.start()
        self._running = True
        self._tasks.append(
            asyncio.create_task(
                bridge_devp2p_events(self.server.subscribe_events(), self.metrics, self._inbound_of)
            )
        )
        self._tasks.append(asyncio.create_task(_poll_failures(self.server, self.metrics, self._stop)))

    def _inbound_of(self, peer_id: Any) -> bool | None:
        for p in self.server.peers():
            if p.id == peer_id:
                return p.inbound
        return None

    async def stop(self) -> None:
        self._stop.set()
        if self._running:
            self._running = False
            await self.server.stop()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


class Devp2pTestnetStack:
    """``count`` devp2p nodes on 127.0.0.1: node 0 is the discovery bootnode, no static peers."""

    name = "devp2p"

    async def create(self, count: int, workdir: Path) -> Sequence[Devp2pNode]:
        nodes: list[Devp2pNode] = []
        boot: list[Node] = []
        boot_key = PrivateKey.generate()
        for i in range(count):
            key = boot_key if i == 0 else PrivateKey.generate()
            ndir = workdir / f"node-{i}"
            ndir.mkdir(parents=True, exist_ok=True)
            cfg = Config(
                private_key=key,
                name=f"peerwire-testnet/devp2p-{i}",
                listen_addr="127.0.0.1:0",
                max_peers=max(2 * count, 8),
                protocols=[demo_protocol()],
                no_discovery=False,
                bootstrap_nodes=boot,  # the same list: filled once node 0 runs, read at start()
                node_database=str(ndir / "nodes.db"),
            )
            node = Devp2pNode(f"devp2p-{i}", key, NetMetrics("devp2p"), config=cfg)
            if i == 0:
                # later nodes learn the bootnode's ports once it has started
                node0 = node
                orig = node0.start

                async def start_boot(n: Devp2pNode = node0, orig: Callable[[], Any] = orig) -> None:
                    await orig()
                    boot.append(n.self_node())

                node0.start = start_boot  # type: ignore[method-assign]
            nodes.append(node)
        return nodes


class DiscoveringServerBackend(ServerBackend):
    """:class:`ServerBackend` whose server also runs discovery v4 (unless ``nodiscover``)."""

    def __init__(self, node: Devp2pNode, *, network_id: int) -> None:
        super().__init__(node.server, network_id=network_id, metrics=None)
        self.node = node

    async def start(self) -> None:
        await self.node.start()
        self._running = True

    async def stop(self) -> None:
        if self._running:
            self._running = False
            await self.node.stop()

    def node_info(self) -> dict[str, Any]:
        info = super().node_info()
        me = self.node.self_node()
        info["enode"] = me.enode_url()  # ``?discport=0`` without discovery, as geth
        info["ports"] = {"discovery": me.udp_port, "listener": me.tcp_port}
        host, _, port = str(info.get("listenAddr", "")).rpartition(":")
        if host in ("0.0.0.0", "[::]", "::"):
            info["listenAddr"] = f":{port}"  # geth prints the configured ``:30303``
        return info


async def devp2p_node_backend(cfg: NodeConfig, identity: Identity, metrics: NetMetrics) -> ServerBackend:
    """The ``peerwire node`` backend for ``stack = "devp2p"``."""
    if not isinstance(identity, PrivateKey):
        raise TypeError("the devp2p backend needs a secp256k1 PrivateKey")
    kw = server_config_kwargs(cfg, identity)
    kw["protocols"] = [demo_protocol(interval=5.0)]
    # discovery is the server's: no_discovery, bootstrap_nodes, node_database, net_restrict
    d = cfg.devp2p
    node = Devp2pNode(d.name, identity, metrics, config=Config(**kw))
    return DiscoveringServerBackend(node, network_id=d.network_id)


# ---------------------------------------------------------------------------------------- tm2


class DemoReactor(BaseReactor):
    """Channel 0x77: every ``interval`` s broadcasts ``ping:<n>``, answers each ping with ``pong:<n>``."""

    def __init__(self, metrics: NetMetrics, interval: float = DEMO_INTERVAL) -> None:
        super().__init__("demo")
        self.metrics = metrics
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def get_channels(self) -> list[ChannelDescriptor]:
        return [
            ChannelDescriptor(DEMO_CHANNEL, priority=1, send_queue_capacity=100, recv_message_capacity=4096)
        ]

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

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
    ) -> None:
        self.name = name
        self.stack = "tm2"
        self.key = key
        self.metrics = metrics
        self.listen = NetAddress(str(key.id), host, port)
        advertised = NetAddress(str(key.id), "127.0.0.1" if host in ("0.0.0.0", "::") else host, port)
        self.demo = DemoReactor(metrics, demo_interval)
        channels = [DEMO_CHANNEL] + ([tm2_discovery.CHANNEL] if pex else [])
        self.info = NodeInfo(
            net_address=advertised,
            network=network,
            version=TM2_VERSION,
            channels=bytes(channels),
            moniker=moniker,
        )
        self.transport = MultiplexTransport(self.info, key, mconfig)
        options: list[Any] = [with_reactor("demo", self.demo), *extra_options]
        self.pex: tm2_discovery.Reactor | None = None
        if pex:
            self.pex = tm2_discovery.Reactor(address_book, seeds=list(seeds), interval=pex_interval)
            options.append(with_reactor("discovery", self.pex))
        self.switch = MultiplexSwitch(self.transport, *options)
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._running = False
        self._listening = False

    @property
    def address(self) -> str:
        return str(self.info.net_address)

    async def __aenter__(self) -> Tm2Node:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.transport.listen(self.listen)
        self._listening = True
        events = self.switch.subscribe(lambda e: True)
        self._tasks.append(asyncio.create_task(bridge_tm2_events(events, self.metrics, self._outbound_of)))
        self._tasks.append(asyncio.create_task(self._poll()))
        await self.switch.start()
        self._running = True

    def _outbound_of(self, peer_id: Any) -> bool | None:
        peer = self.switch.peers().get(peer_id)
        return None if peer is None else bool(peer.is_outbound)

    async def _poll(self) -> None:
        seen_dials = seen_failures = 0
        while not self._stop.is_set():
            # the switch counts dials and failed dials (connect, STS, NodeInfo): fold the deltas in
            stats = self.switch.stats
            for _ in range(stats.dials - seen_dials):
                self.metrics.dial_attempt()
            for _ in range(stats.dial_failures - seen_failures):
                self.metrics.dial_result("failed")
                self.metrics.handshake_failure("dial")
            seen_dials, seen_failures = stats.dials, stats.dial_failures
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_INTERVAL):
                    await self._stop.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._listening:
            self._listening = False
            await self.transport.close()
        if self._running:
            self._running = False
            await self.switch.stop()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


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


class _Tm2Backend(SwitchBackend):
    def __init__(self, node: Tm2Node, listen_addr: str) -> None:
        super().__init__(node.switch, node.info, listen_addr=listen_addr, metrics=None)
        self.node = node

    async def start(self) -> None:
        await self.node.start()
        self._running = True

    async def stop(self) -> None:
        if self._running:
            self._running = False
            await self.node.stop()


async def tm2_node_backend(cfg: NodeConfig, identity: Identity, metrics: NetMetrics) -> SwitchBackend:
    """The ``peerwire node`` backend for ``stack = "tm2"``."""
    if not isinstance(identity, NodeKey):
        raise TypeError("the TM2 backend needs an Ed25519 NodeKey")
    p = cfg.p2p
    host, port = p.listen_host_port
    if port == 0:
        port = free_port(host if host not in ("0.0.0.0", "::") else "127.0.0.1")
    options: list[Any] = [
        with_max_inbound_peers(p.max_num_inbound_peers),
        with_max_outbound_peers(p.max_num_outbound_peers),
    ]
    if p.persistent_peers:
        options.append(with_persistent_peers(list(p.persistent_peers)))
    if p.private_peer_ids:
        options.append(with_private_peers(list(p.private_peer_ids)))
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
        ),
    )
    return _Tm2Backend(node, listen_addr=f"{host}:{port}")


def register() -> None:
    """Register both stacks for ``peerwire node`` and ``peerwire testnet``."""
    register_backend("devp2p", devp2p_node_backend)
    register_backend("tm2", tm2_node_backend)
    register_testnet_stack("devp2p", Devp2pTestnetStack)
    register_testnet_stack("tm2", Tm2TestnetStack)


register()
