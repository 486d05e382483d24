"""``peerwire crawl``: a thin layer over :class:`peerwire.crawl.Crawler`, plus ``crawl export``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from peerwire import crawl, eth
from peerwire.cli._signals import stop_on_signals

__all__ = ["add_arguments", "run_crawl"]

#: Live view refresh period (seconds).
REFRESH = 0.5


def add_arguments(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    cr = sub.add_parser("crawl", parents=[common], help="map a devp2p or TM2 network into SQLite")
    cr.add_argument(
        "action", nargs="?", choices=("run", "export"), default="run", help="crawl (default) or export"
    )
    cr.add_argument("--stack", choices=("devp2p", "tm2"), default="devp2p")
    cr.add_argument("--bootnodes", default="", help="comma-separated enode:/enr: URLs or TM2 id@host:port")
    cr.add_argument("--chain", default=None, help="mainnet|sepolia|hoodi|genesis.json (default: answer any)")
    cr.add_argument(
        "--probe-all",
        action="store_true",
        help="with --chain: dial every node, not only those whose ENR eth entry fits the chain",
    )
    cr.add_argument("--db", default="crawl.sqlite", help="SQLite database (default crawl.sqlite)")
    cr.add_argument("--listen", default="0.0.0.0:0", help="UDP discovery address (devp2p)")
    cr.add_argument("--duration", type=float, default=None, help="seconds to crawl (default: until Ctrl-C)")
    cr.add_argument("--until-idle", action="store_true", help="stop once nothing is left to ask or dial")
    cr.add_argument(
        "--parallel", type=int, default=crawl.DEFAULT_PARALLEL, help="discovery requests in flight"
    )
    cr.add_argument("--no-live", action="store_true", help="no live view, only the summary")
    cr.add_argument("--format", choices=("json", "csv"), default="json", help="export format")
    cr.add_argument("--network", default=None, help="export: eth network ID or TM2 network")
    cr.add_argument("--client", default=None, help="export: client name contains")
    cr.add_argument("--fork-id", default=None, help="export: fork hash hex[:next]")
    cr.add_argument("--snap", action="store_true", default=None, help="export: only nodes offering snap")
    cr.add_argument("--dialable", action="store_true", default=None, help="export: only dialable nodes")
    cr.add_argument("--min-age", type=float, default=None, help="export: first seen at least S seconds ago")
    cr.add_argument("--out", "-o", default=None, help="export: file to write (default stdout)")


def _chain(text: str | None) -> eth.Chain | None:
    if text is None:
        return None
    presets = {"mainnet": eth.Chain.mainnet, "sepolia": eth.Chain.sepolia, "hoodi": eth.Chain.hoodi}
    if text in presets:
        return presets[text]()
    return eth.Chain.from_genesis_json(Path(text))


def _export(args: argparse.Namespace) -> int:
    f = crawl.ExportFilter(
        network=args.network,
        client=args.client,
        fork_id=args.fork_id,
        snap=args.snap,
        dialable=args.dialable,
        min_age=args.min_age,
    )
    if not Path(args.db).exists():
        print(f"error: no database at {args.db}", file=sys.stderr)
        return 1
    store = crawl.Store(args.db)
    try:
        text = crawl.export_json(store, f) if args.format == "json" else crawl.export_csv(store, f)
    finally:
        store.close()
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _render(stats: crawl.CrawlStats) -> object:
    from rich.table import Table

    t = Table(title="peerwire crawl", show_header=False)
    t.add_row("found", str(stats.found))
    t.add_row("probed", str(stats.probed))
    t.add_row("dialable", str(stats.dialable))
    t.add_row("with eth Status", str(stats.with_status))
    t.add_row("discovery queries", f"{stats.queries} ({stats.query_failures} failed)")
    t.add_row("inbound", str(stats.inbound))
    t.add_row("rate", f"{stats.rate:.1f} nodes/s over {stats.elapsed:.0f} s")
    for name, n in list(stats.clients.items())[:8]:
        t.add_row(f"  {name}", str(n))
    return t


async def _crawl(args: argparse.Namespace) -> crawl.CrawlStats:
    cfg = crawl.CrawlConfig(
        stack=args.stack,
        bootnodes=[b for b in args.bootnodes.split(",") if b],
        db=args.db,
        chain=_chain(args.chain),
        enr_filter=not args.probe_all,
        listen=args.listen,
        parallel=args.parallel,
    )
    stop = asyncio.Event()
    async with crawl.Crawler(cfg) as c:
        run = asyncio.ensure_future(c.run(args.duration, until_idle=args.until_idle))
        with stop_on_signals(stop), contextlib.ExitStack() as ex:
            live = None
            if not args.no_live:
                from rich.live import Live

                live = ex.enter_context(Live(_render(c.stats), refresh_per_second=4))  # type: ignore[arg-type]
            waiter = asyncio.ensure_future(stop.wait())
            while not run.done() and not stop.is_set():
                await asyncio.wait({run, waiter}, timeout=REFRESH, return_when=asyncio.FIRST_COMPLETED)
                if live is not None:
                    live.update(_render(c.stats))  # type: ignore[arg-type]
            waiter.cancel()
            if not run.done():
                run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
        return c.stats


def run_crawl(args: argparse.Namespace) -> int:
    if args.action == "export":
        return _export(args)
    stats = asyncio.run(_crawl(args))
    from rich.console import Console

    Console().print(_render(stats))
    return 0
