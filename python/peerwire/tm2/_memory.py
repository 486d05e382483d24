"""An in-memory :class:`Transport` (like libp2p's memory transport) for tests and simulations.

A :class:`MemoryTransport` *is* a :class:`MultiplexTransport` whose byte
carrier is an in-memory pipe instead of TCP: the real secret handshake, the
NodeInfo exchange, :class:`~peerwire.tm2.Peer` and MConnection run over it,
so switch tests exercise the same code as production. A
:class:`MemoryNetwork` connects transports by their ``ip:port`` strings.

The default :class:`MConnConfig` here flushes at once, does not rate-limit
and does not ping (tests drive a fake clock; pass ``mconfig`` to get gno's
timing).

Faults for tests: :meth:`MemoryNetwork.blackhole` (connects hang until the
caller's connect timeout), unreachable addresses (no listener: refused), and
:attr:`MemoryNetwork.dial_log` records every dial attempt with its clock time.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire.tm2._addr import NetAddress
from peerwire.tm2._contracts import PeerBehavior, PeerConn
from peerwire.tm2._keys import ID, NodeKey
from peerwire.tm2._mconn import MConnConfig
from peerwire.tm2._nodeinfo import NodeInfo
from peerwire.tm2._pipe import DEFAULT_PIPE_CAPACITY, memory_pipe
from peerwire.tm2._secret import Reader, Writer
from peerwire.tm2._transport import DEFAULT_MAX_INBOUND_HANDSHAKES, MultiplexTransport, Peer, Verified

__all__ = ["MEMORY_MCONFIG", "DialRecord", "MemoryNetwork", "MemoryTransport"]

#: Flush at once, no rate limit, no keepalive: what fake-clock tests want.
MEMORY_MCONFIG = MConnConfig(
    send_rate=1 << 40,
    recv_rate=1 << 40,
    flush_throttle=0.0,
    ping_interval=1e9,
    pong_timeout=1e9 - 1,
    write_timeout=None,
)


@dataclass
class DialRecord:
    time: float
    src: ID
    dst: str


class MemoryNetwork:
    def __init__(self, clock: Clock = SYSTEM_CLOCK, pipe_capacity: int = DEFAULT_PIPE_CAPACITY) -> None:
        self.clock = clock
        self.pipe_capacity = pipe_capacity
        self._listeners: dict[str, MemoryTransport] = {}
        self._blackholes: set[str] = set()
        self._ports = itertools.count(30000)
        self._links = itertools.count(1)
        self.dial_log: list[DialRecord] = []

    def next_port(self) -> int:
        return next(self._ports)

    def blackhole(self, dial_string: str, on: bool = True) -> None:
        (self._blackholes.add if on else self._blackholes.discard)(dial_string)

    def dials_to(self, dial_string: str) -> list[float]:
        return [r.time for r in self.dial_log if r.dst == dial_string]


class MemoryTransport(MultiplexTransport):
    """A TM2 transport on a :class:`MemoryNetwork` (the whole :class:`Transport` contract)."""

    def __init__(
        self,
        network: MemoryNetwork,
        node_key: NodeKey,
        host: str = "127.0.0.1",
        port: int | None = None,
        channels: bytes = b"",
        moniker: str = "memory",
        backlog: int = DEFAULT_MAX_INBOUND_HANDSHAKES,
        mconfig: MConnConfig | None = None,
        chain: str = "memory",
    ) -> None:
        addr = NetAddress(node_key.id, host, port if port is not None else network.next_port())
        self._chain = chain
        self._moniker = moniker
        self.channels = bytes(channels)
        super().__init__(
            self._make_info(addr),
            node_key,
            mconfig or MEMORY_MCONFIG,
            max_inbound_handshakes=backlog,
            clock=network.clock,
        )
        self.network = network
        self._addr = addr
        self._advertised: NetAddress | None = None
        self._listening = False
        self.removed: list[ID] = []
        #: Every peer this transport produced, and the memory link it runs on (both ends of a
        #: connection share the number).
        self.peers: list[Peer] = []
        self.link_of: dict[Peer, int] = {}
        self._link_by_key: dict[str, int] = {}

    def _make_info(self, addr: NetAddress) -> NodeInfo:
        return NodeInfo(net_address=addr, network=self._chain, channels=self.channels, moniker=self._moniker)

    @property
    def advertised(self) -> NetAddress | None:
        """What our NodeInfo says, if not the listen address."""
        return self._advertised

    @advertised.setter
    def advertised(self, addr: NetAddress | None) -> None:
        self._advertised = addr
        self._node_info = self._make_info(addr or self._addr)

    def net_address(self) -> NetAddress:
        return self._addr

    async def listen(self, addr: NetAddress | None = None) -> None:
        self._listening = True
        self._closed = False
        self.network._listeners[self._addr.dial_string()] = self

    async def _serve(self, addr: NetAddress) -> NetAddress:  # pragma: no cover - listen() overrides
        return self._addr

    async def _connect(self, addr: NetAddress) -> tuple[Reader, Writer]:
        ds = addr.dial_string()
        net = self.network
        net.dial_log.append(DialRecord(net.clock.monotonic(), self._addr.id, ds))
        if ds in net._blackholes:
            await asyncio.Event().wait()  # hangs until the caller's connect timeout cancels it
        listener = net._listeners.get(ds)
        if listener is None or listener._closed:
            raise ConnectionRefusedError(f"connection refused: {ds}")
        src = (self._addr.host, net.next_port())
        ours, theirs = memory_pipe(src, (addr.host, addr.port), capacity=net.pipe_capacity)
        link = next(net._links)
        self._link_by_key[ds] = link
        listener._link_by_key[NetAddress("", *src).dial_string()] = link
        listener._on_inbound(theirs, theirs)
        return ours, ours

    def _peer(self, v: Verified, behavior: PeerBehavior, outbound: bool) -> Peer:
        peer = super()._peer(v, behavior, outbound)
        self.peers.append(peer)
        link = self._link_by_key.pop(v.key, None)
        if link is not None:
            self.link_of[peer] = link
        return peer

    def remove(self, peer: PeerConn) -> None:
        self.removed.append(peer.id)
        super().remove(peer)

    async def close(self) -> None:
        self.network._listeners.pop(self._addr.dial_string(), None)
        await super().close()
