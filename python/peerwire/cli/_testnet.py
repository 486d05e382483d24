"""``peerwire testnet``: many nodes in one process on 127.0.0.1, a live view, a summary.

The runner is stack-agnostic. A stack contributes a :class:`TestnetStack` (registered with
:func:`register_testnet_stack`) whose :meth:`TestnetStack.create` returns started-on-demand
:class:`TestnetNode` objects; node 0 is the bootnode (devp2p) or seed (TM2), the others are
told about it. Every node reports through its own :class:`~peerwire._metrics.NetMetrics`, which
is all the runner reads: peers in/out, messages and bytes per second, handshake failures.

Without a registered stack the command stops with a clear error; it never shows made-up data.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._metrics import MetricsSnapshot, NetMetrics
from peerwire.cli._signals import stop_on_signals
from peerwire.cli._stacks import Devp2pTestnetStack, Tm2TestnetStack

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "NodeRow",
    "Testnet",
    "TestnetNode",
    "TestnetStack",
    "TestnetSummary",
    "register_testnet_stack",
    "run_testnet_cli",
    "testnet_stacks",
]

log = logging.getLogger(__name__)

#: Seconds allowed for all nodes to start, and to stop, before the run is declared failed.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
#: Live view refresh period (seconds).
REFRESH = 0.5


@runtime_checkable
class TestnetNode(Protocol):
    """One node of a testnet."""

    name: str
    stack: str
    metrics: NetMetrics

    @property
    def address(self) -> str:
        """How peers reach it (enode URL / ``id@host:port``)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class TestnetStack(Protocol):
    """Builds the nodes of one stack for a run."""

    name: str

    async def create(self, count: int, workdir: Path) -> Sequence[TestnetNode]:
        """``count`` nodes on 127.0.0.1 with free ports; node 0 is the bootnode / seed."""
        ...


StackFactory = Callable[[], TestnetStack]
#: Stacks replaced for this process by :func:`register_testnet_stack` (tests, experiments).
_OVERRIDES: dict[str, StackFactory] = {}


def register_testnet_stack(name: str, factory: StackFactory) -> None:
    """Run ``factory``'s stack for ``testnet --stack name`` in this process (an explicit override)."""
    _OVERRIDES[name] = factory


def testnet_stacks() -> dict[str, StackFactory]:
    """The stacks ``testnet`` runs: the real devp2p and TM2 ones, unless overridden."""
    return {"devp2p": Devp2pTestnetStack, "tm2": Tm2TestnetStack, **_OVERRIDES}


@dataclass(slots=True)
class NodeRow:
    name: str
    stack: str
    address: str
    peers_in: int = 0
    peers_out: int = 0
    msgs_in_rate: float = 0.0
    msgs_out_rate: float = 0.0
    bytes_in_rate: float = 0.0
    bytes_out_rate: float = 0.0
    handshake_failures: int = 0
    max_peers: int = 0
    totals: MetricsSnapshot | None = None

    @property
    def peers(self) -> int:
        return self.peers_in + self.peers_out


@dataclass(slots=True)
class TestnetSummary:
    __test__ = False  # not a pytest test class despite the name

    rows: list[NodeRow]
    elapsed: float
    interrupted: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def all_connected(self) -> bool:
        """Every node ended the run with at least one peer."""
        return bool(self.rows) and all(r.peers > 0 for r in self.rows)


class Testnet:
    """Runs nodes from several stacks for ``duration`` seconds (or until ``stop`` is set)."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self,
        stacks: Sequence[TestnetStack],
        nodes: int,
        duration: float,
        *,
        clock: Clock = SYSTEM_CLOCK,
        refresh: float = REFRESH,
    ) -> None:
        self.stacks = list(stacks)
        self.count = nodes
        self.duration = duration
        self.clock = clock
        self.refresh = refresh
        self.nodes: list[TestnetNode] = []

    async def run(
        self,
        workdir: Path,
        stop: asyncio.Event | None = None,
        on_tick: Callable[[list[NodeRow], float], None] | None = None,
    ) -> TestnetSummary:
        stop = stop if stop is not None else asyncio.Event()
        errors: list[str] = []
        started: list[TestnetNode] = []
        rows: list[NodeRow] = []
        t0 = self.clock.monotonic()
        try:
            async with SYSTEM_CLOCK.timeout(START_TIMEOUT):
                for stack in self.stacks:
                    sdir = workdir / stack.name
                    sdir.mkdir(parents=True, exist_ok=True)
                    nodes = list(await stack.create(self.count, sdir))
                    if not nodes:
                        continue
                    await nodes[0].start()  # the bootnode / seed first
                    started.append(nodes[0])
                    rest = nodes[1:]
                    results = await asyncio.gather(*(n.start() for n in rest), return_exceptions=True)
                    for n, res in zip(rest, results, strict=True):
                        if isinstance(res, BaseException):
                            errors.append(f"{n.name}: start failed: {res}")
                        else:
                            started.append(n)
                    self.nodes.extend(nodes)
        except TimeoutError:
            errors.append(f"nodes did not start within {START_TIMEOUT:.0f} s")
        rows = [NodeRow(n.name, n.stack, n.address) for n in self.nodes]
        prev = [n.metrics.snapshot() for n in self.nodes]  # by position: names need not be unique
        t_prev = self.clock.monotonic()
        deadline = t0 + self.duration
        interrupted = False
        try:
            while not errors and self.clock.monotonic() < deadline:
                sleep = asyncio.ensure_future(
                    self.clock.sleep(min(self.refresh, deadline - self.clock.monotonic()))
                )
                stopper = asyncio.ensure_future(stop.wait())
                done, pending = await asyncio.wait({sleep, stopper}, return_when=asyncio.FIRST_COMPLETED)
                for p in pending:
                    p.cancel()
                if stopper in done:
                    interrupted = True
                    break
                now = self.clock.monotonic()
                dt = max(now - t_prev, 1e-9)
                for i, (row, node) in enumerate(zip(rows, self.nodes, strict=True)):
                    cur = node.metrics.snapshot()
                    _update(row, prev[i], cur, dt)
                    prev[i] = cur
                t_prev = now
                if on_tick is not None:
                    on_tick(rows, now - t0)
        finally:
            for row, node in zip(rows, self.nodes, strict=True):
                cur = node.metrics.snapshot()
                row.peers_in, row.peers_out = cur.peers_inbound, cur.peers_outbound
                row.handshake_failures = cur.handshake_failures
                row.max_peers = max(row.max_peers, cur.peers)
                row.totals = cur
            await self._stop_all(started, errors)
        return TestnetSummary(rows, self.clock.monotonic() - t0, interrupted, errors)

    async def _stop_all(self, nodes: list[TestnetNode], errors: list[str]) -> None:
        try:
            async with SYSTEM_CLOCK.timeout(STOP_TIMEOUT):
                results = await asyncio.gather(*(n.stop() for n in reversed(nodes)), return_exceptions=True)
        except TimeoutError:
            errors.append(f"nodes did not stop within {STOP_TIMEOUT:.0f} s")
            return
        for n, res in zip(reversed(nodes), results, strict=True):
            if isinstance(res, BaseException):
                errors.append(f"{n.name}: stop failed: {res}")


def _update(row: NodeRow, prev: MetricsSnapshot, cur: MetricsSnapshot, dt: float) -> None:
    row.peers_in, row.peers_out = cur.peers_inbound, cur.peers_outbound
    row.msgs_in_rate = (cur.messages_in - prev.messages_in) / dt
    row.msgs_out_rate = (cur.messages_out - prev.messages_out) / dt
    row.bytes_in_rate = (cur.bytes_in - prev.bytes_in) / dt
    row.bytes_out_rate = (cur.bytes_out - prev.bytes_out) / dt
    row.handshake_failures = cur.handshake_failures
    row.max_peers = max(row.max_peers, cur.peers)


# ----------------------------------------------------------------------------- rendering


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def live_table(rows: list[NodeRow], elapsed: float, duration: float) -> Table:
    from rich.table import Table

    t = Table(title=f"peerwire testnet  {elapsed:4.1f}/{duration:.0f} s   (Ctrl-C stops)", expand=False)
    for col, justify in (
        ("node", "left"),
        ("stack", "left"),
        ("peers in", "right"),
        ("peers out", "right"),
        ("msg/s in", "right"),
        ("msg/s out", "right"),
        ("bytes/s in", "right"),
        ("bytes/s out", "right"),
        ("hs fail", "right"),
    ):
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        t.add_row(
            r.name,
            r.stack,
            str(r.peers_in),
            str(r.peers_out),
            f"{r.msgs_in_rate:.1f}",
            f"{r.msgs_out_rate:.1f}",
            _human_bytes(r.bytes_in_rate),
            _human_bytes(r.bytes_out_rate),
            str(r.handshake_failures) if not r.handshake_failures else f"[red]{r.handshake_failures}[/]",
        )
    return t


def summary_table(summary: TestnetSummary) -> Table:
    from rich.table import Table

    state = "interrupted" if summary.interrupted else "finished"
    t = Table(title=f"testnet summary ({state} after {summary.elapsed:.1f} s)")
    for col in (
        "node",
        "stack",
        "peers in",
        "peers out",
        "max peers",
        "msgs in",
        "msgs out",
        "bytes in",
        "bytes out",
        "hs fail",
        "connected",
    ):
        t.add_column(col, justify="left" if col in ("node", "stack") else "right")
    for r in summary.rows:
        tot = r.totals
        t.add_row(
            r.name,
            r.stack,
            str(r.peers_in),
            str(r.peers_out),
            str(r.max_peers),
            str(tot.messages_in if tot else 0),
            str(tot.messages_out if tot else 0),
            _human_bytes(tot.bytes_in if tot else 0),
            _human_bytes(tot.bytes_out if tot else 0),
            str(r.handshake_failures),
            "[green]yes[/]" if r.peers > 0 else "[red]no[/]",
        )
    return t


def run_testnet_cli(stack: str, nodes: int, duration: float, *, live: bool = True) -> int:
    """The ``peerwire testnet`` command. Exit 0 when every node ended connected."""
    wanted = ["devp2p", "tm2"] if stack == "both" else [stack]
    available = testnet_stacks()
    stacks = [available[s]() for s in wanted]
    return asyncio.run(_run(stacks, nodes, duration, live=live))


async def _run(stacks: list[TestnetStack], nodes: int, duration: float, *, live: bool) -> int:
    from rich.console import Console
    from rich.live import Live

    console = Console()
    stop = asyncio.Event()
    net = Testnet(stacks, nodes, duration)
    with stop_on_signals(stop), tempfile.TemporaryDirectory(prefix="peerwire-testnet-") as tmp:
        if live and console.is_terminal:
            with Live(
                live_table([], 0.0, duration), console=console, refresh_per_second=4, transient=True
            ) as view:
                summary = await net.run(
                    Path(tmp), stop, lambda rows, t: view.update(live_table(rows, t, duration))
                )
        else:
            summary = await net.run(Path(tmp), stop)
    console.print(summary_table(summary))
    for err in summary.errors:
        console.print(f"[red]error:[/] {err}")
    connected = sum(1 for r in summary.rows if r.peers > 0)
    console.print(f"{connected}/{len(summary.rows)} nodes connected")
    if summary.errors:
        return 1
    if summary.interrupted:
        return 130 if not summary.all_connected else 0
    return 0 if summary.all_connected else 1
