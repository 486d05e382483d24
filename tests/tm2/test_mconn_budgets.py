"""gno v1.7.1's connection budgets: receive buffer, send buffer, assembly deadline, stall credit.

Each case runs against a raw peer over a real secret connection, on the fake clock.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.tm2.conftest import secret_pair

from peerwire._budget import NodeBudget
from peerwire._clock import FakeClock
from peerwire._core import tm2 as core
from peerwire.tm2 import NodeBudgetError, RecvAssemblyTimeoutError
from peerwire.tm2._mconn import DEFAULT_SEND_TIMEOUT, ChannelDescriptor, MConnConfig, MConnection

CHANNELS = [
    ChannelDescriptor(0x10, send_queue_capacity=100, recv_message_capacity=1 << 20),
    ChannelDescriptor(0x11, send_queue_capacity=100, recv_message_capacity=1 << 20),
]


class Handler:
    """Records messages and errors; can hold the read loop inside ``on_receive``."""

    def __init__(self) -> None:
        self.msgs: list[tuple[int, bytes]] = []
        self.errors: list[BaseException] = []
        self.error_seen = asyncio.Event()
        self.entered = asyncio.Event()
        self.release: asyncio.Event | None = None

    async def on_receive(self, ch: int, msg: bytes) -> None:
        self.msgs.append((ch, msg))
        self.entered.set()
        if self.release is not None:
            await self.release.wait()

    def on_error(self, e: BaseException) -> None:
        self.errors.append(e)
        self.error_seen.set()


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.005)


def _mconn(sc: Any, h: Handler, clock: FakeClock, **kw: Any) -> MConnection:
    budget = kw.pop("node_budget", None)
    return MConnection(
        sc, CHANNELS, h.on_receive, h.on_error, MConnConfig(**kw), clock=clock, node_budget=budget
    )


def test_defaults_are_gnos() -> None:
    cfg = MConnConfig()
    assert (cfg.recv_assembly_timeout, cfg.max_recv_buffer_bytes, cfg.max_send_buffer_bytes) == (
        30.0,
        20 << 20,
        20 << 20,
    )


def test_receive_budget_spans_channels_and_ends_the_connection() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        h, clock = Handler(), FakeClock()
        m = _mconn(a, h, clock, max_recv_buffer_bytes=3072)
        m.start()
        async with srv, asyncio.timeout(5):
            await b.write(core.encode_chunks(0x10, bytes(2048), 1024, last=False))
            await b.write(core.encode_chunks(0x11, bytes(1024), 1024, last=False))
            await _settle()
            assert h.errors == [] and m.is_running  # 3,072 bytes held: at the budget, not over
            await b.write(core.encode_msg_packet(0x11, 1, b"x"))
            await h.error_seen.wait()
            assert await b.read() == b""  # our side closed the socket
        assert len(h.errors) == 1 and "total recving buffer budget exceeded" in str(h.errors[0])

    asyncio.run(main())


def test_assembly_deadline_is_anchored_to_the_first_packet() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        h, clock = Handler(), FakeClock()
        m = _mconn(a, h, clock, recv_assembly_timeout=30.0, ping_interval=1000.0, pong_timeout=999.0)
        m.start()
        async with srv, asyncio.timeout(5):
            await b.write(core.encode_chunks(0x10, b"a" * 1024, 1024, last=False))
            await _settle()
            for _ in range(29):  # dribbling packets does not move the deadline
                await clock.advance(1.0)
                await b.write(core.encode_chunks(0x10, b"b" * 10, 1024, last=False))
            await _settle()
            assert h.errors == []
            await clock.advance(1.5)
            await h.error_seen.wait()
        assert isinstance(h.errors[0], RecvAssemblyTimeoutError)
        assert "channel 10 did not complete message within 30.0 s" in str(h.errors[0])

    asyncio.run(main())


def test_complete_messages_never_arm_the_deadline_and_finishing_in_time_is_kept() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        h, clock = Handler(), FakeClock()
        m = _mconn(a, h, clock, recv_assembly_timeout=30.0, ping_interval=1000.0, pong_timeout=999.0)
        m.start()
        async with srv, asyncio.timeout(5):
            await b.write(core.encode_chunks(0x10, b"a" * 1024, 1024, last=False))
            await clock.advance(29.0)
            await b.write(core.encode_chunks(0x10, b"z", 1024, last=True))
            await _settle()
            await clock.advance(100.0)
            await b.write(core.encode_message(0x11, b"one packet", 1024))
            await clock.advance(100.0)
            await _settle()
            assert h.errors == [] and m.is_running
            assert h.msgs == [(0x10, b"a" * 1024 + b"z"), (0x11, b"one packet")]
            await m.stop()
            await b.close()

    asyncio.run(main())


def test_time_in_a_handler_is_credited_to_assembly_and_pong_deadlines() -> None:
    """gno credits time its read loop spends inside a reactor's Receive: a stalled handler (ours)
    must not cost an honest peer its connection through either deadline."""

    async def main() -> None:
        a, b, srv = await secret_pair()
        h, clock = Handler(), FakeClock()
        m = _mconn(a, h, clock, recv_assembly_timeout=30.0, ping_interval=60.0, pong_timeout=45.0)
        m.start()
        await _settle()
        async with srv, asyncio.timeout(5):
            # A message starts assembling on 0x11; one on 0x10 then holds the handler for 100 s.
            h.release = asyncio.Event()
            await b.write(
                core.encode_chunks(0x11, bytes(1024), 1024, last=False)
                + core.encode_message(0x10, b"slow", 1024)
            )
            await h.entered.wait()
            for _ in range(100):
                await clock.advance(1.0)
            assert await b.readexactly(12) == core.encode_ping()  # sent at t=60, no pong read since
            await _settle()
            assert h.errors == [], h.errors
            h.release.set()
            h.release = None
            await b.write(core.encode_pong())
            await _settle()
            # The stall (100 s) moved the assembly deadline from t=30 to t=130.
            await clock.advance(25.0)
            await _settle()
            assert h.errors == [] and m.pongs_received == 1
            await clock.advance(6.0)
            await h.error_seen.wait()
        assert isinstance(h.errors[0], RecvAssemblyTimeoutError)

    asyncio.run(main())


def test_pong_window_is_not_extended_without_a_stall() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        h, clock = Handler(), FakeClock()
        m = _mconn(a, h, clock, ping_interval=60.0, pong_timeout=45.0)
        m.start()
        await _settle()
        async with srv, asyncio.timeout(5):
            await clock.advance(60.0)
            assert await b.readexactly(12) == core.encode_ping()
            await clock.advance(45.5)
            await h.error_seen.wait()
        assert "pong timeout" in str(h.errors[0])

    asyncio.run(main())


def test_send_budget_bounds_queued_bytes_and_refuses_what_never_fits() -> None:
    async def main() -> None:
        a, b, srv = await secret_pair()
        h, clock = Handler(), FakeClock()
        m = _mconn(a, h, clock, max_send_buffer_bytes=100_000, send_rate=1, flush_throttle=1000.0)
        m.start()
        async with srv, asyncio.timeout(5):
            # Over the whole budget: refused at once, no 10 s wait on the clock.
            assert not await m.send(0x10, bytes(100_001))
            assert m.try_send(0x10, bytes(60_000))
            assert m.try_send(0x11, bytes(40_000))
            await _settle()  # one batch of 10 packets, then the rate limit (1 byte/s) holds the rest
            assert not m.try_send(0x10, b"x"), "100,000 admitted bytes fill the budget"
            waiting = asyncio.create_task(m.send(0x11, b"y"))
            await _settle()
            assert not waiting.done()
            # As the rate windows pass, the first messages complete and free the budget.
            await clock.advance(DEFAULT_SEND_TIMEOUT - 0.1)
            assert await waiting is True
            assert m._writer.admitted <= 100_000
            await m.stop()
            await b.close()

    asyncio.run(main())


def test_node_budget_ends_the_connection_holding_the_most() -> None:
    async def main() -> None:
        budget = NodeBudget(5000)
        conns = []
        for _ in range(2):
            a, b, srv = await secret_pair()
            h, clock = Handler(), FakeClock()
            m = _mconn(a, h, clock, node_budget=budget)
            m.start()
            conns.append((m, b, srv, h))
        (m1, b1, s1, h1), (m2, b2, s2, h2) = conns
        assert m2.is_running
        async with s1, s2, asyncio.timeout(5):
            await b1.write(core.encode_chunks(0x10, bytes(2048), 1024, last=False))
            await _settle()
            assert budget.used == 2048
            await b2.write(core.encode_chunks(0x10, bytes(3072), 1024, last=False))
            await h2.error_seen.wait()  # 5,120 > 5,000: m2 holds the most
            assert isinstance(h2.errors[0], NodeBudgetError) and h1.errors == [] and m1.is_running
            assert budget.used == 2048 and budget.ended == 1
            # A message completed frees its bytes.
            await b1.write(core.encode_chunks(0x10, b"end", 1024, last=True))
            await _settle()
            assert budget.used == 0 and h1.msgs == [(0x10, bytes(2048) + b"end")]
            await m1.stop()
            await b1.close()
            await b2.close()

    asyncio.run(main())
