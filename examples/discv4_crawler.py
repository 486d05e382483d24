"""A discovery v4 crawler: walk the DHT with random lookups and list every node found.

    python examples/discv4_crawler.py --bootnode enode://…@host:30303 --duration 60
    python examples/discv4_crawler.py --local 8 --duration 10     # a private net on 127.0.0.1

Each round runs a Kademlia lookup for a random target through the crawler's table; every node
in the answers is new knowledge. With ``--local N`` the script first starts N discv4 nodes on
127.0.0.1 (node 0 is their bootnode) and crawls them, so it runs without the internet.
The crawl ends after ``--duration`` seconds, or once ``--expect`` nodes are known.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

from peerwire import devp2p
from peerwire.devp2p import discover


async def crawl(bootnodes: list[str], duration: float, expect: int | None) -> dict[bytes, devp2p.Node]:
    found: dict[bytes, devp2p.Node] = {}
    deadline = time.monotonic() + duration
    async with discover.listen_v4(devp2p.PrivateKey.generate(), "0.0.0.0:0", bootnodes=bootnodes) as udp:
        while time.monotonic() < deadline and (expect is None or len(found) < expect):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.1, deadline - time.monotonic())):
                    result = await udp.lookup()  # random target
                    for n in [*result, *udp.table_nodes()]:
                        if n.id not in found:
                            found[n.id] = n
                            print(f"{len(found):4d} {n.enode_url()}", flush=True)
            await asyncio.sleep(0.2)
    return found


async def main(args: argparse.Namespace) -> int:
    async with contextlib.AsyncExitStack() as stack:
        bootnodes = list(args.bootnode)
        if args.local:
            for i in range(args.local):
                node = await stack.enter_async_context(
                    discover.listen_v4(devp2p.PrivateKey.generate(), "127.0.0.1:0", bootnodes=bootnodes[:1])
                )
                if i == 0:
                    bootnodes = [node.self_node().enode_url()]
        if not bootnodes:
            print("give --bootnode enode://… or --local N")
            return 2
        found = await crawl(bootnodes, args.duration, args.expect)
    print(f"crawl done: {len(found)} nodes")
    return 0 if found else 1


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bootnode", action="append", default=[], help="enode URL to start from (repeatable)")
    p.add_argument("--local", type=int, default=0, help="start N local discv4 nodes and crawl them")
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--expect", type=int, default=None, help="stop once this many nodes are known")
    raise SystemExit(asyncio.run(main(p.parse_args())))
