"""Dial scheduler round tables on a fake clock (in the spirit of geth's dial_test.go)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tests.devp2p._aio import aio

from peerwire._clock import FakeClock
from peerwire.devp2p import ConnFlag, Node, PrivateKey
from peerwire.devp2p._dial import (
    BACKOFF_FORGET,
    ERR_ALREADY_CONNECTED,
    ERR_ALREADY_DIALING,
    ERR_BACKOFF,
    ERR_NET_RESTRICT,
    ERR_NO_PORT,
    ERR_PENDING_INBOUND,
    ERR_RECENTLY_DIALED,
    ERR_SELF,
    DialScheduler,
    NetRestrict,
    _Backoff,
)
from peerwire.errors import RemoteProtocolError

KEYS = [PrivateKey.generate() for _ in range(20)]
DYN, STATIC = ConnFlag.DYN_DIALED, ConnFlag.STATIC_DIALED


def node(i: int, host: str | None = "127.0.0.1", port: int = 30303) -> Node:
    return Node(KEYS[i].public_key, host, port, port)


def idx(node_id: bytes) -> int:
    return next(i for i, k in enumerate(KEYS) if k.public_key.node_id == node_id)


async def settle() -> None:
    for _ in range(60):
        await asyncio.sleep(0)


@dataclass
class Round:
    peers_added: list[tuple[int, ConnFlag]] = field(default_factory=list)
    peers_removed: list[int] = field(default_factory=list)
    succeeded: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    discovered: list[Node] = field(default_factory=list)
    wait: float = 0.0
    want_new_dials: list[int] = field(default_factory=list)


class Rig:
    def __init__(self, max_dial_peers: int, max_active_dials: int, **kw: object) -> None:
        self.clock = FakeClock()
        self.started: list[tuple[int, str, ConnFlag]] = []
        self.pending: dict[int, tuple[asyncio.Future[None], ConnFlag]] = {}
        self.source: asyncio.Queue[Node] = asyncio.Queue(maxsize=100)
        self.sched = DialScheduler(
            self_id=KEYS[19].public_key.node_id,
            max_dial_peers=max_dial_peers,
            max_active_dials=max_active_dials,
            set_up=self._set_up,
            clock=self.clock,
            rand=random.Random(1),
            **kw,  # type: ignore[arg-type]
        )
        self.last_round: list[tuple[int, str, ConnFlag]] = []
        self.task = asyncio.ensure_future(self.sched.run(self._iter()))

    async def _iter(self) -> AsyncIterator[Node]:
        while True:
            yield await self.source.get()

    async def _set_up(self, n: Node, host: str, flags: ConnFlag) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending[idx(n.id)] = (fut, flags)
        self.started.append((idx(n.id), host, flags))
        await fut

    async def run(self, rounds: list[Round]) -> None:
        await settle()
        for i, r in enumerate(rounds):
            for n, flags in r.peers_added:
                self.sched.peer_added(KEYS[n].public_key.node_id, flags)
            for n in r.peers_removed:
                self.sched.peer_removed(KEYS[n].public_key.node_id, DYN)
            for n in r.succeeded:
                fut, flags = self.pending.pop(n)
                self.sched.peer_added(KEYS[n].public_key.node_id, flags)
                fut.set_result(None)
            for n in r.failed:
                fut, _ = self.pending.pop(n)
                fut.set_exception(OSError("connection refused"))
            for d in r.discovered:
                self.source.put_nowait(d)
            await settle()
            if r.wait:
                await self.clock.advance(r.wait)
                await settle()
            got = sorted(n for n, _, _ in self.started)
            assert got == sorted(r.want_new_dials), (
                f"round {i}: dialed {got}, want {sorted(r.want_new_dials)}"
            )
            self.last_round = list(self.started)
            self.started.clear()

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@aio
async def test_dyn_dial_rounds() -> None:
    """geth TestDialSchedDynDial."""
    rig = Rig(max_dial_peers=4, max_active_dials=5)
    await rig.run(
        [
            # 3 of 4 peers connected: 2 slots; only 2 of the discovered nodes are dialed.
            Round(
                peers_added=[(0, STATIC), (1, DYN), (2, DYN)],
                discovered=[node(i) for i in (0, 2, 3, 4, 5, 6, 7, 8)],
                want_new_dials=[3, 4],
            ),
            # one dial fails, freeing a slot
            Round(failed=[4], want_new_dials=[5]),
            # 0x03 connects (last peer slot); 0x05 fails; nothing else is dialed
            Round(succeeded=[3], failed=[5], discovered=[node(9)]),
            # 3 peers drop: 6 slots, but at most max_active_dials (5) dials
            Round(
                peers_removed=[0, 1, 2],
                discovered=[node(i) for i in (10, 11, 12, 13, 14)],
                want_new_dials=[6, 7, 8, 9, 10],
            ),
        ]
    )
    assert rig.sched.free_dial_slots() == min(2 * (4 - 1), 5) - 5
    await rig.close()


@aio
async def test_static_dial_and_redial_after_history() -> None:
    """Static nodes go first, and a dropped static peer is redialed once its 35 s history expires."""
    rig = Rig(max_dial_peers=3, max_active_dials=5)
    for i in (1, 2):
        rig.sched.add_static(node(i))
    await rig.run(
        [
            Round(discovered=[node(5)], want_new_dials=[1, 2, 5]),
            Round(succeeded=[1, 2]),
            # peer 1 drops at t=0: still in dial history, no redial yet
            Round(peers_removed=[1], wait=30),
            Round(wait=5.5, want_new_dials=[1]),
        ]
    )
    assert rig.last_round == [(1, "127.0.0.1", STATIC)]
    await rig.close()


@aio
async def test_failing_endpoint_backs_off_exponentially_and_resets_on_success() -> None:
    rig = Rig(max_dial_peers=3, max_active_dials=5)
    rig.sched.add_static(node(1))
    await rig.run(
        [
            Round(want_new_dials=[1]),  # t=0
            Round(failed=[1], wait=34.5),  # 1st failure: 35 s
            Round(wait=1, want_new_dials=[1]),  # t=35.5
            Round(failed=[1], wait=69),  # 2nd failure: 70 s
            Round(wait=1, want_new_dials=[1]),  # t=105.5
            Round(failed=[1], wait=139),  # 3rd: 140 s
            Round(wait=1, want_new_dials=[1]),
            Round(succeeded=[1]),
            Round(peers_removed=[1], wait=36, want_new_dials=[1]),  # reset: back to the 35 s history
        ]
    )
    b = rig.sched.backoff_delay
    assert [b(n) for n in (1, 2, 3, 4, 5, 6, 20)] == [35, 70, 140, 280, 300, 300, 300]
    await rig.close()


@aio
async def test_check_dial_order() -> None:
    clock = FakeClock()

    async def never(n: Node, host: str, flags: ConnFlag) -> None:
        await asyncio.Event().wait()

    s = DialScheduler(
        self_id=KEYS[0].public_key.node_id,
        max_dial_peers=5,
        max_active_dials=5,
        set_up=never,
        clock=clock,
        net_restrict=NetRestrict(["127.0.0.0/8"]),
    )
    assert s.check_dial(node(0, port=0)) == ERR_SELF
    assert s.check_dial(node(1, port=0)) == ERR_NO_PORT
    assert s.check_dial(node(1, host=None, port=0)) is None  # no IP: resolved later
    s.step()
    s._start_dial(
        s.static.get(b"") or __import__("peerwire.devp2p._dial", fromlist=["_Task"])._Task(node(1), DYN)
    )
    assert s.check_dial(node(1, "10.0.0.1")) == ERR_ALREADY_DIALING
    s.peers.add(node(2).id)
    s.pending_inbound.add(node(2).id)
    assert s.check_dial(node(2, "10.0.0.1")) == ERR_ALREADY_CONNECTED
    s.pending_inbound.add(node(3).id)
    s.history[node(3).id] = 100.0
    assert s.check_dial(node(3, "10.0.0.1")) == ERR_PENDING_INBOUND
    assert s.check_dial(node(4, "10.0.0.1")) == ERR_NET_RESTRICT
    s.history[node(4).id] = 100.0
    assert s.check_dial(node(4)) == ERR_RECENTLY_DIALED
    await clock.advance(100)
    assert s.check_dial(node(4)) is None
    s.backoff[node(5).id] = _Backoff(1, 135.0)
    assert s.check_dial(node(5)) == ERR_BACKOFF
    for t in list(s._tasks):
        t.cancel()
    await asyncio.gather(*s._tasks, return_exceptions=True)


@aio
async def test_static_hostname_resolved_before_each_dial() -> None:
    answers = [["10.1.1.1"], ["10.2.2.2"], []]
    lookups: list[str] = []

    async def resolver(host: str) -> list[str]:
        lookups.append(host)
        return answers.pop(0)

    rig = Rig(max_dial_peers=3, max_active_dials=5, resolve_host=resolver)
    rig.sched.add_static(node(1, host="static.example"))
    await settle()
    assert rig.started == [(1, "10.1.1.1", STATIC)]
    rig.started.clear()
    await rig.run([Round(failed=[1], wait=36, want_new_dials=[1])])
    assert rig.last_round == [(1, "10.2.2.2", STATIC)]  # re-resolved
    await rig.run([Round(failed=[1], wait=71, want_new_dials=[1])])
    assert rig.last_round == [(1, "10.2.2.2", STATIC)]  # lookup failed: last good address kept
    assert lookups == ["static.example"] * 3
    await rig.close()


@aio
async def test_net_restrict_applies_to_resolved_address() -> None:
    async def resolver(host: str) -> list[str]:
        return ["192.168.7.7"]

    rig = Rig(
        max_dial_peers=3, max_active_dials=5, resolve_host=resolver, net_restrict=NetRestrict(["10.0.0.0/8"])
    )
    rig.sched.add_static(node(1, host="static.example"))
    await settle()
    assert rig.started == []
    assert rig.sched.failures_log[-1][1] == ERR_NET_RESTRICT
    await rig.close()


@aio
async def test_backoff_records_are_forgotten_after_a_quiet_period() -> None:
    clock = FakeClock()

    async def never(n: Node, host: str, flags: ConnFlag) -> None:
        await asyncio.Event().wait()

    s = DialScheduler(self_id=b"", max_dial_peers=1, max_active_dials=1, set_up=never, clock=clock)
    s.backoff[node(1).id] = _Backoff(failures=3, until=140.0, last_failure=0.0)
    await clock.advance(BACKOFF_FORGET - 1)
    s.step()
    assert s.backoff[node(1).id].until == 0.0  # backoff over, record kept
    await clock.advance(1)
    s.step()
    assert node(1).id not in s.backoff


@aio
async def test_already_connected_while_the_node_connects_inbound_is_no_failure() -> None:
    """Simultaneous open: our dial is refused ALREADY_CONNECTED while the node's own connection
    to us is still in its handshake (pending inbound): no backoff; any other failure backs off."""
    rig = Rig(max_dial_peers=3, max_active_dials=5)
    rig.sched.add_static(node(1))
    rig.sched.add_static(node(2))
    await rig.run([Round(want_new_dials=[1, 2])])
    for n in (1, 2):
        rig.sched.add_pending_inbound(node(n).id)
    rig.pending.pop(1)[0].set_exception(RemoteProtocolError("rejected", disconnect_reason=5))
    rig.pending.pop(2)[0].set_exception(RemoteProtocolError("rejected", disconnect_reason=4))
    await settle()
    assert node(1).id not in rig.sched.backoff
    assert rig.sched.backoff[node(2).id].failures == 1  # TOO_MANY_PEERS is an endpoint failure
    await rig.close()


@aio
async def test_node_filter_gates_dynamic_candidates_only() -> None:
    """Config.node_filter: sync or async; a candidate that fails it, or makes it raise, is not dialed."""
    seen: list[int] = []

    async def only_even(n: Node) -> bool:
        seen.append(idx(n.id))
        if idx(n.id) == 6:
            raise RuntimeError("filter bug")  # rejects this one node, the scheduler goes on
        await asyncio.sleep(0)
        return idx(n.id) % 2 == 0

    rig = Rig(max_dial_peers=10, max_active_dials=10, node_filter=only_even)
    rig.sched.add_static(node(1))  # static nodes are dialed whatever the filter says
    await rig.run(
        [
            Round(discovered=[node(i) for i in (2, 3, 4, 5, 6, 8)], want_new_dials=[1, 2, 4, 8]),
        ]
    )
    assert seen == [2, 3, 4, 5, 6, 8]
    assert rig.sched.filtered_out == 3
    assert any("filter bug" in why for _, why in rig.sched.failures_log)
    await rig.close()

    sync_rig = Rig(max_dial_peers=10, max_active_dials=10, node_filter=lambda n: idx(n.id) > 10)
    await sync_rig.run([Round(discovered=[node(i) for i in (3, 11, 12)], want_new_dials=[11, 12])])
    await sync_rig.close()


@aio
async def test_a_stuck_async_node_filter_times_out_on_the_clock() -> None:
    from peerwire.devp2p._dial import NODE_FILTER_TIMEOUT

    async def stuck(n: Node) -> bool:
        if idx(n.id) == 3:
            await asyncio.Event().wait()
        return True

    rig = Rig(max_dial_peers=10, max_active_dials=10, node_filter=stuck)
    await rig.run(
        [
            Round(discovered=[node(3), node(4)], want_new_dials=[]),  # 4 waits behind the stuck filter
            Round(wait=NODE_FILTER_TIMEOUT, want_new_dials=[4]),  # fake time ends it: 3 skipped
        ]
    )
    assert rig.sched.filtered_out == 1
    await rig.close()
