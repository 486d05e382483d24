"""Connected pairs of every transport layer, over loopback TCP or memory, for benchmarks.

Each ``*_pair`` coroutine returns a :class:`Pair` whose ``a`` end dialled and ``b`` end
accepted; ``await pair.close()`` closes both ends and whatever listens. The pytest plugin
(:mod:`peerwire.bench.plugin`) wraps these as fixtures; ``peerwire bench`` times them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from peerwire import devp2p, tm2
from peerwire._clock import SYSTEM_CLOCK
from peerwire.devp2p import rlpx
from peerwire.testing import memory_pipe

__all__ = [
    "ECHO_CHANNEL",
    "STREAM_LIMIT",
    "Pair",
    "SwitchPair",
    "mconnection_pair",
    "rlpx_pair",
    "secret_pair",
    "secret_pair_memory",
    "server_pair",
    "switch_pair",
]

# Reader limit for secret connections: the StreamReader buffers up to 2x this before pausing
# the socket; the 64 KiB asyncio default halves throughput with 1 MiB writes.
STREAM_LIMIT = 256 * 1024
# Every handshake of a benchmark pair is bounded: a broken build fails fast instead of hanging.
SETUP_TIMEOUT = 10.0
ECHO_CHANNEL = 0x77
_BENCH_PROTOCOL = "bench"

T = TypeVar("T")


@dataclass
class Pair(Generic[T]):
    """Two connected ends; ``close()`` releases both and anything they need (listeners, tasks)."""

    a: T
    b: T
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                await close()
        self.closers.clear()


async def rlpx_pair(snappy: bool = False) -> Pair[rlpx.Connection]:
    """Two RLPx connections (handshake done) over loopback TCP."""
    key = devp2p.PrivateKey.generate()
    lst_cm = rlpx.listen("127.0.0.1", 0, private_key=key)
    lst = await lst_cm.__aenter__()
    async with SYSTEM_CLOCK.timeout(SETUP_TIMEOUT):
        accepted = asyncio.create_task(lst.accept())
        a = await rlpx.dial(
            "127.0.0.1", lst.port, remote_public_key=key.public_key, private_key=devp2p.PrivateKey.generate()
        )
        b = await accepted
    if snappy:
        a.set_snappy(True)
        b.set_snappy(True)
    return Pair(a, b, [lambda: lst_cm.__aexit__(None, None, None), a.close, b.close])


async def secret_pair(
    key_a: tm2.NodeKey | None = None, key_b: tm2.NodeKey | None = None
) -> Pair[tm2.SecretConnection]:
    """Two gno secret connections over loopback TCP."""
    ka = key_a or tm2.NodeKey.from_secret(b"peerwire-bench-a")
    kb = key_b or tm2.NodeKey.from_secret(b"peerwire-bench-b")
    got: asyncio.Queue[tm2.SecretConnection] = asyncio.Queue(maxsize=1)

    async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await got.put(await tm2.SecretConnection.make(r, w, kb))

    srv = await asyncio.start_server(serve, "127.0.0.1", 0, limit=STREAM_LIMIT)
    port = srv.sockets[0].getsockname()[1]

    async def stop_server() -> None:
        srv.close()
        await srv.wait_closed()

    async with SYSTEM_CLOCK.timeout(SETUP_TIMEOUT):
        r, w = await asyncio.open_connection("127.0.0.1", port, limit=STREAM_LIMIT)
        a = await tm2.SecretConnection.make(r, w, ka)
        b = await got.get()
    return Pair(a, b, [stop_server, a.close, b.close])


async def secret_pair_memory() -> Pair[tm2.SecretConnection]:
    """Two secret connections over an in-memory pipe: the crypto and framing cost, no sockets."""
    a_end, b_end = memory_pipe(limit=STREAM_LIMIT)
    ka, kb = tm2.NodeKey.from_secret(b"peerwire-bench-a"), tm2.NodeKey.from_secret(b"peerwire-bench-b")
    async with SYSTEM_CLOCK.timeout(SETUP_TIMEOUT):
        a, b = await asyncio.gather(
            tm2.SecretConnection.make(a_end.reader, a_end.writer, ka),
            tm2.SecretConnection.make(b_end.reader, b_end.writer, kb),
        )
    return Pair(a, b, [a.close, b.close])


MessageHandler = Callable[[int, bytes], Awaitable[None]]


async def mconnection_pair(
    on_receive_a: MessageHandler,
    on_receive_b: MessageHandler,
    channels: list[tm2.ChannelDescriptor] | None = None,
    config: tm2.MConnConfig | None = None,
    memory: bool = False,
) -> Pair[tm2.MConnection]:
    """Two started MConnections on one secret connection pair (rate limits out of the way by default)."""
    sc = await (secret_pair_memory() if memory else secret_pair())
    chans = channels or [
        tm2.ChannelDescriptor(
            ECHO_CHANNEL, priority=1, send_queue_capacity=100, recv_message_capacity=1 << 22
        )
    ]
    cfg = config or tm2.MConnConfig(send_rate=1 << 40, recv_rate=1 << 40)
    errors: list[BaseException] = []
    ma = tm2.MConnection(sc.a, chans, on_receive_a, errors.append, cfg)
    mb = tm2.MConnection(sc.b, chans, on_receive_b, errors.append, cfg)
    ma.start()
    mb.start()
    return Pair(ma, mb, [*sc.closers, ma.stop, mb.stop])


async def _drain(peer: devp2p.Peer, rw: devp2p.MsgReadWriter) -> None:
    while True:
        await rw.read_msg()


async def server_pair(
    run: Callable[[devp2p.Peer, devp2p.MsgReadWriter], Awaitable[None]] = _drain,
    run_b: Callable[[devp2p.Peer, devp2p.MsgReadWriter], Awaitable[None]] | None = None,
    protocol: str = _BENCH_PROTOCOL,
) -> Pair[devp2p.Server]:
    """Two devp2p ``Server`` s on loopback TCP, ``a`` connected to ``b`` (Hello done, protocol running)."""

    def server(
        name: str, fn: Callable[[devp2p.Peer, devp2p.MsgReadWriter], Awaitable[None]]
    ) -> devp2p.Server:
        return devp2p.Server(
            devp2p.Config(
                private_key=devp2p.PrivateKey.generate(),
                name=name,
                listen_addr="127.0.0.1:0",
                protocols=[devp2p.Protocol(protocol, 1, 16, fn)],
            )
        )

    a, b = server("bench-a", run), server("bench-b", run_b or run)
    await a.start()
    await b.start()
    pair = Pair(a, b, [a.stop, b.stop])
    try:
        a.add_peer(b.self_node())
        async with SYSTEM_CLOCK.timeout(SETUP_TIMEOUT):
            while not (a.peer_count() and b.peer_count()):  # noqa: ASYNC110 - state spread over tasks
                await asyncio.sleep(0.005)
    except BaseException:
        await pair.close()
        raise
    return pair


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Sink(tm2.BaseReactor):
    """Counts and hands on what arrives on the echo channel."""

    def __init__(self, on_message: MessageHandler | None) -> None:
        super().__init__("bench")
        self.on_message = on_message
        self.received = 0

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [
            tm2.ChannelDescriptor(
                ECHO_CHANNEL, priority=1, send_queue_capacity=100, recv_message_capacity=1 << 22
            )
        ]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        self.received += 1
        if self.on_message is not None:
            await self.on_message(ch_id, msg)


@dataclass
class SwitchPair(Pair[tm2.MultiplexSwitch]):
    """Two connected switches; ``peer_a`` is ``a``'s view of ``b`` (send on it to reach ``b``)."""

    peer_a: tm2.PeerConn | None = None
    sink_a: Any = None
    sink_b: Any = None


async def switch_pair(on_message_b: MessageHandler | None = None) -> SwitchPair:
    """Two TM2 ``MultiplexSwitch`` es over the real TCP transport, ``a`` dialled ``b``."""
    nodes = []
    for name in ("bench-a", "bench-b"):
        key = tm2.NodeKey.from_secret(name.encode())
        addr = tm2.NetAddress(key.id, "127.0.0.1", _free_port())
        info = tm2.NodeInfo(net_address=addr, network="bench", channels=bytes([ECHO_CHANNEL]), moniker=name)
        transport = tm2.MultiplexTransport(info, key)
        sink = _Sink(on_message_b if name == "bench-b" else None)
        sw = tm2.MultiplexSwitch(transport, tm2.with_reactor("bench", sink))
        await transport.listen(addr)
        await sw.start()
        nodes.append((sw, addr, sink, key, transport))
    (sa, _, sink_a, _, ta), (sb, addr_b, sink_b, kb, tb) = nodes
    pair = SwitchPair(sa, sb, [sa.stop, sb.stop, ta.close, tb.close], sink_a=sink_a, sink_b=sink_b)
    try:
        sa.dial_peers(str(addr_b))
        async with SYSTEM_CLOCK.timeout(SETUP_TIMEOUT):
            while pair.peer_a is None:
                pair.peer_a = sa.peers().get(kb.id)
                await asyncio.sleep(0.005)
    except BaseException:
        await pair.close()
        raise
    return pair
