"""MultiplexSwitch over the real TCP MultiplexTransport on 127.0.0.1 (real clock, short waits)."""

from __future__ import annotations

import asyncio

from tests.tm2.tcpnode import ECHO, TcpNode, wait_for

from peerwire import tm2


def test_two_switches_echo_over_loopback_tcp() -> None:
    async def main() -> None:
        async with TcpNode("tcp-a") as a, TcpNode("tcp-b") as b:
            conn = a.sw.subscribe(lambda e: e.type == tm2.EventType.PEER_CONNECTED)
            a.sw.dial_peers(b.addr)
            ev = await asyncio.wait_for(anext(conn), 10)
            assert ev.peer_id == b.id
            await wait_for(lambda: b.sw.peers().has(a.id), 10)
            peer = a.sw.peers().get(b.id)
            assert isinstance(peer, tm2.Peer) and peer.is_outbound
            assert await peer.send(ECHO, b"over tcp")
            await wait_for(lambda: a.echo.echoed == [(b.id, b"echo:over tcp")], 10)
            assert b.sw.broadcast(ECHO, b"to all") == 1
            await wait_for(lambda: (b.id, b"to all") in a.echo.received, 10)
            disc = b.sw.subscribe(lambda e: e.type == tm2.EventType.PEER_DISCONNECTED)
            a.sw.stop_peer_for_error(peer, None)
            ev2 = await asyncio.wait_for(anext(disc), 10)
            assert ev2.peer_id == a.id and not b.sw.peers().has(a.id)

    asyncio.run(main())


def test_discovery_mesh_over_loopback_tcp_from_one_seed() -> None:
    async def main() -> None:
        seed = await TcpNode("tcp-seed", interval=0.2).start()
        nodes = [await TcpNode(f"tcp-n{i}", seeds=[seed.addr], interval=0.2).start() for i in range(4)]
        try:
            everyone = [seed, *nodes]

            def agreed() -> bool:
                # A full mesh where the simultaneous-open tie-break agrees on both ends of every
                # link. It converges: the losing connection is closed by one end, so the other
                # end drops it a moment later (on a loaded machine both can briefly hold one).
                if not all(len(x.sw.peers()) == 4 for x in everyone):
                    return False
                for x in everyone:
                    for p in x.sw.peers().list():
                        other = next(y for y in everyone if y.id == p.id)
                        back = other.sw.peers().get(x.id)
                        if back is None or back.is_outbound == p.is_outbound:
                            return False
                return True

            await wait_for(agreed, 20, "full mesh, one connection per pair agreed on both ends")
        finally:
            for x in [*nodes, seed]:
                await x.stop()

    asyncio.run(main())


class _Blocking(tm2.BaseReactor):
    def __init__(self) -> None:
        super().__init__("blocking")
        self.entered = 0
        self.gate = asyncio.Event()

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(0x10, priority=1, send_queue_capacity=10)]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        self.entered += 1
        await self.gate.wait()


class _Fast(tm2.BaseReactor):
    def __init__(self) -> None:
        super().__init__("fast")
        self.got: list[bytes] = []

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(0x11, priority=1, send_queue_capacity=10)]

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        self.got.append(msg)


def test_blocked_reactor_starves_neither_other_channels_nor_keepalive_over_tcp() -> None:
    """cometbft #2685: with a 0.3 s ping / 0.2 s pong timeout on both ends, a reactor stuck
    for 2 s must cost neither the connection nor another channel's messages."""

    async def main() -> None:
        cfg = tm2.MConnConfig(ping_interval=0.3, pong_timeout=0.2)
        blocking, fast = _Blocking(), _Fast()
        a = TcpNode("stuck-a", with_discovery=False, mconfig=cfg, reactors={"b": blocking, "f": fast})
        b = TcpNode("stuck-b", with_discovery=False, mconfig=cfg, reactors={"b": _Blocking(), "f": _Fast()})
        async with a, b:
            drops = a.sw.subscribe(lambda e: e.type == tm2.EventType.PEER_DISCONNECTED)
            b.sw.dial_peers(a.addr)
            await wait_for(lambda: a.sw.peers().has(b.id) and b.sw.peers().has(a.id), 10)
            to_a = b.sw.peers().get(a.id)
            assert to_a is not None and await to_a.send(0x10, b"block")
            await wait_for(lambda: blocking.entered == 1, 5)
            for i in range(10):
                assert await to_a.send(0x11, b"f%d" % i)
                await asyncio.sleep(0.2)
            assert fast.got == [b"f%d" % i for i in range(10)]
            assert len(drops) == 0 and a.sw.peers().has(b.id) and b.sw.peers().has(a.id)
            blocking.gate.set()

    asyncio.run(main())


def test_inbound_over_the_limit_is_closed_not_left_silent_over_tcp() -> None:
    """tendermint#2046 / gno: a refused inbound connection must be closed, so the dialer
    learns at once instead of waiting for its pong timeout (45 s)."""

    async def main() -> None:
        async with (
            TcpNode("full-srv", tm2.with_max_inbound_peers(1), with_discovery=False) as srv,
            TcpNode("full-c1", with_discovery=False) as c1,
            TcpNode("full-c2", with_discovery=False) as c2,
        ):
            c1.sw.dial_peers(srv.addr)
            await wait_for(lambda: srv.sw.peers().has(c1.id), 10)
            drops = c2.sw.subscribe()
            c2.sw.dial_peers(srv.addr)
            kinds = []
            async with asyncio.timeout(5):
                async for ev in drops:
                    kinds.append(ev.type)
                    if ev.type == tm2.EventType.PEER_DISCONNECTED:
                        break
            assert srv.sw.stats.rejected_inbound_full == 1
            assert not c2.sw.peers().has(srv.id) and srv.sw.peers().num_inbound() == 1

    asyncio.run(main())


def test_persistent_peer_given_by_hostname_is_resolved_and_connected() -> None:
    async def main() -> None:
        async with TcpNode("named-srv", with_discovery=False) as srv:
            named = f"{srv.id}@localhost:{srv.port}"
            async with TcpNode("named-cli", tm2.with_persistent_peers([named]), with_discovery=False) as cli:
                await wait_for(lambda: cli.sw.peers().has(srv.id), 10, "dialed via localhost")
                assert cli.sw.persistent_peers()[0].host == "localhost"  # kept, resolved per dial

    asyncio.run(main())
