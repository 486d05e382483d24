"""Discovery reactor (channel 0x50) on the in-memory network and fake clock, plus codec and address book."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peerwire import tm2
from peerwire._clock import FakeClock
from peerwire.errors import DecodeError
from peerwire.testing.tm2 import MemoryNetwork, MemoryTransport
from peerwire.tm2 import discovery
from peerwire.tm2._addr import NetAddress
from peerwire.tm2.discovery._codec import MAX_MESSAGE_SIZE

CH = discovery.CHANNEL


def nid(name: str) -> tm2.ID:
    return tm2.NodeKey.from_secret(name.encode()).id


class Probe(tm2.BaseReactor):
    """A raw channel-0x50 peer: records what it gets, replies what it is told to."""

    def __init__(self) -> None:
        super().__init__("probe")
        self.got: list[tuple[float, str, bytes]] = []
        self.reply: bytes | None = None

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(id=CH)]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        self.got.append((self.switch.clock.monotonic(), peer.id, msg))
        if self.reply is not None and msg == discovery.encode_request():
            await peer.send(CH, self.reply)


class Node:
    def __init__(
        self,
        net: MemoryNetwork,
        name: str,
        reactor: tm2.BaseReactor,
        *opts: tm2.SwitchOption,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.id = nid(name)
        self.transport = MemoryTransport(
            net, tm2.NodeKey.from_secret(name.encode()), host=host, port=port, channels=bytes([CH])
        )
        self.reactor = reactor
        self.sw = tm2.MultiplexSwitch(
            self.transport, tm2.with_reactor("disc", reactor), tm2.with_clock(net.clock), *opts
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


async def settle(n: int = 200) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def until(
    cond: Callable[[], bool], clock: FakeClock | None = None, step: float = 0.5, rounds: int = 3000
) -> None:
    for i in range(rounds):
        if cond():
            return
        if clock is not None and i % 20 == 19:
            await clock.advance(step)
        else:
            await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def run(fn: Callable[[], Any]) -> None:
    asyncio.run(asyncio.wait_for(fn(), 60))


# -- codec ---------------------------------------------------------------------------------------------


def test_codec_matches_vectors(vectors: Callable[[str], Any]) -> None:
    v = vectors("tm2.json")["discovery"]
    assert v["channel"] == CH
    assert discovery.encode_request().hex() == v["request"]["hex"]
    assert discovery.decode(bytes.fromhex(v["request"]["hex"])) == discovery.Request()
    r = v["response_one_peer"]
    assert discovery.encode_response(r["peers"]).hex() == r["hex"]
    assert len(bytes.fromhex(r["hex"])) == r["length"]
    assert discovery.decode(bytes.fromhex(r["hex"])) == discovery.Response(tuple(r["peers"]))


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x0a\x0c/p2p.Reques",  # truncated
        b"\x0a\x0d/p2p.Unknown!",  # unknown type
        bytes.fromhex("0a0c2f7032702e52657175657374") + b"\x12\x01\x00",  # Request with a value
        b"\x08\x01",  # varint field
        b"\x0a\x0d/p2p.Response\x12\x02\x12\x00",  # unknown Response field
        b"\x0a\x0d/p2p.Response\x12\x03\x0a\x01\xff",  # address not UTF-8
        b"\x0a" + b"\xff" * 11,  # varint too long
        b"\x00" * (MAX_MESSAGE_SIZE + 1),
    ],
)
def test_codec_rejects_malformed(bad: bytes) -> None:
    with pytest.raises(DecodeError):
        discovery.decode(bad)


@given(st.binary(max_size=300))
def test_codec_never_fails_other_than_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        discovery.decode(data)


@given(st.lists(st.text(max_size=40), max_size=40))
def test_codec_response_round_trip(peers: list[str]) -> None:
    assert discovery.decode(discovery.encode_response(peers)) == discovery.Response(tuple(peers))


# -- address book --------------------------------------------------------------------------------------


def _pa(i: int, host: str = "10.0.0.1") -> NetAddress:
    return NetAddress(nid(f"book{i}"), host, 1000 + i)


def test_book_bounds_evicts_oldest_never_stores_self_and_is_atomic(tmp_path: Path) -> None:
    clock = FakeClock()
    own = _pa(0)
    path = tmp_path / "sub" / "addrbook.json"
    book = discovery.AddressBook(path, own, max_entries=3, clock=clock)
    assert book.add(own, NetAddress(own.id, "10.9.9.9", 5)) == 0  # own ID, any address
    assert book.add(NetAddress(nid("x"), "0.0.0.0", 1)) == 0  # invalid
    for i in range(1, 5):
        book.add(_pa(i))
        clock._now += 10
    assert len(book) == 3 and _pa(1) not in book and _pa(4) in book  # the oldest went
    book.add(_pa(2))  # seen again: now the newest
    clock._now += 10
    book.add(_pa(5))
    assert _pa(3) not in book and _pa(2) in book
    assert book.save() and not book.save()  # only when dirty
    assert [p.name for p in path.parent.iterdir()] == ["addrbook.json"]  # no temp file left
    data = json.loads(path.read_text())
    assert sorted(e["addr"] for e in data["peers"]) == sorted(str(a) for a in (_pa(2), _pa(4), _pa(5)))
    again = discovery.AddressBook(path, own, clock=clock)
    assert again.load() == 3


def test_book_load_skips_bad_entries_and_keeps_a_corrupt_file_aside(tmp_path: Path) -> None:
    own = _pa(0)
    path = tmp_path / "addrbook.json"
    path.write_text(
        json.dumps(
            {
                "peers": [
                    {"addr": str(_pa(1)), "last_seen": 5},
                    {"addr": str(own), "last_seen": 5},
                    {"addr": "nonsense", "last_seen": 5},
                    {"addr": f"{nid('z')}@255.255.255.255:1"},
                    "not a dict",
                ]
            }
        )
    )
    book = discovery.AddressBook(path, own)
    assert book.load() == 1 and book.addresses() == [_pa(1)]
    path.write_text("{not json")
    assert discovery.AddressBook(path, own).load() == 0
    assert (tmp_path / "addrbook.json.corrupt").read_text() == "{not json"


# -- the reactor ---------------------------------------------------------------------------------------


def test_discovery_interval_round_table() -> None:
    """Ask at connect (outbound), then one random peer every 3 s of fake time."""

    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        probe = Probe()
        async with Node(net, "probe", probe) as b, Node(net, "a", discovery.Reactor()) as a:
            a.sw.dial_peers(b.addr)
            await settle()
            for _ in range(26):
                await clock.advance(0.5)
            times = [t for t, pid, m in probe.got if pid == a.id and m == discovery.encode_request()]
            assert times == [0.0, 3.0, 6.0, 9.0, 12.0]

    run(main)


def test_request_answer_is_capped_shuffled_and_hides_private_and_invalid() -> None:
    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        hub_r = discovery.Reactor(rng=random.Random(1))
        private = nid("leaf0")
        async with Node(
            net, "hub", hub_r, tm2.with_max_inbound_peers(100), tm2.with_private_peers([private])
        ) as hub:
            leaves = [Node(net, f"leaf{i}", Probe()) for i in range(40)]
            leaves[1].transport.advertised = NetAddress(leaves[1].id, "0.0.0.0", 26656)  # not dialable
            for leaf in leaves:
                await leaf.__aenter__()
                leaf.sw.dial_peers(hub.addr)
            await until(lambda: len(hub.sw.peers()) == 40 and all(x.sw.peers().has(hub.id) for x in leaves))
            asker = leaves[5]
            to_hub = asker.sw.peers().get(hub.id)
            assert to_hub is not None
            answers = []
            for _ in range(2):
                asker.reactor.got.clear()  # type: ignore[attr-defined]
                await to_hub.send(CH, discovery.encode_request())
                await until(lambda: len(asker.reactor.got) == 1)  # type: ignore[attr-defined]
                resp = discovery.decode(asker.reactor.got[0][2])  # type: ignore[attr-defined]
                assert isinstance(resp, discovery.Response)
                answers.append(list(resp.peers))
            allowed = {leaf.addr for leaf in leaves[2:] if leaf is not asker}
            for peers in answers:
                assert len(peers) == 30 and len(set(peers)) == 30
                assert set(peers) <= allowed  # no private leaf0, no 0.0.0.0 leaf1, not the asker
            assert answers[0] != answers[1]
            for leaf in leaves:
                await leaf.__aexit__()

    run(main)


def test_bad_input_is_ignored_counted_and_rate_limited() -> None:
    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        r = discovery.Reactor()
        probe = Probe()
        async with Node(net, "a", r) as a, Node(net, "p", Probe()) as other, Node(net, "evil", probe) as ev:
            a.sw.dial_peers(other.addr)
            ev.sw.dial_peers(a.addr)
            await until(lambda: len(a.sw.peers()) == 2 and ev.sw.peers().has(a.id))
            to_a = ev.sw.peers().get(a.id)
            assert to_a is not None
            await to_a.send(CH, b"\xde\xad\xbe\xef")
            await to_a.send(CH, b"\x0a\x02/x")
            await to_a.send(CH, b"\x00" * (MAX_MESSAGE_SIZE + 10))
            for _ in range(100):  # a request flood
                assert await to_a.send(CH, discovery.encode_request())
            unsolicited = discovery.encode_response([a.addr])
            await to_a.send(CH, unsolicited)
            await settle(2000)
            assert r.stats.garbage == 2 and r.stats.oversize == 1
            assert r.stats.requests_received == 100 and r.stats.rate_limited == 95
            assert r.stats.responses_sent == 5 and r.stats.unsolicited == 1
            assert a.sw.peers().has(ev.id)  # ignored, not disconnected
            await clock.advance(2.0)  # one token back
            await to_a.send(CH, discovery.encode_request())
            await settle(500)
            assert r.stats.responses_sent == 6

    run(main)


def test_response_filters_own_private_invalid_and_dials_the_rest() -> None:
    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        r = discovery.Reactor()
        probe = Probe()
        secret = nid("secret")
        good = NetAddress(nid("good"), "127.0.0.9", 4242)
        async with Node(net, "a", r, tm2.with_private_peers([secret])) as a, Node(net, "p", probe) as p:
            probe.reply = discovery.encode_response(
                [
                    a.addr,  # ourselves
                    f"{a.id}@127.0.0.3:1",  # our ID elsewhere
                    f"{secret}@127.0.0.4:26656",  # private
                    f"{nid('u')}@0.0.0.0:26656",  # unspecified
                    "junk",
                    f"{nid('h')}@some.host.name:26656",  # hostnames are not accepted from peers
                    str(good),
                ]
            )
            a.sw.dial_peers(p.addr)  # outbound: a asks p at once
            await until(lambda: r.stats.responses_received == 1)
            await settle()
            assert r.stats.filtered_own == 2 and r.stats.filtered_private == 1
            assert r.stats.filtered_invalid == 3 and r.stats.addresses_accepted == 1
            assert good in r.book
            await settle()
            assert net.dials_to(good.dial_string()) == [0.0]
            dialed = {rec.dst for rec in net.dial_log if rec.src == a.id}
            assert dialed == {good.dial_string(), p.transport.net_address().dial_string()}
            # More than 30 addresses: the whole response is refused.
            probe.reply = discovery.encode_response([str(_pa(i, "127.0.1.1")) for i in range(31)])
            await clock.advance(3.0)
            await until(lambda: r.stats.responses_received == 2)
            assert r.stats.too_many == 1 and _pa(1, "127.0.1.1") not in r.book

    run(main)


def test_mesh_from_one_seed_and_address_book_survives_restart(tmp_path: Path) -> None:
    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        n = 6
        seed = Node(net, "seed", discovery.Reactor())
        async with seed:
            nodes = [
                Node(net, f"n{i}", discovery.Reactor(tmp_path / f"book{i}.json", seeds=[seed.addr]))
                for i in range(n)
            ]
            for node in nodes:
                await node.__aenter__()
            everyone = [seed, *nodes]
            await until(lambda: all(len(x.sw.peers()) == n for x in everyone), clock, rounds=20000)
            for node in nodes:
                await node.__aexit__()
            book0 = json.loads((tmp_path / "book0.json").read_text())
            stored = {e["addr"] for e in book0["peers"]}
            assert str(nodes[0].transport.net_address()) not in stored
            assert len(stored) >= 1 and stored <= {x.addr for x in everyone[:1] + nodes[1:]}
            # Restart n0 without seeds: it dials its address book.
            back = Node(
                net,
                "n0",
                discovery.Reactor(tmp_path / "book0.json"),
                port=nodes[0].transport.net_address().port,
            )
            async with back:
                await settle()
                assert len(back.sw.dial_queue()) + len(back.sw.peers()) + back.sw.stats.dials >= 1
                dialed = {rec.dst for rec in net.dial_log if rec.src == back.id}
                assert {NetAddress.parse(s).dial_string() for s in stored} <= dialed

    run(main)


def test_seeds_are_dialed_again_when_alone() -> None:
    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        seed_addr = f"{nid('s')}@127.0.0.1:45000"
        async with Node(net, "a", discovery.Reactor(seeds=[seed_addr])):
            await settle()
            for _ in range(10):
                await clock.advance(1.0)
            assert net.dials_to("127.0.0.1:45000") == [0.0, 3.0, 6.0, 9.0]

    run(main)
