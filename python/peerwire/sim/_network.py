"""The simulated network: hosts by IP, datagrams and streams with latency, loss, bandwidth and partitions.

Library code reaches it through the :class:`~peerwire.sim._loop.VirtualLoop`'s
socket calls and gets asyncio transports that behave like the real ones:
``DatagramTransport.sendto`` for discovery, ``Transport.write`` with ordered
delivery, ``pause_reading`` and ``connection_lost`` for RLPx and secret
connections. Every random draw comes from the network's seeded RNG.

Model, kept deliberately simple:
- one-way delay = latency distribution sample + size / bandwidth;
- datagram loss drops the packet; stream loss costs a retransmission
  (one RTO plus a round trip) and keeps order, as TCP does;
- a partition splits hosts into groups; packets across groups are dropped and
  streams across them are reset (a TCP connection that cannot deliver dies);
- a NAT host is unreachable inbound: stream connects to it time out, and
  datagrams reach it only from addresses it sent to first;
- a host that is down receives nothing and its connections reset.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from peerwire.sim._dist import Distribution

__all__ = ["CURRENT_HOST", "Host", "LinkModel", "Network"]

#: The IP address of the node whose code is running (each node's tasks run in
#: their own context, so a dial knows its source address).
CURRENT_HOST: contextvars.ContextVar[str] = contextvars.ContextVar("peerwire_sim_host")

#: How long a connect to a silent host (down, NAT, partitioned) waits before
#: failing, as a kernel's SYN retries would; callers normally time out first.
CONNECT_GIVE_UP = 20.0

#: TCP retransmission timeout added to a stream segment the loss draw hit.
STREAM_RTO = 0.2

EPHEMERAL_PORT_BASE = 40000

#: Gap between two segments of one stream that would otherwise arrive at the same instant.
_ORDER_EPSILON = 1e-9

Addr = tuple[str, int]


@dataclass
class LinkModel:
    """How packets travel between any two hosts."""

    latency: Distribution = field(default_factory=lambda: Distribution.parse("uniform(10ms, 100ms)"))
    loss: float = 0.0
    #: bytes per second per link direction; ``None``: unlimited.
    bandwidth: float | None = None


@dataclass
class Host:
    ip: str
    context: contextvars.Context
    nat: bool = False
    up: bool = True
    group: int = 0
    next_port: int = EPHEMERAL_PORT_BASE


class Network:
    """All hosts, endpoints and in-flight packets of one simulation."""

    def __init__(self, loop: asyncio.AbstractEventLoop, rng: random.Random, link: LinkModel) -> None:
        self.loop = loop
        self.rng = rng
        self.link = link
        self.hosts: dict[str, Host] = {}
        self._dgram: dict[Addr, SimDatagramTransport] = {}
        self._listeners: dict[Addr, SimServer] = {}
        self._streams: set[SimStreamTransport] = set()
        self._trace = hashlib.blake2b(digest_size=16)
        self.counters: dict[str, int] = {}
        self.on_trace: Callable[[str], None] | None = None

    # --------------------------------------------------------------- tracing
    def trace(self, *fields: object) -> None:
        line = f"{self.loop.time():.9f}|" + "|".join(map(str, fields))
        self._trace.update(line.encode())
        self._trace.update(b"\n")
        if self.on_trace is not None:
            self.on_trace(line)

    def trace_hash(self) -> str:
        return self._trace.hexdigest()

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    # ----------------------------------------------------------------- hosts
    def add_host(self, ip: str, *, nat: bool = False) -> Host:
        ctx = contextvars.copy_context()
        ctx.run(CURRENT_HOST.set, ip)
        host = Host(ip, ctx, nat=nat)
        self.hosts[ip] = host
        return host

    def set_up(self, ip: str, up: bool) -> None:
        self.hosts[ip].up = up
        if not up:
            self._reset_streams(lambda s: ip in (s.local[0], s.remote[0]))

    def partition(self, groups: list[list[str]]) -> None:
        """Split hosts into ``groups`` (unlisted hosts form one more group); cross streams reset."""
        for h in self.hosts.values():
            h.group = len(groups)
        for i, ips in enumerate(groups):
            for ip in ips:
                self.hosts[ip].group = i
        self.trace("partition", len(groups))
        self._reset_streams(lambda s: not self.reachable(s.local[0], s.remote[0]))

    def heal(self) -> None:
        for h in self.hosts.values():
            h.group = 0
        self.trace("heal")

    def reachable(self, src: str, dst: str) -> bool:
        a, b = self.hosts.get(src), self.hosts.get(dst)
        return a is not None and b is not None and a.up and b.up and a.group == b.group

    def _ephemeral(self, ip: str) -> int:
        h = self.hosts[ip]
        h.next_port += 1
        return h.next_port

    def _delay(self, size: int) -> float:
        d = max(0.0, self.link.latency.sample(self.rng))
        if self.link.bandwidth:
            d += size / self.link.bandwidth
        return d

    # ------------------------------------------------------------- datagrams
    def open_datagram(self, factory: Callable[[], Any], ip: str, port: int) -> tuple[Any, Any]:
        ip = self._bind_ip(ip)
        port = port or self._ephemeral(ip)
        if (ip, port) in self._dgram:
            raise OSError(98, f"address in use: {ip}:{port}")
        proto = factory()
        host = self.hosts[ip]
        t = SimDatagramTransport(self, (ip, port), proto, host.context, nat=host.nat)
        self._dgram[(ip, port)] = t
        proto.connection_made(t)
        return t, proto

    def _bind_ip(self, ip: str) -> str:
        if ip in ("0.0.0.0", "::", ""):
            return CURRENT_HOST.get()
        if ip not in self.hosts:
            raise OSError(99, f"cannot assign requested address {ip}")
        return ip

    def send_datagram(self, src: SimDatagramTransport, data: bytes, dst: Addr) -> None:
        self.count("udp_sent")
        if src.contacted is not None:
            src.contacted.add(dst)
        if not self.reachable(src.local[0], dst[0]) or self.rng.random() < self.link.loss:
            self.count("udp_dropped")
            return
        self.loop.call_at(
            self.loop.time() + self._delay(len(data)), self._deliver_datagram, src.local, dst, data
        )

    def _deliver_datagram(self, src: Addr, dst: Addr, data: bytes) -> None:
        t = self._dgram.get(dst)
        host = self.hosts.get(dst[0])
        if t is None or t.closed or host is None or not self.reachable(src[0], dst[0]):
            self.count("udp_dropped")
            return
        if t.contacted is not None and src not in t.contacted:
            self.count("udp_nat_dropped")
            return
        self.count("udp_delivered")
        self.trace("udp", src[0], src[1], dst[0], dst[1], len(data))
        t.context.run(t.protocol.datagram_received, data, src)

    def close_datagram(self, t: SimDatagramTransport) -> None:
        if self._dgram.get(t.local) is t:
            del self._dgram[t.local]

    # --------------------------------------------------------------- streams
    def listen_stream(self, factory: Callable[[], Any], ip: str, port: int) -> SimServer:
        ip = self._bind_ip(ip)
        port = port or self._ephemeral(ip)
        if (ip, port) in self._listeners:
            raise OSError(98, f"address in use: {ip}:{port}")
        srv = SimServer(self, (ip, port), factory, self.hosts[ip].context)
        self._listeners[(ip, port)] = srv
        return srv

    def close_listener(self, srv: SimServer) -> None:
        if self._listeners.get(srv.local) is srv:
            del self._listeners[srv.local]

    async def open_stream(self, factory: Callable[[], Any], ip: str, port: int) -> tuple[Any, Any]:
        src_ip = CURRENT_HOST.get()
        dst = (ip, port)
        self.count("tcp_connects")
        self.trace("connect", src_ip, ip, port)
        dst_host = self.hosts.get(ip)
        if dst_host is None or dst_host.nat or not self.reachable(src_ip, ip):
            await asyncio.sleep(CONNECT_GIVE_UP)
            self.count("tcp_connect_timeouts")
            raise OSError(110, f"connect to {ip}:{port} timed out")
        await asyncio.sleep(self._delay(64))  # SYN
        srv = self._listeners.get(dst)
        if srv is None or srv.closed or not self.reachable(src_ip, ip):
            await asyncio.sleep(self._delay(64))  # RST back
            self.count("tcp_refused")
            raise ConnectionRefusedError(111, f"connection to {ip}:{port} refused")
        local = (src_ip, self._ephemeral(src_ip))
        client = SimStreamTransport(self, local, dst, self.hosts[src_ip].context)
        server = SimStreamTransport(self, dst, local, srv.context)
        client.peer, server.peer = server, client
        self._streams.update((client, server))
        server.attach(srv.context.run(srv.factory))
        await asyncio.sleep(self._delay(64))  # SYN-ACK
        if client.closed:
            raise ConnectionResetError(104, f"connection to {ip}:{port} reset")
        proto = factory()
        client.attach(proto)
        self.count("tcp_established")
        return client, proto

    def stream_send(self, src: SimStreamTransport, data: bytes) -> None:
        peer = src.peer
        if peer is None or not self.reachable(src.local[0], src.remote[0]):
            return
        now = self.loop.time()
        # The sender's link serialises its writes: each starts when the previous one is on the wire.
        sent = max(now, src.tx_busy) + (len(data) / self.link.bandwidth if self.link.bandwidth else 0.0)
        src.tx_busy = sent
        d = max(0.0, self.link.latency.sample(self.rng))
        if self.link.loss and self.rng.random() < self.link.loss:
            d += STREAM_RTO + 2 * d
            self.count("tcp_retransmits")
        # Strictly after the previous segment: asyncio's timer heap does not keep equal times in order.
        arrival = max(sent + d, src.next_arrival + _ORDER_EPSILON)
        src.next_arrival = arrival
        self.loop.call_at(arrival, peer.receive, data, context=peer.context)

    def stream_close(self, src: SimStreamTransport, reset: bool) -> None:
        self._streams.discard(src)
        peer = src.peer
        if peer is None:
            return
        arrival = max(self.loop.time() + self._delay(0), src.next_arrival + _ORDER_EPSILON)
        self.loop.call_at(
            arrival, peer.receive, ConnectionResetError(104, "reset") if reset else None, context=peer.context
        )

    def _reset_streams(self, which: Callable[[SimStreamTransport], bool]) -> None:
        for s in sorted((s for s in self._streams if which(s)), key=lambda s: (s.local, s.remote)):
            self.count("tcp_resets")
            s.force_lost(ConnectionResetError(104, "connection reset by the network"))


class SimServer:
    """What ``loop.create_server`` returns (the parts the library uses)."""

    def __init__(
        self, net: Network, local: Addr, factory: Callable[[], Any], context: contextvars.Context
    ) -> None:
        self._net = net
        self.local = local
        self.factory = factory
        self.context = context
        self.closed = False
        self.sockets = [_FakeSocket(local)]

    def close(self) -> None:
        self.closed = True
        self._net.close_listener(self)

    async def wait_closed(self) -> None:
        return None

    def is_serving(self) -> bool:
        return not self.closed

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._net.loop

    async def __aenter__(self) -> SimServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class _FakeSocket:
    def __init__(self, local: Addr) -> None:
        self._local = local

    def getsockname(self) -> Addr:
        return self._local


class SimDatagramTransport(asyncio.DatagramTransport):
    def __init__(
        self, net: Network, local: Addr, protocol: Any, context: contextvars.Context, *, nat: bool = False
    ) -> None:
        super().__init__()
        self._net = net
        self.local = local
        self.protocol = protocol
        self.context = context
        self.closed = False
        #: A NAT host's mapping: who it sent to, the only sources it hears (None: not behind NAT).
        self.contacted: set[Addr] | None = set() if nat else None

    def sendto(self, data: Any, addr: Any = None) -> None:
        if self.closed or addr is None:
            return
        self._net.send_datagram(self, bytes(data), (str(addr[0]), int(addr[1])))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": self.local}.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._net.close_datagram(self)
        self._net.loop.call_soon(self.protocol.connection_lost, None, context=self.context)

    def abort(self) -> None:
        self.close()


class SimStreamTransport(asyncio.Transport):
    """One end of a simulated TCP connection."""

    def __init__(self, net: Network, local: Addr, remote: Addr, context: contextvars.Context) -> None:
        super().__init__()
        self._net = net
        self.local = local
        self.remote = remote
        self.context = context
        self.peer: SimStreamTransport | None = None
        self.protocol: Any = None
        self.closed = False
        self.next_arrival = 0.0
        self.tx_busy = 0.0
        self._paused = False
        self._pending: deque[bytes | BaseException | None] = deque()

    def attach(self, protocol: Any) -> None:
        self.protocol = protocol
        self.context.run(protocol.connection_made, self)
        self._flush()

    # ---------------------------------------------------------- receiving
    def receive(self, item: bytes | BaseException | None) -> None:
        """Data (bytes), a close (None) or a reset (exception) arrived from the peer."""
        if self.closed:
            return
        if self.protocol is None or self._paused or self._pending:
            self._pending.append(item)
            return
        self._deliver(item)

    def _deliver(self, item: bytes | BaseException | None) -> None:
        if isinstance(item, bytes):
            # The segment, not its size: RLPx handshake padding (EIP-8) is drawn from the OS
            # RNG inside the Rust core, so sizes are not seeded; everything after is.
            self._net.trace("tcp", self.remote[0], self.local[0])
            self._net.count("tcp_bytes", len(item))
            self.protocol.data_received(item)
        else:
            self.force_lost(item, notify_peer=False)

    def _flush(self) -> None:
        while self._pending and not self._paused and not self.closed and self.protocol is not None:
            self._deliver(self._pending.popleft())

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        if self._paused:
            self._paused = False
            self._net.loop.call_soon(self._flush, context=self.context)

    def is_reading(self) -> bool:
        return not self._paused

    # ------------------------------------------------------------ sending
    def write(self, data: Any) -> None:
        if self.closed or not data:
            return
        self._net.stream_send(self, bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(bytes(d) for d in list_of_data))

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (0, 0)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        return None

    # ----------------------------------------------------------- closing
    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self._end(None)

    def abort(self) -> None:
        self._end(ConnectionResetError(104, "aborted"))

    def _end(self, exc: BaseException | None) -> None:
        if self.closed:
            return
        self.closed = True
        self._net.stream_close(self, reset=exc is not None)
        if self.protocol is not None:
            self._net.loop.call_soon(self.protocol.connection_lost, None, context=self.context)

    def force_lost(self, exc: BaseException | None, *, notify_peer: bool = True) -> None:
        """The connection died under us (reset by peer or network)."""
        if self.closed:
            return
        self.closed = True
        if notify_peer and self.peer is not None:
            self.peer.force_lost(exc, notify_peer=False)
        self._net._streams.discard(self)
        if self.protocol is not None:
            self._net.loop.call_soon(self.protocol.connection_lost, exc, context=self.context)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": self.remote, "sockname": self.local}.get(name, default)
