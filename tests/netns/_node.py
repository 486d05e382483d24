"""A devp2p node for the netns tests: static peers and/or discovery; prints its peers as JSON lines.

Usage: _node.py <key-file> <db-path> <listen-ip> [--static ENODE ...] [--boot ENODE ...]
The key is created on first start (0600) and reused after; its enode is the first line printed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from peerwire.devp2p import Config, MsgReadWriter, Peer, PrivateKey, Protocol, Server


async def _idle(peer: Peer, rw: MsgReadWriter) -> None:
    while True:
        await rw.read_msg()


def _key(key_file: Path) -> PrivateKey:
    """The node's key: created on first start (0600), reused after."""
    if key_file.exists():
        return PrivateKey.from_hex(key_file.read_text())
    key = PrivateKey.generate()
    key_file.write_text(key.to_hex())
    key_file.chmod(0o600)
    return key


async def main(argv: list[str]) -> None:
    key_file, db, ip = Path(argv[0]), argv[1], argv[2]
    static = argv[argv.index("--static") + 1].split(",") if "--static" in argv else []
    boot = argv[argv.index("--boot") + 1].split(",") if "--boot" in argv else []
    key = _key(key_file)
    srv = Server(
        Config(
            private_key=key,
            name="netns",
            listen_addr=f"{ip}:30303",
            protocols=[Protocol("idle", 1, 1, _idle)],
            static_nodes=[s for s in static if s],
            bootstrap_nodes=[b for b in boot if b],
            no_discovery=not boot and "--discovery" not in argv,
            node_database=db,
            max_peers=20,
        )
    )
    async with srv:
        print(json.dumps({"enode": srv.self_node().enode_url()}), flush=True)
        while True:
            disc = srv.discovery
            table = len(disc.table_nodes()) if disc is not None and hasattr(disc, "table_nodes") else None
            v4 = disc.v4 if disc is not None else None
            empty = v4.refresher.found_empty if v4 is not None else None
            peers = sorted(p.id.hex() for p in srv.peers())
            print(json.dumps({"peers": peers, "table": table, "found_empty": empty}), flush=True)
            await asyncio.sleep(0.5)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
