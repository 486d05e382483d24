"""The pytest plugin's fixtures (entry point ``pytest11: peerwire``): each pair really carries bytes.

Each test uses its fixture the way a benchmark would — ``benchmark(pair.run, fn)`` — under the
default ``--benchmark-disable`` run, where the function runs once and its result is checked.
"""

from __future__ import annotations

import importlib.metadata

from pytest_benchmark.fixture import BenchmarkFixture

from peerwire import devp2p, tm2
from peerwire.bench.plugin import LoopPair
from peerwire.devp2p import rlpx

PAYLOAD = bytes(range(256)) * 4
N = 16


def test_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    eps = importlib.metadata.entry_points(group="pytest11")
    assert any(e.name == "peerwire" and e.value == "peerwire.bench.plugin" for e in eps)


def test_rlpx_pair(benchmark: BenchmarkFixture, peerwire_rlpx_pair: LoopPair[rlpx.Connection]) -> None:
    pair = peerwire_rlpx_pair

    async def exchange() -> int:
        for _ in range(N):
            await pair.a.send(0x10, PAYLOAD)
        got = [await pair.b.recv(timeout=5) for _ in range(N)]
        assert got == [(0x10, PAYLOAD)] * N
        return len(got)

    assert benchmark(pair.run, exchange) == N


def _secret_roundtrip(pair: LoopPair[tm2.SecretConnection]) -> int:
    async def exchange() -> int:
        for _ in range(N):
            await pair.a.write(PAYLOAD)
        got = b""
        while len(got) < N * len(PAYLOAD):
            got += await pair.b.read()
        assert got == PAYLOAD * N
        return len(got)

    return pair.run(exchange)


def test_secret_pair(
    benchmark: BenchmarkFixture, peerwire_secret_pair: LoopPair[tm2.SecretConnection]
) -> None:
    assert benchmark(_secret_roundtrip, peerwire_secret_pair) == N * len(PAYLOAD)


def test_secret_pair_memory(
    benchmark: BenchmarkFixture, peerwire_secret_pair_memory: LoopPair[tm2.SecretConnection]
) -> None:
    assert benchmark(_secret_roundtrip, peerwire_secret_pair_memory) == N * len(PAYLOAD)


def test_mconnection_pair(
    benchmark: BenchmarkFixture, peerwire_mconnection_pair: LoopPair[tm2.MConnection]
) -> None:
    pair = peerwire_mconnection_pair
    assert pair.inbox is not None
    inbox = pair.inbox

    async def exchange() -> int:
        for i in range(N):
            assert await pair.a.send(0x77, PAYLOAD + bytes([i]))
        got = [await inbox.get() for _ in range(N)]
        assert got == [(0x77, PAYLOAD + bytes([i])) for i in range(N)]
        return len(got)

    assert benchmark(pair.run, exchange) == N


def test_server_pair(benchmark: BenchmarkFixture, peerwire_server_pair: LoopPair[devp2p.Server]) -> None:
    pair = peerwire_server_pair
    assert pair.a.peer_count() == 1 and pair.b.peer_count() == 1
    rw_a, rw_b = pair.rw_a, pair.rw_b
    assert rw_a is not None and rw_b is not None
    payload = b"\xb9\x04\x00" + PAYLOAD  # an RLP string of 1024 bytes

    async def exchange() -> int:
        for _ in range(N):
            await rw_a.write_msg(3, payload)
        for _ in range(N):
            msg = await rw_b.read_msg()
            assert (msg.code, msg.payload) == (3, payload)
        return N

    assert benchmark(pair.run, exchange) == N


def test_switch_pair(
    benchmark: BenchmarkFixture, peerwire_switch_pair: LoopPair[tm2.MultiplexSwitch]
) -> None:
    pair = peerwire_switch_pair
    peer, inbox = pair.peer_a, pair.inbox
    assert peer is not None and inbox is not None
    assert len(pair.b.peers()) == 1

    async def exchange() -> int:
        for i in range(N):
            assert await peer.send(0x77, PAYLOAD + bytes([i]))
        got = [await inbox.get() for _ in range(N)]
        assert got == [(0x77, PAYLOAD + bytes([i])) for i in range(N)]
        return len(got)

    assert benchmark(pair.run, exchange) == N
