"""UDP echo for checking the impairment router: ``serve IP PORT`` or ``probe IP PORT COUNT``.

``probe`` sends COUNT numbered datagrams one after another (each waits up to 0.5 s for its echo)
and prints ``{"rtts": [seconds...], "lost": n}``.
"""

from __future__ import annotations

import json
import socket
import sys
import time


def serve(ip: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((ip, port))
        print("ready", flush=True)
        while True:
            data, addr = s.recvfrom(2048)
            s.sendto(data, addr)


def probe(ip: str, port: int, count: int) -> None:
    rtts: list[float] = []
    lost = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        for i in range(count):
            tag = i.to_bytes(4, "big")
            t0 = time.monotonic()
            s.sendto(tag, (ip, port))
            try:
                while True:  # a late echo of an earlier probe is not this one's
                    data, _ = s.recvfrom(2048)
                    if data == tag:
                        rtts.append(time.monotonic() - t0)
                        break
            except TimeoutError:
                lost += 1
    print(json.dumps({"rtts": rtts, "lost": lost}), flush=True)


if __name__ == "__main__":
    cmd, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    serve(ip, port) if cmd == "serve" else probe(ip, port, int(sys.argv[4]))
