"""Server policy on the in-memory network: admission order, limits, refusals, events, bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.devp2p._aio import aio

from peerwire._clock import Clock, FakeClock
from peerwire._core import p2p_base
from peerwire.devp2p import (
    Config,
    ConnFlag,
    DiscReason,
    MsgReadWriter,
    Node,
    Peer,
    PeerEventType,
    PrivateKey,
    Protocol,
    Server,
)
from peerwire.devp2p._server import SIMULTANEOUS_OPEN_GRACE
from peerwire.devp2p._transport import MemoryNetwork, MemoryTransport
from peerwire.errors import ConnectionClosedError, RefusedError, RemoteProtocolError


async def echo(peer: Peer, rw: MsgReadWriter) -> None:
    while True:
        msg = await rw.read_msg()
        await rw.write_msg(msg.code, msg.payload)


ECHO1 = Protocol("echo", 1, 2, echo)
ECHO2 = Protocol("echo", 2, 3, echo)
OTHER = Protocol("other", 1, 4, echo)


def make(net: MemoryNetwork, clock: Clock | None = None, **kw: Any) -> Server:
    kw.setdefault("protocols", [ECHO1])
    kw.setdefault("listen_addr", "127.0.0.1:0")
    if clock is not None:
        kw["clock"] = clock
    return Server(Config(private_key=kw.pop("key", None) or PrivateKey.generate(), network=net, **kw))


async def settle(n: int = 60) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def wait_for(cond: Any, within: float = 3.0) -> None:
    """Poll ``cond`` (state spread over many tasks, no single event to await)."""
    async with asyncio.timeout(within):
        while not cond():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


def hello(
    key: PrivateKey, caps: list[tuple[str, int]] | None = None, version: int = 5, id_: bytes | None = None
) -> bytes:
    return p2p_base.encode_hello(
        version,
        "raw/1",
        caps if caps is not None else [("echo", 1)],
        0,
        key.public_key.to_bytes() if id_ is None else id_,
    )


async def raw(
    net: MemoryNetwork, srv: Server, key: PrivateKey | None = None
) -> tuple[MemoryTransport, PrivateKey]:
    key = key or PrivateKey.generate()
    return await net.connect_raw("127.0.0.1", srv.listen_port, key), key


async def recv_or_closed(t: MemoryTransport, within: float = 2.0) -> tuple[int, bytes] | None:
    try:
        return await asyncio.wait_for(t.recv(), within)
    except ConnectionClosedError:
        return None


async def handshake_raw(net: MemoryNetwork, srv: Server, **kw: Any) -> tuple[MemoryTransport, PrivateKey]:
    t, key = await raw(net, srv)
    await t.send(0, hello(key, **kw))
    code, _ = await asyncio.wait_for(t.recv(), 2)
    assert code == 0
    t.set_snappy(True)
    return t, key


def test_slot_arithmetic() -> None:
    net = MemoryNetwork()
    for max_peers, dialed, inbound in ((50, 16, 34), (10, 3, 7), (2, 1, 1), (1, 1, 0), (0, 0, 0)):
        s = make(net, max_peers=max_peers)
        assert (s.max_dialed_conns(), s.max_inbound_conns()) == (dialed, inbound)
    s = make(net, max_peers=10, dial_ratio=2)
    assert s.max_dialed_conns() == 5
    s = make(net, max_peers=10, no_dial=True)
    assert (s.max_dialed_conns(), s.max_inbound_conns()) == (0, 10)


@aio
async def test_two_servers_match_echo_and_see_each_other() -> None:
    net = MemoryNetwork()
    got: list[tuple[int, bytes]] = []
    done = asyncio.Event()

    async def client(peer: Peer, rw: MsgReadWriter) -> None:
        await rw.write_msg(1, b"\x83abc")
        m = await rw.read_msg()
        got.append((m.code, m.payload))
        done.set()
        await asyncio.Event().wait()

    async def client_other(peer: Peer, rw: MsgReadWriter) -> None:
        await rw.write_msg(3, b"\x01")
        m = await rw.read_msg()
        got.append((m.code + 100, m.payload))
        await asyncio.Event().wait()

    a = make(net, protocols=[ECHO1, ECHO2, OTHER], name="server-a")
    b = make(
        net,
        protocols=[
            Protocol("echo", 2, 3, client),
            Protocol("echo", 1, 2, echo),
            Protocol("other", 1, 4, client_other),
        ],
        name="server-b",
    )
    async with a, b:
        events = b.subscribe_events()
        b.add_peer(a.self_node())
        await asyncio.wait_for(done.wait(), 3)
        await wait_for(lambda: len(got) == 2)
        assert sorted(got) == [(1, b"\x83abc"), (103, b"\x01")]
        ev = await asyncio.wait_for(anext(events), 1)
        assert ev.type is PeerEventType.ADD and ev.peer == a.self_node().id
        [pa] = a.peers()
        [pb] = b.peers()
        assert pa.inbound and not pb.inbound and pb.flags == ConnFlag.STATIC_DIALED
        assert pa.name == "server-b" and pb.name == "server-a"
        assert [str(c) for c in pb.caps] == ["echo/1", "echo/2", "other/1"]
        # echo/2 (length 3) at 16, other/1 at 19
        assert [(p.name, p.version, off) for p, off in pb.running_protocols] == [
            ("echo", 2, 16),
            ("other", 1, 19),
        ]
        info = b.peers_info()[0]
        assert info["id"] == a.self_node().id.hex() and info["network"]["static"] is True
        assert info["caps"] == ["echo/1", "echo/2", "other/1"]
        ni = a.node_info()
        assert ni["name"] == "server-a" and ni["enode"].startswith("enode://") and "echo" in ni["protocols"]
        assert ni["ports"]["listener"] == a.listen_port


@aio
async def test_refused_before_hello_is_uncompressed_disconnect_only() -> None:
    net = MemoryNetwork()
    srv = make(net, max_peers=2)  # 1 inbound slot
    async with srv:
        await handshake_raw(net, srv)
        await wait_for(lambda: srv.peer_count() == 1)
        t2, _ = await raw(net, srv)
        assert await recv_or_closed(t2) == (1, b"\xc1\x04")
        assert await recv_or_closed(t2) is None
        server_end = next(t for t in net.transports if t.remote_public_key == t2._local)
        assert server_end.sent == [(1, b"\xc1\x04", False)]  # the only frame, not compressed


@aio
async def test_trusted_admitted_past_limits_but_not_twice() -> None:
    net = MemoryNetwork()
    tkey = PrivateKey.generate()
    srv = make(net, max_peers=2, trusted_nodes=[Node(tkey.public_key)])
    async with srv:
        await handshake_raw(net, srv)
        await wait_for(lambda: srv.peer_count() == 1)
        t, _ = await raw(net, srv, tkey)
        await t.send(0, hello(tkey))
        assert (await t.recv())[0] == 0
        await wait_for(lambda: srv.peer_count() == 2)
        p = next(p for p in srv.peers() if p.id == tkey.public_key.node_id)
        assert p.trusted and p.flags == ConnFlag.INBOUND | ConnFlag.TRUSTED
        assert p.flags.describe() == "trusted-inbound"
        t3, _ = await raw(net, srv, tkey)  # same node again
        assert await recv_or_closed(t3) == (1, b"\xc1\x05")
        srv.remove_trusted_peer(Node(tkey.public_key))
        assert not p.trusted


@aio
async def test_useless_peer_gets_compressed_disconnect_after_hello() -> None:
    net = MemoryNetwork()
    srv = make(net)
    async with srv:
        t, key = await raw(net, srv)
        await t.send(0, hello(key, caps=[("echo", 9), ("zzz", 1)]))
        code, _ = await t.recv()
        assert code == 0
        assert await recv_or_closed(t) == (1, b"\xc1\x03")
        server_end = next(x for x in net.transports if x.remote_public_key == key.public_key)
        assert [(c, snappy) for c, _, snappy in server_end.sent] == [(0, False), (1, True)]
        assert srv.peer_count() == 0


@aio
async def test_old_version_peer_gets_uncompressed_traffic() -> None:
    net = MemoryNetwork()
    srv = make(net)
    async with srv:
        t, key = await raw(net, srv)
        await t.send(0, hello(key, version=4))
        assert (await t.recv())[0] == 0
        await wait_for(lambda: srv.peer_count() == 1)
        await t.send(16, b"\x01")
        assert await t.recv() == (16, b"\x01")
        server_end = next(x for x in net.transports if x.remote_public_key == key.public_key)
        assert all(not snappy for _, _, snappy in server_end.sent)


@pytest.mark.parametrize(
    ("first", "why"),
    [
        ("big", "message too big"),
        ("ping", "expected handshake, got 2"),
        ("zero-id", "invalid node identity"),
        ("short-id", "invalid node identity"),
        ("disconnect", "disconnected before hello: too many peers"),
        ("garbage", ""),
    ],
)
@aio
async def test_bad_first_message_is_refused_without_disconnect(first: str, why: str) -> None:
    net = MemoryNetwork()
    srv = make(net)
    async with srv:
        t, key = await raw(net, srv)
        payload = {
            "big": hello(key)[:0]
            + p2p_base.encode_hello(5, "x" * 2100, [("echo", 1)], 0, key.public_key.to_bytes()),
            "ping": b"\xc0",
            "zero-id": hello(key, id_=bytes(64)),
            "short-id": hello(key, id_=b"\x01" * 63),
            "disconnect": b"\xc1\x04",
            "garbage": b"\xc3\x01\x02",
        }[first]
        await t.send({"ping": 2, "disconnect": 1}.get(first, 0), payload)
        assert (await recv_or_closed(t))[0] == 0  # type: ignore[index]  # our Hello went out concurrently
        assert await recv_or_closed(t) is None  # then closed: no Disconnect for Hello-phase errors
        assert srv.peer_count() == 0
        _, err = srv.setup_failures[-1]
        # the remote's Disconnect is its refusal (no breach); everything else is a remote protocol error
        kind = RefusedError if first == "disconnect" else RemoteProtocolError
        assert err.is_a(kind) and why in str(err)
        if first in ("zero-id", "short-id"):
            assert err.disconnect_reason == DiscReason.INVALID_IDENTITY
        if first == "disconnect":
            assert err.disconnect_reason == DiscReason.TOO_MANY_PEERS


@aio
async def test_hello_id_mismatch_is_unexpected_identity() -> None:
    net = MemoryNetwork()
    srv = make(net)
    async with srv:
        t, key = await raw(net, srv)
        await t.send(0, hello(PrivateKey.generate()))
        assert (await t.recv())[0] == 0
        assert await recv_or_closed(t) == (1, b"\xc1\x09")
        server_end = next(x for x in net.transports if x.remote_public_key == key.public_key)
        assert server_end.sent[-1] == (1, b"\xc1\x09", True)  # compressed: snappy was on
        assert srv.setup_failures[-1][1].disconnect_reason == DiscReason.UNEXPECTED_IDENTITY


@aio
async def test_code_outside_every_range_is_protocol_error() -> None:
    net = MemoryNetwork()
    srv = make(net)
    async with srv:
        drops = srv.subscribe_events()
        t, _ = await handshake_raw(net, srv)
        await wait_for(lambda: srv.peer_count() == 1)
        await t.send(16 + 2, b"\xc0")  # echo/1 has length 2: 16..17
        assert await recv_or_closed(t) == (1, b"\xc1\x02")
        evs = [await anext(drops), await anext(drops)]
        assert [e.type for e in evs] == [PeerEventType.ADD, PeerEventType.DROP]
        assert "out of range" in (evs[1].error or "")
        assert srv.peer_count() == 0


@aio
async def test_silent_peer_dropped_within_idle_deadline() -> None:
    clock = FakeClock()
    net = MemoryNetwork()
    srv = make(net, clock)
    async with srv:
        t, _ = await handshake_raw(net, srv)
        await wait_for(lambda: srv.peer_count() == 1)
        await settle()  # the peer's read loop starts (and arms its 30 s read deadline)
        for _ in range(29):
            await clock.advance(1)
        await settle()
        assert srv.peer_count() == 1
        await clock.advance(1.5)
        await wait_for(lambda: srv.peer_count() == 0)
        codes = []
        while (m := await recv_or_closed(t, 0.5)) is not None:
            codes.append(m[0])
        assert codes and set(codes) == {2}  # pings only, no Disconnect: it ends as a network error


@aio
async def test_inbound_throttle_for_non_lan_ips_only() -> None:
    clock = FakeClock()
    net = MemoryNetwork()
    srv = make(net, clock)
    async with srv:
        net.source_host = "8.8.8.8"
        t1, _ = await handshake_raw(net, srv)
        t2, _ = await raw(net, srv)
        assert await recv_or_closed(t2, 0.5) is None  # closed before any byte
        assert "too many attempts" in str(srv.setup_failures[-1][1])
        await clock.advance(31)
        t3, _ = await handshake_raw(net, srv)  # throttle expired
        net.source_host = "192.168.1.2"  # LAN: never throttled
        await handshake_raw(net, srv)
        await handshake_raw(net, srv)
        assert t1 and t3


@aio
async def test_net_restrict_on_inbound() -> None:
    net = MemoryNetwork()
    srv = make(net, net_restrict=["10.0.0.0/8"])
    async with srv:
        t, _ = await raw(net, srv)
        assert await recv_or_closed(t, 0.5) is None
        net.source_host = "10.1.2.3"
        await handshake_raw(net, srv)
        assert srv.peer_count() == 1


@aio
async def test_stop_sends_quitting_and_remove_peer_sends_requested() -> None:
    net = MemoryNetwork()
    srv = make(net)
    await srv.start()
    t1, k1 = await handshake_raw(net, srv)
    t2, _ = await handshake_raw(net, srv)
    await wait_for(lambda: srv.peer_count() == 2)
    srv.remove_peer(Node(k1.public_key))
    assert await recv_or_closed(t1) == (1, b"\xc1\x80")
    await srv.stop()
    assert await recv_or_closed(t2) == (1, b"\xc1\x08")
    assert srv.peer_count() == 0 and net.open_transports() == 0


@aio
async def test_static_peer_redialed_after_drop() -> None:
    clock = FakeClock()
    net = MemoryNetwork()
    a = make(net, clock)
    b = make(net, clock)
    async with a, b:
        b.add_peer(a.self_node())
        await wait_for(lambda: a.peer_count() == 1 and b.peer_count() == 1)
        a.peers()[0].disconnect(DiscReason.TOO_MANY_PEERS)
        await wait_for(lambda: b.peer_count() == 0)
        await clock.advance(20)
        await settle()
        assert b.peer_count() == 0  # still in the 35 s dial history
        await clock.advance(16)
        await wait_for(lambda: b.peer_count() == 1)
        assert len(net.dials) == 2


@aio
async def test_slow_subscriber_never_stalls_and_counts_drops() -> None:
    net = MemoryNetwork()
    srv = make(net, enable_msg_events=True)
    async with srv:
        slow = srv.subscribe_events(buffer=3)
        t, _ = await handshake_raw(net, srv)
        for i in range(20):
            await t.send(16, bytes([i + 1]))
            assert (await t.recv())[0] == 16
        evs = [await anext(slow) for _ in range(3)]
        assert [e.type for e in evs] == [PeerEventType.ADD, PeerEventType.MSG_RECV, PeerEventType.MSG_SEND]
        assert evs[1].protocol == "echo" and evs[1].msg_code == 0 and evs[1].msg_size == 1
        assert slow.dropped == 40 - 2
        slow.close()
        assert [e async for e in slow] == []


@aio
async def test_pending_flood_does_not_hurt_established_peers() -> None:
    """Issue item 6: a flood beyond max_pending_peers while 20 peers keep exchanging messages."""
    clock = FakeClock()
    net = MemoryNetwork()
    srv = make(net, clock, max_peers=40, max_pending_peers=5)
    counts: list[int] = [0] * 20

    def chatter(i: int) -> Protocol:
        async def run(peer: Peer, rw: MsgReadWriter) -> None:
            while True:
                await rw.write_msg(0, b"\x80")
                await rw.read_msg()
                counts[i] += 1
                await clock.sleep(1)

        return Protocol("echo", 1, 2, run)

    clients = [make(net, clock, protocols=[chatter(i)], listen_addr=None) for i in range(20)]
    async with srv:
        events = srv.subscribe_events(buffer=1000)
        for c in clients:
            await c.start()
            c.add_peer(srv.self_node())
        await wait_for(lambda: srv.peer_count() == 20)
        baseline = net.open_transports()
        flood = [
            await net.connect_raw("127.0.0.1", srv.listen_port, PrivateKey.generate()) for _ in range(100)
        ]
        await settle()
        for _ in range(40):
            await clock.advance(1)
        await settle(200)
        assert srv.peer_count() == 20
        assert all(n >= 30 for n in counts), counts
        assert all(t.is_closed for t in flood)
        assert net.open_transports() == baseline
        # the accept path recovered: a fresh peer still gets in
        await handshake_raw(net, srv)
        await wait_for(lambda: srv.peer_count() == 21)
        drops = []
        while not events._q.empty():
            ev = await anext(events)
            if ev.type is PeerEventType.DROP:
                drops.append(ev)
        assert drops == []
        for c in clients:
            await c.stop()


async def _nodes(*nodes: Node) -> AsyncIterator[Node]:
    for n in nodes:
        yield n
    await asyncio.Event().wait()


@aio
async def test_dynamic_candidates_are_dialed_with_dyn_flag() -> None:
    net = MemoryNetwork()
    targets = [make(net) for _ in range(3)]
    for t in targets:
        await t.start()
    srv = make(
        net,
        dial_candidates=[
            _nodes(targets[0].self_node()),
            _nodes(targets[1].self_node(), targets[2].self_node()),
        ],
    )
    async with srv:
        await wait_for(lambda: srv.peer_count() == 3)
        assert {p.flags for p in srv.peers()} == {ConnFlag.DYN_DIALED}
    for t in targets:
        await t.stop()


def force_simultaneous_open(srv: Server, delay_inbound: bool = True) -> None:
    """Worst case of two nodes dialing each other at once, made deterministic: every inbound
    (else: outbound) connection finishes its Hello only once the other connection to that node
    has been set up as a peer, so each side completes its outbound (inbound) connection first; geth loses
    both connections when the two sides complete different ones first.

    Both connections are forced to overlap, whatever the scheduling: an inbound connection is
    admitted only once our own dial to that node has started (admitted first, it would keep our
    dialer off the node as a pending inbound), and an outbound one exchanges Hello only once the
    inbound one has been admitted (running first, it would get the inbound one refused before
    its Hello). Without this the delayed connection could wait for one that never comes."""
    delayed: set[Any] = set()
    outbound: set[Any] = set()
    # (node ID, inbound) of every connection whose set-up has ended, as a peer (which may have
    # ended at once: a poll of the peer set could miss it) or not
    settled: set[tuple[bytes, bool]] = set()
    set_up, proto = srv._set_up_conn, srv._proto_handshake

    async def set_up_conn(t: Any, flags: ConnFlag, *rest: Any) -> None:
        nid, inbound = t.remote_public_key.node_id, bool(flags & ConnFlag.INBOUND)
        if inbound:
            await wait_for(lambda: nid in srv.dialer.dialing)
        else:
            outbound.add(t)
        if inbound == delay_inbound:
            delayed.add(t)
        try:
            await set_up(t, flags, *rest)
        finally:
            settled.add((nid, inbound))

    async def proto_handshake(t: Any) -> p2p_base.DecodedHello:
        nid = t.remote_public_key.node_id
        if t in outbound:
            await wait_for(lambda: nid in srv.dialer.pending_inbound or (nid, True) in settled)
        h = await proto(t)
        if t in delayed:
            await wait_for(lambda: (nid, t in outbound) in settled)
        return h

    srv._set_up_conn = set_up_conn  # type: ignore[method-assign,assignment]
    srv._proto_handshake = proto_handshake  # type: ignore[method-assign]


async def _events(sub: Any) -> list[Any]:
    out = []
    while True:
        try:
            out.append(await asyncio.wait_for(anext(sub), 0.3))
        except TimeoutError:
            return out


async def check_simultaneous_open(lo: Server, hi: Server, lo_first: bool = True) -> None:
    """``lo`` has the lower node ID; both dial each other at once (forced worst case)."""
    lo_id, hi_id = lo.self_node().id, hi.self_node().id
    assert lo_id < hi_id
    force_simultaneous_open(lo)
    force_simultaneous_open(hi)
    ev_lo, ev_hi = lo.subscribe_events(), hi.subscribe_events()
    for a, b in [(lo, hi), (hi, lo)][:: 1 if lo_first else -1]:
        a.add_peer(b.self_node())
    # Both keep the connection lo dialed: outbound at lo, inbound at hi.
    await wait_for(
        lambda: [p.inbound for p in lo.peers()] == [False] and [p.inbound for p in hi.peers()] == [True]
    )
    [p_lo], [p_hi] = lo.peers(), hi.peers()
    assert p_lo.local_address == p_hi.remote_address and p_lo.remote_address == p_hi.local_address
    got_lo, got_hi = await _events(ev_lo), await _events(ev_hi)
    # The survivor was never torn down: lo saw exactly one ADD; hi lost its own dial (ALREADY_CONNECTED
    # from lo) and then took the connection it had held, one ADD for the survivor.
    assert [(e.type, e.peer) for e in got_lo] == [(PeerEventType.ADD, hi_id)]
    assert [e.type for e in got_hi] == [PeerEventType.ADD, PeerEventType.DROP, PeerEventType.ADD]
    assert got_hi[2].remote_address == p_hi.remote_address and got_hi[0].remote_address != p_hi.remote_address
    assert lo.peers() == [p_lo] and hi.peers() == [p_hi] and p_lo.running_protocols
    refused = [e for _, e in lo.setup_failures if getattr(e, "disconnect_reason", None) == 5]
    assert len(refused) == 1  # lo refused hi's dial once, as ALREADY_CONNECTED
    assert lo_id not in hi.dialer.backoff and hi_id not in lo.dialer.backoff


def _key_pair() -> tuple[PrivateKey, PrivateKey]:
    k1, k2 = PrivateKey.generate(), PrivateKey.generate()
    return (k1, k2) if k1.public_key.node_id < k2.public_key.node_id else (k2, k1)


@pytest.mark.parametrize("lo_first", [True, False])
@aio
async def test_simultaneous_dial_keeps_the_connection_the_lower_id_dialed(lo_first: bool) -> None:
    net = MemoryNetwork()
    k_lo, k_hi = _key_pair()
    lo, hi = make(net, key=k_lo), make(net, key=k_hi)
    async with lo, hi:
        await check_simultaneous_open(lo, hi, lo_first)


@aio
async def test_simultaneous_dial_both_running_the_other_one_keep_it_after_the_grace() -> None:
    """Both sides complete the connection ``hi`` dialed first: both hold ``lo``'s dial, nobody
    drops the running one, so after the grace both refuse the held one and keep ``hi``'s."""
    net = MemoryNetwork()
    k_lo, k_hi = _key_pair()
    lo, hi = make(net, key=k_lo), make(net, key=k_hi)
    force_simultaneous_open(lo, delay_inbound=False)
    force_simultaneous_open(hi, delay_inbound=True)
    async with lo, hi:
        ev_lo, ev_hi = lo.subscribe_events(), hi.subscribe_events()
        lo.add_peer(hi.self_node())
        hi.add_peer(lo.self_node())
        await wait_for(lambda: lo.peer_count() == 1 and hi.peer_count() == 1)
        [p_lo], [p_hi] = lo.peers(), hi.peers()
        assert p_lo.inbound and not p_hi.inbound
        await wait_for(
            lambda: not lo.dialer.dialing and not hi.dialer.dialing, within=SIMULTANEOUS_OPEN_GRACE + 3
        )
        assert lo.peers() == [p_lo] and hi.peers() == [p_hi]
        assert [e.type for e in await _events(ev_lo)] == [PeerEventType.ADD]
        assert [e.type for e in await _events(ev_hi)] == [PeerEventType.ADD]
        # lo's dial ended in ALREADY_CONNECTED while connected the other way: no backoff.
        assert not lo.dialer.backoff and not hi.dialer.backoff
        assert any("already connected" in str(e) for _, e in lo.setup_failures)


@aio
async def test_policy_refusals_are_refused_errors_with_typed_reasons() -> None:
    """Too many peers / already connected: a RefusedError (no protocol breach), told apart by enum."""
    from peerwire.events import HandshakeFailed, HandshakeFailureReason

    net = MemoryNetwork()
    srv = make(net, max_peers=2, dial_ratio=2)  # one inbound slot
    async with srv:
        feed = srv.subscribe_lifecycle()
        t, key = await handshake_raw(net, srv)
        await wait_for(lambda: srv.peer_count() == 1)
        await raw(net, srv, key)  # the same node again: refused before its Hello
        await raw(net, srv)  # another node: the table is full
        await wait_for(lambda: len(srv.setup_failures) >= 2)
        errs = [e for _, e in srv.setup_failures]
        assert all(e.is_a(RefusedError) and not e.is_a(RemoteProtocolError) for e in errs)
        assert {e.disconnect_reason for e in errs if e.is_a(RefusedError)} == {
            DiscReason.TOO_MANY_PEERS  # the inbound limit is checked first (geth's order)
        }
        reasons = []
        while (ev := feed.get_nowait()) is not None:
            if isinstance(ev, HandshakeFailed):
                reasons.append(ev.reason)
        assert reasons == [HandshakeFailureReason.TOO_MANY_PEERS] * 2
        assert all(r.is_policy_refusal for r in reasons)

    srv = make(net, max_peers=5)
    async with srv:
        feed = srv.subscribe_lifecycle()
        t, key = await handshake_raw(net, srv)
        await wait_for(lambda: srv.peer_count() == 1)
        await raw(net, srv, key)  # the same node again
        await wait_for(lambda: len(srv.setup_failures) >= 1)
        err = srv.setup_failures[-1][1]
        assert err.is_a(RefusedError) and err.disconnect_reason == DiscReason.ALREADY_CONNECTED
        failed = [ev for ev in iter(feed.get_nowait, None) if isinstance(ev, HandshakeFailed)]
        assert [ev.reason for ev in failed] == [HandshakeFailureReason.ALREADY_CONNECTED]
        assert t is not None
