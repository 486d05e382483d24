"""Hosts linked through a user-space impairment router: latency, jitter, loss and partitions.

``tc netem`` is what one would use, but this kernel has no ``sch_netem`` (nor a qdisc,
classifier or action that delays or drops at random: only ``tbf``, ``htb``, ``pfifo``,
``u32`` and ``mirred`` exist, and there are no modules to load). So the impairment is done
where netem does it, on the packet path, one level up: every host namespace gets a TUN
device as its only interface (10.77.<n>.<i+1>/24, on-link), and a router thread in the test
process holds the other end of every TUN. It reads each IPv4 packet a host sends, drops it
(partitioned host, or a seeded random loss) or holds it for ``delay ± jitter`` on a timer
heap, then writes it into the destination host's TUN. The hosts' kernels run real TCP and
UDP over it: retransmits, RTOs and reordering (jitter) are the kernel's, as over netem.

Nothing is routed off the machine: the router only writes into the TUNs it created.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import os
import random
import selectors
import struct
import threading
import time
from dataclasses import dataclass

from tests.netns._topology import Topology, _ip

#: ioctl and flags of linux/if_tun.h: a layer-3 device, packets without the 4-byte info header
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
#: The largest packet a TUN hands out at MTU 1500 (read buffer; larger reads cannot happen).
MAX_PACKET = 65536
#: Packets held for delivery at once: a bound, so a flood into a long delay cannot grow the heap
#: without limit (over it, packets are dropped as a full router queue drops them).
MAX_HELD = 100_000


@dataclass
class Impairment:
    """What every packet between two hosts meets (both directions, independently)."""

    delay: float = 0.0  #: one-way, seconds
    jitter: float = 0.0  #: uniform +-, seconds (reorders packets, as netem's jitter does)
    loss: float = 0.0  #: probability a packet is dropped


class _Router(threading.Thread):
    def __init__(self, fds: list[int], addrs: list[bytes], seed: int) -> None:
        super().__init__(name="netns-impair", daemon=True)
        self.fds = fds
        self.index = {a: i for i, a in enumerate(addrs)}
        self.impairment = Impairment()
        self.cut: frozenset[int] = frozenset()
        self.rng = random.Random(seed)
        self.forwarded = self.lost = self.cut_off = self.overflow = 0
        self._held: list[tuple[float, int, int, bytes]] = []
        self._seq = 0
        self._stop_r, self._stop_w = os.pipe()

    def stop(self) -> None:
        os.write(self._stop_w, b"x")
        self.join(timeout=5)
        os.close(self._stop_r)
        os.close(self._stop_w)

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        for i, fd in enumerate(self.fds):
            sel.register(fd, selectors.EVENT_READ, i)
        sel.register(self._stop_r, selectors.EVENT_READ, -1)
        while True:
            timeout = max(0.0, self._held[0][0] - time.monotonic()) if self._held else None
            for key, _ in sel.select(timeout):
                if key.data == -1:
                    return
                self._drain(key.data)
            now = time.monotonic()
            while self._held and self._held[0][0] <= now:
                _, _, dst, packet = heapq.heappop(self._held)
                with contextlib.suppress(OSError):  # the host's TUN is gone (closing)
                    os.write(self.fds[dst], packet)
                    self.forwarded += 1

    def _drain(self, src: int) -> None:
        while True:
            try:
                packet = os.read(self.fds[src], MAX_PACKET)
            except (BlockingIOError, OSError):
                return
            if len(packet) < 20 or packet[0] >> 4 != 4:
                continue  # IPv6 router solicitations and the like: these hosts speak IPv4
            dst = self.index.get(packet[16:20])
            if dst is None:
                continue
            if src in self.cut or dst in self.cut:
                self.cut_off += 1
                continue
            imp = self.impairment
            if imp.loss and self.rng.random() < imp.loss:
                self.lost += 1
                continue
            if len(self._held) >= MAX_HELD:
                self.overflow += 1
                continue
            hold = max(0.0, imp.delay + (self.rng.uniform(-imp.jitter, imp.jitter) if imp.jitter else 0.0))
            self._seq += 1
            heapq.heappush(self._held, (time.monotonic() + hold, self._seq, dst, packet))


class ImpairedTopology(Topology):
    """:class:`Topology` whose hosts reach each other only through the impairment router."""

    def __init__(self, hosts: int = 8, seed: int = 1) -> None:
        self._seed = seed
        self._router: _Router | None = None
        self._tun_fds: list[int] = []
        super().__init__(hosts)

    def tun(self, i: int) -> str:
        return f"pw{self.token}t{i}"

    def _link_hosts(self) -> None:
        for i, ns in enumerate(self.names):
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
            self._tun_fds.append(fd)
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", self.tun(i).encode(), IFF_TUN | IFF_NO_PI))
            # The device moves into the host's namespace; its file stays with the router.
            _ip("link", "set", self.tun(i), "netns", ns)
            _ip("-n", ns, "addr", "add", f"{self.addr(i)}/24", "dev", self.tun(i))
            _ip("-n", ns, "link", "set", self.tun(i), "up")
        addrs = [bytes(int(x) for x in self.addr(i).split(".")) for i in range(len(self.names))]
        self._router = _Router(self._tun_fds, addrs, self._seed)
        self._router.start()

    def impair(self, delay: float = 0.0, jitter: float = 0.0, loss: float = 0.0) -> None:
        assert self._router is not None
        self._router.impairment = Impairment(delay, jitter, loss)

    def counts(self) -> dict[str, int]:
        r = self._router
        assert r is not None
        return {"forwarded": r.forwarded, "lost": r.lost, "cut": r.cut_off, "overflow": r.overflow}

    def partition(self, i: int) -> None:
        """Cut host ``i`` off: every packet to or from it is dropped (no RST, as a dead link)."""
        assert self._router is not None
        self._router.cut = self._router.cut | {i}

    def heal(self, i: int) -> None:
        assert self._router is not None
        self._router.cut = self._router.cut - {i}

    def _unlink_hosts(self) -> None:
        if self._router is not None:
            self._router.stop()
            self._router = None
        for fd in self._tun_fds:
            with contextlib.suppress(OSError):
                os.close(fd)  # the device goes with its last file
        self._tun_fds.clear()
