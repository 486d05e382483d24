"""TM2 over memory: an in-memory ``tm2.Transport`` (like libp2p's memory transport) for tests and simulations.

A :class:`MemoryTransport` *is* a :class:`MultiplexTransport` whose byte
carrier is an in-memory pipe instead of TCP: the real secret handshake, the
NodeInfo exchange, :class:`~peerwire.tm2.Peer` and MConnection run over
:func:`peerwire.testing.memory_pipe` (real ``StreamReader`` / ``StreamWriter``
with backpressure), so switch tests exercise the same code as production. A
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
from peerwire.testing._pipe import DEFAULT_HIGH_WATER, memory_pipe
from peerwire.tm2 import ID, MConnConfig, MultiplexTransport, NetAddress, NodeInfo, NodeKey, PeerConn

__all__ = ["MEMORY_MCONFIG", "DialRecord", "MemoryNetwork", "MemoryTransport"]

#: StreamReader buffer of a memory connection (the TCP transport's, so reads are as large).
STREAM_LIMIT = 256 * 1024
#: Inbound handshakes a memory listener runs at once (its listen backlog).
ACCEPT_BACKLOG = 64

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
    def __init__(self, clock: Clock = SYSTEM_CLOCK, pipe_capacity: int = DEFAULT_HIGH_WATER) -> None:
        self.clock = clock
        self.pipe_capacity = pipe_capacity
        self._listeners: dict[str, MemoryTransport] = {}
        self._blackholes: set[str] = set()
        self._ports = itertools.count(30000)
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
        backlog: int = ACCEPT_BACKLOG,
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
        await self._open()
        self._listening = True
        self.network._listeners[self._addr.dial_string()] = self

    async def _serve(self, addr: NetAddress) -> NetAddress:  # pragma: no cover - listen() overrides
        return self._addr

    async def _connect(self, addr: NetAddress) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        ds = addr.dial_string()
        net = self.network
        net.dial_log.append(DialRecord(net.clock.monotonic(), self._addr.id, ds))
        if ds in net._blackholes:
            await asyncio.Event().wait()  # hangs until the caller's connect timeout cancels it
        listener = net._listeners.get(ds)
        if listener is None or listener._closed:
            raise ConnectionRefusedError(f"connection refused: {ds}")
        src = (self._addr.host, net.next_port())
        ours, theirs = memory_pipe(
            limit=STREAM_LIMIT, a_address=src, b_address=(addr.host, addr.port), high_water=net.pipe_capacity
        )
        listener.handle_connection(theirs.reader, theirs.writer)
        return ours.reader, ours.writer

    def remove(self, peer: PeerConn) -> None:
        self.removed.append(peer.id)
        super().remove(peer)

    async def close(self) -> None:
        self.network._listeners.pop(self._addr.dial_string(), None)
        await super().close()
