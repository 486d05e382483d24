"""A peerwire TM2 listener in its own process for the handshake benchmark.

Prints its port, then accepts and drops verified peers until stdin closes.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from peerwire import tm2


class _Behavior:
    def reactor_ch_descriptors(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(0x77)]

    def reactors(self) -> dict[int, Any]:
        return {}

    def handle_peer_error(self, peer: Any, err: BaseException) -> None:
        pass

    def is_persistent_peer(self, peer_id: str) -> bool:
        return False

    def is_private_peer(self, peer_id: str) -> bool:
        return False


def node_info(key: tm2.NodeKey) -> tm2.NodeInfo:
    return tm2.NodeInfo(
        net_address=tm2.NetAddress(key.id, "127.0.0.1", 26656), network="b", channels=b"\x77", moniker="m"
    )


async def main() -> None:
    key = tm2.NodeKey.from_secret(b"hb")
    t = tm2.MultiplexTransport(node_info(key), key)
    await t.listen(tm2.NetAddress(key.id, "127.0.0.1", 0))
    print(t.net_address(), flush=True)

    async def serve() -> None:
        while True:
            peer = await t.accept(_Behavior())
            await peer.close_conn()
            t.remove(peer)

    task = asyncio.create_task(serve())
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    task.cancel()
    await t.close()


if __name__ == "__main__":
    asyncio.run(main())
