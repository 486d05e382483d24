"""discv4 service on loopback: ping/pong, bonding, ENR, lookups, and bad input."""

from __future__ import annotations

import asyncio
import builtins
import functools
import os
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from peerwire import devp2p
from peerwire._core import discv4 as wire
from peerwire._core import keccak, rlp
from peerwire.devp2p.discover import (
    NEIGHBORS_SETTLE,
    RESP_TIMEOUT,
    NodeDB,
    UDPv4,
    check_relay_addr,
    listen_v4,
)
from peerwire.errors import DecodeError, InvalidKeyError, TimeoutError
from peerwire.testing import FakeClock, autojump

pytestmark = pytest.mark.timeout(60)


def run_async(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body in a fresh event loop (no pytest async plugin is used)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


LO = (b"\x7f\x00\x00\x01", 0, 0)


class _Sink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=10_000)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self.queue.full():
            self.queue.put_nowait(data)


@asynccontextmanager
async def raw_socket() -> AsyncIterator[tuple[asyncio.DatagramTransport, _Sink]]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Sink, local_addr=("127.0.0.1", 0))
    try:
        yield transport, proto
    finally:
        transport.close()


async def _nothing_within(sink: _Sink, seconds: float = 0.3) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await sink.queue.get()
    except builtins.TimeoutError:
        return True
    return False


builtins_timeout = (
    __builtins__["TimeoutError"] if isinstance(__builtins__, dict) else __builtins__.TimeoutError
)


def _exp(delta: float = 20) -> int:
    return int(time.time() + delta)


@run_async
async def test_ping_enr_and_bonding_both_ways() -> None:
    ka, kb = devp2p.PrivateKey.generate(), devp2p.PrivateKey.generate()
    async with listen_v4(ka, "127.0.0.1:0") as a, listen_v4(kb, "127.0.0.1:0") as b:
        na, nb = a.self_node(), b.self_node()
        assert na.udp_port == a.local_addr[1] and na.record is not None
        assert na.record.seq > 1_600_000_000_000  # UNIX ms
        seq = await a.ping(nb)
        assert seq == b.local.seq  # type: ignore[union-attr]
        rec = await a.request_enr(nb)
        assert rec == nb.record and rec.node_id == kb.public_key.node_id
        rec2 = await b.request_enr(na)
        assert rec2 == na.record


@run_async
async def test_lookup_converges_in_small_network() -> None:
    keys = [devp2p.PrivateKey.generate() for _ in range(8)]
    async with AsyncExitStack() as stack:
        boot = await stack.enter_async_context(listen_v4(keys[0], "127.0.0.1:0"))
        others: list[UDPv4] = []
        for k in keys[1:]:
            others.append(
                await stack.enter_async_context(listen_v4(k, "127.0.0.1:0", bootnodes=[boot.self_node()]))
            )
        ids = {k.public_key.node_id for k in keys}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for d in others:
                await d.lookup(None)
            if all(len({n.id for n in d.table_nodes()} & ids) >= 6 for d in [boot, *others]):
                break
        for d in [boot, *others]:
            assert len({n.id for n in d.table_nodes()} & ids) >= 6
        found = await others[0].lookup(keys[5].public_key)
        assert found[0].id == keys[5].public_key.node_id
        it = others[1].random_nodes()
        first = await anext(it)
        assert first.id in ids
        await it.aclose()  # type: ignore[attr-defined]


@run_async
async def test_bad_input_is_dropped_without_reply() -> None:
    key = devp2p.PrivateKey.generate()
    attacker = devp2p.PrivateKey.generate()
    sk = attacker.to_bytes()
    async with listen_v4(key, "127.0.0.1:0") as d, raw_socket() as (tr, sink):
        addr = d.local_addr
        base = d.stats.dropped_invalid
        tr.sendto(os.urandom(200), addr)  # malformed
        tr.sendto(b"\x00" * 1300, addr)  # oversize
        ping, _ = wire.encode_ping(sk, LO, LO, _exp())
        bad_sig = bytearray(ping)
        bad_sig[32:97] = b"\x00" * 64 + b"\x05"  # unrecoverable signature, hash fixed up
        bad_sig[:32] = keccak.keccak256(bytes(bad_sig[32:]))
        tr.sendto(bytes(bad_sig), addr)
        tr.sendto(ping[:-1] + bytes([ping[-1] ^ 1]), addr)  # bad hash
        assert await _nothing_within(sink)
        assert d.stats.dropped_invalid == base + 4
        # expired ping
        old, _ = wire.encode_ping(sk, LO, LO, _exp(-5))
        tr.sendto(old, addr)
        assert await _nothing_within(sink)
        assert d.stats.dropped_expired == 1
        # unbonded findnode / ENR request: no reply (no amplification)
        fn, _ = wire.encode_findnode(sk, attacker.public_key.to_bytes(), _exp())
        er, _ = wire.encode_enr_request(sk, _exp())
        tr.sendto(fn, addr)
        tr.sendto(er, addr)
        assert await _nothing_within(sink)
        assert d.stats.dropped_unbonded == 2
        # unsolicited replies: dropped, no endpoint proof recorded
        pong, _ = wire.encode_pong(sk, LO, b"\x01" * 32, _exp())
        nb = wire.encode_neighbors(sk, [], _exp())[0]
        rec = devp2p.ENR.build(attacker, ip="127.0.0.1", udp=1)
        resp, _ = wire.encode_enr_response(sk, b"\x02" * 32, rec.to_bytes())
        for p in (pong, nb, resp):
            tr.sendto(p, addr)
        assert await _nothing_within(sink)
        assert d.stats.dropped_unsolicited == 3
        assert d._db.last_pong_received(attacker.public_key.node_id, "127.0.0.1") == 0.0
        # a valid ping is answered with a pong echoing its hash
        good, h = wire.encode_ping(sk, LO, LO, _exp())
        tr.sendto(good, addr)
        async with asyncio.timeout(2):
            reply = await sink.queue.get()
        t, _, sender, _, f = wire.decode(reply)
        assert isinstance(f, wire.Pong)  # a frozen class, not a dict
        assert t == 2 and f.reply_tok == h and sender == key.public_key.to_bytes()
        assert f.expiration >= _exp(15)


@run_async
async def test_findnode_answered_after_bond_and_split() -> None:
    key = devp2p.PrivateKey.generate()
    client = devp2p.PrivateKey.generate()
    async with listen_v4(key, "127.0.0.1:0") as d, raw_socket() as (tr, sink):
        for i in range(20):
            k = devp2p.PrivateKey((i + 1000).to_bytes(32, "big"))
            d._add(devp2p.Node(public_key=k.public_key, host="127.0.0.1", udp_port=40000 + i), inbound=False)
        port = tr.get_extra_info("sockname")[1]
        d._db.update_last_pong_received(client.public_key.node_id, "127.0.0.1", time.time())
        fn, _ = wire.encode_findnode(client.to_bytes(), client.public_key.to_bytes(), _exp())
        tr.sendto(fn, d.local_addr)
        got = []
        async with asyncio.timeout(2):
            while len(got) < 16:
                t, *_, f = wire.decode(await sink.queue.get())
                assert t == 4 and isinstance(f, wire.Neighbors)
                got.extend(f.nodes)
        assert len(got) == 16 and port


def test_relay_rules() -> None:
    assert check_relay_addr("127.0.0.1", "127.0.0.2") is None
    assert check_relay_addr("8.8.8.8", "127.0.0.1") is not None
    assert check_relay_addr("8.8.8.8", "10.0.0.1") is not None
    assert check_relay_addr("10.0.0.5", "10.0.0.1") is None
    assert check_relay_addr("8.8.8.8", "0.0.0.0") is not None
    assert check_relay_addr("8.8.8.8", "192.0.2.1") is not None
    assert check_relay_addr("8.8.8.8", "1.1.1.1") is None


@run_async
async def test_neighbor_validation_rules() -> None:
    key = devp2p.PrivateKey.generate()
    other = devp2p.PrivateKey.generate().public_key.to_bytes()
    async with listen_v4(key, "127.0.0.1:0", net_restrict=["127.0.0.0/8"]) as d:
        ok = d._validate_neighbor("127.0.0.1", b"\x7f\x00\x00\x02", 30303, 30303, other)
        assert ok is not None and ok.udp_port == 30303
        assert d._validate_neighbor("127.0.0.1", b"\x7f\x00\x00\x02", 1024, 1, other) is None  # low port
        assert d._validate_neighbor("127.0.0.1", b"\x0a\x00\x00\x02", 30303, 1, other) is None  # restrict
        assert d._validate_neighbor("127.0.0.1", b"\x7f\x00\x00\x02", 30303, 1, b"\x00" * 64) is None
        assert d._validate_neighbor("8.8.8.8", b"\x7f\x00\x00\x02", 30303, 1, other) is None  # relay


@run_async
async def test_timeout_and_flood_keeps_others_answered() -> None:
    key = devp2p.PrivateKey.generate()
    # flooder, victim and honest peer share this machine: limit loopback sources too
    async with listen_v4(key, "127.0.0.1:0", limit_loopback=True) as d, raw_socket() as (tr, sink):
        dead = devp2p.Node(public_key=devp2p.PrivateKey.generate().public_key, host="127.0.0.1", udp_port=9)
        with pytest.raises(TimeoutError):
            await d.ping(dead)
        flooder = devp2p.PrivateKey.generate()
        ping, _ = wire.encode_ping(flooder.to_bytes(), LO, LO, _exp(60))

        async def flood() -> None:
            # 10,000 packets/s from one address for one second, in 10 ms slices
            for _ in range(100):
                for _ in range(100):
                    tr.sendto(ping, d.local_addr)
                await asyncio.sleep(0.01)

        # the limiter keys by IP and /24: the honest peer is another host (127.0.1.1), as it would be
        async with listen_v4(devp2p.PrivateKey.generate(), "127.0.1.1:0") as h:
            task = asyncio.create_task(flood())
            answered_honest = 0
            while not task.done():
                await h.ping(d.self_node())
                answered_honest += 1
                await asyncio.sleep(0.05)
            await task
        assert answered_honest >= 3
        await asyncio.sleep(0.2)
        assert d.stats.received >= 9_000 and d.stats.dropped_flood > 5_000
        assert len(d._limiter) <= 4096 and d.tasks.tasks <= 258 and len(d._pending) <= 8
        # the flooder got at most its burst (plus refill) of pongs, not 10,000
        answered = sink.queue.qsize()
        assert answered < 10_000 * 0.5


@run_async
async def test_local_seq_persists_across_restarts(tmp_path: Path) -> None:
    key = devp2p.PrivateKey.generate()
    db = tmp_path / "nodes.sqlite"
    async with listen_v4(key, "127.0.0.1:0", node_database=db) as d:
        first = d.self_node().record
    async with listen_v4(key, "127.0.0.1:0", node_database=db) as d:
        second = d.self_node().record
    assert first is not None and second is not None
    assert second.seq > first.seq


@run_async
async def test_enr_response_for_another_node_or_oversize_is_rejected() -> None:
    ka, kb, kc = (devp2p.PrivateKey.generate() for _ in range(3))
    async with listen_v4(ka, "127.0.0.1:0") as a, listen_v4(kb, "127.0.0.1:0") as b:
        nb = b.self_node()
        # kc answers our ENR request with b's (valid) record: rejected
        async with raw_socket() as (tr, sink):
            port = tr.get_extra_info("sockname")[1]
            kc_node = devp2p.Node(public_key=kc.public_key, host="127.0.0.1", udp_port=port)
            a._db.update_last_ping_received(kc.public_key.node_id, "127.0.0.1", time.time())

            async def answer() -> None:
                req = await sink.queue.get()
                t, h, *_ = wire.decode(req)
                assert t == 5
                assert nb.record is not None
                resp, _ = wire.encode_enr_response(kc.to_bytes(), h, nb.record.to_bytes())
                tr.sendto(resp, a.local_addr)

            task = asyncio.create_task(answer())
            with pytest.raises(InvalidKeyError, match="different node"):
                await a.request_enr(kc_node)
            await task
        # an ENR response whose record exceeds 300 bytes does not even decode
        big = rlp.encode([b"\x00" * 64, 1, b"k", b"x" * 300])
        body = bytes([6]) + rlp.encode([b"\x01" * 32, rlp.decode(big)])
        sig = kb.sign_recoverable(keccak.keccak256(body))
        pkt = keccak.keccak256(sig + body) + sig + body
        with pytest.raises(DecodeError):
            wire.decode(pkt)
        before = a.stats.dropped_invalid
        a.datagram_received(pkt, ("127.0.0.1", nb.udp_port))
        assert a.stats.dropped_invalid == before + 1


@run_async
async def test_bootnode_hostname_resolved_and_dead_node_revalidated_away() -> None:
    kb = devp2p.PrivateKey.generate()
    async with listen_v4(kb, "127.0.0.1:0") as b:
        port = b.local_addr[1]
        url = f"enode://{kb.public_key.to_hex()}@localhost:{port}"
        async with listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0", bootnodes=[url]) as a:
            assert a._bootnodes[0].ip in ("127.0.0.1", "::1")
            assert await a.ping(a._bootnodes[0]) is not None
            # a table node that stops answering is removed by revalidation
            dead = devp2p.Node(
                public_key=devp2p.PrivateKey.generate().public_key, host="127.0.0.1", udp_port=9
            )
            a.table.refresh_done(0.0)
            a._add(dead, inbound=False)
            assert dead.id in a.table
            await a._revalidate(dead)
            assert dead.id not in a.table
            # a live one passes and is counted
            a._add(b.self_node(), inbound=False)
            await a._revalidate(b.self_node())
            assert (a.table.liveness(b.self_node().id) or 0) >= 1


@run_async
async def test_injected_clock_governs_expiry_and_bond_age() -> None:
    clock = FakeClock(wall_offset=time.time() + 3600)  # the service lives one hour ahead
    client = devp2p.PrivateKey.generate()
    sk = client.to_bytes()
    cid = client.public_key.node_id
    async with listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0", clock=clock) as d:
        assert d.self_node().record.seq == int(clock.time() * 1000) + 1  # type: ignore[union-attr]
        async with raw_socket() as (tr, sink):
            # expiration in 20 s of real time is an hour in the past for the service
            ping, _ = wire.encode_ping(sk, LO, LO, _exp(20))
            tr.sendto(ping, d.local_addr)
            assert await _nothing_within(sink)
            assert d.stats.dropped_expired == 1
            # bonded 23 h 59 min ago (service time): FindNode answered
            fn, _ = wire.encode_findnode(sk, client.public_key.to_bytes(), int(clock.time()) + 20)
            d._db.update_last_pong_received(cid, "127.0.0.1", clock.time() - 24 * 3600 + 60)
            tr.sendto(fn, d.local_addr)
            async with asyncio.timeout(2):
                assert wire.decode(await sink.queue.get())[0] == 4
            # bonded 24 h + 1 s ago: the proof expired, no answer
            d._db.update_last_pong_received(cid, "127.0.0.1", clock.time() - 24 * 3600 - 1)
            tr.sendto(fn, d.local_addr)
            assert await _nothing_within(sink)
            assert d.stats.dropped_unbonded == 1


@run_async
async def test_hearsay_does_not_overwrite_a_known_endpoint() -> None:
    async with listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0") as d:
        k = devp2p.PrivateKey.generate()
        rec = devp2p.ENR.build(k, seq=5, ip="127.0.0.1", udp=30303)
        d._add(devp2p.Node.from_record(rec), inbound=False)
        # a Neighbors entry (no record) claiming another endpoint is ignored
        d._add(devp2p.Node(public_key=k.public_key, host="127.0.0.9", udp_port=4000), inbound=False)
        (n,) = [x for x in d.table_nodes() if x.id == k.public_key.node_id]
        assert (n.ip, n.udp_port) == ("127.0.0.1", 30303)
        # a newer record moves it
        newer = devp2p.ENR.build(k, seq=6, ip="127.0.0.2", udp=30304)
        d._add(devp2p.Node.from_record(newer), inbound=False)
        (n,) = [x for x in d.table_nodes() if x.id == k.public_key.node_id]
        assert (n.ip, n.udp_port) == ("127.0.0.2", 30304)


@run_async
async def test_resolve_finds_a_moved_node_through_a_lookup() -> None:
    """geth UDPv4.Resolve: the old endpoint is dead, a lookup of the key finds the new one."""
    kboot, ka, kb = (devp2p.PrivateKey.generate() for _ in range(3))
    async with (
        listen_v4(kboot, "127.0.0.1:0") as boot,
        listen_v4(kb, "127.0.0.1:0", bootnodes=[boot.self_node()], tcp_port=4242) as b,
        listen_v4(ka, "127.0.0.1:0", bootnodes=[boot.self_node()]) as a,
    ):
        for _ in range(100):
            if kb.public_key.node_id in {n.id for n in boot.table_nodes()}:
                break
            await asyncio.sleep(0.05)
        async with raw_socket() as (dead, _):
            stale = devp2p.Node(kb.public_key, "127.0.0.1", 4241, dead.get_extra_info("sockname")[1])
            found = await a.resolve(stale)
        assert found.record is not None and found.record == b.self_node().record
        assert (found.udp_port, found.tcp_port) == (b.local_addr[1], 4242)
        # a node nobody knows resolves to itself
        ghost = devp2p.Node(devp2p.PrivateKey.generate().public_key, "127.0.0.1", 1, 9)
        assert await a.resolve(ghost) is ghost


@run_async
async def test_concurrent_findnodes_to_one_node_both_get_the_neighbors() -> None:
    """geth hands a reply to every pending request it matches, not only to the first."""
    ka, kb = devp2p.PrivateKey.generate(), devp2p.PrivateKey.generate()
    async with listen_v4(ka, "127.0.0.1:0") as a, listen_v4(kb, "127.0.0.1:0") as b:
        for i in range(5):
            k = devp2p.PrivateKey((i + 2000).to_bytes(32, "big"))
            b._add(devp2p.Node(public_key=k.public_key, host="127.0.0.1", udp_port=41000 + i), inbound=False)
        nb = b.self_node()
        await a.find_node(nb, ka.public_key.to_bytes())  # bond first, so both queries go out at once
        x, y = await asyncio.gather(
            a.find_node(nb, os.urandom(64)), a.find_node(nb, os.urandom(64)), return_exceptions=True
        )
        assert isinstance(x, list) and isinstance(y, list), (x, y)
        assert x and {n.id for n in x} == {n.id for n in y}


class _MemoryDatagrams(asyncio.DatagramTransport):
    """One UDP endpoint of an in-memory network: datagrams go through the loop, never a socket."""

    def __init__(self, net: dict[tuple[str, int], UDPv4], addr: tuple[str, int]) -> None:
        super().__init__()
        self._net = net
        self._addr = addr
        self._closing = False

    def sendto(self, data: Any, addr: Any = None) -> None:
        dest = self._net.get((str(addr[0]), int(addr[1])))
        if dest is not None and not self._closing:  # no endpoint: lost, as UDP to a silent node
            asyncio.get_running_loop().call_soon(dest.datagram_received, bytes(data), self._addr)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._addr if name == "sockname" else default

    def close(self) -> None:
        self._closing = True

    def is_closing(self) -> bool:
        return self._closing


@run_async
async def test_whole_exchange_with_reply_timeouts_runs_on_the_fake_clock() -> None:
    """Bonding, ENR, FindNode, a lookup and reply timeouts, all timed by one FakeClock.

    The nodes exchange real discv4 packets over an in-memory datagram network,
    so the loop idles only when every node waits on the clock; ``autojump`` then
    moves fake time to the next deadline: the 500 ms reply timeouts pass as fake
    time only.
    """
    clock = FakeClock(wall_offset=time.time())
    net: dict[tuple[str, int], UDPv4] = {}
    nodes = []
    for i in range(3):
        addr = (f"127.0.0.{i + 1}", 30303)
        udp = UDPv4(devp2p.PrivateKey.generate(), db=NodeDB(None), clock=clock)
        net[addr] = udp
        udp.connection_made(_MemoryDatagrams(net, addr))
        udp._setup_local(*addr)
        await udp.start(background=False)  # no refresh/revalidation loops: the exchange alone
        udp.table.refresh_done(clock.monotonic())  # (so the table takes nodes at once)
        nodes.append(udp)
    a, b, c = nodes
    dead = devp2p.Node(public_key=devp2p.PrivateKey.generate().public_key, host="127.0.0.9", udp_port=30303)

    async def exchange() -> None:
        started = clock.monotonic()
        with pytest.raises(TimeoutError):
            await a.ping(dead)
        assert clock.monotonic() - started == pytest.approx(RESP_TIMEOUT)  # exactly one reply timeout
        b._add(c.self_node(), inbound=False)  # b knows c; a learns about c from b
        assert await a.ping(b.self_node()) is not None
        assert (await a.request_enr(b.self_node())).node_id == b.self_node().id  # bonds both ways first
        found = await a.find_node(b.self_node(), c.self_node().public_key.to_bytes())
        assert c.self_node().id in {n.id for n in found}
        with pytest.raises(TimeoutError):
            await a.find_node(dead, c.self_node().public_key.to_bytes())  # its bonding ping times out
        result = await a.lookup(c.self_node().public_key)
        assert result[0].id == c.self_node().id

    real, fake = time.monotonic(), clock.monotonic()
    try:
        await autojump(clock, exchange(), idle=0.05)
    finally:
        for n in nodes:
            await n.close()
    fake_elapsed, real_elapsed = clock.monotonic() - fake, time.monotonic() - real
    # the reply timeouts (and the ping-back waits of bonding) passed in fake time...
    assert fake_elapsed >= 2 * RESP_TIMEOUT
    assert real_elapsed < fake_elapsed / 2  # ...not in real time (2.5 s fake, about 0.3 s real here)


class _Rechunking(_MemoryDatagrams):
    """An endpoint that sends its Neighbors answers in chunks of ``size`` entries, as an
    implementation that chunks smaller than geth's 12 would (all chunks in one burst)."""

    def __init__(
        self, net: dict[tuple[str, int], UDPv4], addr: tuple[str, int], secret: bytes, size: int
    ) -> None:
        super().__init__(net, addr)
        self._secret, self._size = secret, size
        self._held: list[tuple[bytes, int, int, bytes]] = []
        self._to: Any = None

    def sendto(self, data: Any, addr: Any = None) -> None:
        t, *_, f = wire.decode(bytes(data))
        if t != 4 or not isinstance(f, wire.Neighbors):
            return super().sendto(data, addr)
        if not self._held:
            asyncio.get_running_loop().call_soon(self._flush)
        self._held.extend((e.ip, e.udp, e.tcp, e.id) for e in f.nodes)
        self._to = addr

    def _flush(self) -> None:
        held, self._held = self._held, []
        for i in range(0, len(held), self._size):
            for pkt in wire.encode_neighbors(self._secret, held[i : i + self._size], _exp()):
                super().sendto(pkt, self._to)


@pytest.mark.parametrize(
    ("known", "chunk", "want", "waits"),
    [
        (5, 12, 5, NEIGHBORS_SETTLE),  # fewer than 16: one short packet, then the settle window
        (20, 12, 16, 0.0),  # geth's 12 + 4: complete at 16
        (20, 4, 16, 0.0),  # four chunks of 4, the first already short: all taken in the window
        (12, 12, 12, RESP_TIMEOUT),  # one full packet could have a sequel: the whole timeout
    ],
)
@run_async
async def test_findnode_stops_waiting_soon_after_a_short_neighbors_packet(
    known: int, chunk: int, want: int, waits: float
) -> None:
    """geth waits out the reply timeout for any answer under 16 nodes; a Neighbors packet
    shorter than geth's 12 says the sender has run out, so FINDNODE stops soon after it."""
    clock = FakeClock(wall_offset=time.time())
    net: dict[tuple[str, int], UDPv4] = {}
    keys = [devp2p.PrivateKey.generate() for _ in range(2)]
    nodes = []
    for i, key in enumerate(keys):
        addr = (f"127.0.0.{i + 1}", 30303)
        udp = UDPv4(key, db=NodeDB(None), clock=clock)
        net[addr] = udp
        udp.connection_made(
            _MemoryDatagrams(net, addr) if i == 0 else _Rechunking(net, addr, key.to_bytes(), chunk)
        )
        udp._setup_local(*addr)
        await udp.start(background=False)
        udp.table.refresh_done(clock.monotonic())
        nodes.append(udp)
    a, b = nodes
    for i in range(known):
        k = devp2p.PrivateKey((i + 3000).to_bytes(32, "big"))
        b._add(devp2p.Node(public_key=k.public_key, host=f"127.0.1.{i + 1}", udp_port=30303), inbound=False)

    async def ask() -> None:
        await a.ping(b.self_node())
        await a.find_node(b.self_node(), os.urandom(64))  # bonds both ways first
        if a.self_node().id in b.nodes:
            b.nodes.remove(a.self_node().id)  # b answers with its ``known`` nodes only
        started = clock.monotonic()
        found = await a.find_node(b.self_node(), os.urandom(64))
        assert clock.monotonic() - started == pytest.approx(waits)
        assert len({n.id for n in found}) == want

    try:
        await autojump(clock, ask(), idle=0.05)
    finally:
        for n in nodes:
            await n.close()


def test_source_limits_skip_loopback_unless_asked() -> None:
    from peerwire.devp2p.discover._limiter import SOURCE_BURST, SourceLimiter
    from peerwire.devp2p.discover._v4limits import MAX_BONDING_PER_IP, BondBudget

    clock = FakeClock()
    lan, lo = ("10.1.2.3", 30303), ("127.0.0.1", 30303)
    default, strict = SourceLimiter(clock), SourceLimiter(clock, limit_loopback=True)
    n = int(SOURCE_BURST) * 4
    assert sum(default.allow(lo) for _ in range(n)) == n  # this machine's own nodes
    assert sum(default.allow(("::ffff:127.0.0.1", 1)) for _ in range(n)) == n
    assert sum(default.allow(lan) for _ in range(n)) == int(SOURCE_BURST)
    assert sum(strict.allow(lo) for _ in range(n)) == int(SOURCE_BURST)
    ids = [bytes([i]) * 64 for i in range(MAX_BONDING_PER_IP * 2)]
    assert all(BondBudget().admit(i, "127.0.0.1", 0.0) for i in ids)
    budget = BondBudget(limit_loopback=True)
    assert sum(budget.admit(i, "127.0.0.1", 0.0) for i in ids) == MAX_BONDING_PER_IP


def test_limiters_forget_idle_sources() -> None:
    """A source whose bucket has refilled, or with no bond in flight, holds no memory: a node
    that hears from thousands of sources over hours keeps only the recent ones (this is what
    bounds a simulated node's limiter state, and a real node's under source churn)."""
    from peerwire.devp2p.discover._limiter import SOURCE_BURST, SOURCE_RATE, SUBNET_BURST, SourceLimiter
    from peerwire.devp2p.discover._v4limits import BOND_WINDOW, BondBudget

    clock = FakeClock()
    limiter = SourceLimiter(clock)
    for i in range(200):
        assert limiter.allow((f"10.{i}.0.1", 30303))
    assert len(limiter) == 200
    asyncio.run(clock.advance(SUBNET_BURST / SOURCE_RATE))  # every bucket is full again
    hot = ("10.250.0.1", 30303)
    assert sum(limiter.allow(hot) for _ in range(int(SOURCE_BURST) * 2)) == int(SOURCE_BURST)
    assert len(limiter) == 1  # the 200 idle ones are gone, the hot one is still limited
    assert not limiter.allow(hot)

    budget = BondBudget()
    for i in range(200):
        assert budget.admit(bytes([i]) * 64, f"10.{i}.0.1", 0.0)
    budget.verified(bytes([0]) * 64, "10.0.0.1")
    assert budget.in_flight("10.0.0.1") == 0
    assert budget.admit(b"\x01" * 64, "10.250.0.1", BOND_WINDOW + 1)
    assert budget.tracked() == (1, 1)  # one IP, one subnet: the expired ones were forgotten


class _CuttableDatagrams(_MemoryDatagrams):
    """A memory endpoint whose datagrams to or from an address in ``cut`` are lost."""

    def __init__(
        self, net: dict[tuple[str, int], UDPv4], addr: tuple[str, int], cut: set[tuple[str, int]]
    ) -> None:
        super().__init__(net, addr)
        self._cut = cut

    def sendto(self, data: Any, addr: Any = None) -> None:
        if self._addr not in self._cut and (str(addr[0]), int(addr[1])) not in self._cut:
            super().sendto(data, addr)


@run_async
async def test_an_emptied_table_refills_from_the_node_database_at_once() -> None:
    """A bootnode (no bootnodes of its own) cut off until revalidation emptied its table finds
    its way back as soon as it is asked for nodes, not at the next scheduled refresh (15-30
    min later): an empty table triggers a refresh, which seeds it from the node database
    (geth: ``LookupPubkey`` and the lookup iterator call ``tab.refresh()``)."""
    clock = FakeClock(wall_offset=time.time())
    net: dict[tuple[str, int], UDPv4] = {}
    cut: set[tuple[str, int]] = set()
    nodes: list[UDPv4] = []
    for i in range(4):
        addr = (f"127.0.0.{i + 1}", 30303)
        boot = [nodes[0].self_node()] if nodes else []
        udp = UDPv4(devp2p.PrivateKey.generate(), db=NodeDB(None), clock=clock, bootnodes=boot, seed=i)
        net[addr] = udp
        udp.connection_made(_CuttableDatagrams(net, addr, cut))
        udp._setup_local(*addr)
        await udp.start()
        nodes.append(udp)
    boot_node, others = nodes[0], {n.self_node().id for n in nodes[1:]}

    async def scenario() -> None:
        await clock.sleep(300)  # bonded, and revalidated often enough to be database seeds
        assert {n.id for n in boot_node.table_nodes()} == others
        assert {n.id for n in boot_node._db.query_seeds(clock.time())} == others
        refreshes, empties = boot_node.refresher.count, boot_node.refresher.found_empty
        cut.add(("127.0.0.1", 30303))
        await clock.sleep(300)
        assert boot_node.table_nodes() == []  # every entry failed revalidation
        cut.clear()
        healed = clock.monotonic()
        found = await boot_node.lookup(None)
        assert clock.monotonic() - healed < 10.0  # a refresh's lookups, not the 15-30 min timer
        assert boot_node.refresher.count == refreshes + 1
        assert boot_node.refresher.found_empty == empties + 1  # the lookup found it empty
        assert {n.id for n in found} == others
        assert {n.id for n in boot_node.table_nodes()} == others

    try:
        await autojump(clock, scenario())
    finally:
        for n in nodes:
            await n.close()
