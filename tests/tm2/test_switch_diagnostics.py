"""The switch's dial diagnostics on the in-memory network (fake clock): the failure table,
its WARNING policy, the metrics counter and ``admin_dialFailures`` over the real JSON-RPC server."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.tm2.test_switch import Node, key, nid, run, settle, until

from peerwire import tm2
from peerwire._clock import FakeClock
from peerwire._metrics import NetMetrics
from peerwire.cli._admin import build_server
from peerwire.cli._tm2_backend import SwitchBackend
from peerwire.diagnostics import FailureCategory
from peerwire.events import Direction
from peerwire.testing.tm2 import MemoryNetwork, MemoryTransport
from peerwire.tm2 import profiles

DIAL_LOG = "peerwire.tm2.dial"
GNO_REASON = "gnoland requires version set entries abci, app, bft, blockchain"


class GnolandTransport(MemoryTransport):
    """A memory node advertising what a gno.land node does (the ``gnoland`` profile)."""

    def _make_info(self, addr: tm2.NetAddress) -> tm2.NodeInfo:
        return profiles.gnoland("memory").node_info(addr, "gnoland")


class BareTransport(MemoryTransport):
    """A memory node with a one-entry (``p2p``) version set, as peerwire had before profiles."""

    def _make_info(self, addr: tm2.NetAddress) -> tm2.NodeInfo:
        return profiles.bare("memory", self.channels).node_info(addr, "memory")


def failures_total(m: NetMetrics) -> dict[tuple[str, str], float]:
    out = {}
    for fam in text_string_to_metric_families(m.exposition().decode()):
        for s in fam.samples:
            if s.name == "peerwire_dial_failures_total":
                out[(s.labels["direction"], s.labels["reason"])] = s.value
    return out


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == DIAL_LOG and r.levelno == logging.WARNING]


def test_persistent_peer_that_keeps_failing_follows_the_backoff_schedule(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listens: attempts count up, each next retry is the time of the next dial
    (tick every 5 s + 1, 2, 4, ... s), WARNING at attempts 1, 2, 4 only; a later connect clears it."""
    caplog.set_level(logging.DEBUG, DIAL_LOG)

    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        pid, port = nid("p"), 40000
        metrics = NetMetrics("tm2")
        async with Node(net, "a", tm2.with_persistent_peers([f"{pid}@127.0.0.1:{port}"])) as a:
            consumer = asyncio.ensure_future(metrics.consume(a.sw.subscribe_lifecycle()))
            offset = clock.time() - clock.monotonic()
            seen: list[tuple[int, float | None, float | None]] = []
            await settle()
            for _ in range(90):
                (rec,) = a.sw.dial_failures()
                if not seen or seen[-1][0] != rec.attempts:
                    nxt = None if rec.next_retry is None else rec.next_retry - offset
                    seen.append((rec.attempts, rec.last_failure - offset, nxt))
                await clock.advance(1.0)
            dials = net.dials_to(f"127.0.0.1:{port}")
            assert dials == [0.0, 6.0, 12.0, 19.0, 28.0, 46.0, 82.0]
            assert [n for n, _, _ in seen] == [1, 2, 3, 4, 5, 6, 7]
            assert [t for _, t, _ in seen] == dials  # each failure at its dial
            assert [r for _, _, r in seen] == [*dials[1:], 149.0]  # each next retry is the next dial
            (rec,) = a.sw.dial_failures()
            assert rec.peer_id == pid and rec.persistent and rec.direction is Direction.OUTBOUND
            assert rec.reason is FailureCategory.REFUSED
            assert rec.message == "connection refused: nothing listens at that address"
            assert rec.error.startswith("DialError: dial ")
            assert rec.first_failure == offset and rec.backoff == 149.0 - 82.0
            await settle()
            assert failures_total(metrics) == {("outbound", "refused"): 7.0}
            warns = warnings(caplog)
            assert warns == [
                f"dial {pid}@127.0.0.1:{port} failed: connection refused: nothing listens at that address "
                "(refused; persistent peer, attempt 1, next retry in 6.0 s)",
                f"persistent peer {pid}@127.0.0.1:{port} still failing after 2 attempts: connection "
                "refused: nothing listens at that address (refused, next retry in 6.0 s)",
                f"persistent peer {pid}@127.0.0.1:{port} still failing after 4 attempts: connection "
                "refused: nothing listens at that address (refused, next retry in 9.0 s)",
            ]
            async with Node(net, "p", port=port):
                await until(lambda: a.sw.peers().has(pid), clock, 1.0, rounds=100)
                assert a.sw.dial_failures() == []
            infos = [
                r.getMessage() for r in caplog.records if r.name == DIAL_LOG and r.levelno == logging.INFO
            ]
            assert infos[-1].startswith(f"{pid} connected after 7 failed attempts")
            consumer.cancel()

    run(main)


def test_incompatible_node_info_gives_the_human_reason_on_both_sides(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, DIAL_LOG)

    async def main() -> None:
        clock = FakeClock()
        net = MemoryNetwork(clock)
        gk = key("gno")
        gno_t = GnolandTransport(net, gk, channels=profiles.GNOLAND_CHANNELS)
        gno = tm2.MultiplexSwitch(gno_t, tm2.with_clock(clock))
        gno_metrics, a_metrics = NetMetrics("tm2"), NetMetrics("tm2")
        await gno_t.listen()
        a_t = BareTransport(net, key("a"), channels=bytes([0x40]))
        a = tm2.MultiplexSwitch(a_t, tm2.with_clock(clock))
        await a_t.listen()
        async with gno, a:
            tasks = [
                asyncio.ensure_future(gno_metrics.consume(gno.subscribe_lifecycle())),
                asyncio.ensure_future(a_metrics.consume(a.subscribe_lifecycle())),
            ]
            assert a.dial_peers(str(gno_t.net_address())) == 1
            await until(lambda: bool(a.dial_failures()) and bool(gno.dial_failures()), clock, 0.1)
            (ours,) = a.dial_failures()
            assert (ours.peer_id, ours.reason, ours.message) == (
                gk.id,
                FailureCategory.INCOMPATIBLE,
                GNO_REASON,
            )
            assert "IncompatibleNodeInfoError" in ours.error and "Other VersionSet requires" in ours.error
            assert ours.next_retry is None and not ours.persistent  # dialed once, not persistent
            (theirs,) = gno.dial_failures()
            assert theirs.direction is Direction.INBOUND and theirs.peer_id == nid("a")
            assert (
                theirs.message
                == "we require version set entries abci, app, bft, blockchain that memory lacks"
            )
            await settle()
            assert failures_total(a_metrics) == {("outbound", "incompatible"): 1.0}
            assert failures_total(gno_metrics) == {("inbound", "incompatible"): 1.0}
            assert sorted(warnings(caplog)) == [
                f"dial {gk.id}@{gno_t.net_address().dial_string()} failed: {GNO_REASON} "
                "(incompatible; attempt 1)",
                f"inbound handshake from {theirs.address} ({nid('a')}) failed: we require version set "
                "entries abci, app, bft, blockchain that memory lacks (incompatible; attempt 1)",
            ]
            for t in tasks:
                t.cancel()
        await gno_t.close()
        await a_t.close()

    run(main)


def _post(url: str, method: str) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_admin_dial_failures_over_the_json_rpc_server() -> None:
    """The node's real HTTP JSON-RPC server lists the switch's failures (ISO times, backoff)."""

    async def main() -> None:
        clock = FakeClock(wall_offset=1_780_000_000.0)
        net = MemoryNetwork(clock)
        pid, port = nid("gone"), 40200
        a = Node(net, "a", tm2.with_persistent_peers([f"{pid}@127.0.0.1:{port}"]))
        backend = SwitchBackend(a.sw, a.transport.node_info, listen_addr=a.addr)
        async with a, build_server(backend, NetMetrics("tm2"), "127.0.0.1", 0) as http:
            await settle()
            for _ in range(7):
                await clock.advance(1.0)
            reply = await asyncio.to_thread(_post, http.url, "admin_dialFailures")
            assert reply["result"] == [
                {
                    "id": pid,
                    "address": f"127.0.0.1:{port}",
                    "direction": "outbound",
                    "reason": "refused",
                    "message": "connection refused: nothing listens at that address",
                    "lastError": a.sw.dial_failures()[0].error,
                    "attempts": 2,
                    "persistent": True,
                    "firstFailure": "2026-05-28T20:26:40.000Z",
                    "lastFailure": "2026-05-28T20:26:46.000Z",
                    "nextRetry": "2026-05-28T20:26:52.000Z",
                    "backoff": 6.0,
                }
            ]
            modules = await asyncio.to_thread(_post, http.url, "rpc_modules")
            assert modules["result"]["admin"] == "1.0"

    run(main)
