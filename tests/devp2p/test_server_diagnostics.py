"""The server's dial diagnostics on the in-memory network (fake clock): a static node that
keeps failing, a refusal named by its geth reason, metrics by reason, ``admin_dialFailures``."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.devp2p._aio import aio
from tests.devp2p.test_server import OTHER, make, settle, wait_for

from peerwire._clock import FakeClock
from peerwire._metrics import NetMetrics
from peerwire.cli._admin import build_server
from peerwire.cli._devp2p_backend import ServerBackend
from peerwire.devp2p import Node, PrivateKey
from peerwire.devp2p._dial import BACKOFF_BASE, BACKOFF_MAX
from peerwire.devp2p._transport import MemoryNetwork
from peerwire.diagnostics import FailureCategory
from peerwire.events import Direction

DIAL_LOG = "peerwire.devp2p.dial"


def failures_total(m: NetMetrics) -> dict[tuple[str, str], float]:
    out = {}
    for fam in text_string_to_metric_families(m.exposition().decode()):
        for s in fam.samples:
            if s.name == "peerwire_dial_failures_total":
                out[(s.labels["direction"], s.labels["reason"])] = s.value
    return out


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == DIAL_LOG and r.levelno == logging.WARNING]


def _post(url: str, method: str) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@aio
async def test_static_node_that_keeps_failing_follows_the_backoff(caplog: pytest.LogCaptureFixture) -> None:
    """Refused dials of a static node: 35 s, then doubling to the 300 s cap; each next retry
    is the time of the next dial; WARNING at attempts 1, 2, 4; metrics count every one."""
    caplog.set_level(logging.DEBUG, DIAL_LOG)
    clock = FakeClock()
    net = MemoryNetwork()
    gone = Node(PrivateKey.generate().public_key, "127.0.0.1", 30999, 30999)
    srv = make(net, clock, static_nodes=[gone])
    metrics = NetMetrics("devp2p")
    consumer = asyncio.ensure_future(metrics.consume(srv.lifecycle.subscribe()))
    async with srv:
        offset = clock.time() - clock.monotonic()
        dial_times: list[float] = []
        retries: list[float | None] = []
        for _ in range(1000):
            await settle(5)
            recs = srv.dial_failures()
            if recs and recs[0].attempts > len(retries):
                assert recs[0].attempts == len(retries) + 1  # every failure is seen
                dial_times.append(recs[0].last_failure - offset)
                retries.append(None if recs[0].next_retry is None else recs[0].next_retry - offset)
            await clock.advance(5.0)
        assert net.dials == [("127.0.0.1", 30999)] * len(dial_times)
        gaps = [BACKOFF_BASE * 2**i for i in range(4)] + [BACKOFF_MAX] * 20
        want = [0.0]
        for g in gaps:
            want.append(want[-1] + min(g, BACKOFF_MAX))
        n = len(dial_times)
        assert n >= 8 and dial_times == want[:n]
        assert retries == want[1 : n + 1]  # each failure announced the next dial
        (rec,) = srv.dial_failures()
        assert (rec.peer_id, rec.address, rec.attempts) == (gone.id.hex(), "127.0.0.1:30999", n)
        assert (
            rec.persistent and rec.direction is Direction.OUTBOUND and rec.reason is FailureCategory.REFUSED
        )
        assert rec.message == "connection refused: nothing listens at that address"
        assert rec.backoff == BACKOFF_MAX
        await settle()
        assert failures_total(metrics) == {("outbound", "refused"): float(n)}
        warns = warnings(caplog)
        assert warns[0] == (
            f"dial {gone.id.hex()}@127.0.0.1:30999 failed: connection refused: nothing listens at that "
            "address (refused; persistent peer, attempt 1, next retry in 35.0 s)"
        )
        escalations = [str(2**k) for k in range(1, 8) if 2**k <= n]
        assert [w.split(" after ")[1].split(" ")[0] for w in warns[1:]] == escalations
        assert warns[1].endswith("(refused, next retry in 70.0 s)")
        assert warns[2].endswith("(refused, next retry in 280.0 s)")
    consumer.cancel()


@aio
async def test_useless_peer_is_named_on_both_sides_and_listed_by_the_rpc(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, DIAL_LOG)
    clock = FakeClock(wall_offset=1_780_000_000.0)
    net = MemoryNetwork()
    a, b = make(net, clock), make(net, clock, protocols=[OTHER])
    ma, mb = NetMetrics("devp2p"), NetMetrics("devp2p")
    tasks = [
        asyncio.ensure_future(ma.consume(a.lifecycle.subscribe())),
        asyncio.ensure_future(mb.consume(b.lifecycle.subscribe())),
    ]
    backend = ServerBackend(a, network_id=1)
    async with a, b, build_server(backend, ma, "127.0.0.1", 0) as http:
        a.add_peer(b.self_node())
        await wait_for(lambda: bool(a.dial_failures()) and bool(b.dial_failures()))
        (ours,) = a.dial_failures()
        (theirs,) = b.dial_failures()
        bid, aid = b.self_node().id.hex(), a.self_node().id.hex()
        assert ours.peer_id == bid and ours.reason is FailureCategory.PROTOCOL
        assert theirs.peer_id == aid and theirs.direction is Direction.INBOUND
        assert theirs.reason is FailureCategory.PROTOCOL
        # each side checks the other's Hello and refuses it, naming geth's reason and what it got
        assert ours.message == "we refused the connection: useless peer (peerwire offers other/1)"
        assert theirs.message == "we refused the connection: useless peer (peerwire offers echo/1)"
        assert ours.error == "RefusedError: rejected: useless peer (peerwire offers other/1)"
        await settle()
        assert failures_total(ma) == {("outbound", "protocol"): 1.0}
        assert failures_total(mb) == {("inbound", "protocol"): 1.0}
        reply = await asyncio.to_thread(_post, http.url, "admin_dialFailures")
        (entry,) = reply["result"]
        assert entry["id"] == bid and entry["reason"] == "protocol" and entry["message"] == ours.message
        assert entry["persistent"] is True and entry["attempts"] == 1
        assert entry["nextRetry"] == "2026-05-28T20:27:15.000Z"  # 35 s after the failure at t=0
        assert entry["backoff"] == BACKOFF_BASE and entry["lastError"] == ours.error
        assert sum("useless peer" in w for w in warnings(caplog)) == 2  # one per side
    for t in tasks:
        t.cancel()
