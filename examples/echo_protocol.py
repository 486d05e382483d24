"""An echo sub-protocol on two devp2p servers (RLPx over loopback TCP).

    python examples/echo_protocol.py --messages 5

Server B runs ``echo/1``: every Ping (code 0) comes back as an Echo (code 1) with the same
payload. Server A dials B (``add_peer``), sends ``--messages`` pings and prints each round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from peerwire import devp2p
from peerwire.errors import ConnectionClosedError

PING, ECHO = 0, 1


def rlp_bytes(data: bytes) -> bytes:
    """RLP of one short byte string (< 56 bytes): enough for this demo's payloads."""
    assert len(data) < 56
    return bytes([0x80 + len(data)]) + data


async def echo_back(peer: devp2p.Peer, rw: devp2p.MsgReadWriter) -> None:
    """B's side: answer every Ping with an Echo until the peer goes away."""
    while True:
        try:
            msg = await rw.read_msg()
        except ConnectionClosedError:
            return
        if msg.code == PING:
            await rw.write_msg(ECHO, msg.payload)


async def main(messages: int) -> int:
    got: asyncio.Queue[float] = asyncio.Queue(maxsize=messages)
    sent_at: dict[bytes, float] = {}

    async def ping(peer: devp2p.Peer, rw: devp2p.MsgReadWriter) -> None:
        """A's side: send the pings, time the echoes."""
        print(f"connected to {peer.name!r} caps={[str(c) for c in peer.caps]}")
        for i in range(messages):
            payload = rlp_bytes(f"ping {i}".encode())
            sent_at[payload] = time.perf_counter()
            await rw.write_msg(PING, payload)
            reply = await rw.read_msg()
            assert reply.code == ECHO and reply.payload == payload
            rtt = time.perf_counter() - sent_at[payload]
            print(f"echo {i}: {reply.payload[1:].decode()!r} in {rtt * 1000:.2f} ms")
            got.put_nowait(rtt)
        await asyncio.sleep(3600)  # keep the connection until main() stops the servers

    def server(name: str, run: devp2p.Protocol) -> devp2p.Server:
        return devp2p.Server(
            devp2p.Config(
                private_key=devp2p.PrivateKey.generate(),
                name=name,
                listen_addr="127.0.0.1:0",
                protocols=[run],
            )
        )

    a = server("echo-client", devp2p.Protocol("echo", 1, 2, ping))
    b = server("echo-server", devp2p.Protocol("echo", 1, 2, echo_back))
    async with b, a:
        a.add_peer(b.self_node())  # a static peer: dialed now, redialed if it drops
        async with asyncio.timeout(20):
            rtts = [await got.get() for _ in range(messages)]
    print(f"{messages} echoes, mean {sum(rtts) / len(rtts) * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=5)
    raise SystemExit(asyncio.run(main(p.parse_args().messages)))
