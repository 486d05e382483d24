"""The devp2p server (go-ethereum's ``p2p.Server``): accept, dial, admit, run peers.

Admission follows geth step by step:

1. inbound: wait for one of ``max_pending_peers`` handshake tokens, refuse IPs outside
   ``net_restrict`` and non-LAN IPs seen in the last 30 s, before any RLPx byte;
2. RLPx handshake (5 s);
3. post-handshake checks, in order: too many peers, too many inbound, already
   connected, self (trusted peers skip the first two). A refusal is an
   *uncompressed* Disconnect sent as the only frame;
4. Hello exchange (both sides send at once), snappy on iff the remote
   version >= 5, identity check (``keccak(Hello.ID)`` = the RLPx key) -
   ``UnexpectedIdentity`` is sent, compressed when snappy is on;
5. add-peer checks: no shared capability -> useless peer, then the
   post-handshake list again (the peer set may have changed meanwhile); refusals are
   compressed Disconnects; a second connection to a connected node passes only as below;
6. the peer runs; ``ADD`` is emitted, then ``DROP`` after it left the set.

Simultaneous open (both nodes dial each other at once, each completes its own
dial first and refuses the other's as ``ALREADY_CONNECTED``) would kill both
connections in geth. Both peerwire nodes instead keep the connection dialed by
the node with the lower node ID: a later connection that is *not* that one is
refused at once (geth's rule); a later connection that *is* that one is held,
after Hello, for up to ``SIMULTANEOUS_OPEN_GRACE`` seconds; if the running
connection ends meanwhile (the remote refused it), the held one takes its place,
otherwise it is refused. The running peer is never closed by us for this, so a
geth remote (first one wins) still keeps whatever geth keeps.

Events go to each subscriber through a bounded buffer (``Config.event_buffer``); when a slow
subscriber's is full, *new* events for it are dropped and counted in
:attr:`EventSubscription.dropped`; the server never waits for a subscriber.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Coroutine
from types import TracebackType
from typing import Any

from peerwire import kad
from peerwire._budget import NodeBudget
from peerwire._core import keccak, p2p_base
from peerwire._net import NetRestrict, split_host_port
from peerwire._pubsub import Subscription
from peerwire._tasks import TaskScope
from peerwire.devp2p._base import (
    DIAL_TIMEOUT,
    DISC_MSG,
    DISC_WRITE_TIMEOUT,
    FRAME_READ_TIMEOUT,
    HANDSHAKE_TIMEOUT,
    Cap,
    ConnFlag,
    DiscReason,
    PeerEvent,
    PeerEventType,
)
from peerwire.devp2p._config import Config
from peerwire.devp2p._diagnostics import ServerFailures, useless_peer_note
from peerwire.devp2p._dial import DialScheduler, FailedDial, protocol_node_filter
from peerwire.devp2p._enode import Node
from peerwire.devp2p._enr import ENR
from peerwire.devp2p._failures import SetupFailure
from peerwire.devp2p._fairmix import FairMix
from peerwire.devp2p._hello import Hello, encode_hello, exchange_hello
from peerwire.devp2p._lifecycle import drop_reason, lifecycle_feed
from peerwire.devp2p._peer import NODE_DECODED_BUDGET, Peer
from peerwire.devp2p._server_discovery import (
    ServerDiscovery,
    StaticResolver,
    discovery_address,
    start_discovery,
)
from peerwire.devp2p._transport import Incoming, Listener, Network, Transport
from peerwire.diagnostics import DialFailureRecord
from peerwire.errors import DecodeError, DialError, PeerwireError, RefusedError, RemoteProtocolError
from peerwire.events import DialFailureReason, Direction, Event, HandshakeFailed, HandshakeFailureReason

__all__ = ["EventSubscription", "Server"]

DEFAULT_MAX_PENDING_PEERS = 50
DEFAULT_DIAL_RATIO = 3
INBOUND_THROTTLE_TIME = 30.0
SETUP_FAILURES_KEPT = 64  # recent refused/failed connection setups kept for diagnostics
MAX_HELLO_SIZE = p2p_base.MAX_HELLO_SIZE
#: How long a second connection to a connected node, the one simultaneous-open keeps
#: (see ``Server._keeps_new_conn``), waits for the remote to drop the first before it is refused.
SIMULTANEOUS_OPEN_GRACE = 3.0


def _as_node(n: Node | str) -> Node:
    return n if isinstance(n, Node) else Node.parse(n)


def _label(remote: tuple[str, int]) -> str:
    host, port = remote
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_lan(ip: str) -> bool:
    """geth's ``netutil.AddrIsLAN`` (loopback, private, link-local); unparsable is not LAN."""
    try:
        return kad.is_lan(ip)
    except DecodeError:
        return False


class EventSubscription:
    """An async iterator of :class:`PeerEvent`; also an async context manager that unsubscribes."""

    def __init__(self, server: Server, size: int) -> None:
        self._server = server
        self._q: asyncio.Queue[PeerEvent | None] = asyncio.Queue(maxsize=size + 1)
        self._size = size
        self.dropped = 0
        self.closed = False

    def _offer(self, ev: PeerEvent) -> None:
        if self.closed:
            return
        if self._q.qsize() >= self._size:
            self.dropped += 1
            return
        self._q.put_nowait(ev)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._server._subs.discard(self)
            with contextlib.suppress(asyncio.QueueFull):
                self._q.put_nowait(None)

    def __aiter__(self) -> EventSubscription:
        return self

    async def __anext__(self) -> PeerEvent:
        if self.closed and self._q.empty():
            raise StopAsyncIteration
        ev = await self._q.get()
        if ev is None:
            raise StopAsyncIteration
        return ev

    async def __aenter__(self) -> EventSubscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class Server:
    """A devp2p server: ``async with Server(config) as srv: ...``."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._key = config.private_key
        self._self_id = self._key.public_key.node_id
        self._clock = config.clock
        self._protocols = list(config.protocols)
        self._local_protos = [(p.name, p.version, p.length) for p in self._protocols]
        self._our_hello = encode_hello(self._key.public_key, config.name, [p.cap for p in self._protocols])
        self._peers: dict[bytes, Peer] = {}
        self.decoded_budget = NodeBudget(NODE_DECODED_BUDGET)  # decoded messages waiting, all peers
        self._inbound_count = 0
        self._trusted: set[bytes] = {_as_node(n).id for n in config.trusted_nodes}
        self._net_restrict = NetRestrict(config.net_restrict) if config.net_restrict is not None else None
        self._inbound_history: dict[str, float] = {}
        max_pending = config.max_pending_peers or DEFAULT_MAX_PENDING_PEERS
        self._tokens = asyncio.Semaphore(max_pending)
        self._subs: set[EventSubscription] = set()
        #: Typed lifecycle events (peerwire.events); see subscribe_lifecycle().
        self.lifecycle = lifecycle_feed()
        # Every task of the server lives in one scope (dialer, inbound setups), peers in a
        # child scope of it: stop() cancels the one scope and waits for all of them.
        self._scope: TaskScope | None = None
        self._peer_scope: TaskScope | None = None
        self._peer_tasks: dict[bytes, asyncio.Task[None]] = {}
        self._listener: Listener | None = None
        self._listen_host = "0.0.0.0"
        self._listen_port = 0
        self._running = False
        self._network: Network | None = config.network
        self._mix: FairMix | None = None
        #: The discovery service (v4 and/or v5) while running with ``no_discovery=False``, else ``None``.
        self.discovery: ServerDiscovery | None = None
        self._record: ENR | None = None
        self.dialer = DialScheduler(
            self_id=self._self_id,
            max_dial_peers=self.max_dialed_conns(),
            max_active_dials=max_pending,
            set_up=self._dial_and_set_up,
            clock=self._clock,
            net_restrict=self._net_restrict,
            node_filter=config.node_filter
            or protocol_node_filter([(p.name, p.node_filter) for p in self._protocols], self._with_record),
            on_failure=self._dial_failed,
        )
        self._failures = ServerFailures(self._clock)
        #: Recent connection setups that failed or were refused: (remote, failure), newest last.
        #: Reasons only: an exception would keep its traceback and the dead connection alive.
        self.setup_failures: collections.deque[tuple[str, SetupFailure]] = collections.deque(
            maxlen=SETUP_FAILURES_KEPT
        )

    async def _with_record(self, node: Node) -> Node | None:  # through discovery (EIP-868)
        return await self.discovery.with_record(node) if self.discovery is not None else None

    # -- limits ------------------------------------------------------------
    def max_dialed_conns(self) -> int:
        cfg = self.config
        if cfg.no_dial or cfg.max_peers == 0:
            return 0
        return max(1, cfg.max_peers // (cfg.dial_ratio or DEFAULT_DIAL_RATIO))

    def max_inbound_conns(self) -> int:
        return self.config.max_peers - self.max_dialed_conns()

    # -- lifecycle -----------------------------------------------------------
    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._running:
            raise RuntimeError("server already running")
        if self._network is None:
            from peerwire.devp2p._rlpxnet import RlpxNetwork

            self._network = RlpxNetwork()
        self._scope = TaskScope("devp2p.Server")
        await self._scope.start()
        self._peer_scope = await self._scope.child("peers")
        self._running = True
        if self.config.listen_addr is not None:
            host, port = split_host_port(self.config.listen_addr, default_host="0.0.0.0")
            self._listener = await self._network.listen(host, port, self._key, self._on_accept)
            self._listen_host, self._listen_port = host, self._listener.port
        if self.config.discovery_enabled:
            await self._start_discovery()
        attributes: dict[bytes | str, Any] = {}
        for proto in self.config.protocols:  # geth: srv.localnode.Set(attr) for each protocol
            attributes.update(proto.attributes)
        if self.discovery is not None:  # v4 and v5 publish this one record
            for name, value in attributes.items():
                self.discovery.local.set_extra(name, value)
            # discovery v4 resolves static nodes (ID-only, or whose dial fails)
            resolver = self.discovery.static_resolver(self.dialer.set_up, self._clock, self._net_restrict)
            if resolver is not None:
                self.dialer.set_up, self.dialer.resolve_node = resolver, resolver.locate
        if self.discovery is None:  # (with discovery, its record is ours)
            node = self.self_node()
            # Our record as geth's NodeInfo shows it: seq = UNIX milliseconds, ip and tcp.
            self._record = ENR.build(
                self._key,
                int(self._clock.time() * 1000),
                ip=node.ip,
                tcp=node.tcp_port or None,
                extra=attributes,
            )
        if not self.config.no_dial:
            for n in self.config.static_nodes:
                self.dialer.add_static(_as_node(n))
            it: AsyncIterator[Node] | None = None
            sources = [(f"candidates-{i}", c) for i, c in enumerate(self.config.dial_candidates)]
            if self.discovery is not None:  # geth: discv4-default and discv5-default
                sources.extend(self.discovery.random_node_sources())
            if sources:
                self._mix = FairMix(self._clock)
                await self._mix.start()
                for name, src in sources:
                    self._mix.add_source(src, name)
                it = aiter(self._mix)
            self._spawn(self.dialer.run(it), "dialer")

    async def stop(self) -> None:
        """Stop accepting and dialing, disconnect every peer with ``DiscQuitting``, wait for them."""
        if not self._running:
            return
        self._running = False
        if self._listener is not None:
            await self._listener.close()
        for p in list(self._peers.values()):
            p.disconnect(DiscReason.QUITTING)
        if self._peer_tasks:  # let each peer send its Disconnect (bounded by DISC_WRITE_TIMEOUT)
            await asyncio.wait(list(self._peer_tasks.values()))
        try:
            if self._scope is not None:
                await self._scope.stop()  # one scope: dialer, dials, inbound setups, peers
        finally:
            if self._mix is not None:
                await self._mix.aclose()
                self._mix = None
            if self.discovery is not None:
                await self.discovery.close()
                self.discovery = None
                if isinstance(self.dialer.set_up, StaticResolver):  # unwrap what start() wrapped
                    self.dialer.set_up, self.dialer.resolve_node = self.dialer.set_up.set_up, None
            for sub in list(self._subs):
                sub.close()

    async def _start_discovery(self) -> None:
        cfg = self.config
        host, ports = discovery_address(cfg.discovery_addr, cfg.listen_addr, self._listen_port)
        try:
            self.discovery = await start_discovery(
                self._key,
                host=host,
                ports=ports,
                tcp_port=self._listen_port,
                v4=cfg.discovery_v4,
                v5=cfg.discovery_v5,
                bootnodes=cfg.bootstrap_nodes,
                node_database=cfg.node_database,
                net_restrict=cfg.net_restrict,
                clock=self._clock,
            )
        except BaseException:
            self._running = False
            if self._listener is not None:
                await self._listener.close()
            if self._scope is not None:
                await self._scope.stop()
            raise

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        if self._scope is None or not self._scope.running:
            coro.close()
            return
        self._scope.spawn(coro, name=name)

    @property
    def task_errors(self) -> list[tuple[str, BaseException]]:
        """Exceptions that ended a task of the server or of a peer (kept bounded; also logged)."""
        scopes = [s for s in (self._scope, self._peer_scope) if s is not None]
        return [e for scope in scopes for e in scope.errors]

    # -- public API ----------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    @property
    def dial_candidate_sources(self) -> list[str]:
        """Names of the sources in the dial candidates' fair mix (``discv4-default``, …)."""
        return self._mix.sources if self._mix is not None else []

    @property
    def listen_port(self) -> int:
        return self._listen_port

    def self_node(self) -> Node:
        if self.discovery is not None:
            return self.discovery.self_node()
        host = self._listen_host if self._listen_host not in ("0.0.0.0", "::") else "127.0.0.1"
        return Node(self._key.public_key, host, self._listen_port, self._listen_port)

    def peers(self) -> list[Peer]:
        return list(self._peers.values())

    def peer_count(self) -> int:
        return len(self._peers)

    def add_peer(self, node: Node | str) -> None:
        """Add a static peer: dialed, and redialed whenever the connection drops."""
        self.dialer.add_static(_as_node(node))

    def remove_peer(self, node: Node | str) -> None:
        """Forget a static peer and disconnect it (``DiscRequested``)."""
        n = _as_node(node)
        self.dialer.remove_static(n.id)
        p = self._peers.get(n.id)
        if p is not None:
            p.disconnect(DiscReason.REQUESTED)

    def add_trusted_peer(self, node: Node | str) -> None:
        """Admit this node past the peer limits (does not dial it)."""
        n = _as_node(node)
        self._trusted.add(n.id)
        if (p := self._peers.get(n.id)) is not None:
            p.flags |= ConnFlag.TRUSTED

    def remove_trusted_peer(self, node: Node | str) -> None:
        n = _as_node(node)
        self._trusted.discard(n.id)
        if (p := self._peers.get(n.id)) is not None:
            p.flags &= ~ConnFlag.TRUSTED

    def subscribe_events(self, buffer: int | None = None) -> EventSubscription:
        """Subscribe to ADD/DROP (and, with ``enable_msg_events``, MSG_SEND/MSG_RECV) events."""
        sub = EventSubscription(self, buffer or self.config.event_buffer)
        self._subs.add(sub)
        return sub

    def subscribe_lifecycle(self, maxsize: int | None = None) -> Subscription[Event]:
        """Typed dial / handshake / peer events (:mod:`peerwire.events`), bounded, drop-and-count."""
        return self.lifecycle.subscribe(maxsize=maxsize or self.config.event_buffer)

    def dial_failures(self) -> list[DialFailureRecord]:
        """Nodes whose dial or handshake failed, newest failure first (:mod:`peerwire.diagnostics`):
        reason, human message, attempts, and for static nodes the backoff and next retry."""
        return self._failures.table.records()

    def node_info(self) -> dict[str, Any]:
        """geth's ``admin_nodeInfo``."""
        node = self.self_node()
        protocols: dict[str, Any] = {}
        for p in self._protocols:
            if p.name not in protocols:
                protocols[p.name] = p.node_info() if p.node_info else "unknown"
        return {
            "id": self._self_id.hex(),
            "name": self.config.name,
            "enode": node.enode_url(),
            "enr": str(self.discovery.record)
            if self.discovery is not None
            else (str(self._record) if self._record is not None else ""),
            "ip": node.ip,
            "ports": {
                "discovery": node.udp_port if self.config.discovery_enabled else 0,
                "listener": node.tcp_port,
            },
            "listenAddr": f"{self._listen_host}:{self._listen_port}" if self._listener else "",
            "protocols": protocols,
        }

    def peers_info(self) -> list[dict[str, Any]]:
        """geth's ``admin_peers``: one ``PeerInfo`` per peer, sorted by ID."""
        return [p.info() for p in sorted(self._peers.values(), key=lambda p: p.id)]

    # -- events --------------------------------------------------------------
    def _emit(self, ev: PeerEvent) -> None:
        for sub in list(self._subs):
            sub._offer(ev)

    # -- inbound -------------------------------------------------------------
    def _check_inbound(self, ip: str) -> HandshakeFailureReason | None:
        now = self._clock.monotonic()
        if self._net_restrict is not None and not self._net_restrict.contains(ip):
            return HandshakeFailureReason.NET_RESTRICTED
        for k in [k for k, t in self._inbound_history.items() if t <= now]:
            del self._inbound_history[k]
        if not _is_lan(ip) and ip in self._inbound_history:
            return HandshakeFailureReason.THROTTLED
        self._inbound_history[ip] = now + INBOUND_THROTTLE_TIME
        return None

    def _on_accept(self, inc: Incoming) -> None:
        if not self._running:
            inc.refuse()
            return
        self._spawn(self._handle_incoming(inc), "inbound setup")

    def _inbound_failed(
        self, label: str, node_id: bytes | None, err: BaseException, why: HandshakeFailureReason | None = None
    ) -> None:
        """Keep, publish and record an inbound connection that did not become a peer."""
        self.setup_failures.append((label, SetupFailure.of(err)))
        if why is None:
            self.lifecycle.handshake_failed(node_id, label, True, err)
        else:
            peer = node_id.hex() if node_id else None
            self.lifecycle.publish(HandshakeFailed(peer, label, Direction.INBOUND, why, str(err)))
        static = node_id is not None and node_id in self.dialer.static
        peer_id = node_id.hex() if node_id else None
        self._failures.handshake_failed(peer_id, label, err, why, static=static)

    async def _handle_incoming(self, inc: Incoming) -> None:
        remote = inc.remote_address
        label = _label(remote)
        try:
            async with self._clock.timeout(HANDSHAKE_TIMEOUT):
                await self._tokens.acquire()
        except PeerwireError as e:
            self._inbound_failed(label, None, e)
            inc.refuse()
            return
        try:
            if not self._running:
                inc.refuse()
                return
            why = self._check_inbound(remote[0])
            if why is not None:
                self._inbound_failed(label, None, RefusedError(f"rejected inbound: {why}"), why)
                inc.refuse()
                return
            try:
                async with self._clock.timeout(HANDSHAKE_TIMEOUT):  # the handshake's one bound
                    t = await inc.handshake()
            except (PeerwireError, OSError) as e:
                self._inbound_failed(label, None, e)
                inc.refuse()
                return
            with contextlib.suppress(PeerwireError, OSError):
                await self._set_up_conn(t, ConnFlag.INBOUND, None, inc.local_address, remote)
        finally:
            self._tokens.release()

    # -- dialing -------------------------------------------------------------
    async def _dial_and_set_up(self, node: Node, host: str, flags: ConnFlag) -> None:
        if not self._running or self._network is None:
            raise DialError("server stopped", reason=DialFailureReason.STOPPED)
        address = _label((host, node.tcp_port))
        self.lifecycle.dial_started(node.id, address)
        try:
            # The one bound on connect + RLPx handshake (the network adds none of its own).
            async with self._clock.timeout(DIAL_TIMEOUT + HANDSHAKE_TIMEOUT):
                t, local = await self._network.dial(host, node.tcp_port, node.public_key, self._key)
            await self._set_up_conn(t, flags, node, local, (host, node.tcp_port))
        except Exception as e:
            self.lifecycle.dial_failed(node.id, address, e)
            raise

    def _dial_failed(self, node: Node, failed: FailedDial) -> None:
        """The scheduler's report of a failed dial: record it (and publish it if ``set_up`` did not)."""
        address = _label((node.ip or node.host or "", node.tcp_port))
        if not failed.dialed:
            self.lifecycle.dial_started(node.id, address)
            self.lifecycle.dial_failed(node.id, address, failed.error)
        self._failures.dial_failed(node.id.hex(), address, failed)

    # -- admission -------------------------------------------------------------
    def _post_handshake_checks(self, node_id: bytes, flags: ConnFlag) -> DiscReason | None:
        trusted = bool(flags & ConnFlag.TRUSTED)
        if not trusted and len(self._peers) >= self.config.max_peers:
            return DiscReason.TOO_MANY_PEERS
        if not trusted and flags & ConnFlag.INBOUND and self._inbound_count >= self.max_inbound_conns():
            return DiscReason.TOO_MANY_PEERS
        if node_id in self._peers:
            return DiscReason.ALREADY_CONNECTED
        if node_id == self._self_id:
            return DiscReason.SELF
        return None

    def _keeps_new_conn(self, node_id: bytes, flags: ConnFlag) -> bool:
        """Whether a new connection to the connected ``node_id`` is the one simultaneous open keeps.

        Kept is the connection dialed by the node with the lower ID; a new connection
        in the same direction as the running one is never preferred (geth's rule).
        """
        old = self._peers.get(node_id)
        new_inbound = bool(flags & ConnFlag.INBOUND)
        if old is None or old.inbound == new_inbound:
            return False
        we_dial_kept = self._self_id < node_id
        return new_inbound != we_dial_kept

    async def _await_old_conn(self, node_id: bytes) -> None:
        """Wait up to the grace period for the running connection to ``node_id`` to end."""
        task = self._peer_tasks.get(node_id)
        if task is None:
            return
        with contextlib.suppress(PeerwireError):
            async with self._clock.timeout(SIMULTANEOUS_OPEN_GRACE):
                await asyncio.shield(task)

    async def _refuse(self, t: Transport, reason: DiscReason) -> None:
        with contextlib.suppress(PeerwireError, OSError):
            async with self._clock.timeout(DISC_WRITE_TIMEOUT):
                await t.send(DISC_MSG, p2p_base.encode_disconnect(int(reason)))
        with contextlib.suppress(PeerwireError, OSError):
            await t.close()

    async def _proto_handshake(self, t: Transport) -> Hello:
        # geth reads the Hello under frameReadTimeout (the write under its own, shorter one)
        async with self._clock.timeout(FRAME_READ_TIMEOUT):
            return await exchange_hello(t, self._our_hello)

    async def _set_up_conn(
        self,
        t: Transport,
        flags: ConnFlag,
        dialed: Node | None,
        local: tuple[str, int] | None,
        remote: tuple[str, int],
    ) -> None:
        label = f"{remote[0]}:{remote[1]}"
        node = dialed or Node(t.remote_public_key, remote[0], remote[1], remote[1])
        pending_inbound = False
        try:
            if not self._running:
                raise DialError("server stopped", reason=DialFailureReason.STOPPED)
            if node.id in self._trusted:
                flags |= ConnFlag.TRUSTED
            reason = self._post_handshake_checks(node.id, flags)
            if reason is not None:
                await self._refuse(t, reason)  # uncompressed: snappy is not on yet
                raise RefusedError(f"rejected: {reason}", disconnect_reason=int(reason))
            if flags & ConnFlag.INBOUND:
                self.dialer.add_pending_inbound(node.id)
                pending_inbound = True
            try:
                hello = await self._proto_handshake(t)  # sets snappy from the remote's version
            except BaseException:
                with contextlib.suppress(PeerwireError, OSError):
                    await t.close()
                raise
            if keccak.keccak256(hello.id) != node.id:
                await self._refuse(t, DiscReason.UNEXPECTED_IDENTITY)
                raise RemoteProtocolError(
                    str(DiscReason.UNEXPECTED_IDENTITY), disconnect_reason=int(DiscReason.UNEXPECTED_IDENTITY)
                )
            matched = hello.match_protocols(self._local_protos)
            reason = DiscReason.USELESS_PEER if self._protocols and not matched else None
            if reason is None and self._keeps_new_conn(node.id, flags):
                await self._await_old_conn(node.id)  # simultaneous open, see the module docstring
            reason = reason or self._post_handshake_checks(node.id, flags)
            if reason is not None:
                await self._refuse(t, reason)  # compressed when snappy is on
                raise RefusedError(
                    f"rejected: {reason}{useless_peer_note(reason, hello)}", disconnect_reason=int(reason)
                )
            if not self._running or self._peer_scope is None or not self._peer_scope.running:
                await self._refuse(t, DiscReason.QUITTING)  # stopped while this one was set up
                raise DialError("server stopped", reason=DialFailureReason.STOPPED)
            self._launch(t, node, hello, flags, matched, local, remote)
        except (PeerwireError, OSError) as e:
            if flags & ConnFlag.INBOUND:
                self._inbound_failed(label, node.id, e)
            else:  # the scheduler records the dial's failure
                self.setup_failures.append((label, SetupFailure.of(e)))
                self.lifecycle.handshake_failed(node.id, label, False, e)
            raise
        finally:
            if pending_inbound:
                self.dialer.remove_pending_inbound(node.id)

    def _launch(
        self,
        t: Transport,
        node: Node,
        hello: Hello,
        flags: ConnFlag,
        matched: list[tuple[int, int]],
        local: tuple[str, int] | None,
        remote: tuple[str, int],
    ) -> None:
        peer = Peer(
            transport=t,
            node=node,
            name=hello.name,
            caps=[Cap(n, v) for n, v in hello.caps],
            flags=flags,
            matched=[(self._protocols[i], off) for i, off in matched],
            clock=self._clock,
            emit=self._emit if self.config.enable_msg_events else None,
            local_address=local,
            remote_address=remote,
            node_budget=self.decoded_budget,
        )
        self._peers[node.id] = peer
        if peer.inbound:
            self._inbound_count += 1
        self.dialer.peer_added(node.id, flags)
        self._failures.connected(node.id.hex())
        self.lifecycle.peer_added(node.id, _label(remote), peer.inbound)
        self._emit(
            PeerEvent(
                PeerEventType.ADD,
                node.id,
                local_address=peer.local_address,
                remote_address=peer.remote_address,
            )
        )
        assert self._peer_scope is not None
        self._peer_tasks[node.id] = self._peer_scope.spawn(
            self._run_peer(peer), name=f"peer {node.id[:8].hex()}"
        )

    async def _run_peer(self, peer: Peer) -> None:
        try:
            end = await peer.run()
            error = end.error
            why = drop_reason(end.reason, end.remote_requested)
        except asyncio.CancelledError:
            error = str(DiscReason.QUITTING)
            why = drop_reason(DiscReason.QUITTING, False)
        finally:
            self._peers.pop(peer.id, None)
            self._peer_tasks.pop(peer.id, None)
            if peer.inbound:
                self._inbound_count -= 1
            self.dialer.peer_removed(peer.id, peer.flags)
        self.lifecycle.peer_dropped(peer.id, peer.remote_address or "", peer.inbound, why, error)
        self._emit(
            PeerEvent(
                PeerEventType.DROP,
                peer.id,
                error=error,
                local_address=peer.local_address,
                remote_address=peer.remote_address,
            )
        )
