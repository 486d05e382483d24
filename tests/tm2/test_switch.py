"""MultiplexSwitch on the in-memory transport (fake clock): accept, dial, redial, reactors, events."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from peerwire import tm2
from peerwire._clock import FakeClock
from peerwire.errors import RemoteProtocolError
from peerwire.testing.tm2 import MemoryNetwork, MemoryTransport

ECHO = 0x77
SLOW = 0x10
FAST = 0x11


def key(name: str) -> tm2.NodeKey:
    return tm2.NodeKey.from_secret(name.encode())


def nid(name: str) -> tm2.ID:
    return key(name).id


class Recorder(tm2.BaseReactor):
    def __init__(self, channels: tuple[int, ...] = (ECHO,), echo: bool = False) -> None:
        super().__init__("rec")
        self.channels = channels
        self.echo = echo
        self.got: list[tuple[int, str, bytes]] = []
        self.added: list[str] = []
        self.removed: list[tuple[str, BaseException | None]] = []

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(id=c, priority=1) for c in self.channels]

    def add_peer(self, peer: tm2.PeerConn) -> None:
        self.added.append(peer.id)

    def remove_peer(self, peer: tm2.PeerConn, reason: BaseException | None) -> None:
        self.removed.append((peer.id, reason))

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        self.got.append((ch_id, peer.id, msg))
        if self.echo:
            await peer.send(ch_id, b"echo:" + msg)


class _Rng(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return 0.0


class Node:
    def __init__(
        self,
        net: MemoryNetwork,
        name: str,
        *opts: tm2.SwitchOption,
        reactor: Any = None,
        channels: bytes = bytes([ECHO]),
        port: int | None = None,
    ) -> None:
        self.name = name
        self.id = nid(name)
        self.transport = MemoryTransport(net, key(name), port=port, channels=channels)
        self.reactor = reactor if reactor is not None else Recorder()
        self.sw = tm2.MultiplexSwitch(
            self.transport,
            tm2.with_reactor("rec", self.reactor),
            tm2.with_clock(net.clock),
            tm2.with_rng(_Rng()),
            *opts,
        )

    @property
    def addr(self) -> str:
        return str(self.transport.net_address())

    async def __aenter__(self) -> Node:
        await self.transport.listen()
        await self.sw.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sw.stop()
        await self.transport.close()


async def settle(n: int = 30) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def until(
    cond: Callable[[], bool], clock: FakeClock | None = None, step: float = 0.0, rounds: int = 2000
) -> None:
    for _ in range(rounds):
        if cond():
            return
        if clock is not None and step:
            await clock.advance(step)
        else:
            await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def run(fn: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(fn(), 20))


def test_dial_connects_both_sides_and_messages_cross() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        async with Node(net, "a") as a, Node(net, "b", reactor=Recorder(echo=True)) as b:
            events = a.sw.subscribe(lambda e: e.type == tm2.EventType.PEER_CONNECTED)
            assert a.sw.dial_peers(b.addr) == 1
            ev = await asyncio.wait_for(anext(events), 5)
            assert ev.peer_id == b.id and isinstance(ev, tm2.PeerConnectedEvent)
            await until(lambda: b.sw.peers().has(a.id))
            assert a.sw.peers().num_outbound() == 1 and a.sw.peers().num_inbound() == 0
            assert b.sw.peers().num_inbound() == 1 and b.sw.peers().num_outbound() == 0
            pb = a.sw.peers().get(b.id)
            assert pb is not None and pb.is_outbound and isinstance(pb, tm2.PeerConn)
            assert await pb.send(ECHO, b"hi")
            await until(lambda: len(a.reactor.got) == 1)
            assert a.reactor.got == [(ECHO, b.id, b"echo:hi")]
            assert b.reactor.got == [(ECHO, a.id, b"hi")]
            assert a.reactor.added == [b.id] and b.reactor.added == [a.id]
            assert not pb.try_send(0x99, b"x")  # a channel the remote does not have

    run(main)


def test_dial_peers_filters_own_invalid_duplicate_and_outbound_cap() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        async with (
            Node(net, "a", tm2.with_max_outbound_peers(1)) as a,
            Node(net, "b") as b,
            Node(net, "c") as c,
        ):
            assert a.sw.dial_peers(a.addr, "garbage", f"{b.id}@0.0.0.0:1", "x@1.2.3.4:5") == 0
            assert a.sw.stats.invalid_addresses == 3  # garbage, unspecified IP, bad ID
            assert a.sw.dial_peers(b.addr, b.addr) == 1
            await until(lambda: a.sw.peers().has(b.id))
            assert a.sw.dial_peers(b.addr) == 0  # connected
            assert a.sw.dial_peers(c.addr) == 0  # outbound cap of 1 reached
            assert net.dials_to(a.transport.net_address().dial_string()) == []

    run(main)


def test_inbound_limit_rejects_and_closes_the_connection() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        async with (
            Node(net, "srv", tm2.with_max_inbound_peers(1)) as srv,
            Node(net, "c1") as c1,
            Node(net, "c2") as c2,
        ):
            c1.sw.dial_peers(srv.addr)
            await until(lambda: srv.sw.peers().has(c1.id))
            c2.sw.dial_peers(srv.addr)
            await until(lambda: srv.sw.stats.rejected_inbound_full == 1)
            # The rejected connection is closed: the dialer sees it drop, not silence.
            await until(
                lambda: (
                    not c2.sw.peers().has(srv.id)
                    and c2.sw.peers().num_outbound() == 0
                    and srv.id in c2.reactor.added
                    and any(pid == srv.id for pid, _ in c2.reactor.removed)
                )
            )
            assert srv.sw.peers().num_inbound() == 1
            assert c2.id in srv.transport.removed

    run(main)


def test_duplicate_id_connection_is_rejected_and_closed() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        async with Node(net, "srv") as srv, Node(net, "twin") as t1:
            t1.sw.dial_peers(srv.addr)
            await until(lambda: srv.sw.peers().has(t1.id))
            first = srv.sw.peers().get(t1.id)
            assert isinstance(first, tm2.Peer)
            # A second node with the same key (same ID) connects: inbound + inbound -> keep the first.
            t2 = MemoryTransport(net, key("twin"), channels=bytes([ECHO]))
            await t2.listen()
            r2 = Recorder()
            sw2 = tm2.MultiplexSwitch(t2, tm2.with_reactor("rec", r2), tm2.with_clock(net.clock))
            async with sw2:
                sw2.dial_peers(srv.addr)
                await until(lambda: srv.sw.stats.rejected_duplicate == 1)
                # The refused connection is closed: the twin sees it drop.
                await until(lambda: any(pid == srv.id for pid, _ in r2.removed))
                assert srv.sw.peers().get(t1.id) is first and not first.closed

    run(main)


def test_simultaneous_open_keeps_the_same_connection_on_both_ends() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        async with Node(net, "x") as x, Node(net, "y") as y:
            x.sw.dial_peers(y.addr)
            y.sw.dial_peers(x.addr)
            await settle(200)
            await until(lambda: x.sw.peers().has(y.id) and y.sw.peers().has(x.id))
            await settle(200)
            px, py = x.sw.peers().get(y.id), y.sw.peers().get(x.id)
            assert isinstance(px, tm2.Peer) and isinstance(py, tm2.Peer)
            assert px.is_outbound != py.is_outbound  # the two ends of one and the same connection
            low = min(x.id, y.id)
            assert px.is_outbound if x.id == low else py.is_outbound

    run(main)


def test_stop_peer_for_error_removes_everywhere_and_emits() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        async with Node(net, "a") as a, Node(net, "b") as b:
            disc = a.sw.subscribe(lambda e: e.type == tm2.EventType.PEER_DISCONNECTED)
            remote_disc = b.sw.subscribe(lambda e: e.type == tm2.EventType.PEER_DISCONNECTED)
            a.sw.dial_peers(b.addr)
            await until(lambda: a.sw.peers().has(b.id) and b.sw.peers().has(a.id))
            peer = a.sw.peers().get(b.id)
            assert peer is not None
            err = RemoteProtocolError("bad")
            a.sw.stop_peer_for_error(peer, err)
            assert not a.sw.peers().has(b.id)  # at once
            ev = await asyncio.wait_for(anext(disc), 5)
            assert isinstance(ev, tm2.PeerDisconnectedEvent) and ev.peer_id == b.id and ev.reason is err
            assert a.reactor.removed == [(b.id, err)]
            ev2 = await asyncio.wait_for(anext(remote_disc), 5)
            assert ev2.peer_id == a.id and not b.sw.peers().has(a.id)
            a.sw.stop_peer_for_error(peer, err)  # idempotent
            await settle()
            assert a.reactor.removed == [(b.id, err)]
            assert a.sw.dial_queue().peek() is None  # b is not persistent: no redial

    run(main)


def test_persistent_peer_redial_round_table_and_reset_on_connect() -> None:
    """Dials of a missing persistent peer: tick every 5 s, backoff 1, 2, 4, 8, 16, 32... (no jitter)."""

    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        target_id = nid("p")
        port = 40000
        addr = f"{target_id}@127.0.0.1:{port}"
        async with Node(net, "a", tm2.with_persistent_peers([addr])) as a:
            await settle()
            for _ in range(90):
                await clock.advance(1.0)
            assert net.dials_to(f"127.0.0.1:{port}") == [0.0, 6.0, 12.0, 19.0, 28.0, 46.0, 82.0]
            assert a.sw.redial_attempts(target_id) == 7  # 149 is queued (85 + 64)
            async with Node(net, "p", port=port):
                await until(lambda: a.sw.peers().has(target_id), clock, 1.0, rounds=100)
                assert net.dials_to(f"127.0.0.1:{port}")[-1] == 149.0
                assert a.sw.redial_attempts(target_id) is None  # cleared on connect
                peer = a.sw.peers().get(target_id)
                assert peer is not None and peer.is_persistent
            # p went away: redial at once, then the backoff starts over from 1 s.
            t0 = clock.monotonic()
            await until(lambda: not a.sw.peers().has(target_id))
            await settle(300)
            for _ in range(30):
                await clock.advance(1.0)
            dials = [t - t0 for t in net.dials_to(f"127.0.0.1:{port}") if t >= t0]
            assert dials[0] == 0.0 and len(dials) >= 3
            gaps = [b - a_ for a_, b in itertools.pairwise(dials)]
            assert all(g <= 5 + 2**i for i, g in enumerate(gaps))

    run(main)


def test_persistent_hostname_is_resolved_again_on_each_redial() -> None:
    """gno #2580: the IP behind a persistent peer's hostname changes; we find it again."""

    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        answers = {"seed.example": "127.0.0.5"}
        calls: list[str] = []

        async def resolver(host: str) -> str:
            calls.append(host)
            return answers[host]

        pid = nid("moving")
        async with Node(
            net, "a", tm2.with_persistent_peers([f"{pid}@seed.example:26656"]), tm2.with_resolver(resolver)
        ) as a:
            await settle()
            await clock.advance(1.0)
            assert net.dials_to("127.0.0.5:26656") == [0.0]
            moved = MemoryTransport(net, key("moving"), host="127.0.0.6", port=26656, channels=bytes([ECHO]))
            await moved.listen()
            answers["seed.example"] = "127.0.0.6"
            sw = tm2.MultiplexSwitch(moved, tm2.with_reactor("r", Recorder()), tm2.with_clock(clock))
            async with sw:
                await until(lambda: a.sw.peers().has(pid), clock, 1.0, rounds=30)
            assert calls.count("seed.example") >= 2
            assert net.dials_to("127.0.0.6:26656")

    run(main)


def test_dials_are_concurrent_bounded_and_time_out_after_3s() -> None:
    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        async with Node(net, "a", tm2.with_max_concurrent_dials(4), tm2.with_max_outbound_peers(50)) as a:
            targets = [f"{nid(f't{i}')}@127.0.0.2:{1000 + i}" for i in range(10)]
            for i in range(10):
                net.blackhole(f"127.0.0.2:{1000 + i}")
            assert a.sw.dial_peers(*targets) == 10
            await settle()
            for _ in range(10):
                await clock.advance(1.0)
            times = sorted(r.time for r in net.dial_log)
            assert times == [0.0] * 4 + [3.0] * 4 + [6.0] * 2
            assert a.sw.stats.dial_failures == 10

    run(main)


class Slow(tm2.BaseReactor):
    def __init__(self) -> None:
        super().__init__("slow")
        self.entered = 0
        self.gate = asyncio.Event()

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(id=SLOW)]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        self.entered += 1
        await self.gate.wait()


def test_slow_reactor_starves_neither_other_channels_nor_ping() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        slow, fast = Slow(), Recorder(channels=(FAST,))
        ta = MemoryTransport(net, key("a"), channels=bytes([SLOW, FAST]))
        tb = MemoryTransport(net, key("b"), channels=bytes([SLOW, FAST]))
        await ta.listen()
        await tb.listen()
        swa = tm2.MultiplexSwitch(
            ta,
            tm2.with_clock(net.clock),
            tm2.with_dispatch_queue_size(8),
            tm2.with_reactor("slow", slow),
            tm2.with_reactor("fast", fast),
        )
        swb = tm2.MultiplexSwitch(
            tb, tm2.with_clock(net.clock), tm2.with_reactor("r", Recorder((SLOW, FAST)))
        )
        async with swa, swb:
            swb.dial_peers(str(ta.net_address()))
            await until(lambda: swb.peers().has(ta.net_address().id) and swa.peers().has(tb.net_address().id))
            to_a = swb.peers().get(ta.net_address().id)
            assert isinstance(to_a, tm2.Peer)
            for i in range(8):
                assert to_a.try_send(SLOW, b"s%d" % i) or await to_a.send(SLOW, b"s%d" % i)
            assert await to_a.send(FAST, b"f")
            await until(lambda: len(fast.got) == 1)  # SLOW is stuck, FAST is not
            assert slow.entered == 1 and swa.stats.dispatch_waits == 0
            # The SLOW queue (8) is full: more SLOW messages make the connection stop reading
            # from b (backpressure), so a FAST message sent after them waits too. Nothing is dropped.
            for i in range(8, 20):
                assert await to_a.send(SLOW, b"s%d" % i)
            assert await to_a.send(FAST, b"g")
            await settle(300)
            assert swa.stats.dispatch_waits >= 1 and len(fast.got) == 1
            assert swa.peers().has(tb.net_address().id)
            slow.gate.set()
            await until(lambda: slow.entered == 20 and len(fast.got) == 2)
            assert swa.stats.dispatch_dropped == 0

    run(main)


def test_broadcast_never_blocks_and_is_bounded_per_peer() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        async with (
            Node(net, "a", tm2.with_broadcast_queue_size(16)) as a,
            Node(net, "b") as b,
            Node(net, "c") as c,
        ):
            a.sw.dial_peers(b.addr, c.addr)
            await until(lambda: a.sw.peers().has(b.id) and a.sw.peers().has(c.id))
            stuck = a.sw.peers().get(c.id)
            assert isinstance(stuck, tm2.Peer)

            async def never(ch: int, msg: bytes) -> bool:
                await asyncio.Event().wait()
                return True

            stuck.send = never  # type: ignore[method-assign]
            stuck.try_send = lambda ch, msg: False  # type: ignore[method-assign]
            counts = []
            for i in range(50):
                counts.append(a.sw.broadcast(ECHO, b"m%d" % i))  # returns at once
                await settle(50)
            assert counts[:17] == [2] * 17 and counts[17:] == [1] * 33
            await until(lambda: len(b.reactor.got) == 50)
            # c: one message in the stuck send, 16 queued, 33 dropped.
            assert a.sw.stats.broadcast_dropped == 33
            assert [m for _, _, m in b.reactor.got] == [b"m%d" % i for i in range(50)]

    run(main)


def test_reactor_typed_peer_state_and_peer_store() -> None:
    class Stateful(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.states = self.peer_states(lambda peer: {"seen": 0, "id": peer.id})

        async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
            self.states[peer]["seen"] += 1

    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        st = Stateful()
        async with Node(net, "a", reactor=st) as a, Node(net, "b") as b:
            a.sw.dial_peers(b.addr)
            await until(lambda: b.sw.peers().has(a.id))
            pa = b.sw.peers().get(a.id)
            assert pa is not None
            pa.set("height", 7)
            assert pa.get("height") == 7 and pa.get("missing") is None
            for _ in range(3):
                await pa.send(ECHO, b"x")
            await until(lambda: st.states.get(b.id) is not None and st.states[b.id]["seen"] == 3)
            peer = a.sw.peers().get(b.id)
            assert peer is not None and peer in st.states
            a.sw.stop_peer_for_error(peer, None)
            await until(lambda: len(st.states) == 0)

    run(main)


def test_reactor_error_on_message_stops_that_peer() -> None:
    class Picky(Recorder):
        async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
            raise RemoteProtocolError("bad message")

    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        async with Node(net, "a", reactor=Picky()) as a, Node(net, "b") as b:
            b.sw.dial_peers(a.addr)
            await until(lambda: b.sw.peers().has(a.id))
            p = b.sw.peers().get(a.id)
            assert p is not None
            await p.send(ECHO, b"boom")
            await until(lambda: len(a.reactor.removed) == 1)
            assert isinstance(a.reactor.removed[0][1], RemoteProtocolError)
            assert not a.sw.peers().has(b.id)

    run(main)


def test_channel_claimed_twice_is_refused() -> None:
    net = MemoryNetwork(FakeClock())
    with pytest.raises(ValueError, match="already claimed"):
        tm2.MultiplexSwitch(
            MemoryTransport(net, key("a")),
            tm2.with_reactor("r1", Recorder()),
            tm2.with_reactor("r2", Recorder()),
        )


def test_dispatch_queue_is_bounded_in_bytes_too() -> None:
    """Big messages stop the reading at the byte bound (8 MiB), well before the count bound (256)."""

    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        slow = Slow()
        ta = MemoryTransport(net, key("a"), channels=bytes([SLOW]))
        tb = MemoryTransport(net, key("b"), channels=bytes([SLOW]))
        await ta.listen()
        await tb.listen()
        swa = tm2.MultiplexSwitch(ta, tm2.with_clock(net.clock), tm2.with_reactor("slow", slow))
        swb = tm2.MultiplexSwitch(tb, tm2.with_clock(net.clock), tm2.with_reactor("r", Recorder((SLOW,))))
        async with swa, swb:
            swb.dial_peers(str(ta.net_address()))
            await until(lambda: swb.peers().has(ta.net_address().id) and swa.peers().has(tb.net_address().id))
            to_a = swb.peers().get(ta.net_address().id)
            assert to_a is not None
            big = b"\x00" * (1 << 20)

            async def send_all() -> list[bool]:
                return [await to_a.send(SLOW, big) for _ in range(20)]

            sender = asyncio.create_task(send_all())
            for _ in range(100):
                await settle(100)
                if swa.stats.dispatch_waits:
                    break
            assert swa.stats.dispatch_waits >= 1 and slow.entered == 1
            # The byte budget holds 8 messages of 1 MiB (count limit 256): reading paused there.
            assert swa.config.dispatch_queue_bytes // len(big) == 8
            slow.gate.set()
            await until(lambda: slow.entered == 20, rounds=20000)
            assert await sender == [True] * 20 and swa.stats.dispatch_dropped == 0

    run(main)


def test_switch_works_before_its_transport_knows_its_address() -> None:
    class Unlistened(MemoryTransport):
        def net_address(self) -> Any:
            raise RuntimeError("transport is not listening")

    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        sw = tm2.MultiplexSwitch(Unlistened(net, key("u")), tm2.with_clock(net.clock))
        assert sw.own_id() == "" and sw.own_address() is None
        async with Node(net, "b") as b:
            assert sw.dial_peers(b.addr) == 1

    run(main)


def test_stop_abandons_in_flight_dials_at_once() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        net.blackhole("127.0.0.3:9")
        a = Node(net, "a")
        await a.__aenter__()
        a.sw.dial_peers(f"{nid('far')}@127.0.0.3:9")
        await settle()
        assert a.sw.stats.dials == 1
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await a.__aexit__()
        assert loop.time() - t0 < 1.0  # not the 5 s grace given to teardowns
        assert not a.sw.running and len(a.sw.peers()) == 0

    run(main)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_churn_keeps_peer_sets_consistent(seed: int) -> None:
    """Random dials (both directions at once included) and random disconnects among 6 nodes:
    afterwards every connection is registered on both ends as one and the same link, the
    in/out counters match, and nothing registered is closed."""

    async def main() -> None:
        rng = random.Random(seed)
        net = MemoryNetwork(FakeClock())
        nodes = [
            Node(net, f"churn{seed}-{i}", tm2.with_max_inbound_peers(3), tm2.with_max_outbound_peers(3))
            for i in range(6)
        ]
        for n in nodes:
            await n.__aenter__()
        try:
            for _ in range(120):
                a, b = rng.sample(nodes, 2)
                if rng.random() < 0.6:
                    a.sw.dial_peers(b.addr)
                else:
                    peers = a.sw.peers().list()
                    if peers:
                        a.sw.stop_peer_for_error(rng.choice(peers), None)
                await settle(rng.randrange(0, 20))
            await settle(2000)
            for n in nodes:
                ps = n.sw.peers()
                listed = ps.list()
                assert len({p.id for p in listed}) == len(listed)
                assert ps.num_inbound() == sum(not p.is_outbound for p in listed)
                assert ps.num_outbound() == sum(p.is_outbound for p in listed)
                assert ps.num_inbound() <= 3 and ps.num_outbound() <= 3
                for p in listed:
                    assert isinstance(p, tm2.Peer) and not p.closed
                    other = next(x for x in nodes if x.id == p.id)
                    back = other.sw.peers().get(n.id)
                    assert isinstance(back, tm2.Peer)
                    assert back.is_outbound != p.is_outbound, "both ends must hold the same link"
        finally:
            for n in nodes:
                await n.__aexit__()

    run(main)


def test_lost_persistent_peer_redial_round_table() -> None:
    """Lost at t=12: redial at once (attempt 0), then tick (every 5 s) + 1, 2, 4, 8, 16 s."""

    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        pid, port = nid("lost"), 40100
        async with Node(net, "a", tm2.with_persistent_peers([f"{pid}@127.0.0.1:{port}"])) as a:
            p = Node(net, "lost", port=port)
            await p.__aenter__()
            await until(lambda: a.sw.peers().has(pid))
            for _ in range(12):
                await clock.advance(1.0)
            assert clock.monotonic() == 12.0
            await p.transport.close()  # the listener goes first, then the connection
            await p.__aexit__()
            await until(lambda: not a.sw.peers().has(pid))
            await settle(200)
            for _ in range(50):
                await clock.advance(1.0)
            dials = [t for t in net.dials_to(f"127.0.0.1:{port}") if t >= 12.0]
            assert dials == [12.0, 16.0, 22.0, 29.0, 38.0, 56.0]

    run(main)
