"""An in-memory :class:`Transport` (like libp2p's memory transport) for tests and simulations.

A :class:`MemoryNetwork` connects :class:`MemoryTransport` s by their
``ip:port`` strings; "connections" are pairs of bounded queues. Peers
satisfy the whole :class:`PeerConn` contract, answer pings on their read
loop (so a test can check that a slow reactor does not starve the
keepalive), and hand every complete message to ``behavior.reactors()[ch]``
inline, as a naive connection would: any isolation comes from the switch.

Faults for tests: :meth:`MemoryNetwork.blackhole` (dials hang until the
switch's dial timeout), unreachable addresses (no listener: refused), and
:meth:`MemoryNetwork.dial_log` records every dial attempt with its clock time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire.errors import ConnectionClosedError, DecodeError, DialError
from peerwire.tm2._addr import PeerAddress
from peerwire.tm2._contracts import PeerBehavior, PeerConn
from peerwire.tm2._keys import ID

__all__ = ["MemoryNetwork", "MemoryNodeInfo", "MemoryPeer", "MemoryTransport"]

# Packets in flight per direction of one memory connection (what a socket buffer would hold).
LINK_CAPACITY = 1024
# Pending inbound connections per listener (a listen backlog).
ACCEPT_BACKLOG = 64
# Blocking send waits this long for room (gno's defaultSendTimeout).
SEND_TIMEOUT = 10.0


@dataclass(frozen=True)
class MemoryNodeInfo:
    net_address: PeerAddress
    channels: bytes
    moniker: str = "memory"
    network: str = "memory"


@dataclass
class DialRecord:
    time: float
    src: ID
    dst: str


@dataclass
class _Pending:
    dialer: MemoryPeer
    src_addr: PeerAddress
    src_info: MemoryNodeInfo
    accepted: asyncio.Future[MemoryPeer] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class MemoryNetwork:
    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
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


class MemoryPeer:
    """One end of a memory connection; the whole PeerConn contract."""

    def __init__(
        self,
        transport: MemoryTransport,
        remote_info: MemoryNodeInfo,
        socket_addr: PeerAddress,
        outbound: bool,
        behavior: PeerBehavior | None,
    ) -> None:
        self._transport = transport
        self._remote_info = remote_info
        self._socket_addr = socket_addr
        self._outbound = outbound
        self.behavior = behavior
        self.rx: asyncio.Queue[tuple[str, int, bytes]] = asyncio.Queue(maxsize=LINK_CAPACITY)
        self.remote: MemoryPeer | None = None
        self._store: dict[str, Any] = {}
        self._reader: asyncio.Task[None] | None = None
        self._running = False
        self._closed = False
        self._pongs: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        self.sent = 0
        self.received = 0

    # -- identity ------------------------------------------------------------------------------
    @property
    def id(self) -> ID:
        return self._remote_info.net_address.id

    @property
    def remote_ip(self) -> str:
        return self._socket_addr.host

    @property
    def remote_addr(self) -> tuple[str, int]:
        return (self._socket_addr.host, self._socket_addr.port)

    @property
    def socket_addr(self) -> PeerAddress:
        return self._socket_addr

    @property
    def node_info(self) -> MemoryNodeInfo:
        return self._remote_info

    @property
    def is_outbound(self) -> bool:
        return self._outbound

    @property
    def is_persistent(self) -> bool:
        return self.behavior is not None and self.behavior.is_persistent_peer(self.id)

    @property
    def is_private(self) -> bool:
        return self.behavior is not None and self.behavior.is_private_peer(self.id)

    def status(self) -> dict[str, int]:
        return {"rx_queued": self.rx.qsize(), "sent": self.sent, "received": self.received}

    def get(self, key: str) -> Any:
        return self._store.get(key)

    def set(self, key: str, value: Any) -> None:
        self._store[key] = value

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._closed:
            raise ConnectionClosedError("connection closed before start")
        self._running = True
        self._reader = asyncio.create_task(self._read_loop())

    async def stop(self) -> None:
        self._running = False
        await self.close_conn()
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()

    async def close_conn(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._running = False
        remote = self.remote
        if remote is not None and not remote._closed:
            try:
                remote.rx.put_nowait(("close", 0, b""))
            except asyncio.QueueFull:
                remote._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    # -- sending --------------------------------------------------------------------------------
    def _can_send(self, ch_id: int) -> bool:
        return self._running and not self._closed and ch_id in self._remote_info.channels

    async def send(self, ch_id: int, msg: bytes) -> bool:
        if not self._can_send(ch_id) or self.remote is None:
            return False
        if self.try_send(ch_id, msg):
            return True
        try:
            await asyncio.wait_for(self.remote.rx.put(("msg", ch_id, bytes(msg))), SEND_TIMEOUT)
        except TimeoutError:
            return False
        self.sent += 1
        return True

    def try_send(self, ch_id: int, msg: bytes) -> bool:
        if not self._can_send(ch_id) or self.remote is None:
            return False
        try:
            self.remote.rx.put_nowait(("msg", ch_id, bytes(msg)))
        except asyncio.QueueFull:
            return False
        self.sent += 1
        return True

    async def ping(self, wait: float = 5.0) -> bool:
        """Send a keepalive ping; True when the remote read loop answered within ``wait`` seconds."""
        if self.remote is None or self._closed:
            return False
        while not self._pongs.empty():
            self._pongs.get_nowait()
        self.remote.rx.put_nowait(("ping", 0, b""))
        try:
            await asyncio.wait_for(self._pongs.get(), wait)
        except TimeoutError:
            return False
        return True

    # -- receiving ------------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        while True:
            kind, ch_id, data = await self.rx.get()
            if kind == "close":
                self._closed = True
                self._running = False
                if self.behavior is not None:
                    self.behavior.handle_peer_error(self, ConnectionClosedError("closed by the remote"))
                return
            if kind == "ping":
                if self.remote is not None and not self._closed:
                    with contextlib.suppress(asyncio.QueueFull):
                        self.remote.rx.put_nowait(("pong", 0, b""))
                continue
            if kind == "pong":
                if self._pongs.empty():
                    self._pongs.put_nowait(None)
                continue
            self.received += 1
            receivers = self.behavior.reactors() if self.behavior is not None else {}
            r = receivers.get(ch_id)
            if r is None:
                if self.behavior is not None:
                    self.behavior.handle_peer_error(self, DecodeError(f"unknown channel {ch_id:#x}"))
                return
            await r.receive(ch_id, self, data)


class MemoryTransport:
    """A listener/dialer on a :class:`MemoryNetwork` (the :class:`Transport` contract)."""

    def __init__(
        self,
        network: MemoryNetwork,
        node_id: ID,
        host: str = "127.0.0.1",
        port: int | None = None,
        channels: bytes = b"",
        moniker: str = "memory",
        backlog: int = ACCEPT_BACKLOG,
    ) -> None:
        self.network = network
        self._addr = PeerAddress(node_id, host, port if port is not None else network.next_port())
        self.channels = bytes(channels)
        self.moniker = moniker
        self.advertised: PeerAddress | None = None  # what NodeInfo says, if not the listen address
        self._backlog: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=backlog)
        self._closed = False
        self.removed: list[ID] = []
        self.peers: list[MemoryPeer] = []

    def net_address(self) -> PeerAddress:
        return self._addr

    def node_info(self) -> MemoryNodeInfo:
        return MemoryNodeInfo(self.advertised or self._addr, self.channels, self.moniker)

    async def listen(self, addr: Any = None) -> None:
        self.network._listeners[self._addr.dial_string()] = self

    async def close(self) -> None:
        self._closed = True
        self.network._listeners.pop(self._addr.dial_string(), None)

    def remove(self, peer: PeerConn) -> None:
        self.removed.append(peer.id)

    async def accept(self, behavior: PeerBehavior) -> MemoryPeer:
        pend = await self._backlog.get()
        dialer = pend.dialer
        peer = MemoryPeer(self, pend.src_info, pend.src_addr, outbound=False, behavior=behavior)
        peer.remote, dialer.remote = dialer, peer
        self.peers.append(peer)
        pend.accepted.set_result(peer)
        return peer

    async def dial(self, addr: Any, behavior: PeerBehavior) -> MemoryPeer:
        target = PeerAddress.parse(str(addr))
        ds = target.dial_string()
        self.network.dial_log.append(DialRecord(self.network.clock.monotonic(), self._addr.id, ds))
        if ds in self.network._blackholes:
            await asyncio.Event().wait()  # hangs until the caller's timeout cancels it
        listener = self.network._listeners.get(ds)
        if listener is None or listener._closed:
            raise DialError(f"connection refused: {ds}", reason="refused")
        info = listener.node_info()
        if info.net_address.id != target.id:
            raise DialError(f"dialed {target.id}, found {info.net_address.id}", reason="id mismatch")
        peer = MemoryPeer(self, info, target, outbound=True, behavior=behavior)
        src = PeerAddress(self._addr.id, self._addr.host, self.network.next_port())
        pend = _Pending(peer, src, self.node_info())
        try:
            listener._backlog.put_nowait(pend)
        except asyncio.QueueFull:
            raise DialError(f"backlog full: {ds}", reason="refused") from None
        await pend.accepted
        self.peers.append(peer)
        return peer
