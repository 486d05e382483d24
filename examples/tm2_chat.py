"""A chat reactor on the TM2 switch: every line you type goes to every peer on channel 0x60.

    python examples/tm2_chat.py --name alice --port 26700
    python examples/tm2_chat.py --name bob --peer <alice's id>@127.0.0.1:26700

Lines come from stdin (or ``--say``, for scripts); received lines are printed as
``<moniker>: <text>``. The first line printed is ``listening <id>@<host>:<port>``.
With ``--duration`` the node stops after that many seconds, otherwise at end of input + 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys

from peerwire import tm2

CHAT = 0x60


class ChatReactor(tm2.BaseReactor):
    def __init__(self) -> None:
        super().__init__("chat")
        self.joined = asyncio.Event()

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(CHAT, priority=1, send_queue_capacity=64, recv_message_capacity=4096)]

    def add_peer(self, peer: tm2.PeerConn) -> None:
        print(f"* {peer.node_info.moniker} joined ({peer.id})", flush=True)
        self.joined.set()

    def remove_peer(self, peer: tm2.PeerConn, reason: BaseException | None) -> None:
        print(f"* {peer.node_info.moniker} left", flush=True)

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        print(f"{peer.node_info.moniker}: {msg.decode(errors='replace')}", flush=True)

    def say(self, text: str) -> int:
        return self.switch.broadcast(CHAT, text.encode())  # number of peers it was queued for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main(args: argparse.Namespace) -> int:
    key = tm2.NodeKey.generate()
    address = tm2.NetAddress(key.id, "127.0.0.1", args.port or free_port())
    info = tm2.NodeInfo(
        net_address=address, network="chat", version="v1.0.0", channels=bytes([CHAT]), moniker=args.name
    )
    transport = tm2.MultiplexTransport(info, key)
    chat = ChatReactor()
    switch = tm2.MultiplexSwitch(transport, tm2.with_reactor("chat", chat))
    await transport.listen(address)
    async with switch:
        print(f"listening {address}", flush=True)
        if args.peer:
            switch.dial_peers(*args.peer)
            async with asyncio.timeout(10):
                await chat.joined.wait()  # so the first line is not said to nobody
        if args.say:
            for line in args.say:
                chat.say(line)
        else:
            # a thread reads stdin (works for terminals, pipes and files alike); EOF ends input
            while line := await asyncio.to_thread(sys.stdin.readline):
                chat.say(line.rstrip("\n"))
        await asyncio.sleep(args.duration if args.duration is not None else 1.0)
    await transport.close()
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="anon", help="your moniker")
    p.add_argument("--port", type=int, default=0, help="listen port on 127.0.0.1 (default: a free one)")
    p.add_argument("--peer", action="append", default=[], help="id@host:port to dial (repeatable)")
    p.add_argument("--say", action="append", default=[], help="send this line once a peer joined")
    p.add_argument("--duration", type=float, default=None, help="seconds to stay after sending")
    raise SystemExit(asyncio.run(main(p.parse_args())))
