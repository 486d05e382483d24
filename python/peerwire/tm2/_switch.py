"""The TM2 switch (gno ``p2p.MultiplexSwitch``): peers, reactors, and the accept, dial and redial loops.

Where it deliberately differs from gno (each point is a known gno flaw):

- A rejected inbound connection (inbound limit, duplicate ID) is closed, not
  just forgotten (tendermint#2046 fd leak).
- The dial loop sleeps until the next queued item is due (gno #6052 spins a
  core); dials run concurrently, at most ``max_concurrent_dials`` at once,
  each bounded by ``dial_timeout`` (3 s, gno's value).
- Redial backoff cannot overflow (gno's ``1s << attempts`` wraps after ~34
  attempts); persistent peers are re-resolved on every dial (gno #2580), and
  are not subject to the outbound cap (gno #1923).
- ``receive`` is dispatched on a bounded queue per peer and channel with its
  own task: a slow reactor delays only its own channel of that peer, never the
  connection's read loop, other channels or ping/pong (cometbft #2685). When a
  dispatch queue is full the message is dropped and counted.
- ``broadcast`` never waits: each peer has a bounded outgoing queue drained by
  its own task; when full, the message is dropped for that peer and counted.
- Two connections to one peer (simultaneous open) are resolved the same way on
  both ends, as gno v1.7 does: the connection dialed by the lower ID survives.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import random
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._pubsub import Subscription as PubSubscription
from peerwire.errors import DecodeError, DialError, LocalProtocolError, TimeoutError
from peerwire.events import DialFailureReason, HandshakeFailureReason
from peerwire.events import Event as LifecycleEvent
from peerwire.tm2._addr import PeerAddress, is_ip_literal
from peerwire.tm2._contracts import ChannelDescriptor, PeerConn, Receiver, Transport
from peerwire.tm2._dial import DialQueue, redial_backoff
from peerwire.tm2._events import (
    DEFAULT_EVENT_BUFFER,
    EventBus,
    EventFilter,
    PeerConnectedEvent,
    PeerDisconnectedEvent,
    Subscription,
)
from peerwire.tm2._keys import ID, validate_id
from peerwire.tm2._lifecycle import LifecycleFeed, host_port
from peerwire.tm2._netaddr import NetAddress
from peerwire.tm2._peerset import PeerSet
from peerwire.tm2._reactor import BaseReactor

__all__ = [
    "DEFAULT_DIAL_TIMEOUT",
    "DEFAULT_MAX_INBOUND",
    "DEFAULT_MAX_OUTBOUND",
    "DEFAULT_REDIAL_INTERVAL",
    "MultiplexSwitch",
    "Resolver",
    "SwitchOption",
    "SwitchStats",
    "with_broadcast_queue_size",
    "with_clock",
    "with_dial_timeout",
    "with_dispatch_queue_size",
    "with_max_concurrent_dials",
    "with_max_inbound_peers",
    "with_max_outbound_peers",
    "with_persistent_peers",
    "with_private_peers",
    "with_reactor",
    "with_redial_interval",
    "with_resolver",
    "with_rng",
]

log = logging.getLogger("peerwire.tm2.switch")

T = TypeVar("T")

DEFAULT_MAX_INBOUND = 40
DEFAULT_MAX_OUTBOUND = 10
DEFAULT_DIAL_TIMEOUT = 3.0  # gno switch.go defaultDialTimeout
DEFAULT_REDIAL_INTERVAL = 5.0  # the persistent peer check period
DEFAULT_MAX_CONCURRENT_DIALS = 8
# Messages queued for one peer by broadcast before new ones are dropped: a
# stalled peer costs at most this many messages of memory.
DEFAULT_BROADCAST_QUEUE = 256
# Messages received on one channel of one peer and not yet taken by the
# reactor; past it they are dropped (a peer outrunning a reactor costs memory
# bounded by this times the channel's message capacity).
DEFAULT_DISPATCH_QUEUE = 256
# The same two queues are also bounded in bytes (one message is always let in, so a
# message up to the channel's capacity still passes): a peer sending 21 MiB messages
# faster than its reactor reads them costs at most this much memory per channel.
DISPATCH_QUEUE_BYTES = 8 * 1024 * 1024
BROADCAST_QUEUE_BYTES = 8 * 1024 * 1024
DIAL_HISTORY = 1024
# Accept errors in a row are spaced by this, so a broken transport cannot spin.
ACCEPT_ERROR_PAUSE = 0.05
# How long a reactor's add_peer / remove_peer may take before it is abandoned.
REACTOR_HOOK_TIMEOUT = 10.0

Resolver = Callable[[str], Awaitable[str]]
SwitchOption = Callable[["MultiplexSwitch"], None]


class DuplicatePeerError(LocalProtocolError):
    """A second connection to an already connected peer lost the tie-break."""


@dataclass
class SwitchStats:
    dials: int = 0
    dial_failures: int = 0
    rejected_inbound_full: int = 0
    rejected_duplicate: int = 0
    rejected_self: int = 0
    invalid_addresses: int = 0
    dial_queue_full: int = 0
    broadcast_dropped: int = 0
    dispatch_dropped: int = 0


async def with_timeout(clock: Clock, aw: Awaitable[T], seconds: float) -> T:
    """Await ``aw`` for at most ``seconds`` of ``clock`` time (``asyncio.timeout`` on an injected clock).

    Raises:
        TimeoutError: it ran out.
    """
    task = asyncio.ensure_future(aw)
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({task, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        sleeper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
    raise TimeoutError(f"timed out after {seconds} s")


async def default_resolver(host: str) -> str:
    """Resolve ``host`` with the system resolver (IPv4 first), bounded to 5 s."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(5.0):
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    if not infos:
        raise DialError(f"cannot resolve {host!r}", reason="resolve")
    infos.sort(key=lambda i: 0 if i[0] == socket.AF_INET else 1)
    return str(infos[0][4][0])


def _as_address(addr: object) -> PeerAddress:
    if isinstance(addr, PeerAddress):
        return addr
    return PeerAddress.parse(str(addr))


# -- options -----------------------------------------------------------------------------------------


def with_reactor(name: str, reactor: BaseReactor) -> SwitchOption:
    """Add a reactor; its channels must not be claimed by an earlier one."""

    def apply(sw: MultiplexSwitch) -> None:
        sw._add_reactor(name, reactor)

    return apply


def with_max_inbound_peers(n: int) -> SwitchOption:
    def apply(sw: MultiplexSwitch) -> None:
        sw._max_inbound = max(0, int(n))

    return apply


def with_max_outbound_peers(n: int) -> SwitchOption:
    def apply(sw: MultiplexSwitch) -> None:
        sw._max_outbound = max(0, int(n))

    return apply


def with_persistent_peers(addrs: Iterable[object]) -> SwitchOption:
    """Peers kept connected at all cost: ``id@host:port`` strings or addresses; hostnames are
    resolved again on every dial."""

    def apply(sw: MultiplexSwitch) -> None:
        for a in addrs:
            pa = _as_address(a)
            sw._persistent[pa.id] = pa

    return apply


def with_private_peers(ids: Iterable[str]) -> SwitchOption:
    """Peers never shared with others by discovery."""

    def apply(sw: MultiplexSwitch) -> None:
        sw._private.update(validate_id(str(i)) for i in ids)

    return apply


def with_clock(clock: Clock) -> SwitchOption:
    def apply(sw: MultiplexSwitch) -> None:
        sw.clock = clock
        sw._queue = DialQueue(clock)

    return apply


def with_resolver(resolver: Resolver) -> SwitchOption:
    def apply(sw: MultiplexSwitch) -> None:
        sw._resolver = resolver

    return apply


def with_rng(rng: random.Random) -> SwitchOption:
    def apply(sw: MultiplexSwitch) -> None:
        sw.rng = rng

    return apply


def with_dial_timeout(seconds: float) -> SwitchOption:
    def apply(sw: MultiplexSwitch) -> None:
        sw._dial_timeout = float(seconds)

    return apply


def with_redial_interval(seconds: float) -> SwitchOption:
    def apply(sw: MultiplexSwitch) -> None:
        sw._redial_interval = float(seconds)

    return apply


def with_max_concurrent_dials(n: int) -> SwitchOption:
    def apply(sw: MultiplexSwitch) -> None:
        sw._max_dials = max(1, int(n))

    return apply


def with_broadcast_queue_size(n: int) -> SwitchOption:
    def apply(sw: MultiplexSwitch) -> None:
        sw._broadcast_queue = max(1, int(n))

    return apply


def with_dispatch_queue_size(n: int) -> SwitchOption:
    def apply(sw: MultiplexSwitch) -> None:
        sw._dispatch_queue = max(1, int(n))

    return apply


# -- per-peer runtime ----------------------------------------------------------------------------------


class _Inbox:
    """Messages of one channel of one peer waiting for the reactor (bounded by the caller)."""

    __slots__ = ("items", "size", "wake")

    def __init__(self) -> None:
        self.items: deque[bytes] = deque()
        self.size = 0  # bytes queued
        self.wake = asyncio.Event()


class _PeerRuntime:
    """The switch's side of one connected peer: dispatch queues and the broadcast queue."""

    def __init__(self, sw: MultiplexSwitch, peer: PeerConn) -> None:
        self.sw = sw
        self.peer = peer
        self.inbox: dict[int, _Inbox] = {}
        self.tasks: list[asyncio.Task[None]] = []
        # Broadcast queue: a deque and an event (cheaper than asyncio.Queue on these hot paths).
        self.outq: deque[tuple[int, bytes]] = deque()
        self.outq_bytes = 0
        self.sending = False
        self.wake = asyncio.Event()
        self.sender: asyncio.Task[None] | None = None
        self.dispatch_dropped = 0
        self.broadcast_dropped = 0
        self.live = True

    def deliver(self, ch_id: int, msg: bytes) -> bool:
        if not self.live:
            return False
        box = self.inbox.get(ch_id)
        if box is None:
            reactor = self.sw._reactors_by_ch.get(ch_id)
            if reactor is None:
                self.sw.stop_peer_for_error(self.peer, DecodeError(f"message on unknown channel {ch_id:#x}"))
                return False
            box = self.inbox[ch_id] = _Inbox()
            self.tasks.append(asyncio.create_task(self._dispatch(ch_id, reactor, box)))
        queued = box.size
        if len(box.items) >= self.sw._dispatch_queue or (queued and queued + len(msg) > DISPATCH_QUEUE_BYTES):
            self.dispatch_dropped += 1
            self.sw.stats.dispatch_dropped += 1
            return False
        box.items.append(msg)
        box.size = queued + len(msg)
        box.wake.set()
        return True

    async def _dispatch(self, ch_id: int, reactor: BaseReactor, box: _Inbox) -> None:
        items = box.items
        while True:
            if not items:
                box.wake.clear()
                await box.wake.wait()
                continue
            msg = items.popleft()
            box.size -= len(msg)
            try:
                await reactor.receive(ch_id, self.peer, msg)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a reactor failing on a peer's message is that peer's error
                log.debug("reactor %s failed on a message from %s: %r", reactor.name, self.peer.id, e)
                self.sw.stop_peer_for_error(self.peer, e)
                return

    def enqueue(self, ch_id: int, msg: bytes) -> bool:
        if not self.live:
            return False
        out = self.outq
        # Fast path: nothing queued or in flight, so sending now keeps the order.
        if not out and not self.sending and self.peer.try_send(ch_id, msg):
            return True
        queued = self.outq_bytes
        if len(out) >= self.sw._broadcast_queue or (queued and queued + len(msg) > BROADCAST_QUEUE_BYTES):
            self.broadcast_dropped += 1
            self.sw.stats.broadcast_dropped += 1
            return False
        out.append((ch_id, msg))
        self.outq_bytes = queued + len(msg)
        if self.sender is None:
            self.sender = asyncio.create_task(self._send_loop())
            self.tasks.append(self.sender)
        self.wake.set()
        return True

    async def _send_loop(self) -> None:
        out = self.outq
        while True:
            if not out:
                self.wake.clear()
                await self.wake.wait()
                continue
            ch_id, msg = out.popleft()
            self.outq_bytes -= len(msg)
            self.sending = True
            try:
                # Non-blocking first (the common case: room in the connection's queue).
                ok = self.peer.try_send(ch_id, msg) or await self.peer.send(ch_id, msg)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.debug("broadcast to %s failed: %r", self.peer.id, e)
                ok = False
            finally:
                self.sending = False
            if not ok:
                self.broadcast_dropped += 1
                self.sw.stats.broadcast_dropped += 1

    def close(self) -> None:
        self.live = False
        for t in self.tasks:
            t.cancel()


class _Dispatcher:
    """What ``PeerBehavior.reactors()`` hands to connections: enqueue and return at once."""

    def __init__(self, sw: MultiplexSwitch, reactor: BaseReactor) -> None:
        self._sw = sw
        self.reactor = reactor

    async def receive(self, ch_id: int, peer: PeerConn, msg: bytes) -> None:
        self._sw._deliver(ch_id, peer, msg)


class _Behavior:
    """The switch as the transport sees it (gno ``reactorPeerBehavior``)."""

    def __init__(self, sw: MultiplexSwitch) -> None:
        self._sw = sw

    def reactor_ch_descriptors(self) -> Sequence[ChannelDescriptor]:
        return list(self._sw._ch_descs)

    def reactors(self) -> Mapping[int, Receiver]:
        return self._sw._dispatchers

    def handle_peer_error(self, peer: PeerConn, err: BaseException) -> None:
        self._sw.stop_peer_for_error(peer, err)

    def is_persistent_peer(self, peer_id: str) -> bool:
        return self._sw.is_persistent_peer(peer_id)

    def is_private_peer(self, peer_id: str) -> bool:
        return self._sw.is_private_peer(peer_id)


# -- the switch ----------------------------------------------------------------------------------------


class MultiplexSwitch:
    """Manages peers over a :class:`Transport` and routes channel messages to reactors.

    Use as ``async with MultiplexSwitch(transport, *options) as sw: ...`` (the
    transport should already listen). Every method is called from the event loop
    the switch runs on; none of them blocks.
    """

    def __init__(self, transport: Transport, *options: SwitchOption) -> None:
        self.transport = transport
        self.clock: Clock = SYSTEM_CLOCK
        self.rng: random.Random = random.SystemRandom()
        self.stats = SwitchStats()
        # (clock time the dial started, peer ID, connected?) of the last dials, for
        # observability and tests; bounded.
        self.dial_history: deque[tuple[float, ID, bool]] = deque(maxlen=DIAL_HISTORY)
        self._queue = DialQueue(self.clock)
        self._resolver: Resolver = default_resolver
        self._max_inbound = DEFAULT_MAX_INBOUND
        self._max_outbound = DEFAULT_MAX_OUTBOUND
        self._dial_timeout = DEFAULT_DIAL_TIMEOUT
        self._redial_interval = DEFAULT_REDIAL_INTERVAL
        self._max_dials = DEFAULT_MAX_CONCURRENT_DIALS
        self._broadcast_queue = DEFAULT_BROADCAST_QUEUE
        self._dispatch_queue = DEFAULT_DISPATCH_QUEUE
        self._reactors: dict[str, BaseReactor] = {}
        self._reactors_by_ch: dict[int, BaseReactor] = {}
        self._dispatchers: dict[int, _Dispatcher] = {}
        self._ch_descs: list[ChannelDescriptor] = []
        self._persistent: dict[ID, PeerAddress] = {}
        self._private: set[ID] = set()
        self._peers = PeerSet()
        self._runtimes: dict[ID, _PeerRuntime] = {}
        self._dialing: set[ID] = set()
        self._adding: dict[ID, PeerConn] = {}
        self._tearing: set[int] = set()
        self._redial_attempts: dict[ID, int] = {}
        self._events = EventBus()
        #: Typed lifecycle events (peerwire.events); see subscribe_lifecycle().
        self.lifecycle = LifecycleFeed(DuplicatePeerError)
        self._behavior = _Behavior(self)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._dial_tasks: set[asyncio.Task[Any]] = set()
        self._dial_slots: asyncio.Semaphore | None = None
        self._running = False
        for opt in options:
            opt(self)

    # -- configuration ------------------------------------------------------------------------------
    def _add_reactor(self, name: str, reactor: BaseReactor) -> None:
        if name in self._reactors:
            raise ValueError(f"reactor name {name!r} already used")
        chans = list(reactor.get_channels())
        for cd in chans:
            if cd.id in self._reactors_by_ch:
                raise ValueError(f"channel {cd.id:#x} is already claimed by another reactor")
        for cd in chans:
            self._reactors_by_ch[cd.id] = reactor
            self._dispatchers[cd.id] = _Dispatcher(self, reactor)
            self._ch_descs.append(cd)
        self._reactors[name] = reactor
        reactor.set_switch(self)

    def reactor(self, name: str) -> BaseReactor | None:
        return self._reactors.get(name)

    @property
    def behavior(self) -> _Behavior:
        """The :class:`PeerBehavior` this switch gives its transport."""
        return self._behavior

    @property
    def max_inbound_peers(self) -> int:
        return self._max_inbound

    @property
    def max_outbound_peers(self) -> int:
        return self._max_outbound

    def own_id(self) -> str:
        """Our node ID ("" while the transport does not know it, e.g. before it listens)."""
        try:
            return str(getattr(self.transport.net_address(), "id", ""))
        except Exception:
            return ""

    def own_address(self) -> PeerAddress | None:
        try:
            return _as_address(self.transport.net_address())
        except Exception:
            return None

    def is_persistent_peer(self, peer_id: str) -> bool:
        return peer_id in self._persistent

    def is_private_peer(self, peer_id: str) -> bool:
        return peer_id in self._private

    def persistent_peers(self) -> list[PeerAddress]:
        return list(self._persistent.values())

    # -- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._running:
            raise LocalProtocolError("switch already started")
        self._running = True
        self._dial_slots = asyncio.Semaphore(self._max_dials)
        for r in self._reactors.values():
            await r.start()
        self._loops = [
            asyncio.create_task(self._accept_loop(), name="tm2-accept"),
            asyncio.create_task(self._dial_loop(), name="tm2-dial"),
            asyncio.create_task(self._redial_loop(), name="tm2-redial"),
        ]

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        for t in self._loops:
            t.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        dials = list(self._dial_tasks)  # in-flight dials are abandoned, not awaited
        for t in dials:
            t.cancel()
        await asyncio.gather(*dials, return_exceptions=True)
        for p in [*self._peers.list(), *self._adding.values()]:
            self.stop_peer_for_error(p, None)
        pending = list(self._tasks)
        if pending:
            _done, still = await asyncio.wait(pending, timeout=5.0)
            for t in still:
                t.cancel()
        for r in self._reactors.values():
            try:
                await r.stop()
            except Exception as e:
                log.warning("reactor %s failed to stop: %r", r.name, e)
        for t in list(self._tasks):
            t.cancel()

    async def __aenter__(self) -> MultiplexSwitch:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._running

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        t = asyncio.create_task(coro, name=name)
        self._tasks.add(t)

        def done(task: asyncio.Task[Any]) -> None:
            self._tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.warning("switch task %s failed: %r", task.get_name(), task.exception())

        t.add_done_callback(done)
        return t

    # -- public API -----------------------------------------------------------------------------------
    def peers(self) -> PeerSet:
        return self._peers

    def subscribe(self, flt: EventFilter | None = None, maxsize: int = DEFAULT_EVENT_BUFFER) -> Subscription:
        """Events passing ``flt`` (all if None), as an async iterator; see ``_events`` for drops."""
        return self._events.subscribe(flt, maxsize)

    def subscribe_lifecycle(self, maxsize: int = DEFAULT_EVENT_BUFFER) -> PubSubscription[LifecycleEvent]:
        """Typed dial / handshake / peer events (:mod:`peerwire.events`), bounded, drop-and-count."""
        return self.lifecycle.subscribe(maxsize=maxsize)

    def broadcast(self, ch_id: int, data: bytes) -> int:
        """Queue ``data`` on channel ``ch_id`` for every peer; never waits.

        Returns the number of peers it was queued for (a full per-peer queue drops it).
        """
        data = bytes(data)
        n = 0
        for rt in list(self._runtimes.values()):
            if rt.enqueue(ch_id, data):
                n += 1
        return n

    def dial_peers(self, *addrs: object) -> int:
        """Queue addresses (``id@host:port`` strings or address objects) for dialing now.

        Invalid addresses, our own, peers already connected or queued, and (for
        non-persistent peers) anything beyond the outbound cap are skipped.
        Returns how many were queued.
        """
        own = self.own_address()
        own_id = self.own_id()
        queued = 0
        for a in addrs:
            try:
                pa = _as_address(a)
                if pa.is_resolved:
                    pa.validate()  # hostnames are validated once resolved, at dial time
            except (DecodeError, ValueError) as e:
                self.stats.invalid_addresses += 1
                log.debug("not dialing %r: %s", a, e)
                continue
            if pa.id == own_id or (own is not None and pa.same(own)):
                continue
            if self._peers.has(pa.id) or pa.id in self._dialing or self._queue.has(pa):
                continue
            if not self.is_persistent_peer(pa.id) and self._peers.num_outbound() >= self._max_outbound:
                continue
            if not self._queue.push(pa):
                self.stats.dial_queue_full += 1
                continue
            queued += 1
        return queued

    def stop_peer_for_error(self, peer: PeerConn, err: BaseException | None) -> None:
        """Disconnect ``peer``: it leaves the peer set at once; reactors are told, the
        connection is closed, PeerDisconnected is emitted and a persistent peer is redialed."""
        key = id(peer)
        if key in self._tearing:
            return
        self._tearing.add(key)
        was_added = self._peers.get(peer.id) is peer
        if was_added:
            self._peers.remove(peer.id)
        rt = self._runtimes.get(peer.id)
        if rt is not None and rt.peer is peer:
            del self._runtimes[peer.id]
            rt.close()
        self._spawn(self._teardown(peer, was_added, err), name=f"tm2-stop-{peer.id}")

    # -- internals ------------------------------------------------------------------------------------
    def _deliver(self, ch_id: int, peer: PeerConn, msg: bytes) -> None:
        rt = self._runtimes.get(peer.id)
        if rt is None or rt.peer is not peer:
            return  # a connection that is not (or no longer) the registered one
        rt.deliver(ch_id, msg)

    async def _teardown(self, peer: PeerConn, was_added: bool, err: BaseException | None) -> None:
        try:
            try:
                self.transport.remove(peer)
            except Exception as e:
                log.debug("transport.remove(%s): %r", peer.id, e)
            for step in (peer.close_conn, peer.stop):
                try:
                    await with_timeout(self.clock, step(), REACTOR_HOOK_TIMEOUT)
                except Exception as e:
                    log.debug("closing %s: %r", peer.id, e)
            for r in self._reactors.values():
                if was_added:
                    await self._call_hook(r, r.remove_peer, peer, err)
                if self._peers.get(peer.id) is None and peer.id not in self._adding:
                    r._drop_peer_states(peer)
            if was_added:
                self._events.publish(PeerDisconnectedEvent(peer.id, str(peer.socket_addr), err))
                self.lifecycle.peer_dropped(
                    peer.id, host_port(peer.socket_addr), peer.is_outbound, err, stopping=not self._running
                )
                if self._running and self.is_persistent_peer(peer.id) and not self._peers.has(peer.id):
                    addr = self._persistent[peer.id]
                    if not self._queue.has_id(peer.id) and peer.id not in self._dialing:
                        self._queue.push(addr)
                        # That immediate redial is attempt 0: if it fails, the next tick backs off.
                        self._redial_attempts.setdefault(peer.id, 0)
        finally:
            self._tearing.discard(id(peer))

    async def _call_hook(self, r: BaseReactor, fn: Callable[..., object], *args: object) -> None:
        try:
            res = fn(*args)
            if inspect.isawaitable(res):
                await with_timeout(self.clock, res, REACTOR_HOOK_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.warning("reactor %s %s failed: %r", r.name, getattr(fn, "__name__", "hook"), e)

    def _reject(self, peer: PeerConn) -> None:
        try:
            self.transport.remove(peer)
        except Exception as e:
            log.debug("transport.remove(%s): %r", peer.id, e)

        async def close() -> None:
            try:
                await with_timeout(self.clock, peer.close_conn(), REACTOR_HOOK_TIMEOUT)
            except Exception as e:
                log.debug("closing rejected %s: %r", peer.id, e)

        self._spawn(close(), name=f"tm2-reject-{peer.id}")

    def _keeps_registered(self, registered: PeerConn, incoming: PeerConn) -> bool:
        if registered.is_outbound == incoming.is_outbound:
            return True
        local = self.own_id()
        if not local or local == registered.id:
            return True
        keep_outbound = local < registered.id
        return registered.is_outbound == keep_outbound

    async def _add_peer(self, peer: PeerConn) -> bool:
        """Register, start and announce a verified peer. False (and the connection closed) if refused."""
        pid = peer.id
        refused = functools.partial(
            self.lifecycle.refused, pid, host_port(peer.socket_addr), peer.is_outbound
        )
        if not self._running:  # a dial or handshake that finished after stop()
            refused(HandshakeFailureReason.STOPPED)
            self._reject(peer)
            return False
        if pid == self.own_id():
            self.stats.rejected_self += 1
            refused(HandshakeFailureReason.SELF)
            self._reject(peer)
            return False
        registered = self._peers.get(pid) or self._adding.get(pid)
        if registered is not None:
            if self._keeps_registered(registered, peer):
                self.stats.rejected_duplicate += 1
                refused(HandshakeFailureReason.ALREADY_CONNECTED)
                self._reject(peer)
                return False
            self.stop_peer_for_error(registered, DuplicatePeerError("replaced by a simultaneous connection"))
        if not peer.is_outbound and not self.is_persistent_peer(pid):
            starting = sum(1 for p in self._adding.values() if not p.is_outbound)
            if self._peers.num_inbound() + starting >= self._max_inbound:
                self.stats.rejected_inbound_full += 1
                refused(HandshakeFailureReason.TOO_MANY_PEERS)
                self._reject(peer)
                return False
        # Up to here nothing awaited: no other connection of this ID can slip in.
        self._adding[pid] = peer
        try:
            conn = peer
            for r in self._reactors.values():
                r._create_peer_states(conn)
                conn = r.init_peer(conn)
            self._runtimes[pid] = _PeerRuntime(self, peer)
            try:
                started = peer.start()  # gno's Start is synchronous; an async start is awaited
                if inspect.isawaitable(started):
                    await with_timeout(self.clock, started, REACTOR_HOOK_TIMEOUT)
            except Exception as e:
                log.debug("starting %s failed: %r", pid, e)
                self.stop_peer_for_error(peer, e)
                return False
            if id(peer) in self._tearing or self._runtimes.get(pid) is None:
                return False  # stopped while starting
            self._peers.add(peer)
            self._redial_attempts.pop(pid, None)
        finally:
            if self._adding.get(pid) is peer:
                del self._adding[pid]
        for r in self._reactors.values():
            await self._call_hook(r, r.add_peer, peer)
        if self._peers.get(pid) is peer:
            self._events.publish(PeerConnectedEvent(pid, str(peer.socket_addr)))
            self.lifecycle.peer_added(pid, host_port(peer.socket_addr), peer.is_outbound)
        return True

    async def _accept_loop(self) -> None:
        while True:
            try:
                peer = await self.transport.accept(self._behavior)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if not self._running:
                    return
                log.debug("accept failed: %r", e)
                await asyncio.sleep(ACCEPT_ERROR_PAUSE)
                continue
            if self._peers.num_inbound() >= self._max_inbound and not self.is_persistent_peer(peer.id):
                self.stats.rejected_inbound_full += 1
                self.lifecycle.refused(
                    peer.id, host_port(peer.socket_addr), False, HandshakeFailureReason.TOO_MANY_PEERS
                )
                self._reject(peer)
                continue
            self._spawn(self._add_peer(peer), name=f"tm2-add-{peer.id}")

    async def _dial_loop(self) -> None:
        assert self._dial_slots is not None
        slots = self._dial_slots
        while True:
            item = await self._queue.wait_due()
            await slots.acquire()

            async def run(addr: PeerAddress) -> None:
                try:
                    await self._dial(addr)
                finally:
                    slots.release()

            t = self._spawn(run(item.address), name=f"tm2-dial-{item.address.id}")
            self._dial_tasks.add(t)
            t.add_done_callback(self._dial_tasks.discard)

    async def _resolve(self, addr: PeerAddress) -> PeerAddress:
        if addr.is_resolved:
            return addr
        ip = await self._resolver(addr.host)
        if not is_ip_literal(ip):
            raise DialError(f"resolver returned {ip!r} for {addr.host!r}", reason="resolve")
        return addr.with_ip(ip)

    async def _dial(self, addr: PeerAddress) -> None:
        pid = addr.id
        if self._peers.has(pid) or pid in self._dialing or pid in self._adding:
            return
        if not self.is_persistent_peer(pid) and self._peers.num_outbound() >= self._max_outbound:
            return
        self._dialing.add(pid)
        self.stats.dials += 1
        self.lifecycle.dial_started(pid, host_port(addr))
        started = self.clock.monotonic()
        try:

            async def attempt() -> PeerConn:
                target = await self._resolve(addr)
                target.validate()
                return await self.transport.dial(
                    NetAddress(target.id, target.ip, target.port), self._behavior
                )

            peer = await with_timeout(self.clock, attempt(), self._dial_timeout)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.stats.dial_failures += 1
            self.dial_history.append((started, pid, False))
            self.lifecycle.dial_failed(pid, host_port(addr), e)
            log.debug("dial %s failed: %r", addr, e)
            return
        finally:
            self._dialing.discard(pid)
        if peer.id != pid:
            self.stats.dial_failures += 1
            self.dial_history.append((started, pid, False))
            mismatch = DialError(f"dialed {pid}, found {peer.id}", reason=DialFailureReason.ID_MISMATCH)
            self.lifecycle.dial_failed(pid, host_port(addr), mismatch)
            self._reject(peer)
            return
        self.dial_history.append((started, pid, True))
        await self._add_peer(peer)

    def _queue_missing_persistent(self) -> None:
        now = self.clock.monotonic()
        for pid, addr in self._persistent.items():
            if self._peers.has(pid) or pid in self._dialing or pid in self._adding or self._queue.has_id(pid):
                continue
            attempts = self._redial_attempts.get(pid)
            if attempts is None:
                self._queue.push(addr, now)
                self._redial_attempts[pid] = 0
            else:
                self._queue.push(addr, now + redial_backoff(attempts, self.rng))
                self._redial_attempts[pid] = attempts + 1

    async def _redial_loop(self) -> None:
        while True:
            self._queue_missing_persistent()
            await self.clock.sleep(self._redial_interval)

    # -- introspection (tests, metrics) -------------------------------------------------------------
    def dial_queue(self) -> DialQueue:
        return self._queue

    def redial_attempts(self, peer_id: str) -> int | None:
        return self._redial_attempts.get(ID(peer_id))
