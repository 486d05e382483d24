"""The switch's per-peer state: one :class:`PeerRecord` per peer ID, with a :class:`PeerState`.

A record is born ``DIALING`` (an outbound dial is in flight; no connection
yet) or ``ADDING`` (a verified connection is being started and announced to
the reactors), becomes ``ACTIVE`` (in the peer set) and ends ``TEARING_DOWN``
(out of the switch's index; reactors told, connection closed). The
transitions are the table :data:`TRANSITIONS`; anything else is a bug and
raises.

An active record owns the peer's dispatch queues (one per channel, bounded;
a full one makes the connection wait: backpressure, never a drop) and its
broadcast queue (bounded; full means that peer misses that broadcast,
counted). Its tasks live in the switch's peer task group and are cancelled
when the record is torn down.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from peerwire._budget import NodeBudget
from peerwire.tm2._config import SwitchConfig
from peerwire.tm2._contracts import PeerConn, Reactor
from peerwire.tm2._errors import PacketDecodeError
from peerwire.tm2._keys import ID

__all__ = ["TRANSITIONS", "PeerRecord", "PeerState", "SwitchStats"]

log = logging.getLogger("peerwire.tm2.switch")


class PeerState(enum.Enum):
    DIALING = "dialing"
    ADDING = "adding"
    ACTIVE = "active"
    TEARING_DOWN = "tearing down"


TRANSITIONS: dict[PeerState | None, frozenset[PeerState]] = {
    None: frozenset({PeerState.DIALING, PeerState.ADDING}),
    PeerState.DIALING: frozenset({PeerState.ADDING, PeerState.TEARING_DOWN}),
    PeerState.ADDING: frozenset({PeerState.ACTIVE, PeerState.TEARING_DOWN}),
    PeerState.ACTIVE: frozenset({PeerState.TEARING_DOWN}),
    PeerState.TEARING_DOWN: frozenset(),
}


@dataclass
class SwitchStats:
    """Counters of the switch's decisions (each drop or refusal has one)."""

    dials: int = 0
    dial_failures: int = 0
    rejected_inbound_full: int = 0
    rejected_duplicate: int = 0
    rejected_duplicate_ip: int = 0
    rejected_self: int = 0
    invalid_addresses: int = 0
    dial_queue_full: int = 0
    broadcast_dropped: int = 0
    #: Times a full dispatch queue paused reading from a peer (backpressure, nothing lost).
    dispatch_waits: int = 0
    #: Always 0: received messages are never dropped (kept for compatibility).
    dispatch_dropped: int = 0


Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None | None]"]


class _Inbox:
    """Messages of one channel of one peer waiting for the reactor."""

    __slots__ = ("items", "room", "size", "wake")

    def __init__(self) -> None:
        self.items: deque[bytes] = deque()
        self.size = 0  # bytes queued
        self.wake = asyncio.Event()  # set when items arrive
        self.room = asyncio.Event()  # set when items leave


class PeerRecord:
    """Everything the switch knows about one peer ID."""

    def __init__(self, peer_id: ID, state: PeerState, peer: PeerConn | None = None) -> None:
        self.id = peer_id
        self.state: PeerState | None = None
        self.peer = peer
        self.move(state)
        self._inbox: dict[int, _Inbox] = {}
        self._tasks: list[asyncio.Task[None | None]] = []
        # Broadcast queue: a deque and an event (cheaper than asyncio.Queue on these hot paths).
        self._outq: deque[tuple[int, bytes]] = deque()
        self._outq_bytes = 0
        self._sending = False
        self._wake = asyncio.Event()
        self._sender: asyncio.Task[None | None] | None = None
        self.broadcast_dropped = 0
        self.dispatch_waits = 0
        self._budget: NodeBudget | None = None

    def __repr__(self) -> str:
        return f"PeerRecord({self.id}, {self.state.value if self.state else None})"

    def move(self, to: PeerState) -> None:
        """Change state along :data:`TRANSITIONS`.

        Raises:
            RuntimeError: not an allowed transition (a bug).
        """
        if to not in TRANSITIONS[self.state]:
            raise RuntimeError(f"peer {self.id}: {self.state} -> {to} is not a valid transition")
        self.state = to

    @property
    def live(self) -> bool:
        return self.state is PeerState.ACTIVE or self.state is PeerState.ADDING

    # -- receiving: dispatch with backpressure ----------------------------------------------------
    async def deliver(
        self,
        ch_id: int,
        msg: bytes,
        reactors: Mapping[int, Reactor],
        cfg: SwitchConfig,
        stats: SwitchStats,
        spawn: Spawn,
        on_error: Callable[[PeerConn, BaseException], None],
        budget: NodeBudget | None = None,
    ) -> None:
        """Queue ``msg`` for the channel's reactor; wait while the queue is full (the caller,
        the connection's read loop, then reads nothing more from this peer). Queued bytes
        count against the node's ``budget`` as the peer's until the reactor has handled them."""
        peer = self.peer
        if not self.live or peer is None:
            return
        box = self._inbox.get(ch_id)
        if box is None:
            reactor = reactors.get(ch_id)
            if reactor is None:
                on_error(peer, PacketDecodeError(f"message on unknown channel {ch_id:#x}"))
                return
            box = self._inbox[ch_id] = _Inbox()
            self._budget = budget
            self._tasks.append(
                spawn(self._dispatch(ch_id, reactor, box, on_error), f"tm2-dispatch-{self.id}")
            )
        while box.items and (
            len(box.items) >= cfg.dispatch_queue_size or box.size + len(msg) > cfg.dispatch_queue_bytes
        ):
            self.dispatch_waits += 1
            stats.dispatch_waits += 1
            box.room.clear()
            await box.room.wait()
            if not self.live:
                return
        box.items.append(msg)
        box.size += len(msg)
        box.wake.set()
        if budget is not None:
            budget.charge(peer, len(msg))

    async def _dispatch(
        self, ch_id: int, reactor: Reactor, box: _Inbox, on_error: Callable[[PeerConn, BaseException], None]
    ) -> None:
        items = box.items
        peer = self.peer
        assert peer is not None
        while self.live:
            if not items:
                box.wake.clear()
                await box.wake.wait()
                continue
            msg = items[0]
            try:
                await reactor.receive(ch_id, peer, msg)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a reactor failing on a peer's message is that peer's error
                log.debug("reactor %s failed on a message from %s: %r", reactor.name, self.id, e)
                on_error(peer, e)
                return
            finally:
                # The message leaves the queue only once handled: the bound covers it too.
                items.popleft()
                box.size -= len(msg)
                box.room.set()
                if self._budget is not None:
                    self._budget.release(peer, len(msg))

    # -- sending: broadcast queue with an explicit drop policy ----------------------------------------
    def enqueue(self, ch_id: int, msg: bytes, cfg: SwitchConfig, stats: SwitchStats, spawn: Spawn) -> bool:
        peer = self.peer
        if self.state is not PeerState.ACTIVE or peer is None:
            return False
        out = self._outq
        # Fast path: nothing queued or in flight, so sending now keeps the order.
        if not out and not self._sending and peer.try_send(ch_id, msg):
            return True
        queued = self._outq_bytes
        if len(out) >= cfg.broadcast_queue_size or (queued and queued + len(msg) > cfg.broadcast_queue_bytes):
            self.broadcast_dropped += 1
            stats.broadcast_dropped += 1
            return False
        out.append((ch_id, msg))
        self._outq_bytes = queued + len(msg)
        if self._sender is None:
            self._sender = spawn(self._send_loop(peer, stats), f"tm2-broadcast-{self.id}")
            self._tasks.append(self._sender)
        self._wake.set()
        return True

    async def _send_loop(self, peer: PeerConn, stats: SwitchStats) -> None:
        out = self._outq
        while True:
            if not out:
                self._wake.clear()
                await self._wake.wait()
                continue
            ch_id, msg = out.popleft()
            self._outq_bytes -= len(msg)
            self._sending = True
            try:
                # Non-blocking first (the common case: room in the connection's queue).
                ok = peer.try_send(ch_id, msg) or await peer.send(ch_id, msg)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.debug("broadcast to %s failed: %r", self.id, e)
                ok = False
            finally:
                self._sending = False
            if not ok:
                self.broadcast_dropped += 1
                stats.broadcast_dropped += 1

    def close(self) -> None:
        """Cancel the record's tasks and release a read loop waiting for room."""
        for box in self._inbox.values():
            box.room.set()
        if self._budget is not None and self.peer is not None:
            self._budget.forget(self.peer)  # its queued messages go with it
        current = asyncio.current_task()
        for t in self._tasks:
            if t is not current:
                t.cancel()
