"""Discovery v4 and v5 inside the devp2p server (go-ethereum ``Server.setupDiscovery``).

What geth does, and what :class:`peerwire.devp2p.Server` does through this module:

* with ``no_discovery`` no UDP socket is opened at all;
* ``discovery_v4`` / ``discovery_v5`` choose the protocols; with both, they share
  one UDP socket (``discover.listen``: what v4 does not recognise goes to v5,
  geth's ``sharedUDPConn``) and one local record;
* otherwise discovery listens on ``discovery_addr`` (geth's ``DiscAddr``) or,
  when that is unset, on the server's ``listen_addr``; with a fixed port that is
  the TCP port number. With port 0 geth takes whatever port the OS gives; we
  first try the port the TCP listener got (so the enode needs no ``discport``)
  and fall back to an OS-chosen one when it is taken;
* the local record carries ``tcp`` (the listener's port) and ``udp``; when the
  socket is bound to an unspecified address the record gets ``ip=127.0.0.1``
  (geth's ``SetFallbackIP``);
* discovery is bootstrapped from ``bootstrap_nodes`` (``enode:`` and ``enr:``,
  for both protocols: v5 fetches an ``enode:`` node's record), keeps its state in
  ``node_database`` and honours ``net_restrict``;
* each protocol's random walk (geth's ``discv4-default`` / ``discv5-default``)
  becomes one source of the server's :class:`~peerwire.devp2p._fairmix.FairMix`,
  next to any other dial candidate sources, so discovered nodes are dialed as
  dynamic peers;
* discovery v4, when it runs, is the dialer's resolver for static nodes
  (geth ``dialTask.resolve``; geth sets no resolver with v5 alone):
  a static node given by ID only (``enode://<id>``) is looked up before it is
  dialed; when dialing a static node fails at the connection level (refused, timed out,
  closed; not a protocol-level refusal), its newest record is looked up through
  discovery and, if that gives another endpoint, dialed at once; later dials use
  that endpoint. Resolving a node waits 60 s after the last try, doubling up to
  1 h while it finds nothing new.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from peerwire._clock import Clock
from peerwire._net import NetRestrict, join_host_port, split_host_port
from peerwire.devp2p._base import ConnFlag
from peerwire.devp2p._enode import Node
from peerwire.devp2p._enr import ENR, LocalNode
from peerwire.devp2p._keys import PrivateKey
from peerwire.devp2p.discover import Discovery, UDPv4, UDPv5, listen
from peerwire.errors import PeerwireError

__all__ = ["FALLBACK_IP", "ServerDiscovery", "StaticResolver", "discovery_address", "start_discovery"]

FALLBACK_IP = "127.0.0.1"
"""Advertised when discovery is bound to 0.0.0.0 / :: and nothing better is known (geth)."""
INITIAL_RESOLVE_DELAY = 60.0
"""geth ``initialResolveDelay``: least time between two resolves of one static node."""
MAX_RESOLVE_DELAY = 3600.0
"""geth ``maxResolveDelay``: the cap of that delay while resolving keeps finding nothing new."""

SetUp = Callable[[Node, str, ConnFlag], Awaitable[None]]


@dataclass
class _ResolveState:
    delay: float = 0.0  # 0: INITIAL_RESOLVE_DELAY
    last: float | None = None
    dest: Node | None = None


class StaticResolver:
    """Wraps the server's dial-and-set-up so failed static dials are re-resolved via discovery."""

    def __init__(
        self, udp: UDPv4, set_up: SetUp, clock: Clock, net_restrict: NetRestrict | None = None
    ) -> None:
        self._udp = udp
        #: The wrapped dial-and-set-up.
        self.set_up = set_up
        self._clock = clock
        self._restrict = net_restrict
        self._state: dict[bytes, _ResolveState] = {}

    async def __call__(self, node: Node, host: str, flags: ConnFlag) -> None:
        if not flags & ConnFlag.STATIC_DIALED:
            await self.set_up(node, host, flags)
            return
        st = self._state.get(node.id)
        if st is not None and st.dest is not None and st.dest.ip is not None:
            node, host = st.dest, st.dest.ip  # an endpoint found by an earlier resolve
        try:
            await self.set_up(node, host, flags)
        except OSError:  # the connection failed (geth: a dialError), not a protocol refusal
            moved = await self.resolve(node)
            if moved is None or moved.ip is None:
                raise
            await self.set_up(moved, moved.ip, flags)

    async def resolve(self, node: Node) -> Node | None:
        """A new endpoint for the static ``node``, or ``None`` (nothing new, or too soon)."""
        st = self._state.setdefault(node.id, _ResolveState())
        now = self._clock.monotonic()
        delay = st.delay or INITIAL_RESOLVE_DELAY
        if st.last is not None and now - st.last < delay:
            return None
        found = await self._udp.resolve(node)
        st.last = self._clock.monotonic()
        same = (found.ip, found.tcp_port) == (node.ip, node.tcp_port)
        if same or (self._restrict is not None and not self._restrict.contains(found.ip)):
            st.delay = min(delay * 2, MAX_RESOLVE_DELAY)
            return None
        st.delay = 0.0
        st.dest = found
        return found

    async def locate(self, node: Node) -> Node | None:
        """Where to dial a static node given by ID only: the last endpoint found, else a resolve."""
        st = self._state.get(node.id)
        if st is not None and st.dest is not None:
            return st.dest
        return await self.resolve(node)

    def forget(self, node_id: bytes) -> None:
        self._state.pop(node_id, None)


def discovery_address(
    discovery_addr: str | None, listen_addr: str | None, tcp_port: int
) -> tuple[str, list[int]]:
    """The UDP host and the ports to try, in order, for the server's discovery socket."""
    host, port = split_host_port(discovery_addr or listen_addr or "0.0.0.0:0", default_host="0.0.0.0")
    if port:
        return host, [port]
    if discovery_addr is None and tcp_port:
        return host, [tcp_port, 0]
    return host, [0]


class ServerDiscovery:
    """The discovery (v4 and/or v5 on one socket) a server runs."""

    def __init__(self, disc: Discovery, stack: contextlib.AsyncExitStack) -> None:
        self.disc = disc
        self._stack = stack
        self._closed = False

    @property
    def v4(self) -> UDPv4 | None:
        """The discovery v4 service, when ``Config.discovery_v4``."""
        return self.disc.v4

    @property
    def v5(self) -> UDPv5 | None:
        """The discovery v5 service, when ``Config.discovery_v5``."""
        return self.disc.v5

    @property
    def local(self) -> LocalNode:
        """The node record both protocols publish (set entries here: both see the change)."""
        assert self.disc.local is not None
        return self.disc.local

    @property
    def record(self) -> ENR:
        """The server's current node record (tcp and udp ports included)."""
        return self.local.record

    def self_node(self) -> Node:
        return self.disc.self_node()

    @property
    def udp_port(self) -> int:
        return self.disc.local_addr[1]

    def random_node_sources(self) -> list[tuple[str, AsyncIterator[Node]]]:
        """The random walk of each protocol, named: the server's default dial candidate sources."""
        return self.disc.random_node_sources()

    def table_nodes(self) -> list[Node]:
        return self.disc.table_nodes()

    async def with_record(self, node: Node) -> Node | None:
        """``node`` with its record fetched (EIP-868 on v4, else v5), None when that fails."""
        proto: UDPv4 | UDPv5 | None = self.v4 if self.v4 is not None else self.v5
        if proto is None:
            return None
        try:
            return node.with_record(await proto.request_enr(node))
        except (PeerwireError, OSError):
            return None

    def static_resolver(
        self, set_up: SetUp, clock: Clock, net_restrict: NetRestrict | None = None
    ) -> StaticResolver | None:
        """``set_up`` with static nodes re-resolved through discovery v4 when their dial fails.

        ``None`` without v4 (geth's dialer resolves through ``discv4`` only).
        """
        if self.disc.v4 is None:
            return None
        return StaticResolver(self.disc.v4, set_up, clock, net_restrict)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._stack.aclose()


async def start_discovery(
    key: PrivateKey,
    *,
    host: str,
    ports: Sequence[int],
    tcp_port: int,
    bootnodes: Sequence[Node | str],
    node_database: str | None,
    net_restrict: Sequence[str] | None,
    clock: Clock,
    v4: bool = True,
    v5: bool = False,
) -> ServerDiscovery:
    """Bind discovery (``v4`` and/or ``v5``) on the first free port of ``ports`` and start it.

    Raises:
        OSError: no port of ``ports`` could be bound.
    """
    last: OSError | None = None
    for port in ports:
        stack = contextlib.AsyncExitStack()
        try:
            disc = await stack.enter_async_context(
                listen(
                    key,
                    join_host_port(host, port),
                    v4=v4,
                    v5=v5,
                    bootnodes=list(bootnodes),
                    node_database=node_database,
                    net_restrict=net_restrict,
                    clock=clock,
                    tcp_port=tcp_port,
                )
            )
        except OSError as e:
            await stack.aclose()
            last = e
            continue
        rec = disc.local.record if disc.local is not None else None
        if (
            rec is not None
            and rec.ip is None
            and rec.ip6 is None
            and ipaddress.ip_address(host).is_unspecified
        ):
            assert disc.local is not None
            disc.local.update(ip=FALLBACK_IP)
        return ServerDiscovery(disc, stack)
    raise last if last is not None else OSError("no port to bind discovery on")
