"""discv5 service on loopback: ping, ENR, FINDNODE, TALKREQ, lookups, NODES splitting, sessions."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest

from peerwire import devp2p, kad
from peerwire._clock import FakeClock
from peerwire.devp2p import Node
from peerwire.devp2p._enr import LocalNode
from peerwire.devp2p._nodedb import NodeDB
from peerwire.devp2p.discover import UDPv5, listen, listen_v4, listen_v5, lookup_distances
from peerwire.devp2p.discover._v5 import _pack_nodes
from peerwire.errors import PeerwireError, TimeoutError
from peerwire.testing import autojump

pytestmark = pytest.mark.timeout(60)


def run_async(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


@asynccontextmanager
async def nodes(n: int, **kw: Any) -> AsyncIterator[list[UDPv5]]:
    async with AsyncExitStack() as stack:
        out = []
        for _ in range(n):
            out.append(
                await stack.enter_async_context(listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0", **kw))
            )
        yield out


def test_lookup_distances_as_geth() -> None:
    # geth: for logdist(target, dest) = 255 the result is [255, 256, 254].
    t = bytes(32)
    dest = bytes([0x40]) + bytes(31)  # logdist 255
    assert kad.log_distance(t, dest) == 255
    assert lookup_distances(t, dest) == [255, 256, 254]
    dest256 = bytes([0x80]) + bytes(31)
    assert lookup_distances(t, dest256) == [256, 255, 254]
    dest1 = bytes(31) + b"\x01"
    assert lookup_distances(t, dest1) == [1, 2, 3]


def test_pack_nodes_splits_at_1000_bytes() -> None:
    assert _pack_nodes([]) == [[]]
    recs = [bytes(290)] * 7
    batches = _pack_nodes(recs)
    assert [len(b) for b in batches] == [3, 3, 1]
    assert all(sum(map(len, b)) <= 1000 for b in batches)


@run_async
async def test_ping_enr_findnode_talk() -> None:
    async with nodes(2, findnode_liveness_check=False) as (a, b):
        nb = b.self_node()
        assert await a.ping(nb) == b.local.seq
        assert a.codec.has_session(nb.id, f"127.0.0.1:{nb.udp_port}")
        rec = await a.request_enr(nb)
        assert rec == b.local.record
        # a is in b's table since the handshake; b answers FINDNODE with it.
        d = kad.log_distance(b.id, a.id)
        found = await a.find_node(nb, [d])
        assert [n.id for n in found] == [a.id]
        assert await a.find_node(nb, [d + 1 if d < 256 else d - 1]) == []

        async def echo(node: Node, req: bytes) -> bytes:
            assert node.id == a.id
            return b"echo:" + req

        b.register_talk_handler(b"test", echo)
        assert await a.talk_request(nb, b"test", b"hi") == b"echo:hi"
        assert await a.talk_request(nb, b"other", b"hi") == b""  # unknown protocol: empty TALKRESP


@run_async
async def test_enr_change_reaches_peer() -> None:
    async with nodes(2) as (a, b):
        nb = b.self_node()
        old = b.local.seq
        await a.ping(nb)
        b.local.set_extra("test", b"x")
        assert await a.ping(nb) == old + 1
        assert (await a.request_enr(nb)).seq == old + 1


@run_async
async def test_findnode_liveness_check_as_geth() -> None:
    async with nodes(2) as (a, b):
        nb = b.self_node()
        await a.ping(nb)
        d = kad.log_distance(b.id, a.id)
        assert await a.find_node(nb, [d]) == []  # not revalidated yet
        b.table.mark_live(a.id)
        assert [n.id for n in await a.find_node(nb, [d])] == [a.id]


@run_async
async def test_timeout_and_custom_resp_timeout() -> None:
    async with nodes(2, resp_timeout=0.2) as (a, b):
        nb = b.self_node()
        await b.close()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(TimeoutError):
            await a.ping(nb)
        assert 0.15 < loop.time() - t0 < 0.6


@run_async
async def test_lookup_converges_on_small_network() -> None:
    async with AsyncExitStack() as stack:
        boot = await stack.enter_async_context(
            listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0", findnode_liveness_check=False)
        )
        rest = [
            await stack.enter_async_context(
                listen_v5(
                    devp2p.PrivateKey.generate(),
                    "127.0.0.1:0",
                    bootnodes=[str(boot.local.record)],
                    findnode_liveness_check=False,
                )
            )
            for _ in range(8)
        ]
        every = [boot, *rest]
        ids = {n.id for n in every}

        def coverage() -> list[int]:
            return [len(({x.id for x in n.table_nodes()} | {n.id}) & ids) for n in every]

        # Three rounds of lookups fill every table on a quiet machine. Under load a reply
        # can miss its 700 ms deadline and a table lose a node for a while (CI saw one node
        # absent from several tables even after six rounds), so the measure is the issue's:
        # every node is within every other's reach (a lookup for its ID finds it), and each
        # table holds at least 90 % of the network, rounded down (8 of 9).
        for _ in range(6):
            for n in rest:
                await n.lookup(None)
            if min(coverage()) == len(ids):
                break
        index = {n.id: i for i, n in enumerate(every)}
        missing = {
            i: sorted(index[x] for x in ids - {y.id for y in n.table_nodes()} - {n.id})
            for i, n in enumerate(every)
        }
        assert min(coverage()) >= int(0.9 * len(ids)), {i: m for i, m in missing.items() if m}
        for n in rest:
            for target in every:
                if target is not n:
                    got = await n.lookup(target.id)
                    assert got and got[0].id == target.id, (index[n.id], index[target.id], missing)


@run_async
async def test_v4_and_v5_on_one_socket() -> None:
    key = devp2p.PrivateKey.generate()
    async with (
        listen(key, "127.0.0.1:0", v4=True, v5=True) as both,
        listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0") as p4,
        listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0") as p5,
    ):
        assert both.v4 is not None and both.v5 is not None
        me = both.self_node()
        assert both.v4.local_addr == both.v5.local_addr  # one socket
        seq = both.local.seq if both.local is not None else -1
        assert await p4.ping(me) == seq
        assert await p5.ping(me) == seq
        assert both.v5.stats.not_discv5 == 0  # v4 packets never reached v5
        assert both.v4.stats.dropped_invalid == 0  # v5 packets never reached v4
        # A local record change reaches peers on both protocols.
        assert both.local is not None
        both.local.set_extra("test", b"1")
        assert await p4.ping(me) == seq + 1
        assert await p5.ping(me) == seq + 1
        assert (await p4.request_enr(me)).seq == seq + 1
        assert (await p5.request_enr(me)).seq == seq + 1
        # Each peer is in the table of its own protocol.
        await asyncio.sleep(0.3)
        assert p5.id in {n.id for n in both.v5.table_nodes()}


def test_ip_limits_as_v4_lan_exempt() -> None:
    key = devp2p.PrivateKey.generate()
    local = LocalNode(key)
    svc = UDPv5(key, db=NodeDB(), local=local)

    def node(ip: str) -> Node:
        return Node.from_record(devp2p.ENR.build(devp2p.PrivateKey.generate(), 1, ip=ip, udp=30303))

    for i in range(200):  # enough random IDs to fill the /24's share of five buckets
        svc.add_node(node(f"8.8.8.{i + 1}"), inbound=False)
    assert len(svc.table) == 10  # geth tableIPLimit: 10 per /24 in the whole table
    per_bucket: dict[int | None, int] = {}
    for nid in svc.table.nodes():
        b = svc.table.bucket_index(nid)
        per_bucket[b] = per_bucket.get(b, 0) + 1
    assert max(per_bucket.values()) <= 2  # bucketIPLimit: 2 per /24 in one bucket
    for i in range(40):
        svc.add_node(node(f"192.168.1.{i + 1}"), inbound=False)
    assert len(svc.table) > 10 + 10  # LAN addresses are exempt from the /24 limits


@run_async
async def test_revalidation_runs_on_the_injected_clock() -> None:
    clock = FakeClock()
    async with nodes(2, clock=clock, resp_timeout=0.2) as (a, b):
        a.add_node(b.self_node(), inbound=False)
        assert not a.table.liveness(b.id)
        for _ in range(200):
            await clock.advance(0.25)
            await asyncio.sleep(0.01)  # real time for the PING round trip
            if a.table.liveness(b.id):
                break
        assert a.table.liveness(b.id)
        await b.close()
        for _ in range(400):
            await clock.advance(0.25)
            await asyncio.sleep(0.01)
            if b.id not in a.table:
                break
        assert b.id not in a.table  # dead nodes leave the table on revalidation failures


@run_async
async def test_random_nodes_on_an_empty_table_refreshes_from_the_node_database() -> None:
    """After the start-up refresh found nothing, an empty table asks for a refresh at once
    (geth's lookup iterator: ``lookupFailed`` calls ``tab.refresh()``), which seeds it from
    nodes the database saw recently, instead of idling until the refresh timer (15-30 min)."""
    clock = FakeClock(wall_offset=time.time())
    db = NodeDB(None)
    async with (
        listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0", clock=clock, node_database=db) as a,
        listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0", clock=clock) as b,
    ):

        async def first_node() -> bytes:
            while a.refresher.count == 0:  # the start-up refresh: no bootnodes, an empty database
                await clock.sleep(0.5)
            assert len(a.table) == 0
            db.update_node(b.self_node())  # b answered us before (a restart, a partition)
            db.update_last_pong_received(b.id, "127.0.0.1", clock.time())
            async for n in a.random_nodes():
                return n.id
            raise AssertionError("random_nodes() ended")

        started = clock.monotonic()
        assert await autojump(clock, first_node(), idle=0.05) == b.id
        assert clock.monotonic() - started < 10.0  # not the 15-30 min refresh timer
        assert a.refresher.count == 2
        assert b.id in a.table


@run_async
async def test_shared_socket_random_nodes_mix_both_protocols() -> None:
    """``listen(v4, v5).random_nodes()`` is a FairMix of both walks: nodes only one protocol knows."""
    async with (
        listen(devp2p.PrivateKey.generate(), "127.0.0.1:0", v4=True, v5=True) as both,
        listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0") as p4,
        listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0") as p5,
    ):
        assert both.v4 is not None and both.v5 is not None
        assert both.local_addr[1] == both.self_node().udp_port
        me = both.self_node()
        await p4.ping(me)  # each one now sits in the table of its own protocol only
        await p5.ping(me)
        want = {p4.self_node().id, p5.id}
        seen: set[bytes] = set()
        async with asyncio.timeout(20):
            async for n in both.random_nodes():
                seen.add(n.id)
                if want <= seen:
                    break
        assert want <= {n.id for n in both.table_nodes()}
        assert p5.id not in {n.id for n in both.v4.table_nodes()}
        assert p4.self_node().id not in {n.id for n in both.v5.table_nodes()}


@run_async
async def test_cancelled_lookup_leaves_no_query_task() -> None:
    """Lookup queries are tasks of the shared walk's task group: cancelling the lookup ends them."""
    silent = devp2p.PrivateKey.generate()
    dead = [
        Node.from_record(devp2p.ENR.build(devp2p.PrivateKey.generate(), 1, ip="127.0.0.1", udp=9 + i))
        for i in range(3)
    ]
    clock = FakeClock()  # replies never time out and the upkeep loops stay asleep
    async with nodes(1, clock=clock) as (a,):
        await asyncio.sleep(0.05)  # the first refresh (empty table) is over
        for n in dead:
            a.nodes[n.id] = n
            a.table.add(n.id, "127.0.0.1", 0.0, False)
        before = set(asyncio.all_tasks())
        look = asyncio.ensure_future(a.lookup(silent.public_key.node_id))
        await asyncio.sleep(0.2)
        assert len(set(asyncio.all_tasks()) - before) > 1  # the lookup and its queries
        look.cancel()
        with pytest.raises(asyncio.CancelledError):
            await look
        assert set(asyncio.all_tasks()) - before == set()


@run_async
async def test_enode_bootnode_reached_by_key_and_its_record_fetched() -> None:
    """geth takes ``enode:`` bootnodes for v5 too: the handshake needs only the key, and the
    bootnode's record (fetched with FINDNODE 0) lets it into the table."""
    async with AsyncExitStack() as stack:
        boot = await stack.enter_async_context(
            listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0", findnode_liveness_check=False)
        )
        other = await stack.enter_async_context(
            listen_v5(
                devp2p.PrivateKey.generate(),
                "127.0.0.1:0",
                bootnodes=[str(boot.local.record)],
                findnode_liveness_check=False,
            )
        )
        await other.lookup(None)  # boot now knows `other`
        url = boot.self_node().enode_url()
        assert url.startswith("enode://")
        newcomer = await stack.enter_async_context(
            listen_v5(
                devp2p.PrivateKey.generate(), "127.0.0.1:0", bootnodes=[url], findnode_liveness_check=False
            )
        )
        assert newcomer.bootnodes[0].record is None
        await newcomer.refresh()
        assert newcomer.bootnodes[0].record == boot.local.record
        assert boot.id in {n.id for n in newcomer.table_nodes()}
        assert (await newcomer.lookup(other.id))[0].id == other.id  # found through the bootnode
        # A key that is not the node's: boot cannot open the handshake, the call times out
        # and the session we opened to that key is dropped.
        liar_key = devp2p.PrivateKey.generate().public_key
        liar = Node(public_key=liar_key, host="127.0.0.1", udp_port=boot.local_addr[1])
        with pytest.raises(TimeoutError):
            await newcomer.ping(liar)
        assert not newcomer.codec.has_session(liar.id, f"127.0.0.1:{boot.local_addr[1]}")
    # An ID-only enode (no endpoint) cannot bootstrap anything.
    with pytest.raises(PeerwireError, match="UDP port"):
        async with listen_v5(
            devp2p.PrivateKey.generate(), "127.0.0.1:0", bootnodes=[f"enode://{liar_key.to_hex()}"]
        ):
            pass


@run_async
async def test_nodes_answers_verify_each_record_once_and_forgeries_still_fail() -> None:
    async with nodes(1) as (a,):
        key = devp2p.PrivateKey.generate()
        raw = devp2p.ENR.build(key, 1, ip="10.0.0.5", udp=30303).to_bytes()
        asked = Node(public_key=devp2p.PrivateKey.generate().public_key, host="10.0.0.9", udp_port=30303)
        dists = [kad.log_distance(asked.id, key.public_key.node_id)]
        first = a._verify_response_node(asked, raw, dists, set())
        assert first is not None and first.id == key.public_key.node_id
        # The same bytes again (another peer's answer): the node checked before, no new check.
        assert a._verify_response_node(asked, raw, dists, set()) is first
        # One signature byte changed: not the verified bytes, so it is checked, and fails.
        forged = bytearray(raw)
        forged[5] ^= 1
        assert a._verify_response_node(asked, bytes(forged), dists, set()) is None
