"""A TM2 node for the netns tests: persistent peers and peer exchange; prints its state as JSON lines.

Usage: _tm2node.py <key-file> <book-path> <listen-ip> [--persistent ADDR,...] [--seeds ADDR,...]
The node key is created on first start and reused after; ``{"id": ...}`` is the first line
printed, then every 0.5 s ``{"peers": [ids], "book": n}`` (``book``: addresses known by PEX).
Pings every 5 s with a 4 s pong deadline (gno's defaults are 60 s / 45 s), so that a silent
partition is noticed within a test's patience.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from peerwire import tm2
from peerwire.tm2 import discovery

PORT = 26656
PING_INTERVAL = 5.0
PONG_TIMEOUT = 4.0


def _key(path: Path) -> tm2.NodeKey:
    if path.exists():
        return tm2.NodeKey.load(path)
    key = tm2.NodeKey.generate()
    key.save(path)
    return key


def _list(argv: list[str], flag: str) -> list[str]:
    return [a for a in argv[argv.index(flag) + 1].split(",") if a] if flag in argv else []


async def main(argv: list[str]) -> None:
    key_file, book, ip = Path(argv[0]), argv[1], argv[2]
    key = _key(key_file)
    address = tm2.NetAddress(key.id, ip, PORT)
    pex = discovery.Reactor(book, seeds=_list(argv, "--seeds"), interval=2.0)
    info = tm2.NodeInfo(
        net_address=address,
        network="netns",
        version="v1.0.0-rc.0",
        channels=bytes([discovery.CHANNEL]),
        moniker=f"netns-{ip}",
    )
    mconfig = tm2.MConnConfig(ping_interval=PING_INTERVAL, pong_timeout=PONG_TIMEOUT)
    transport = tm2.MultiplexTransport(info, key, mconfig)
    switch = tm2.MultiplexSwitch(
        transport,
        reactors={"discovery": pex},
        config=tm2.SwitchConfig(persistent_peers=_list(argv, "--persistent"), allow_duplicate_ip=False),
    )
    await transport.listen(address)
    async with switch:
        print(json.dumps({"id": str(key.id)}), flush=True)
        while True:
            peers = sorted(str(p.id) for p in switch.peers().list())
            print(json.dumps({"peers": peers, "book": len(pex.book)}), flush=True)
            await asyncio.sleep(0.5)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
