"""The typed lifecycle feeds of both stacks (peerwire.events), on real loopback connections.

Mirrors the hooks in python/peerwire/devp2p/_lifecycle.py and python/peerwire/tm2/_lifecycle.py.
"""

from __future__ import annotations

import asyncio

from peerwire._metrics import NetMetrics
from peerwire._pubsub import Subscription
from peerwire.cli._stacks import Tm2Node, free_port
from peerwire.devp2p import Config, MsgReadWriter, Node, Peer, PrivateKey, Protocol, Server
from peerwire.devp2p._lifecycle import dial_failure_reason, handshake_failure_reason
from peerwire.errors import HandshakeError, RemoteProtocolError
from peerwire.events import (
    DialFailed,
    DialFailureReason,
    DialStarted,
    Direction,
    DropReason,
    Event,
    HandshakeFailed,
    HandshakeFailureReason,
    PeerAdded,
    PeerDropped,
)
from peerwire.tm2 import NodeKey


async def _next(sub: Subscription[Event], kind: type, within: float = 5.0) -> Event:
    async with asyncio.timeout(within):
        async for ev in sub:
            if isinstance(ev, kind):
                return ev
    raise AssertionError(f"feed ended before a {kind.__name__}")


async def _idle(peer: Peer, rw: MsgReadWriter) -> None:
    await asyncio.Event().wait()


def _server(name: str, listen: str | None = "127.0.0.1:0", max_peers: int = 5) -> Server:
    return Server(
        Config(
            private_key=PrivateKey.generate(),
            name=name,
            listen_addr=listen,
            max_peers=max_peers,
            protocols=[Protocol("idle", 1, 1, _idle)],
        )
    )


def test_devp2p_dial_add_refuse_and_drop() -> None:
    async def main() -> None:
        a, b, c = _server("a", max_peers=2), _server("b"), _server("c", listen=None)
        async with a, b, c:
            a_feed, b_feed, c_feed = a.subscribe_lifecycle(), b.subscribe_lifecycle(), c.subscribe_lifecycle()
            b.add_peer(a.self_node())
            started = await _next(b_feed, DialStarted)
            a_id = a.self_node().id.hex()
            assert started == DialStarted(a_id, f"127.0.0.1:{a.listen_port}")
            added = await _next(b_feed, PeerAdded)
            assert (added.peer_id, added.direction) == (a_id, Direction.OUTBOUND)
            inbound = await _next(a_feed, PeerAdded)
            assert (inbound.peer_id, inbound.direction) == (b.self_node().id.hex(), Direction.INBOUND)

            # a is full for inbound (max_peers=2: one inbound slot): c's dial is refused by policy
            c.add_peer(a.self_node())
            hs = await _next(c_feed, HandshakeFailed)
            assert hs.reason is HandshakeFailureReason.TOO_MANY_PEERS and hs.reason.is_policy_refusal
            assert hs.direction is Direction.OUTBOUND
            failed = await _next(c_feed, DialFailed)
            assert failed.reason is DialFailureReason.TOO_MANY_PEERS and failed.peer_id == a_id

            b.remove_peer(a.self_node())
            dropped = await _next(b_feed, PeerDropped)
            assert dropped.reason is DropReason.REQUESTED and dropped.direction is Direction.OUTBOUND
            remote = await _next(a_feed, PeerDropped)
            assert remote.reason is DropReason.REMOTE_DISCONNECT and remote.direction is Direction.INBOUND

    asyncio.run(main())


def test_devp2p_refused_connect_is_a_dial_failure_only() -> None:
    async def main() -> None:
        async with _server("a", listen=None) as a:
            feed = a.subscribe_lifecycle()
            a.add_peer(Node(PrivateKey.generate().public_key, "127.0.0.1", free_port(), 0))
            await _next(feed, DialStarted)
            ev = await _next(feed, DialFailed)
            assert ev.reason is DialFailureReason.CONNECT_REFUSED and not ev.reason.is_policy_refusal
            assert len(feed) == 0  # no HandshakeFailed: nothing was connected

    asyncio.run(main())


def test_devp2p_error_mapping_is_by_type_and_code() -> None:
    assert handshake_failure_reason(HandshakeError("bad MAC")) is HandshakeFailureReason.FAILED
    assert handshake_failure_reason(RemoteProtocolError("x", disconnect_reason=0x05)) is (
        HandshakeFailureReason.ALREADY_CONNECTED
    )
    assert dial_failure_reason(TimeoutError()) is DialFailureReason.HANDSHAKE_TIMEOUT
    wrapped = OSError("wrapped")
    wrapped.__cause__ = ConnectionRefusedError()
    assert dial_failure_reason(wrapped) is DialFailureReason.CONNECT_REFUSED


def test_tm2_dial_add_and_drop() -> None:
    async def main() -> None:
        def node(name: str) -> Tm2Node:
            return Tm2Node(
                name,
                NodeKey.generate(),
                NetMetrics("tm2"),
                host="127.0.0.1",
                port=free_port(),
                moniker=name,
                network="lifecycle-test",
                pex=False,
            )

        a, b = node("a"), node("b")
        async with a, b:
            a_feed, b_feed = a.switch.subscribe_lifecycle(), b.switch.subscribe_lifecycle()
            b.switch.dial_peers(a.address)
            a_host_port = a.address.partition("@")[2]
            assert await _next(b_feed, DialStarted) == DialStarted(str(a.key.id), a_host_port)
            added = await _next(b_feed, PeerAdded)
            assert (added.peer_id, added.address, added.direction) == (
                str(a.key.id),
                a_host_port,
                Direction.OUTBOUND,
            )
            inbound = await _next(a_feed, PeerAdded)
            assert inbound.direction is Direction.INBOUND

            dead = f"{NodeKey.generate().id}@127.0.0.1:{free_port()}"
            b.switch.dial_peers(dead)
            failed = await _next(b_feed, DialFailed)
            assert failed.reason is DialFailureReason.CONNECT_REFUSED

            peer = b.switch.peers().get(str(a.key.id))
            assert peer is not None
            b.switch.stop_peer_for_error(peer, None)
            dropped = await _next(b_feed, PeerDropped)
            assert dropped.reason is DropReason.REQUESTED and dropped.direction is Direction.OUTBOUND
        # after stop, the counters the CLI reads came only from these events
        assert b.metrics.snapshot().dial_failures == 1 and b.metrics.snapshot().dials == 2

    asyncio.run(main())
