"""eth Status handshake and requests between two peerwire servers over loopback TCP."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from peerwire import devp2p, eth
from peerwire.devp2p import PeerEventType
from tests.devp2p._aio import aio
from tests.eth.test_chain import _private_genesis

CHAIN = eth.Chain.from_genesis(_private_genesis(shanghaiTime=0, cancunTime=0))


@asynccontextmanager
async def node(
    proto: eth.Protocol, *, static: list[devp2p.Node] | None = None
) -> AsyncIterator[devp2p.Server]:
    cfg = devp2p.Config(
        private_key=devp2p.PrivateKey.generate(),
        listen_addr="127.0.0.1:0",
        protocols=proto.protocols(),
        static_nodes=static or [],
    )
    async with devp2p.Server(cfg) as srv:
        yield srv


@pytest.mark.parametrize("versions", [(72, 71, 70, 69, 68), (68,), (69,)])
@aio
async def test_status_and_genesis_header_between_peerwire_nodes(versions: tuple[int, ...]) -> None:
    a, b = eth.Protocol(CHAIN, versions=versions), eth.Protocol(CHAIN)
    async with node(a) as sa, node(b, static=[sa.self_node()]):
        ep = await b.wait_peer(timeout=10)
        assert ep.version == max(versions)
        assert ep.status.genesis == CHAIN.genesis_hash
        assert ep.status.fork_id == CHAIN.fork_id(0, CHAIN.genesis_time)
        headers = await ep.get_block_headers(0, 1)
        assert [h.hash for h in headers] == [CHAIN.genesis_hash]
        assert await ep.get_block_headers(5, 3) == []  # nothing to serve: empty, not dropped
        assert len(b.peers()) == 1
        if ep.version >= 69:  # a head move reaches the peer as a BlockRangeUpdate
            await b.set_head(eth.Head(3, b"\x33" * 32, CHAIN.genesis_time + 36, earliest=1))
            back = await a.wait_peer(timeout=5)
            async with asyncio.timeout(5):
                while back.status.latest != 3:  # noqa: ASYNC110 - state set by the peer task
                    await asyncio.sleep(0.01)
            assert (back.status.earliest, back.status.latest_hash) == (1, b"\x33" * 32)
        # the record carries the eth entry with our fork ID
        rec = devp2p.ENR.decode(sa.node_info()["enr"])
        assert eth.ForkID.from_enr(rec) == CHAIN.fork_id(0, CHAIN.genesis_time)


@aio
async def test_incompatible_fork_id_is_refused_with_subprotocol_error() -> None:
    # Same genesis, but a fork the other side never heard of already passed: rule 4.
    other = dataclasses.replace(CHAIN, block_forks=(*CHAIN.block_forks, 0), time_forks=(1,))
    other = dataclasses.replace(other, genesis_time=0)
    assert other.fork_id(0, CHAIN.genesis_time) != CHAIN.fork_id(0, CHAIN.genesis_time)
    a, b = eth.Protocol(CHAIN), eth.Protocol(other, head=eth.Head(0, CHAIN.genesis_hash, CHAIN.genesis_time))
    async with node(a) as sa:
        events = sa.subscribe_events()
        async with node(b, static=[sa.self_node()]) as sb:
            drops = []
            async with asyncio.timeout(10):
                async for ev in events:
                    if ev.type is PeerEventType.DROP:
                        drops.append(ev)
                        break
            assert "fork ID rejected" in (drops[0].error or "") or "subprotocol" in (drops[0].error or "")
            assert a.peers() == [] and b.peers() == []
            del sb


@aio
async def test_handshake_timeout_is_read_timeout() -> None:
    proto = eth.Protocol(CHAIN, handshake_timeout=0.3)

    class SilentRW:
        sent: list[int] = []  # noqa: RUF012

        async def write_msg(self, code: int, payload: bytes) -> None:
            self.sent.append(code)

        async def read_msg(self) -> devp2p.Msg:
            await asyncio.sleep(10)
            raise AssertionError

    with pytest.raises(eth.EthHandshakeError) as exc:
        await proto.handshake(69, SilentRW())
    assert exc.value.disconnect_reason == devp2p.DiscReason.READ_TIMEOUT
    assert SilentRW.sent == [0]


@aio
async def test_status_checks_as_geth() -> None:
    proto = eth.Protocol(CHAIN)
    good = proto.our_status(69)

    class OneMsgRW:
        def __init__(self, code: int, payload: bytes) -> None:
            self.msg = devp2p.Msg(code, payload)

        async def write_msg(self, code: int, payload: bytes) -> None:
            pass

        async def read_msg(self) -> devp2p.Msg:
            return self.msg

    async def check(status: eth.Status, code: int = 0, version: int = 69) -> str:
        with pytest.raises(eth.EthHandshakeError) as exc:
            await proto.handshake(version, OneMsgRW(code, status.encode()))
        assert exc.value.disconnect_reason == devp2p.DiscReason.SUBPROTOCOL_ERROR
        return str(exc.value)

    assert (await proto.handshake(69, OneMsgRW(0, good.encode()))) == good
    assert "no status message" in await check(good, code=2)
    assert "network ID mismatch" in await check(dataclasses.replace(good, network_id=1))
    assert "protocol version mismatch" in await check(dataclasses.replace(good, version=70))
    assert "genesis mismatch" in await check(dataclasses.replace(good, genesis=b"\x01" * 32))
    assert "fork ID rejected" in await check(
        dataclasses.replace(good, fork_id=eth.ForkID(b"\x12\x34\x56\x78"))
    )
    assert "invalid block range" in await check(dataclasses.replace(good, earliest=5, latest=1))
    assert "invalid block range" in await check(dataclasses.replace(good, latest_hash=bytes(32)))
    assert "invalid status" in await check(good, version=68)  # eth/69 layout on eth/68


class _RecordingRW:
    def __init__(self) -> None:
        self.sent: list[tuple[int, bytes]] = []

    async def write_msg(self, code: int, payload: bytes) -> None:
        self.sent.append((code, payload))

    async def read_msg(self) -> devp2p.Msg:
        raise AssertionError("not used")


def _eth_peer(version: int) -> tuple[eth.EthPeer, _RecordingRW]:
    from peerwire.eth._protocol import EthPeer

    proto = eth.Protocol(CHAIN)
    rw = _RecordingRW()
    return EthPeer(proto, version, None, rw, proto.our_status(version)), rw  # type: ignore[arg-type]


@aio
async def test_peer_serves_empty_and_checks_messages_as_geth() -> None:
    from peerwire._core import eth as core_eth
    from peerwire._core import rlp

    ep, rw = _eth_peer(70)
    h = b"\x11" * 32
    # GetReceipts (eth/70 layout) -> [id, false, []]; GetBlockBodies -> [id, []]
    await ep._handle(devp2p.Msg(0x0F, rlp.encode([9, 2, [h]])))
    await ep._handle(devp2p.Msg(0x05, core_eth.encode_hash_request(4, [h])))
    assert rw.sent == [
        (0x10, rlp.encode([9, b"", []])),
        (0x06, core_eth.encode_id_and_raw_list(4, [])),
    ]
    # BlockRangeUpdate is validated and kept
    await ep._handle(devp2p.Msg(0x11, core_eth.encode_block_range(0, 7, h)))
    assert (ep.status.latest, ep.status.latest_hash) == (7, h)
    bad = [
        devp2p.Msg(0x11, core_eth.encode_block_range(8, 7, h)),  # earliest > latest
        devp2p.Msg(0x07, b"\xc0"),  # NewBlock does not exist after eth/68
        devp2p.Msg(0x00, b"\xc0"),  # a second Status
        devp2p.Msg(0x08, rlp.encode([b"\x02", [1, 2], [h]])),  # lengths differ
        devp2p.Msg(0x03, b"\xc3\x01\x02"),  # undecodable header request
    ]
    for msg in bad:
        with pytest.raises(eth.EthHandshakeError) as exc:
            await ep._handle(msg)
        assert exc.value.disconnect_reason == devp2p.DiscReason.SUBPROTOCOL_ERROR, msg


@aio
async def test_requests_time_out_and_are_bounded() -> None:
    from peerwire._core import eth as core_eth
    from peerwire.errors import TimeoutError as PwTimeout

    ep, rw = _eth_peer(69)
    with pytest.raises(PwTimeout):
        await ep.get_block_headers(0, 1, timeout=0.05)
    # the given-up request is still expected (geth's tracker): its late answer is dropped quietly
    late = core_eth.decode_get_block_headers(rw.sent[-1][1])[0]
    await ep._handle(devp2p.Msg(0x04, core_eth.encode_id_and_raw_list(late, [])))
    assert ep._pending == {}
    task = asyncio.ensure_future(ep.get_block_headers(0, 1, timeout=5))
    await asyncio.sleep(0.01)
    rid = core_eth.decode_get_block_headers(rw.sent[-1][1])[0]
    assert CHAIN.genesis_header is not None
    await ep._handle(devp2p.Msg(0x04, core_eth.encode_id_and_raw_list(rid, [CHAIN.genesis_header])))
    assert [x.hash for x in await task] == [CHAIN.genesis_hash]
    ep._close()
    with pytest.raises(ConnectionError):
        await ep.get_block_headers(0, 1)


@aio
async def test_deadlines_run_on_the_injected_clock() -> None:
    """Handshake, request and tracker deadlines on a fake clock: no real waiting, exact times."""
    from peerwire._clock import FakeClock
    from peerwire._core import eth as core_eth
    from peerwire.errors import TimeoutError as PwTimeout
    from peerwire.eth import _protocol
    from peerwire.eth._protocol import EthPeer

    clock = FakeClock()
    proto = eth.Protocol(CHAIN, clock=clock)

    class SilentRW(_RecordingRW):
        async def read_msg(self) -> devp2p.Msg:
            await asyncio.Event().wait()
            raise AssertionError

    hs = asyncio.ensure_future(proto.handshake(69, SilentRW()))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    await clock.advance(proto.handshake_timeout - 0.01)
    assert not hs.done()
    await clock.advance(0.02)
    with pytest.raises(eth.EthHandshakeError) as exc:
        await hs
    assert exc.value.disconnect_reason == devp2p.DiscReason.READ_TIMEOUT

    rw = _RecordingRW()
    ep = EthPeer(proto, 69, None, rw, proto.our_status(69))  # type: ignore[arg-type]
    req = asyncio.ensure_future(ep.get_block_headers(0, 1, timeout=7.0))
    await asyncio.sleep(0)
    await clock.advance(6.9)
    assert not req.done()
    await clock.advance(0.2)
    with pytest.raises(PwTimeout):
        await req
    # Given up but tracked until the tracker timeout: a late answer within it is quiet ...
    rid = core_eth.decode_get_block_headers(rw.sent[-1][1])[0]
    await clock.advance(_protocol.TRACKER_TIMEOUT - 10)
    await ep._handle(devp2p.Msg(0x04, core_eth.encode_id_and_raw_list(rid, [])))
    # ... and after it, an answer to an expired request is unsolicited: the peer is dropped.
    req = asyncio.ensure_future(ep.get_block_headers(0, 1, timeout=1.0))
    await asyncio.sleep(0)
    await clock.advance(1.1)
    with pytest.raises(PwTimeout):
        await req
    rid = core_eth.decode_get_block_headers(rw.sent[-1][1])[0]
    await clock.advance(_protocol.TRACKER_TIMEOUT + 1)
    with pytest.raises(eth.EthProtocolError, match="no matching request"):
        await ep._handle(devp2p.Msg(0x04, core_eth.encode_id_and_raw_list(rid, [])))


@aio
async def test_given_up_requests_are_remembered_within_a_bound() -> None:
    from peerwire._core import eth as core_eth
    from peerwire.errors import TimeoutError as PwTimeout
    from peerwire.eth import _protocol

    ep, rw = _eth_peer(69)
    for _ in range(_protocol.MAX_TRACKED + 5):
        with pytest.raises(PwTimeout):
            await ep.get_block_headers(0, 1, timeout=0.001)
    assert len(ep._pending) == _protocol.MAX_TRACKED
    oldest = core_eth.decode_get_block_headers(rw.sent[0][1])[0]
    with pytest.raises(eth.EthProtocolError, match="no matching request"):  # forgotten: unsolicited
        await ep._handle(devp2p.Msg(0x04, core_eth.encode_id_and_raw_list(oldest, [])))


@aio
async def test_bad_responses_drop_the_peer_and_fail_the_request() -> None:
    """geth's tracker (``Fulfil``): an answer nobody asked for, of the wrong kind or with more
    items than asked, or one that does not decode, drops the peer with SUBPROTOCOL_ERROR; the
    request it answered fails with the same typed error."""
    from peerwire._core import eth as core_eth
    from peerwire._core import rlp

    assert CHAIN.genesis_header is not None
    hdr = CHAIN.genesis_header

    def headers(rid: int, n: int) -> devp2p.Msg:
        return devp2p.Msg(0x04, core_eth.encode_id_and_raw_list(rid, [hdr] * n))

    cases: dict[str, object] = {
        "no matching request": lambda rid: headers(rid + 1, 1),
        "wrong response code": lambda rid: devp2p.Msg(0x06, core_eth.encode_id_and_raw_list(rid, [])),
        "larger than request allows": lambda rid: headers(rid, 2),
        "BlockHeaders": lambda rid: devp2p.Msg(
            0x04, core_eth.encode_id_and_raw_list(rid, [b"\xc3\x01\x02\x03"])
        ),
        "invalid message 0x4": lambda rid: devp2p.Msg(0x04, b"\xc2\x01\x05"),  # no item list
        "message too long": lambda rid: devp2p.Msg(0x04, bytes(10 * 1024 * 1024 + 1)),
    }
    for want, make in cases.items():
        ep, rw = _eth_peer(69)
        task = asyncio.ensure_future(ep.get_block_headers(0, 1, timeout=5))
        await asyncio.sleep(0.01)
        rid = core_eth.decode_get_block_headers(rw.sent[-1][1])[0]
        with pytest.raises(eth.EthProtocolError, match=want) as exc:
            await ep._handle(make(rid))  # type: ignore[operator]
        assert exc.value.disconnect_reason == devp2p.DiscReason.SUBPROTOCOL_ERROR
        with pytest.raises(eth.EthProtocolError) as caller:
            await task
        assert caller.value is exc.value, want
        assert ep.closed
    # answers to requests we never send (Receipts on eth/69 and eth/70, Cells) are unsolicited
    for version, msg in [
        (69, devp2p.Msg(0x10, rlp.encode([7, []]))),
        (70, devp2p.Msg(0x10, rlp.encode([7, b"", []]))),
        (72, devp2p.Msg(0x15, core_eth.encode_cells(7, [], [], b"\x01" + bytes(15)))),
    ]:
        with pytest.raises(eth.EthProtocolError, match="no matching request"):
            await _eth_peer(version)[0]._handle(msg)


@aio
async def test_unsolicited_response_drops_the_peer_on_the_wire() -> None:
    from peerwire._core import eth as core_eth

    a, b = eth.Protocol(CHAIN), eth.Protocol(CHAIN)
    async with node(a) as sa:
        events = sa.subscribe_events()
        async with node(b, static=[sa.self_node()]):
            ep = await b.wait_peer(timeout=10)
            await a.wait_peer(timeout=10)
            await ep._rw.write_msg(0x04, core_eth.encode_id_and_raw_list(12345, []))
            async with asyncio.timeout(10):
                async for ev in events:
                    if ev.type is PeerEventType.DROP:
                        break
            assert "no matching request" in (ev.error or ""), ev
            async with asyncio.timeout(10):
                while b.peers():  # noqa: ASYNC110 - b learns of the drop from a's Disconnect
                    await asyncio.sleep(0.05)
            assert a.peers() == []


class _BodiesProvider:
    def get_headers(self, origin: int | bytes, amount: int, skip: int, reverse: bool) -> list[bytes]:
        return []

    def get_bodies(self, hashes: list[bytes]) -> list[bytes]:
        return [b"\xc2\xc0\xc0" for _ in hashes]


@aio
async def test_bodies_from_a_provider_and_in_flight_bound() -> None:
    from peerwire.eth import _protocol

    a = eth.Protocol(CHAIN, provider=_BodiesProvider())
    b = eth.Protocol(CHAIN)
    async with node(a) as sa, node(b, static=[sa.self_node()]):
        ep = await b.wait_peer(timeout=10)
        assert await ep.get_block_bodies([b"\x01" * 32, b"\x02" * 32]) == [b"\xc2\xc0\xc0"] * 2
        back = await a.wait_peer(timeout=10)
        assert await back.get_block_bodies([b"\x01" * 32]) == []  # b has no provider
        # more concurrent requests than MAX_IN_FLIGHT all complete; at most the bound is pending
        peak = 0

        async def one() -> None:
            nonlocal peak
            peak = max(peak, len(ep._pending))
            await ep.get_block_headers(0, 1)
            peak = max(peak, len(ep._pending))

        await asyncio.gather(*(one() for _ in range(3 * _protocol.MAX_IN_FLIGHT)))
        assert 0 < peak <= _protocol.MAX_IN_FLIGHT


@aio
async def test_eth72_get_cells_answered_empty_with_the_queried_mask() -> None:
    from peerwire._core import eth as core_eth
    from peerwire._core import rlp

    ep, rw = _eth_peer(72)
    mask = b"\x01" + bytes(15)
    await ep._handle(devp2p.Msg(0x14, rlp.encode([5, [[b"\x11" * 32], mask]])))
    assert rw.sent == [(0x15, core_eth.encode_cells(5, [], [], mask))]
    with pytest.raises(eth.EthHandshakeError):  # GetCells is not an eth/71 message
        await _eth_peer(71)[0]._handle(devp2p.Msg(0x14, rlp.encode([5, [[], mask]])))


@aio
async def test_record_follows_fork_transitions_when_attached() -> None:
    chain = eth.Chain.from_genesis(_private_genesis(shanghaiTime=0, osakaTime=2_000_000_000))
    proto = eth.Protocol(chain)
    cfg = devp2p.Config(
        private_key=devp2p.PrivateKey.generate(),
        listen_addr="127.0.0.1:0",
        protocols=proto.protocols(),
        no_discovery=False,
        no_dial=True,
    )
    async with devp2p.Server(cfg) as srv:
        proto.attach(srv)
        first = devp2p.ENR.decode(srv.node_info()["enr"])
        assert eth.ForkID.from_enr(first) == chain.fork_id(0, chain.genesis_time)
        await proto.set_head(eth.Head(1, b"\x01" * 32, chain.genesis_time + 12))  # no fork passed
        assert devp2p.ENR.decode(srv.node_info()["enr"]).seq == first.seq
        await proto.set_head(eth.Head(2, b"\x02" * 32, 2_000_000_000))  # Osaka passed
        rec = devp2p.ENR.decode(srv.node_info()["enr"])
        assert rec.seq > first.seq
        assert eth.ForkID.from_enr(rec) == chain.fork_id(2, 2_000_000_000) != chain.fork_id(0, 0)
        # the record both discovery protocols publish: a v5 peer fetches the new fork ID
        async with devp2p.discover.listen_v5(devp2p.PrivateKey.generate(), "127.0.0.1:0") as peer5:
            fetched = await peer5.request_enr(srv.self_node())
        assert fetched.seq == rec.seq and eth.ForkID.from_enr(fetched) == eth.ForkID.from_enr(rec)


@asynccontextmanager
async def discovering(proto: eth.Protocol | None, boot: list[str]) -> AsyncIterator[devp2p.Server]:
    cfg = devp2p.Config(
        private_key=devp2p.PrivateKey.generate(),
        listen_addr="127.0.0.1:0",
        protocols=proto.protocols() if proto is not None else [],
        no_discovery=False,
        bootstrap_nodes=boot,
        net_restrict=["127.0.0.0/8"],
    )
    async with devp2p.Server(cfg) as srv:
        yield srv


@aio
async def test_server_dials_only_discovered_nodes_with_a_compatible_eth_entry() -> None:
    """geth's ``eth.NewNodeFilter`` on its discovery feeds, on by default with the eth capability."""
    genesis = _private_genesis(shanghaiTime=0, cancunTime=0)
    other = eth.Chain.from_genesis({**genesis, "extraData": "0x01"})
    assert other.genesis_hash != CHAIN.genesis_hash
    async with contextlib.AsyncExitStack() as st:
        boot = await st.enter_async_context(discovering(None, []))  # discovery only: no eth entry
        url = boot.self_node().enode_url()
        good = await st.enter_async_context(discovering(eth.Protocol(CHAIN), [url]))
        wrong = await st.enter_async_context(discovering(eth.Protocol(other), [url]))
        proto = eth.Protocol(CHAIN)
        us = await st.enter_async_context(discovering(proto, [url]))
        keep = us.dialer.node_filter
        assert keep is not None
        # found by v4 without a record: the record is fetched (EIP-868), then filtered
        bare = [devp2p.Node.parse(s.self_node().enode_url()) for s in (good, wrong, boot)]
        assert [n.record for n in bare] == [None] * 3
        assert [await keep(n) for n in bare] == [True, False, False]  # type: ignore[misc]
        ep = await proto.wait_peer(timeout=30)  # dialed through discovery, nobody static
        assert ep.id == good.self_node().id
        await asyncio.sleep(2)
        assert {p.id for p in us.peers()} == {good.self_node().id}
        assert us.dialer.filtered_out > 0
    # an explicit Config.node_filter still wins
    mine = devp2p.Config(
        private_key=devp2p.PrivateKey.generate(), protocols=proto.protocols(), node_filter=bool
    )
    assert devp2p.Server(mine).dialer.node_filter is bool


@aio
async def test_status_mismatch_drops_both_sides_with_subprotocol_error() -> None:
    other_net = eth.Chain.from_genesis(_private_genesis(shanghaiTime=0, cancunTime=0, chainId=4242))
    assert other_net.genesis_hash == CHAIN.genesis_hash and other_net.network_id != CHAIN.network_id
    a, b = eth.Protocol(CHAIN), eth.Protocol(other_net)
    async with node(a) as sa:
        a_events = sa.subscribe_events()
        async with node(b, static=[sa.self_node()]) as sb:
            b_events = sb.subscribe_events()
            drops: list[devp2p.PeerEvent] = []
            for events in (a_events, b_events):
                async with asyncio.timeout(10):
                    async for ev in events:
                        if ev.type is PeerEventType.DROP:
                            drops.append(ev)
                            break
            errors = [d.error or "" for d in drops]
            # each side finds the other's network wrong (both read Status before either drops)
            assert sorted(errors) == [
                f"network ID mismatch: {CHAIN.network_id} (!= {other_net.network_id})",
                f"network ID mismatch: {other_net.network_id} (!= {CHAIN.network_id})",
            ], errors
            assert a.peers() == [] and b.peers() == []
