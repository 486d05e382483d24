"""pytest plugin (entry point ``pytest11: peerwire``): connected peerwire pairs as fixtures.

Each fixture opens its pair on a fresh event loop and yields a :class:`LoopPair`:
``pair.a`` dialled ``pair.b``; ``pair.run(fn)`` runs the coroutine function ``fn`` on that
loop and returns its result, which is what ``benchmark(pair.run, fn)`` times. The pair is
closed and the loop shut down after the test. Fixtures:

* ``peerwire_rlpx_pair``: two RLPx ``Connection`` s over loopback TCP (handshake done);
* ``peerwire_secret_pair`` / ``peerwire_secret_pair_memory``: two gno secret connections over
  loopback TCP / an in-memory pipe;
* ``peerwire_mconnection_pair``: two started MConnections (channel ``0x77``, rate limits out
  of the way); what ``b`` receives lands in ``pair.inbox`` (bounded);
* ``peerwire_server_pair``: two devp2p ``Server`` s connected by a ``bench/1`` protocol;
  ``pair.rw_a`` / ``pair.rw_b`` are the protocol's ``MsgReadWriter`` on each side;
* ``peerwire_switch_pair``: two TM2 ``MultiplexSwitch`` es over TCP; ``pair.peer_a`` is ``a``'s
  peer ``b``, and what ``b``'s reactor receives on ``0x77`` lands in ``pair.inbox``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, TypeVar

import pytest

from peerwire import devp2p, tm2
from peerwire._clock import SYSTEM_CLOCK
from peerwire.bench import _pairs
from peerwire.devp2p import rlpx

__all__ = ["INBOX_CAPACITY", "LoopPair"]

# Messages a fixture's inbox holds before the receiving side waits for the test to drain it.
INBOX_CAPACITY = 4096

T = TypeVar("T")
R = TypeVar("R")


class LoopPair(Generic[T]):
    """A connected pair bound to its own event loop (see the module doc)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pair: _pairs.Pair[T]) -> None:
        self.loop = loop
        self.pair = pair
        self.a: T = pair.a
        self.b: T = pair.b
        self.inbox: asyncio.Queue[tuple[int, bytes]] | None = None
        self.rw_a: devp2p.MsgReadWriter | None = None
        self.rw_b: devp2p.MsgReadWriter | None = None
        self.peer_a: tm2.PeerConn | None = None

    def run(self, fn: Callable[[], Awaitable[R]]) -> R:
        """Run ``fn()`` to completion on the pair's loop."""

        async def call() -> R:
            return await fn()

        return self.loop.run_until_complete(call())


def _open(
    make: Callable[[], Awaitable[_pairs.Pair[T]]],
) -> Iterator[tuple[asyncio.AbstractEventLoop, _pairs.Pair[T]]]:
    loop = asyncio.new_event_loop()
    try:
        pair = loop.run_until_complete(make())
        try:
            yield loop, pair
        finally:
            loop.run_until_complete(pair.close())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.fixture
def peerwire_rlpx_pair() -> Iterator[LoopPair[rlpx.Connection]]:
    for loop, pair in _open(_pairs.rlpx_pair):
        yield LoopPair(loop, pair)


@pytest.fixture
def peerwire_secret_pair() -> Iterator[LoopPair[tm2.SecretConnection]]:
    for loop, pair in _open(_pairs.secret_pair):
        yield LoopPair(loop, pair)


@pytest.fixture
def peerwire_secret_pair_memory() -> Iterator[LoopPair[tm2.SecretConnection]]:
    for loop, pair in _open(_pairs.secret_pair_memory):
        yield LoopPair(loop, pair)


def _inbox() -> tuple[
    Callable[[], asyncio.Queue[tuple[int, bytes]]], Callable[[int, bytes], Awaitable[None]]
]:
    """A queue made on first use (inside the fixture's loop) and the handler that fills it."""
    box: list[asyncio.Queue[tuple[int, bytes]]] = []

    def get() -> asyncio.Queue[tuple[int, bytes]]:
        if not box:
            box.append(asyncio.Queue(maxsize=INBOX_CAPACITY))
        return box[0]

    async def put(ch: int, msg: bytes) -> None:
        await get().put((ch, msg))

    return get, put


async def _ignore(ch: int, msg: bytes) -> None:
    return None


@pytest.fixture
def peerwire_mconnection_pair() -> Iterator[LoopPair[tm2.MConnection]]:
    get, put = _inbox()

    async def make() -> _pairs.Pair[tm2.MConnection]:
        get()
        return await _pairs.mconnection_pair(_ignore, put)

    for loop, pair in _open(make):
        lp = LoopPair(loop, pair)
        lp.inbox = get()
        yield lp


@pytest.fixture
def peerwire_server_pair() -> Iterator[LoopPair[devp2p.Server]]:
    rws: dict[str, devp2p.MsgReadWriter] = {}

    def keeper(side: str) -> Callable[[devp2p.Peer, devp2p.MsgReadWriter], Awaitable[None]]:
        async def run(peer: devp2p.Peer, rw: devp2p.MsgReadWriter) -> None:
            rws[side] = rw
            await asyncio.Event().wait()  # the test drives rw; the peer lives until the pair closes

        return run

    async def make() -> _pairs.Pair[devp2p.Server]:
        pair = await _pairs.server_pair(keeper("a"), keeper("b"))
        async with SYSTEM_CLOCK.timeout(_pairs.SETUP_TIMEOUT):
            while len(rws) < 2:  # noqa: ASYNC110 - the protocol runs start on the servers' tasks
                await asyncio.sleep(0.005)
        return pair

    for loop, pair in _open(make):
        lp = LoopPair(loop, pair)
        lp.rw_a, lp.rw_b = rws["a"], rws["b"]
        yield lp


@pytest.fixture
def peerwire_switch_pair() -> Iterator[LoopPair[tm2.MultiplexSwitch]]:
    get, put = _inbox()

    async def make() -> _pairs.Pair[tm2.MultiplexSwitch]:
        get()
        return await _pairs.switch_pair(put)

    for loop, pair in _open(make):
        lp = LoopPair(loop, pair)
        lp.inbox = get()
        assert isinstance(pair, _pairs.SwitchPair)
        lp.peer_a = pair.peer_a
        yield lp
