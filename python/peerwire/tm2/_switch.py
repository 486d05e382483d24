"""The TM2 switch (gno ``p2p.MultiplexSwitch``): peers, reactors, and the accept, dial and redial loops.

Per-peer state is one :class:`~peerwire.tm2._record.PeerRecord` per ID with a
state (dialing -> adding -> active -> tearing down); the peer set is the
public view of the active ones. Tasks: the loops run in the switch's task
scope and every peer task in a child scope; ``stop()`` closes both.

Where it deliberately differs from gno (each point is a known gno flaw):

- A rejected inbound connection (inbound limit, duplicate ID) is closed, not
  just forgotten (tendermint#2046 fd leak).
- The dial loop sleeps until the next queued item is due (gno #6052 spins a
  core); dials run concurrently, at most ``max_concurrent_dials`` at once.
  As in gno, ``dial_timeout`` (3 s) bounds the TCP connect only; the STS and
  NodeInfo steps keep their own deadlines in the transport.
- Redial backoff cannot overflow (gno's ``1s << attempts`` wraps after ~34
  attempts); persistent peers are re-resolved on every dial (gno #2580), and
  are not subject to the outbound cap (gno #1923).
- ``receive`` is dispatched on a bounded queue per peer and channel with its
  own task: a slow reactor delays only its own channel of that peer until the
  queue fills; then the connection stops reading from that peer (backpressure:
  nothing received is dropped). See :mod:`peerwire.tm2._config` for the policy.
- ``broadcast`` never waits: each peer has a bounded outgoing queue drained by
  its own task; when full, the message is dropped for that peer and counted.
- Two connections to one peer (simultaneous open) are resolved the same way on
  both ends, as gno v1.7 does: the connection dialed by the lower ID survives.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any

from peerwire._budget import NodeBudget
from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._tasks import TaskScope
from peerwire.diagnostics import DialFailureRecord
from peerwire.errors import DialError, LocalProtocolError
from peerwire.errors import TimeoutError as PeerwireTimeoutError
from peerwire.events import DialFailureReason
from peerwire.events import Event as LifecycleEvent
from peerwire.tm2._addr import RESOLVE_TIMEOUT, AddressError, NetAddress, Resolver, system_resolver
from peerwire.tm2._behavior import Dispatcher, SwitchBehavior
from peerwire.tm2._config import ConfigError, SwitchConfig, SwitchOption, SwitchSetup, reactors_from
from peerwire.tm2._contracts import ChannelDescriptor, PeerBehavior, PeerConn, Reactor, Receiver, Transport
from peerwire.tm2._diagnostics import SwitchFailures
from peerwire.tm2._dial import DialQueue, RedialSchedule
from peerwire.tm2._errors import PeerRefusedError, RefusalReason
from peerwire.tm2._events import (
    DEFAULT_EVENT_BUFFER,
    Event,
    EventFilter,
    PeerConnectedEvent,
    PeerDisconnectedEvent,
    PubSub,
    Subscription,
)
from peerwire.tm2._keys import ID
from peerwire.tm2._lifecycle import drop_reason, lifecycle_feed, refusal_reason
from peerwire.tm2._peerset import PeerSet
from peerwire.tm2._reactor import BaseReactor
from peerwire.tm2._record import PeerRecord, PeerState, SwitchStats
from peerwire.tm2._transport import MultiplexTransport

__all__ = ["MultiplexSwitch", "SwitchStats"]

log = logging.getLogger("peerwire.tm2.switch")

DIAL_HISTORY = 1024
# Accept errors in a row are spaced by this, so a broken transport cannot spin.
ACCEPT_ERROR_PAUSE = 0.05
# How long a reactor's add_peer / remove_peer, or closing a connection, may take before it is abandoned.
REACTOR_HOOK_TIMEOUT = 10.0
# How long stop() lets peers' teardowns (reactor hooks) run before cancelling them.
STOP_GRACE = 5.0


class MultiplexSwitch:
    """Manages peers over a :class:`Transport` and routes channel messages to reactors.

    ``MultiplexSwitch(transport, reactors={...}, config=SwitchConfig(...), clock=...)``;
    gno-style ``with_*`` options are accepted positionally too. Use as
    ``async with sw: ...`` (the transport should already listen). Every method
    is called from the event loop the switch runs on; none of them blocks.

    Raises:
        ConfigError: a bad setting, a reactor name used twice, or a channel claimed twice.
    """

    def __init__(
        self,
        transport: Transport,
        *options: SwitchOption,
        reactors: Mapping[str, Reactor] | None = None,
        config: SwitchConfig | None = None,
        clock: Clock | None = None,
        resolver: Resolver | None = None,
        rng: random.Random | None = None,
    ) -> None:
        setup = SwitchSetup(config=config or SwitchConfig(), clock=clock, resolver=resolver, rng=rng)
        for opt in (*reactors_from(reactors), *options):
            opt(setup)
        self.transport = transport
        self.config: SwitchConfig = setup.config
        self.clock: Clock = setup.clock or SYSTEM_CLOCK
        self.rng: random.Random = setup.rng or random.SystemRandom()
        self._resolver: Resolver = setup.resolver or system_resolver
        self.stats = SwitchStats()
        #: Bytes all peers make the node hold (reassembly, dispatch queues); see SwitchConfig.
        self.node_budget = NodeBudget(self.config.node_budget_bytes)
        # (clock time the dial started, peer ID, connected?) of the last dials; bounded.
        self.dial_history: deque[tuple[float, ID, bool]] = deque(maxlen=DIAL_HISTORY)
        self._queue = DialQueue(self.clock)
        self._reactors: dict[str, Reactor] = {}
        self._reactors_by_ch: dict[int, Reactor] = {}
        self._ch_descs: list[ChannelDescriptor] = []
        for name, r in setup.reactors.items():
            self._add_reactor(name, r)
        self._dispatchers: dict[int, Receiver] = {ch: Dispatcher(self) for ch in self._reactors_by_ch}
        cfg = self.config
        self._redial = RedialSchedule(cfg.persistent_addresses, self.clock, self.rng, cfg.redial_interval)
        self._persistent = self._redial.peers
        self._failures = SwitchFailures(self.clock)
        self._records: dict[ID, PeerRecord] = {}
        self._peers = PeerSet()
        self._events: PubSub[Event] = PubSub()
        #: Typed lifecycle events (:mod:`peerwire.events`), shared with devp2p; see subscribe_lifecycle().
        self.lifecycle = lifecycle_feed()
        self._behavior = SwitchBehavior(self)
        # Tasks: the loops in the switch's scope; dials and peers in child scopes of it.
        self._scope = TaskScope("tm2-switch")
        self._dial_scope: TaskScope | None = None
        self._peer_scope: TaskScope | None = None
        self._loops: list[asyncio.Task[None | None]] = []
        self._teardowns: set[asyncio.Task[None | None]] = set()
        self._dial_slots: asyncio.Semaphore | None = None
        self._running = False

    def __repr__(self) -> str:
        return (
            f"MultiplexSwitch(reactors={sorted(self._reactors)}, peers={len(self._peers)}, "
            f"running={self._running}, config={self.config!r})"
        )

    # -- configuration ------------------------------------------------------------------------------
    def _add_reactor(self, name: str, reactor: Reactor) -> None:
        chans = list(reactor.get_channels())
        for cd in chans:
            if cd.id in self._reactors_by_ch:
                raise ConfigError(f"channel {cd.id:#x} is already claimed by another reactor")
        for cd in chans:
            self._reactors_by_ch[cd.id] = reactor
            self._ch_descs.append(cd)
        self._reactors[name] = reactor
        reactor.set_switch(self)

    def reactor(self, name: str) -> Reactor | None:
        return self._reactors.get(name)

    @property
    def behavior(self) -> PeerBehavior:
        """The :class:`PeerBehavior` this switch gives its transport."""
        return self._behavior

    @property
    def max_inbound_peers(self) -> int:
        return self.config.max_inbound_peers

    @property
    def max_outbound_peers(self) -> int:
        return self.config.max_outbound_peers

    def own_id(self) -> str:
        """Our node ID ("" while the transport does not know it, e.g. before it listens)."""
        addr = self.own_address()
        return str(addr.id) if addr is not None else ""

    def own_address(self) -> NetAddress | None:
        try:
            return self.transport.net_address()
        except Exception:  # not listening yet
            return None

    def is_persistent_peer(self, peer_id: str) -> bool:
        return peer_id in self._persistent

    def is_private_peer(self, peer_id: str) -> bool:
        return peer_id in self.config.private_ids

    def persistent_peers(self) -> list[NetAddress]:
        return [p.address for p in self._persistent.values()]

    def peer_state(self, peer_id: str) -> PeerState | None:
        """Where ``peer_id`` is in its lifecycle (None: unknown or gone)."""
        rec = self._records.get(ID(peer_id))
        return rec.state if rec is not None else None

    # -- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._running:
            raise LocalProtocolError("switch already started")
        self._running = True
        if isinstance(self.transport, MultiplexTransport):
            self.transport.on_handshake_failed = self._handshake_failed
        self._dial_slots = asyncio.Semaphore(self.config.max_concurrent_dials)
        for r in self._reactors.values():
            await r.start()
        await self._scope.start()
        self._dial_scope = await self._scope.child("dials")
        self._peer_scope = await self._scope.child("peers")
        self._loops = [
            self._scope.spawn(self._accept_loop(), name="accept", critical=True),
            self._scope.spawn(self._dial_loop(), name="dial", critical=True),
            self._scope.spawn(self._redial_loop(), name="redial", critical=True),
        ]

    async def stop(self) -> None:
        """Stop the loops, drop every peer (reactors told), stop the reactors; no task outlives it.

        Raises:
            ExceptionGroup: a loop of the switch failed (a bug); it stopped the switch then.
        """
        if not self._running:
            return
        self._running = False
        for t in self._loops:
            t.cancel()
        if self._loops:
            await asyncio.wait(self._loops)
        if self._dial_scope is not None:
            await self._dial_scope.stop()  # in-flight dials are abandoned
        for rec in list(self._records.values()):
            if rec.peer is not None:
                self.stop_peer_for_error(rec.peer, None)
            else:
                self._forget(rec)
        if self._teardowns:  # let reactors' remove_peer hooks run, bounded
            await asyncio.wait(self._teardowns, timeout=STOP_GRACE)
        try:
            await self._scope.stop()  # whatever is left, peers included
        finally:
            for r in self._reactors.values():
                try:
                    await r.stop()
                except Exception as e:
                    log.warning("reactor %s failed to stop: %r", r.name, e)

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

    @property
    def task_errors(self) -> list[tuple[str, BaseException]]:
        """Exceptions that escaped a switch or peer task (bugs; each also logged)."""
        scopes = [self._scope, self._dial_scope, self._peer_scope]
        return [e for sc in scopes if sc is not None for e in sc.errors]

    def _spawn_peer_task(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None | None]:
        """Run a peer task in the peers' scope.

        Raises:
            RuntimeError: the switch is not running (``coro`` is closed).
        """
        if self._peer_scope is None:
            coro.close()
            raise RuntimeError("switch is not running")
        task = self._peer_scope.spawn(coro, name=name)
        # A task cancelled before it ran never awaits ``coro``: close it (no "never awaited" warning).
        task.add_done_callback(lambda _t: coro.close())
        return task

    # -- public API -----------------------------------------------------------------------------------
    def peers(self) -> PeerSet:
        return self._peers

    def subscribe(
        self, flt: EventFilter | None = None, maxsize: int = DEFAULT_EVENT_BUFFER
    ) -> Subscription[Event]:
        """gno's events (PeerConnected / PeerDisconnected) passing ``flt`` (all if None), as an
        async iterator; a full buffer drops new events for that subscriber, counted."""
        return self._events.subscribe(flt, maxsize)

    def subscribe_lifecycle(
        self, flt: Callable[[LifecycleEvent], bool] | None = None, maxsize: int = DEFAULT_EVENT_BUFFER
    ) -> Subscription[LifecycleEvent]:
        """The typed lifecycle feed shared with devp2p (:mod:`peerwire.events`): DialStarted,
        DialFailed, HandshakeFailed, PeerAdded, PeerDropped, each with a typed reason."""
        return self.lifecycle.subscribe(flt, maxsize)

    def dial_failures(self) -> list[DialFailureRecord]:
        """Peers whose dial or handshake failed, newest failure first (:mod:`peerwire.diagnostics`):
        reason, human message, attempts, and for persistent peers the backoff and next retry."""
        return self._failures.table.records()

    def _handshake_failed(
        self, peer: PeerConn | None, address: str, outbound: bool, err: BaseException
    ) -> None:
        self.lifecycle.handshake_failed(peer.id if peer is not None else None, address, not outbound, err)
        self._failures.handshake_failed(peer.id if peer is not None else None, address, err)

    def broadcast(self, ch_id: int, data: bytes) -> int:
        """Queue ``data`` on channel ``ch_id`` for every peer; never waits.

        Returns the number of peers it was queued for (a full per-peer queue drops it, counted).
        """
        data = bytes(data)
        n = 0
        for rec in list(self._records.values()):
            if rec.state is PeerState.ACTIVE and rec.enqueue(
                ch_id, data, self.config, self.stats, self._spawn_peer_task
            ):
                n += 1
        return n

    def dial_peers(self, *addrs: NetAddress | str) -> int:
        """Queue addresses (``id@host:port`` strings or :class:`NetAddress`) for dialing now.

        Invalid addresses, our own, peers already connected or queued, and (for
        non-persistent peers) anything beyond the outbound cap are skipped.
        Returns how many were queued.
        """
        own = self.own_address()
        queued = 0
        for a in addrs:
            try:
                pa = a if isinstance(a, NetAddress) else NetAddress.parse(str(a))
                if pa.is_resolved:
                    pa.validate()  # hostnames are validated once resolved, at dial time
            except AddressError as e:
                self.stats.invalid_addresses += 1
                log.debug("not dialing %r: %s", a, e)
                continue
            if own is not None and (pa.id == own.id or pa.same(own)):
                continue
            if pa.id in self._records or self._queue.has(pa):
                continue
            if not self.is_persistent_peer(pa.id) and self._peers.num_outbound() >= self.max_outbound_peers:
                continue
            if not self._queue.push(pa):
                self.stats.dial_queue_full += 1
                continue
            queued += 1
        return queued

    def stop_peer_for_error(self, peer: PeerConn, err: BaseException | None) -> None:
        """Disconnect ``peer``: it leaves the peer set at once; reactors are told, the
        connection is closed, PeerDisconnected is emitted and a persistent peer is redialed."""
        rec = self._records.get(peer.id)
        if rec is None or rec.peer is not peer:
            return  # not (or no longer) the registered connection of this ID
        was_active = rec.state is PeerState.ACTIVE
        self._forget(rec)
        try:
            t = self._spawn_peer_task(self._teardown(rec, peer, was_active, err), f"stop {peer.id}")
            self._teardowns.add(t)
            t.add_done_callback(self._teardowns.discard)
        except RuntimeError:  # the switch is gone: close without telling anyone
            self._reject(peer)

    # -- internals ------------------------------------------------------------------------------------
    def _forget(self, rec: PeerRecord) -> None:
        """Move ``rec`` to TEARING_DOWN: out of the index and the peer set, its tasks cancelled."""
        if self._records.get(rec.id) is rec:
            del self._records[rec.id]
        if rec.state is PeerState.ACTIVE:
            self._peers.remove(rec.id)
        rec.move(PeerState.TEARING_DOWN)
        rec.close()

    def channel_descriptors(self) -> Sequence[ChannelDescriptor]:
        return list(self._ch_descs)

    def dispatchers(self) -> Mapping[int, Receiver]:
        return self._dispatchers

    async def deliver(self, ch_id: int, peer: PeerConn, msg: bytes) -> None:
        """A complete message from ``peer``'s connection: queue it for the channel's reactor,
        waiting while that queue is full (backpressure)."""
        rec = self._records.get(peer.id)
        if rec is None or rec.peer is not peer:
            return  # a connection that is not (or no longer) the registered one
        await rec.deliver(
            ch_id,
            msg,
            self._reactors_by_ch,
            self.config,
            self.stats,
            self._spawn_peer_task,
            self.stop_peer_for_error,
            self.node_budget,
        )

    async def _teardown(
        self, rec: PeerRecord, peer: PeerConn, was_active: bool, err: BaseException | None
    ) -> None:
        try:
            self.transport.remove(peer)
        except Exception as e:
            log.debug("transport.remove(%s): %r", peer.id, e)
        for step in (peer.close_conn, peer.stop):
            try:
                async with self.clock.timeout(REACTOR_HOOK_TIMEOUT):
                    await step()
            except Exception as e:
                log.debug("closing %s: %r", peer.id, e)
        for r in self._reactors.values():
            if was_active:
                await self._call_hook(r, r.remove_peer, peer, err)
            if isinstance(r, BaseReactor) and peer.id not in self._records:
                r.drop_peer_states(peer)
        if was_active:
            self._events.publish(PeerDisconnectedEvent(peer.id, str(peer.socket_addr), err))
            why = drop_reason(err, stopping=not self._running)
            detail = "" if err is None else str(err) or type(err).__name__
            self.lifecycle.peer_dropped(
                peer.id, peer.socket_addr.dial_string(), not peer.is_outbound, why, detail
            )
            persistent = self._persistent.get(peer.id)
            if (
                self._running
                and persistent is not None
                and peer.id not in self._records
                and not self._queue.has_id(peer.id)
            ):
                self._queue.push(persistent.address)
                # That immediate redial is attempt 0: if it fails, the next tick backs off.
                if persistent.attempts is None:
                    persistent.attempts = 0

    async def _call_hook(self, r: Reactor, fn: Callable[..., Awaitable[None] | None], *args: object) -> None:
        try:
            res = fn(*args)
            if inspect.isawaitable(res):
                async with self.clock.timeout(REACTOR_HOOK_TIMEOUT):
                    await res
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.warning("reactor %s %s failed: %r", r.name, getattr(fn, "__name__", "hook"), e)

    def _reject(self, peer: PeerConn, reason: RefusalReason | None = None) -> None:
        """Close a connection the switch does not keep (a policy decision, counted by the caller)."""
        if reason is not None:
            inbound, where = not peer.is_outbound, peer.socket_addr.dial_string()
            self.lifecycle.refused(peer.id, where, inbound, refusal_reason(reason))
            retry = None if inbound or not self._running else self._redial.next_retry(peer.id)
            self._failures.refused(
                peer.id, where, inbound, reason, persistent=self.is_persistent_peer(peer.id), next_retry=retry
            )
        try:
            self.transport.remove(peer)
        except Exception as e:
            log.debug("transport.remove(%s): %r", peer.id, e)

        async def close() -> None:
            try:
                async with self.clock.timeout(REACTOR_HOOK_TIMEOUT):
                    await peer.close_conn()
            except Exception as e:
                log.debug("closing rejected %s: %r", peer.id, e)

        try:
            self._spawn_peer_task(close(), f"refuse {peer.id}")
        except RuntimeError:  # switch stopped: close in the background, bounded by the deadline above
            asyncio.get_running_loop().create_task(close())

    def _keeps_registered(self, registered: PeerConn, incoming: PeerConn) -> bool:
        if registered.is_outbound == incoming.is_outbound:
            return True
        local = self.own_id()
        if not local or local == registered.id:
            return True
        keep_outbound = local < registered.id
        return registered.is_outbound == keep_outbound

    def _refusal(self, peer: PeerConn) -> RefusalReason | None:
        """Whether policy refuses ``peer`` (and which rule); replaces a registered duplicate it beats."""
        pid = peer.id
        if not self._running:  # a dial or handshake that finished after stop()
            return RefusalReason.STOPPING
        if pid == self.own_id():
            self.stats.rejected_self += 1
            return RefusalReason.SELF
        rec = self._records.get(pid)
        if rec is not None and rec.peer is not None:
            if self._keeps_registered(rec.peer, peer):
                self.stats.rejected_duplicate += 1
                return RefusalReason.DUPLICATE
            self.stop_peer_for_error(rec.peer, PeerRefusedError(RefusalReason.REPLACED))
        if not peer.is_outbound and not self.is_persistent_peer(pid):
            starting = sum(
                1
                for r in self._records.values()
                if r.state is PeerState.ADDING and r.peer is not None and not r.peer.is_outbound
            )
            if self._peers.num_inbound() + starting >= self.max_inbound_peers:
                self.stats.rejected_inbound_full += 1
                return RefusalReason.INBOUND_FULL
        return None

    async def _add_peer(self, peer: PeerConn) -> bool:
        """Register, start and announce a verified peer. False (and the connection closed) if refused."""
        pid = peer.id
        refusal = self._refusal(peer)
        if refusal is not None:
            self._reject(peer, refusal)
            return False
        # Up to here nothing awaited: no other connection of this ID can slip in.
        rec = self._records.get(pid)
        if rec is not None and rec.state is PeerState.DIALING:
            rec.peer = peer
            rec.move(PeerState.ADDING)
        else:
            rec = self._records[pid] = PeerRecord(pid, PeerState.ADDING, peer)
        try:
            conn = peer
            for r in self._reactors.values():
                if isinstance(r, BaseReactor):
                    r.create_peer_states(conn)
                conn = r.init_peer(conn)
        except Exception as e:  # a reactor bug: drop the peer, and let the task scope record it
            self.stop_peer_for_error(peer, e)
            raise
        try:
            peer.start()
        except Exception as e:
            log.debug("starting %s failed: %r", pid, e)
            self.stop_peer_for_error(peer, e)
            return False
        if rec.state is not PeerState.ADDING:
            return False  # stopped while starting
        rec.move(PeerState.ACTIVE)
        self._peers.add(peer)
        persistent = self._persistent.get(pid)
        if persistent is not None:
            persistent.reset()
        self._failures.connected(pid)
        for r in self._reactors.values():
            await self._call_hook(r, r.add_peer, peer)
        if self._records.get(pid) is rec:  # still active after the hooks
            self._events.publish(PeerConnectedEvent(pid, str(peer.socket_addr)))
            self.lifecycle.peer_added(pid, peer.socket_addr.dial_string(), not peer.is_outbound)
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
            if self._peers.num_inbound() >= self.max_inbound_peers and not self.is_persistent_peer(peer.id):
                self.stats.rejected_inbound_full += 1
                self._reject(peer, RefusalReason.INBOUND_FULL)
                continue
            if not self.config.allow_duplicate_ip and self._peers.has_ip(peer.remote_ip, but=peer.id):
                self.stats.rejected_duplicate_ip += 1
                self._reject(peer, RefusalReason.DUPLICATE_IP)
                continue
            self._spawn_peer_task(self._add_peer_task(peer), f"add {peer.id}")

    async def _add_peer_task(self, peer: PeerConn) -> None:
        await self._add_peer(peer)

    async def _dial_loop(self) -> None:
        assert self._dial_slots is not None and self._dial_scope is not None
        slots = self._dial_slots
        dials = self._dial_scope
        while True:
            item = await self._queue.wait_due()
            await slots.acquire()

            async def run(addr: NetAddress) -> None:
                try:
                    await self._dial(addr)
                finally:
                    slots.release()

            dials.spawn(run(item.address), name=f"dial {item.address.id}")

    async def _dial(self, addr: NetAddress) -> None:
        pid = addr.id
        if pid in self._records:
            return
        if not self.is_persistent_peer(pid) and self._peers.num_outbound() >= self.max_outbound_peers:
            return
        rec = self._records[pid] = PeerRecord(pid, PeerState.DIALING)
        self.stats.dials += 1
        started = self.clock.monotonic()
        self.lifecycle.dial_started(pid, addr.dial_string())
        try:
            target = await self._resolve(addr)
            target.validate()
            # As gno: the dial timeout bounds the connect; the transport bounds each handshake step.
            peer = await self._dial_transport(target)
        except asyncio.CancelledError:
            self._drop_dialing(rec)
            raise
        except Exception as e:
            self._drop_dialing(rec)
            self._dial_failed(addr, started, e)
            return
        if peer.id != pid:
            self._drop_dialing(rec)
            self._dial_failed(
                addr,
                started,
                DialError(f"dialed {pid}, reached {peer.id}", reason=DialFailureReason.ID_MISMATCH),
            )
            self._reject(peer)
            return
        self.dial_history.append((started, pid, True))
        if self._records.get(pid) is rec and rec.state is PeerState.DIALING:
            del self._records[pid]  # _add_peer registers the connection (and settles duplicates)
            rec.move(PeerState.TEARING_DOWN)
        await self._add_peer(peer)

    def _dial_failed(self, addr: NetAddress, started: float, err: BaseException) -> None:
        """Count, publish and record a dial that ended without a peer."""
        self.stats.dial_failures += 1
        self.dial_history.append((started, addr.id, False))
        self.lifecycle.dial_failed(addr.id, addr.dial_string(), err)
        retry = self._redial.next_retry(addr.id) if self._running else None
        persistent = self.is_persistent_peer(addr.id)
        self._failures.dial_failed(addr.id, addr.dial_string(), err, persistent=persistent, next_retry=retry)

    async def _resolve(self, addr: NetAddress) -> NetAddress:
        """``addr`` with an IP; a name is looked up now, on every dial (gno #2580), bounded.

        Raises:
            DialError: the name did not resolve in time.
        """
        if addr.is_resolved:
            return addr
        try:
            async with self.clock.timeout(RESOLVE_TIMEOUT):
                return await addr.resolve(self._resolver)
        except PeerwireTimeoutError:
            raise DialError(
                f"resolving {addr.host!r} timed out", reason=DialFailureReason.RESOLVE_FAILED
            ) from None

    async def _dial_transport(self, target: NetAddress) -> PeerConn:
        return await self.transport.dial(target, self._behavior, connect_timeout=self.config.dial_timeout)

    def _drop_dialing(self, rec: PeerRecord) -> None:
        """The dial ended without a peer: forget the record unless an inbound connection took it over."""
        if rec.state is PeerState.DIALING:
            if self._records.get(rec.id) is rec:
                del self._records[rec.id]
            rec.move(PeerState.TEARING_DOWN)

    async def _redial_loop(self) -> None:
        while True:
            self._redial.tick(self._queue, lambda pid: pid in self._records)
            await self.clock.sleep(self.config.redial_interval)

    # -- introspection (tests, metrics) -------------------------------------------------------------
    def dial_queue(self) -> DialQueue:
        return self._queue

    def redial_attempts(self, peer_id: str) -> int | None:
        p = self._persistent.get(ID(peer_id))
        return p.attempts if p is not None else None
