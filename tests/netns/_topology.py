"""Eight hosts on one L2 segment: network namespaces, veth pairs and a bridge (iproute2, root).

Addresses are private (10.77.<n>.0/24, chosen per run) and exist only inside
the namespaces this module creates; nothing is routed off the machine. Every
name carries a per-run token, and :meth:`Topology.close` (called from a
``finally`` and from ``atexit``) kills the processes and deletes the
namespaces, veths and bridge even when a test fails.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True)


class Topology:
    def __init__(self, hosts: int = 8) -> None:
        self.token = secrets.token_hex(2)
        self.bridge = f"pwbr{self.token}"
        self.subnet = 64 + secrets.randbelow(128)
        self.names = [f"pw{self.token}h{i}" for i in range(hosts)]
        self.procs: list[subprocess.Popen[bytes]] = []
        self._closed = False
        atexit.register(self.close)
        try:
            for ns in self.names:
                _ip("netns", "add", ns)
                _ip("-n", ns, "link", "set", "lo", "up")
            self._link_hosts()
        except BaseException:
            self.close()
            raise

    def _link_hosts(self) -> None:
        """One L2 segment: a veth per host on a bridge."""
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("link", "set", self.bridge, "up")
        for i, ns in enumerate(self.names):
            _ip("link", "add", self.host_veth(i), "type", "veth", "peer", "name", f"pw{self.token}p{i}")
            _ip("link", "set", f"pw{self.token}p{i}", "netns", ns)
            _ip("-n", ns, "link", "set", f"pw{self.token}p{i}", "name", "eth0")
            _ip("-n", ns, "addr", "add", f"{self.addr(i)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("link", "set", self.host_veth(i), "master", self.bridge)
            _ip("link", "set", self.host_veth(i), "up")

    def host_veth(self, i: int) -> str:
        return f"pw{self.token}v{i}"

    def addr(self, i: int) -> str:
        return f"10.77.{self.subnet}.{i + 1}"

    def partition(self, i: int) -> None:
        """Cut host ``i`` off the segment (its link goes down: packets are lost, no RST)."""
        _ip("link", "set", self.host_veth(i), "down")

    def heal(self, i: int) -> None:
        _ip("link", "set", self.host_veth(i), "up")

    def spawn(self, i: int, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(log, "wb") as out:
            p = subprocess.Popen(
                ["ip", "netns", "exec", self.names[i], sys.executable, *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.procs.append(p)
        return p

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for p in self.procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self._unlink_hosts()
        for ns in self.names:
            _ip("netns", "del", ns, check=False)

    def _unlink_hosts(self) -> None:
        for i in range(len(self.names)):
            _ip("link", "del", self.host_veth(i), check=False)
        _ip("link", "del", self.bridge, check=False)
