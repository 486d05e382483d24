"""MConnection: gno's multiplexed channel connection over a secret connection.

``tm2/pkg/p2p/conn/connection.go`` rule for rule where it matters on the wire
and for fairness: Ping/Pong/Msg amino packets (encoded and decoded in Rust,
one call per socket buffer on the receive side), messages cut into packets of
at most ``max_packet_msg_payload_size`` bytes, a receive limit of
``max_packet_msg_size`` per packet, per-channel reassembly bounded by
``recv_message_capacity``, the least-recently-sent / priority scheduler with a
x0.8 decay every 2 s and up to 10 packets per batch, a flush throttle, ping
every ``ping_interval`` with a pong deadline, send/receive rate limits counted
in 100 ms windows, ``send`` waiting up to 10 s and ``try_send`` not waiting,
and an error path that stops the connection and reports exactly once.

gno v1.7.1's connection budgets are here too: ``max_recv_buffer_bytes`` over
all channels' incomplete messages, ``max_send_buffer_bytes`` over all queued
messages, and ``recv_assembly_timeout`` from a message's first partial packet.
Time the read loop spends waiting for a handler (``on_receive``; with the
switch's backpressure, a full dispatch queue) is not the peer's: it is credited
to the assembly deadlines (stalls of 50 ms or more) and to the pong deadline,
as gno credits time spent in a reactor's ``Receive``.

The per-message work lives in the Rust core: a ``PacketWriter`` holds the bounded
send queues, runs the scheduler and cuts packets into one write buffer, one call
per event-loop turn (up to 64 KiB of packets); a ``PacketReader`` splits, decodes
and reassembles what arrives. Timing and policy (flush throttle, keepalive, rate
windows, waiting senders) live here and use the injected :class:`~peerwire._clock.Clock`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from peerwire._budget import NodeBudget
from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._core import tm2 as _tm2
from peerwire.errors import ConnectionClosedError, DecodeError, PeerwireError
from peerwire.errors import TimeoutError as PeerwireTimeoutError
from peerwire.tm2._errors import (
    NodeBudgetError,
    PacketDecodeError,
    PongTimeoutError,
    RecvAssemblyTimeoutError,
    WriteTimeoutError,
)
from peerwire.tm2._secret import SecretConnection

__all__ = ["ChannelDescriptor", "ChannelStatus", "ConnectionStatus", "MConnConfig", "MConnection"]

#: Packets per scheduler batch (gno ``numBatchPacketMsgs``; the rate budget is checked per batch).
NUM_BATCH_PACKET_MSGS = _tm2.NUM_BATCH_PACKET_MSGS
#: Write-through size of the send buffer (gno ``minWriteBufferSize``).
WRITE_BUFFER_SIZE = _tm2.WRITE_BUFFER_SIZE
#: Period of the recently-sent decay (gno ``updateStats``).
UPDATE_STATS_INTERVAL = 2.0
#: Length of one rate-limit window (gno flowrate sample period).
RATE_WINDOW = 0.1
#: How long a blocking ``send`` waits for queue space (gno ``defaultSendTimeout``).
DEFAULT_SEND_TIMEOUT = 10.0
#: How long one flush may wait for the peer to take our bytes. gno has no write
#: deadline, so a peer that stops reading holds its slot for ever: its pings are
#: never sent and the pong deadline never starts (issue 12 item 7).
DEFAULT_WRITE_TIMEOUT = 20.0
#: gno ``defaultRecvAssemblyTimeout``: a peer cannot pin reassembly memory by dribbling
#: the packets of a message that never ends (anchored to its first packet, never extended).
DEFAULT_RECV_ASSEMBLY_TIMEOUT = 30.0
#: gno ``defaultMaxRecvBufferBytes``: bytes of incomplete messages over all of a connection's
#: channels; without it a peer fills every channel's ``recv_message_capacity`` at once.
DEFAULT_MAX_RECV_BUFFER_BYTES = 20 << 20
#: gno ``defaultMaxSendBufferBytes``: bytes of messages queued for one peer over all channels,
#: so reactors outpacing a slow peer cannot fill every queue with maximum-size messages.
DEFAULT_MAX_SEND_BUFFER_BYTES = 20 << 20
#: gno ``recvAssemblyStallGrace``: shorter handler stalls are not credited to the assembly
#: deadlines (it keeps the per-message path cheap; 50 ms is nothing against 30 s).
RECV_ASSEMBLY_STALL_GRACE = 0.05

_PING, _PONG, _MSG = 0, 1, 2


@dataclass(frozen=True)
class ChannelDescriptor:
    """One channel: gno ``conn.ChannelDescriptor`` with its defaults (``FillDefaults``)."""

    id: int
    priority: int = 1
    send_queue_capacity: int = 1
    recv_buffer_capacity: int = 4096
    recv_message_capacity: int = 22020096

    def __post_init__(self) -> None:
        if not 0 <= self.id <= 255:
            raise ValueError(f"channel id {self.id} out of range")
        if self.priority <= 0:
            raise ValueError("channel priority must be positive")
        if self.send_queue_capacity <= 0 or self.recv_message_capacity <= 0:
            raise ValueError("channel capacities must be positive")


@dataclass(frozen=True)
class MConnConfig:
    """gno ``conn.MConnConfig`` (rates as in ``config.DefaultP2PConfig``), plus ``write_timeout``:
    a flush the peer does not take within it stops the connection (None: no bound, as gno).

    ``recv_assembly_timeout``, ``max_recv_buffer_bytes`` and ``max_send_buffer_bytes`` are
    gno v1.7.1's, with its defaults; 0 turns each off, as in gno."""

    send_rate: int = 5_120_000
    recv_rate: int = 5_120_000
    max_packet_msg_payload_size: int = 1024
    flush_throttle: float = 0.1
    ping_interval: float = 60.0
    pong_timeout: float = 45.0
    write_timeout: float | None = DEFAULT_WRITE_TIMEOUT
    recv_assembly_timeout: float = DEFAULT_RECV_ASSEMBLY_TIMEOUT
    max_recv_buffer_bytes: int = DEFAULT_MAX_RECV_BUFFER_BYTES
    max_send_buffer_bytes: int = DEFAULT_MAX_SEND_BUFFER_BYTES

    def __post_init__(self) -> None:
        if self.recv_assembly_timeout < 0:
            raise ValueError("recv_assembly_timeout must be 0 (off) or positive")
        if self.max_recv_buffer_bytes < 0 or self.max_send_buffer_bytes < 0:
            raise ValueError("max_recv_buffer_bytes and max_send_buffer_bytes must be 0 (off) or positive")
        if self.write_timeout is not None and not self.write_timeout > 0:
            raise ValueError("write_timeout must be positive or None")
        if self.pong_timeout >= self.ping_interval:
            raise ValueError("pong_timeout must be less than ping_interval")
        if self.max_packet_msg_payload_size <= 0 or self.send_rate <= 0 or self.recv_rate <= 0:
            raise ValueError("sizes and rates must be positive")


@dataclass(frozen=True)
class ChannelStatus:
    id: int
    send_queue_capacity: int
    send_queue_size: int
    priority: int
    recently_sent: int


@dataclass(frozen=True)
class ConnectionStatus:
    duration: float
    bytes_sent: int
    bytes_received: int
    channels: list[ChannelStatus] = field(default_factory=list)

    @property
    def send_rate(self) -> float:
        """Average bytes/s sent over the connection's life (gno flowrate's ``AvgRate``)."""
        return self.bytes_sent / self.duration if self.duration > 0 else 0.0

    @property
    def recv_rate(self) -> float:
        """Average bytes/s received over the connection's life."""
        return self.bytes_received / self.duration if self.duration > 0 else 0.0


class _RateLimiter:
    """Bytes per 100 ms window: once the window's budget is used, wait for the next window."""

    def __init__(self, rate: int, clock: Clock) -> None:
        self._budget = max(1, int(rate * RATE_WINDOW))
        self._clock = clock
        self._window_start = clock.monotonic()
        self._used = 0
        self.total = 0

    def _roll(self) -> None:
        now = self._clock.monotonic()
        if now - self._window_start >= RATE_WINDOW:
            self._window_start = now - ((now - self._window_start) % RATE_WINDOW)
            self._used = 0

    async def limit(self) -> None:
        self._roll()
        while self._used >= self._budget:
            await self._clock.sleep(self._window_start + RATE_WINDOW - self._clock.monotonic())
            self._roll()

    def allowance(self) -> int:
        """Bytes left in this window's budget (a batch starts only while some are left)."""
        self._roll()
        return max(0, self._budget - self._used)

    def update(self, n: int) -> None:
        self._roll()
        self._used += n
        self.total += n


class MConnection:
    """A running multiplexed connection. Call :meth:`start`, then :meth:`send` / :meth:`try_send`."""

    def __init__(
        self,
        sc: SecretConnection,
        channels: Sequence[ChannelDescriptor],
        on_receive: Callable[[int, bytes], Awaitable[None]],
        on_error: Callable[[BaseException], None],
        config: MConnConfig | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        node_budget: NodeBudget | None = None,
        budget_holder: object = None,
    ) -> None:
        self._sc = sc
        self._cfg = config or MConnConfig()
        self._clock = clock
        self._on_receive = on_receive
        self._on_error = on_error
        self._channels = list(channels)
        if len({d.id for d in self._channels}) != len(self._channels):
            raise ValueError("duplicate channel ids")
        self._max_payload = self._cfg.max_packet_msg_payload_size
        self.max_packet_msg_size = _tm2.max_packet_msg_size(self._max_payload)
        # Queues, scheduler and packet cutting (Rust); every queue is bounded by its
        # channel's send_queue_capacity, and a queued message is never dropped.
        self._writer = _tm2.PacketWriter(
            [(d.id, d.priority, d.send_queue_capacity) for d in self._channels],
            self._max_payload,
            self._cfg.max_send_buffer_bytes,
        )
        # Splitting, decoding and reassembly (Rust), bounded per channel and in total.
        self._reader = _tm2.PacketReader(
            [(d.id, d.recv_message_capacity) for d in self._channels],
            self.max_packet_msg_size,
            self._cfg.max_recv_buffer_bytes,
        )
        #: The node's budget for what its peers make it hold (reassembly counted here, under
        #: ``budget_holder``: the peer, whose dispatch queues count under the same key).
        self._node_budget = node_budget
        self._holder: object = self if budget_holder is None else budget_holder
        self._budget_held = 0
        self._send_limiter = _RateLimiter(self._cfg.send_rate, clock)
        self._recv_limiter = _RateLimiter(self._cfg.recv_rate, clock)
        self._send_signal = asyncio.Event()
        # Resolved when queue slots free up (or on stop): blocked senders wait on it.
        self._room: asyncio.Future[None] | None = None
        self._pong_pending = False
        self._ping_pending = False
        self._pong_timer: asyncio.Task[None] | None = None
        self._flush_timer: asyncio.Task[None] | None = None
        self._assembly_timer: asyncio.Task[None] | None = None
        # Time the read loop spent waiting for a handler (not reading: not the peer's doing).
        self._stall_since: float | None = None
        self._stalled_total = 0.0
        self._ping_sent_at = 0.0
        self._stalled_at_ping = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._started_at = clock.monotonic()
        self._running = False
        self._stopped = False
        self.pings_received = 0
        self.pongs_received = 0

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._running or self._stopped:
            raise RuntimeError("MConnection already started")
        self._running = True
        self._started_at = self._clock.monotonic()
        self._tasks = [
            asyncio.create_task(self._send_routine(), name="mconn-send"),
            asyncio.create_task(self._recv_routine(), name="mconn-recv"),
            asyncio.create_task(self._timers_routine(), name="mconn-timers"),
        ]

    @property
    def is_running(self) -> bool:
        return self._running and not self._stopped

    async def stop(self) -> None:
        """Stop the routines and close the secret connection (idempotent, no error callback)."""
        if self._stopped:
            return
        self._stopped = True
        self._running = False
        self._wake_senders()
        current = asyncio.current_task()
        owned = [
            t
            for t in (*self._tasks, self._pong_timer, self._flush_timer, self._assembly_timer)
            if t is not None and t is not current
        ]
        for t in owned:
            t.cancel()
        await self._sc.close()
        for t in owned:
            with contextlib.suppress(BaseException):
                await t
        if self._node_budget is not None:
            self._node_budget.forget(self._holder)  # the reassembly buffers go with the connection
            self._budget_held = 0

    async def flush_stop(self) -> None:
        """Send everything queued, flush, then stop (gno ``FlushStop``)."""
        while self._writer.pending and self.is_running:
            await self._send_batch()
        await self._flush()
        await self.stop()

    async def _stop_for_error(self, exc: BaseException) -> None:
        if self._stopped:
            return
        await self.stop()
        self._on_error(exc)

    def _fail(self, exc: BaseException) -> None:
        """Schedule the error path from synchronous code (timers)."""
        if not self._stopped:
            asyncio.get_running_loop().create_task(self._stop_for_error(exc))

    # -------------------------------------------------------------- sending

    async def send(self, ch_id: int, msg: bytes) -> bool:
        """Queue ``msg`` on channel ``ch_id``, waiting up to 10 s of clock time for room.

        True means the message will be written unless the connection dies. False if
        not queued: unknown channel, not running, no room in time (a queue slot and
        ``max_send_buffer_bytes``), larger than that whole budget (at once), or the
        connection stopped while waiting (then at once, not after the 10 s).
        """
        if msg.__class__ is not bytes:
            msg = bytes(msg)
        if self._running and not self._stopped and self._writer.push(ch_id, msg):
            self._queued()  # the common case, without a further call
            return True
        if not self.is_running or not self._writer.has_channel(ch_id) or not self._writer.can_admit(len(msg)):
            return False  # a message over the whole send budget can never be admitted
        try:
            async with self._clock.timeout(DEFAULT_SEND_TIMEOUT):
                while True:
                    if self._room is None:
                        self._room = asyncio.get_running_loop().create_future()
                    await asyncio.shield(self._room)
                    # Pushed synchronously right after the wake-up: no await between a
                    # successful push and the True, so a deadline cannot lose it.
                    if self.try_send(ch_id, msg):
                        return True
                    if not self.is_running:
                        return False
        except PeerwireTimeoutError:
            return False

    def try_send(self, ch_id: int, msg: bytes) -> bool:
        """Queue ``msg`` if there is room right now."""
        if msg.__class__ is not bytes:
            msg = bytes(msg)
        if not self.is_running or not self._writer.push(ch_id, msg):
            return False
        self._queued()
        return True

    def _queued(self) -> None:
        """A message was queued: wake the writer and start the flush throttle from now."""
        self._send_signal.set()
        self._arm_flush()

    def can_send(self, ch_id: int) -> bool:
        """gno quirk: compares the queue length with the default capacity 1."""
        return self.is_running and self._writer.has_channel(ch_id) and self._writer.queue_len(ch_id) < 1

    def _wake_senders(self) -> None:
        room, self._room = self._room, None
        if room is not None and not room.done():
            room.set_result(None)

    async def _send_batch(self) -> bool:
        """Cut packets (batches of 10 while the rate window allows, up to 64 KiB) in one
        call; arm the flush throttle, and flush a full buffer at once. True if data is left."""
        allowance = self._send_limiter.allowance()
        if not allowance:  # this window's budget is used: wait for the next one
            await self._send_limiter.limit()
            allowance = self._send_limiter.allowance()
        wrote, _ = self._writer.cut(allowance)
        if wrote:
            # Cutting moves messages out of the queues: blocked senders retry.
            self._wake_senders()
            self._send_limiter.update(wrote)
            # gno sets its flush timer after every packet, a full buffer flushing at once
            # too: the throttle runs from the first packet of a burst, not from the end of
            # the first full buffer's write (which waits for the socket to drain).
            self._arm_flush()
        if self._writer.buffered >= WRITE_BUFFER_SIZE:
            await self._flush()  # also when this turn cut nothing: a full buffer never waits
        return self._writer.pending

    def _arm_flush(self) -> None:
        if self._flush_timer is None or self._flush_timer.done():
            # The throttle runs from now, not from when the task first runs (after whatever
            # synchronous work queued the message, such as a broadcast to every peer).
            due = self._clock.monotonic() + self._cfg.flush_throttle
            self._flush_timer = asyncio.get_running_loop().create_task(self._flush_later(due))

    async def _flush_later(self, due: float) -> None:
        await self._clock.sleep(due - self._clock.monotonic())
        try:
            # Packets cut while this timer's write drained found it armed and armed no other:
            # keep flushing until the buffer is empty, or they would wait for the next send.
            while self._writer.buffered:
                await self._flush()
        except PeerwireError as e:
            await self._stop_for_error(e)

    async def _flush(self) -> None:
        if self._writer.buffered:
            data = self._writer.take()
            try:
                async with self._clock.timeout(self._cfg.write_timeout):
                    await self._sc.write(data)
            except PeerwireTimeoutError:
                raise WriteTimeoutError(
                    f"peer took none of {len(data)} bytes within {self._cfg.write_timeout} s"
                ) from None

    async def _send_routine(self) -> None:
        try:
            while True:
                await self._send_signal.wait()
                self._send_signal.clear()
                if self._pong_pending:
                    self._pong_pending = False
                    self._writer.put_pong()
                    await self._flush()
                if self._ping_pending:
                    self._ping_pending = False
                    self._writer.put_ping()
                    self._ping_sent_at = self._clock.monotonic()
                    self._stalled_at_ping = self._stalled_total
                    # Arm before writing: the pong may arrive while the write drains.
                    self._start_pong_timer()
                    await self._flush()
                if await self._send_batch():
                    self._send_signal.set()
                    await asyncio.sleep(0)
        except (PeerwireError, OSError) as e:
            await self._stop_for_error(e)

    # ------------------------------------------------------------ keepalive

    async def _timers_routine(self) -> None:
        """Keepalive pings and the recently-sent decay (gno's two tickers) on one task."""
        clock, ping_interval = self._clock, self._cfg.ping_interval
        next_ping = clock.monotonic() + ping_interval
        next_stats = clock.monotonic() + UPDATE_STATS_INTERVAL
        while True:
            await clock.sleep(min(next_ping, next_stats) - clock.monotonic())
            now = clock.monotonic()
            if now >= next_stats:
                self._writer.decay()
                next_stats = now + UPDATE_STATS_INTERVAL
            if now >= next_ping:
                self._ping_pending = True
                self._send_signal.set()
                next_ping = now + ping_interval

    def _start_pong_timer(self) -> None:
        if self._pong_timer is None or self._pong_timer.done():
            self._pong_timer = asyncio.get_running_loop().create_task(self._pong_deadline())

    def _stall_in_progress(self) -> float:
        """Seconds the read loop has been in a handler so far (0 when it is reading)."""
        return 0.0 if self._stall_since is None else self._clock.monotonic() - self._stall_since

    async def _pong_deadline(self) -> None:
        # The pong may sit unread in the socket while the read loop waits for a handler:
        # that time is ours, so the window is extended by it (gno ``pongRemaining``).
        clock, timeout = self._clock, self._cfg.pong_timeout
        await clock.sleep(timeout)
        while True:
            stalled = self._stalled_total - self._stalled_at_ping + self._stall_in_progress()
            remaining = timeout - (clock.monotonic() - self._ping_sent_at - stalled)
            if remaining <= 0:
                break
            await clock.sleep(remaining)
        self._fail(PongTimeoutError(f"pong timeout: no pong within {timeout} s"))

    async def _assembly_deadline(self) -> None:
        """Ends the connection when a message has been incomplete for ``recv_assembly_timeout``
        of the peer's time; sleeps to the oldest one's deadline, gone once none is left."""
        clock, timeout = self._clock, self._cfg.recv_assembly_timeout
        while (oldest := self._reader.oldest_assembly()) is not None:
            ch_id, since = oldest
            # A stall in progress is credited to ``since`` only when it ends.
            remaining = since + timeout + self._stall_in_progress() - clock.monotonic()
            if remaining <= 0:
                self._fail(
                    RecvAssemblyTimeoutError(
                        f"recv assembly timeout: channel {ch_id:X} did not complete message "
                        f"within {timeout} s"
                    )
                )
                return
            await clock.sleep(remaining)

    def _over_node_budget(self, limit: int) -> None:
        self._fail(
            NodeBudgetError(f"the node holds over {limit} bytes for its peers and this peer holds the most")
        )

    # ------------------------------------------------------------ receiving

    async def _recv_routine(self) -> None:
        # Packet splitting, decoding and per-channel reassembly happen in Rust,
        # one call per socket buffer; this loop only applies policy.
        reader, clock, budget = self._reader, self._clock, self._node_budget
        assembly_deadline = self._cfg.recv_assembly_timeout > 0
        if budget is not None:
            budget.register(self._holder, lambda: self._over_node_budget(budget.limit))
        try:
            while True:
                await self._recv_limiter.limit()
                chunk = await self._sc.read()
                if not chunk:
                    raise ConnectionClosedError("connection closed by peer")
                self._recv_limiter.update(len(chunk))
                try:
                    events = reader.feed(chunk, clock.monotonic())
                except DecodeError as e:
                    raise PacketDecodeError(f"bad packet: {e}") from None
                if budget is not None and (held := reader.buffered) != self._budget_held:
                    if held > self._budget_held:
                        budget.charge(self._holder, held - self._budget_held)
                    else:
                        budget.release(self._holder, self._budget_held - held)
                    self._budget_held = held
                if (
                    assembly_deadline
                    and reader.assembling
                    and (self._assembly_timer is None or self._assembly_timer.done())
                ):
                    self._assembly_timer = asyncio.get_running_loop().create_task(self._assembly_deadline())
                for kind, ch_id, msg in events:
                    if kind == _MSG:
                        self._stall_since = start = clock.monotonic()
                        try:
                            await self._on_receive(ch_id, msg)
                        finally:
                            self._stall_since = None
                            stalled = clock.monotonic() - start
                            self._stalled_total += stalled
                            if stalled >= RECV_ASSEMBLY_STALL_GRACE:
                                reader.extend_assembly(stalled)
                    elif kind == _PING:
                        self.pings_received += 1
                        self._pong_pending = True
                        self._send_signal.set()
                    else:
                        self.pongs_received += 1
                        if self._pong_timer is not None:
                            self._pong_timer.cancel()
                            self._pong_timer = None
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a reactor's error stops the peer, as gno's recover() does
            await self._stop_for_error(e)

    # ---------------------------------------------------------------- status

    def status(self) -> ConnectionStatus:
        return ConnectionStatus(
            duration=self._clock.monotonic() - self._started_at,
            bytes_sent=self._send_limiter.total,
            bytes_received=self._recv_limiter.total,
            channels=[
                ChannelStatus(d.id, d.send_queue_capacity, queued, d.priority, recently_sent)
                for d, (_, queued, recently_sent) in zip(self._channels, self._writer.stats(), strict=True)
            ],
        )
