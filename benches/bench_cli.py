"""The per-message cost the stacks pay for metrics, and the admin RPC's dispatch cost.

``NetMetrics.message_in`` (cached label children, one lock) is compared in the same run with
the obvious prometheus-client code (``counter.labels(...).inc()`` per message), which is what
a stack would write without it. Run with ``make bench`` or ``peerwire bench -k cli``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry, Counter
from pytest_benchmark.fixture import BenchmarkFixture

from peerwire._metrics import NetMetrics
from peerwire.cli._admin import build_dispatcher
from peerwire.cli._devp2p_backend import ServerBackend
from peerwire.devp2p import Config, PrivateKey, Server


def _peerwire() -> tuple[Callable[[], None], Callable[[], float]]:
    m = NetMetrics("devp2p")

    def record() -> None:
        m.message_in("eth", 100)

    return record, lambda: float(m.snapshot().messages_in)


def _plain_prometheus() -> tuple[Callable[[], None], Callable[[], float]]:
    reg = CollectorRegistry()
    msgs = Counter("m", "m", ["stack", "direction", "protocol"], registry=reg)
    nbytes = Counter("b", "b", ["stack", "direction", "protocol"], registry=reg)

    def record() -> None:
        msgs.labels("devp2p", "in", "eth").inc()
        nbytes.labels("devp2p", "in", "eth").inc(100)

    return record, lambda: float(
        reg.get_sample_value("m_total", {"stack": "devp2p", "direction": "in", "protocol": "eth"}) or 0
    )


IMPLS = {"peerwire": _peerwire, "prometheus-labels": _plain_prometheus}


@pytest.mark.parametrize("impl", list(IMPLS), ids=list(IMPLS))
def bench_metrics_message_in(benchmark: BenchmarkFixture, impl: str) -> None:
    record, count = IMPLS[impl]()
    record()
    assert count() == 1.0
    benchmark.group = "metrics message_in"
    benchmark(record)


def bench_rpc_dispatch(benchmark: BenchmarkFixture) -> None:
    server = Server(Config(private_key=PrivateKey.generate()))  # not started: no peers
    d = build_dispatcher(ServerBackend(server, network_id=1))
    body = b'{"jsonrpc":"2.0","id":1,"method":"net_peerCount"}'
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(d.handle_bytes(body)) == b'{"jsonrpc":"2.0","id":1,"result":"0x0"}'
        benchmark.group = "rpc dispatch"
        benchmark(lambda: loop.run_until_complete(d.handle_bytes(body)))
    finally:
        loop.close()
