"""MConnection: reassembly, scheduler, limits, keepalive and the exactly-once error path."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from tests.tm2.conftest import secret_pair

from peerwire._clock import FakeClock
from peerwire._core import tm2 as core
from peerwire.tm2._mconn import ChannelDescriptor, MConnConfig, MConnection

CHANNELS = [
    ChannelDescriptor(0x10, priority=1, send_queue_capacity=100),
    ChannelDescriptor(0x11, priority=5, send_queue_capacity=100),
    ChannelDescriptor(0x12, priority=10, send_queue_capacity=100, recv_message_capacity=5000),
]


class Recorder:
    def __init__(self) -> None:
        self.msgs: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(maxsize=10_000)
        self.errors: list[BaseException] = []
        self.error_seen = asyncio.Event()

    async def on_receive(self, ch: int, msg: bytes) -> None:
        await self.msgs.put((ch, msg))

    def on_error(self, e: BaseException) -> None:
        self.errors.append(e)
        self.error_seen.set()


def _mconn(sc: Any, rec: Recorder, **kw: Any) -> MConnection:
    return MConnection(sc, CHANNELS, rec.on_receive, rec.on_error, MConnConfig(**kw))


def test_round_trip_on_three_channels() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        ra, rb = Recorder(), Recorder()
        ma, mb = _mconn(a, ra), _mconn(b, rb)
        ma.start()
        mb.start()
        sent = [(ch, os.urandom(n)) for n in (0, 1, 1023, 1024, 1025, 4000, 70_000) for ch in (0x10, 0x11)]
        sent.append((0x12, os.urandom(4999)))
        async with srv, asyncio.timeout(10):
            for ch, m in sent:
                assert await ma.send(ch, m)
            got = [await rb.msgs.get() for _ in sent]
            for ch in (0x10, 0x11, 0x12):
                assert [m for c, m in got if c == ch] == [m for c, m in sent if c == ch]
            assert not await ma.send(0x99, b"x") and not ma.try_send(0x99, b"x")
            await ma.stop()
            async with asyncio.timeout(5):
                await rb.error_seen.wait()
            await mb.stop()
        assert ra.errors == [] and len(rb.errors) == 1
        assert not await ma.send(0x10, b"after stop")

    asyncio.run(main())


def test_scheduler_prefers_least_recently_sent_over_priority() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        rec = Recorder()
        m = _mconn(a, rec)
        m._running = True  # drive the scheduler by hand, without the routines
        for _ in range(5):
            assert m.try_send(0x10, bytes(1024 * 100))
            assert m.try_send(0x12, bytes(1024 * 100))
        order: list[int] = []
        m._send_limiter.allowance = lambda: 1  # type: ignore[method-assign]  # one batch of 10 per call
        for _ in range(6):
            await m._send_batch()
            pkts, _ = core.decode_packets(m._writer.take(), 2000)
            order += [p[1] for p in pkts]
        assert len(order) == 60
        # priority 10 gets about ten packets for each packet of priority 1
        assert order.count(0x12) >= 8 * order.count(0x10) > 0
        assert m.status().channels[2].recently_sent > 0
        async with srv:
            await m.stop()
            await b.close()

    asyncio.run(main())


def test_send_rate_window_lets_one_batch_through_then_waits_for_the_next_window() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        rec = Recorder()
        clock = FakeClock()
        cfg = MConnConfig(send_rate=10_000, flush_throttle=50.0)  # 1000 bytes per 100 ms window
        m = MConnection(a, CHANNELS, rec.on_receive, rec.on_error, cfg, clock=clock)
        m._running = True  # drive the send path by hand, without the routines
        assert m.try_send(0x10, bytes(25 * 1024))  # 25 packets
        # A batch starts while budget is left and is cut whole (gno sends more than it asked for).
        assert await m._send_batch()
        assert len(core.decode_packets(m._writer.take(), 2000)[0]) == 10
        second = asyncio.create_task(m._send_batch())
        await asyncio.sleep(0)
        assert not second.done(), "the window's budget is spent"
        await clock.advance(0.1)
        assert await second
        pkts, _ = core.decode_packets(m._writer.take(), 2000)
        assert len(pkts) == 10 and all(p[2] == 0 for p in pkts)
        assert m.status().bytes_sent == 20 * 1044  # 1024-byte chunks without EOF
        async with srv:
            await m.stop()
            await b.close()

    asyncio.run(main())


async def _raw_peer_then(send: bytes, **kw: Any) -> Recorder:
    a, b, srv = await secret_pair()
    rec = Recorder()
    m = _mconn(a, rec, **kw)
    m.start()
    async with srv, asyncio.timeout(5):
        await b.write(send)
        await rec.error_seen.wait()
        await asyncio.sleep(0.05)
        assert await b.read() == b""  # our side closed the socket
    assert m.is_running is False
    return rec


@pytest.mark.parametrize(
    ("wire", "match"),
    [
        (core.encode_msg_packet(0x42, 1, b"x"), "unknown channel 42"),
        (core.encode_message(0x10, bytes(2000), 2000), "read overflow"),
        (b"\x0b\x0a\x09/p2p.Pang", "unknown message type"),
        (core.encode_message(0x12, bytes(5001), 1024), "exceeds available capacity"),
        (b"\x0e\x0a\x08/p2p.Msg\x12\x02\x20\x01", "unknown field"),
    ],
)
def test_bad_input_stops_connection_once(wire: bytes, match: str) -> None:
    rec = asyncio.run(_raw_peer_then(wire))
    assert len(rec.errors) == 1
    assert match in str(rec.errors[0])


def test_ping_is_answered_and_missing_pong_times_out() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        clock = FakeClock()
        rec = Recorder()
        m = MConnection(a, CHANNELS, rec.on_receive, rec.on_error, MConnConfig(), clock=clock)
        m.start()
        async with srv, asyncio.timeout(5):
            await b.write(core.encode_ping())
            assert await b.readexactly(12) == core.encode_pong()
            await clock.advance(60)
            assert await b.readexactly(12) == core.encode_ping()
            await clock.advance(44)
            assert not rec.errors
            await clock.advance(1.5)
            await rec.error_seen.wait()
            assert len(rec.errors) == 1 and "pong timeout" in str(rec.errors[0])
            await b.close()

    asyncio.run(main())


def test_pong_keeps_connection_alive() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        clock = FakeClock()
        rec = Recorder()
        m = MConnection(a, CHANNELS, rec.on_receive, rec.on_error, MConnConfig(), clock=clock)
        m.start()
        await asyncio.sleep(0.01)  # let the routines start their timers at t=0
        async with srv, asyncio.timeout(5):
            for i in range(3):
                await clock.advance(60)
                assert await b.readexactly(12) == core.encode_ping()
                await b.write(core.encode_pong())
                for _ in range(400):
                    if m.pongs_received > i:
                        break
                    await asyncio.sleep(0.005)
            await clock.advance(59)
            assert rec.errors == [] and m.is_running
            await m.stop()
            await b.close()

    asyncio.run(main())


def test_try_send_full_queue_and_send_timeout() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        rec = Recorder()
        m = MConnection(a, [ChannelDescriptor(1)], rec.on_receive, rec.on_error)
        m._running = True  # not started: nothing drains the queue
        assert m.try_send(1, b"a")
        assert not m.try_send(1, b"b")
        assert not m.can_send(1)
        async with srv:
            await m.stop()
            await b.close()

    asyncio.run(main())


def test_blocked_send_waits_for_room_times_out_and_stops_with_the_connection() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        rec = Recorder()
        clock = FakeClock()
        cfg = MConnConfig(flush_throttle=50.0)
        m = MConnection(a, [ChannelDescriptor(1)], rec.on_receive, rec.on_error, cfg, clock=clock)
        m._running = True  # not started: only _send_batch below drains the queue
        assert m.try_send(1, b"a")
        waiter = asyncio.create_task(m.send(1, b"b"))
        cancelled = asyncio.create_task(m.send(1, b"x"))
        await asyncio.sleep(0)
        assert not waiter.done() and not cancelled.done()
        cancelled.cancel()  # one waiter's caller gives up: the other still gets the room
        await m._send_batch()  # "a" leaves the queue: room for one
        assert await waiter
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        late = asyncio.create_task(m.send(1, b"c"))
        await asyncio.sleep(0)
        await clock.advance(10.0)
        assert not await late  # no room within the send timeout
        last = asyncio.create_task(m.send(1, b"d"))
        await asyncio.sleep(0)
        assert not last.done()
        async with srv:
            await m.stop()
            assert not await last  # at once, not after the timeout
            await b.close()
        sent, _ = core.decode_packets(m._writer.take(), 2000)
        assert [p[3] for p in sent] == [b"a"]
        assert m.status().channels[0].send_queue_size == 1  # "b": accepted, never dropped by a timeout

    asyncio.run(main())


def test_rate_limit_counts_100ms_windows() -> None:
    from peerwire.tm2._mconn import _RateLimiter

    async def main() -> None:
        clock = FakeClock()
        lim = _RateLimiter(10_000, clock)  # 1000 bytes per 100 ms window
        await lim.limit()
        lim.update(1000)
        t = asyncio.create_task(lim.limit())
        await asyncio.sleep(0)
        assert not t.done()
        await clock.advance(0.1)
        await t
        assert lim.total == 1000

    asyncio.run(main())


def test_connection_status_rates_are_bytes_over_lifetime() -> None:
    from peerwire.tm2._mconn import ConnectionStatus

    st = ConnectionStatus(duration=2.0, bytes_sent=4096, bytes_received=1000)
    assert st.send_rate == 2048.0 and st.recv_rate == 500.0
    assert ConnectionStatus(duration=0.0, bytes_sent=10, bytes_received=10).send_rate == 0.0


class _FirstWriteStalls:
    """A secret connection whose first write blocks until ``release`` is set (a slow drain)."""

    def __init__(self, sc: Any) -> None:
        self._sc = sc
        self.release = asyncio.Event()
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sc, name)

    async def write(self, data: bytes) -> None:
        self.writes += 1
        if self.writes == 1:
            await self.release.wait()
        await self._sc.write(data)


def test_packets_cut_while_a_flush_drains_are_flushed_too() -> None:
    """The flush timer keeps flushing: packets cut while its write drained do not wait for a next send."""

    async def main() -> None:
        a, b, srv = await secret_pair()
        ra, rb = Recorder(), Recorder()
        slow = _FirstWriteStalls(a)
        ma, mb = _mconn(slow, ra, flush_throttle=0.0), _mconn(b, rb)
        ma.start()
        mb.start()
        async with srv, asyncio.timeout(10):
            assert await ma.send(0x10, b"first")
            for _ in range(100):  # until the flush timer's write is under way (and stalled)
                if slow.writes:
                    break
                await asyncio.sleep(0.001)
            assert slow.writes == 1
            assert await ma.send(0x10, b"second")  # cut into the buffer while the flush drains
            await asyncio.sleep(0.05)
            slow.release.set()
            async with asyncio.timeout(2):
                assert [await rb.msgs.get() for _ in range(2)] == [(0x10, b"first"), (0x10, b"second")]
            await ma.stop()
            await mb.stop()

    asyncio.run(main())


def test_flush_throttle_runs_from_when_a_message_was_queued() -> None:
    """gno's send routine cuts a packet as soon as it is queued and sets the flush timer then;
    ours cuts when the event loop gets to it (after a synchronous broadcast to many peers, say).
    The throttle still bounds a message's wait from its queueing, not from its cutting."""

    async def main() -> None:
        a, b, srv = await secret_pair()
        rec, rb = Recorder(), Recorder()
        clock = FakeClock()
        cfg = MConnConfig(flush_throttle=1.0, ping_interval=1e9, pong_timeout=1e9 - 1)
        m = MConnection(a, CHANNELS, rec.on_receive, rec.on_error, cfg, clock=clock)
        mb = _mconn(b, rb)
        m._running = True  # drive the send path by hand: the cut comes late
        mb.start()
        assert m.try_send(0x10, b"queued at 0")
        await clock.advance(0.6)
        assert not await m._send_batch()  # cut at 0.6; a small buffer waits for the throttle
        assert m._writer.buffered
        await clock.advance(0.39)
        assert m._writer.buffered, "not before the throttle"
        await clock.advance(0.01)  # 1.0 s after the queueing, 0.4 s after the cut
        async with srv, asyncio.timeout(5):
            assert await rb.msgs.get() == (0x10, b"queued at 0")
            assert not m._writer.buffered
            await m.stop()
            await mb.stop()

    asyncio.run(main())
