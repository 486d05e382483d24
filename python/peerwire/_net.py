"""Networking helpers shared by both stacks and the CLI (one copy of each).

- :func:`split_host_port` / :func:`join_host_port`: Go's ``net.SplitHostPort`` /
  ``JoinHostPort`` shape (``[v6]:port`` brackets), with the port checked.
- :func:`resolve`: host name to IP list on the loop's resolver thread, so the loop
  never blocks. It takes no deadline of its own: the caller owns the deadline
  (see :mod:`peerwire._clock`) and wraps the call in ``clock.timeout(...)``. An IP
  literal never touches the resolver.
- :class:`NetRestrict`: an allow-list of networks (geth's ``netutil.Netlist``).
- :class:`TokenBucket`: a rate limiter on the injected clock.
- :func:`write_private_file`: atomic write with mode 0600 from creation on.

Malformed user input raises ``ValueError`` (not a protocol error: nobody remote
is at fault).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import socket
import tempfile
from collections.abc import Iterable
from pathlib import Path

from peerwire._clock import Clock
from peerwire.errors import DialError
from peerwire.events import DialFailureReason

__all__ = [
    "IPAddress",
    "NetRestrict",
    "TokenBucket",
    "is_ip_literal",
    "join_host_port",
    "parse_ip",
    "resolve",
    "split_host_port",
    "write_private_file",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Longest ``host:port`` accepted (a DNS name is at most 253 characters): bounds the
#: work spent on a hostile string from a config file, an RPC call or a peer record.
MAX_HOST_PORT_LEN = 300


def split_host_port(text: str, *, default_host: str | None = None) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` into ``(host, port)`` (brackets removed).

    An empty host is ``default_host`` if given (``":30303"`` listens on every
    interface), else an error.

    Raises:
        ValueError: not that shape, an unbracketed IPv6 host, a bad or out-of-range port.
    """
    if len(text) > MAX_HOST_PORT_LEN:
        raise ValueError(f"address too long ({len(text)} characters)")
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise ValueError(f"expected [host]:port, got {text!r}")
        host, port_s = text[1:end], text[end + 2 :]
        if not host:
            raise ValueError(f"empty host in {text!r}")
    else:
        host, sep, port_s = text.rpartition(":")
        if not sep:
            raise ValueError(f"expected host:port, got {text!r}")
        if ":" in host:
            raise ValueError(f"IPv6 host must be in brackets, got {text!r}")
    if "[" in host or "]" in host:
        raise ValueError(f"bad brackets in {text!r}")
    if not port_s.isascii() or not port_s.isdigit() or len(port_s) > 5 or int(port_s) > 0xFFFF:
        raise ValueError(f"bad port in {text!r}")
    if not host:
        if default_host is None:
            raise ValueError(f"empty host in {text!r}")
        host = default_host
    return host, int(port_s)


def join_host_port(host: str, port: int) -> str:
    """``host:port``, with IPv6 hosts in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


#: Host strings whose parse is kept: every handshake, NodeInfo and address book entry parses
#: the same few hosts again (ipaddress is slow); bounded, oldest out, so a stream of new
#: addresses from peers cannot grow it. The addresses are immutable, so sharing is safe.
PARSE_IP_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=PARSE_IP_CACHE_SIZE)
def parse_ip(host: str) -> IPAddress | None:
    """The IP address ``host`` spells (IPv4-mapped IPv6 unmapped), ``None`` if it is a name.

    Zoned IPv6 (``fe80::1%eth0``) is not an address here: neither stack can
    advertise or dial it.
    """
    if "%" in host:
        return None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_ip_literal(host: str) -> bool:
    return parse_ip(host) is not None


async def resolve(host: str, *, kind: socket.SocketKind = socket.SOCK_STREAM) -> list[str]:
    """The IPs of ``host``, IPv4 first (geth and gno dial the first one).

    Runs ``getaddrinfo`` on the loop's executor, never on the loop. Unbounded on
    purpose: wrap it in the caller's ``clock.timeout(...)``.

    Raises:
        DialError: ``reason`` :attr:`DialFailureReason.RESOLVE_FAILED`: no such
            host, or no address.
    """
    literal = parse_ip(host)
    if literal is not None:
        return [str(literal)]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=kind)
    except (socket.gaierror, UnicodeError) as e:
        raise DialError(f"cannot resolve {host!r}: {e}", reason=DialFailureReason.RESOLVE_FAILED) from e
    ips: list[str] = []
    for info in infos:
        ip = parse_ip(str(info[4][0]))
        if ip is not None and str(ip) not in ips:
            ips.append(str(ip))
    if not ips:
        raise DialError(f"cannot resolve {host!r}: no address", reason=DialFailureReason.RESOLVE_FAILED)
    return sorted(ips, key=lambda ip: ":" in ip)


class NetRestrict:
    """An allow-list of networks (geth's ``netutil.Netlist``, ``--netrestrict``).

    Raises:
        ValueError: a CIDR does not parse (from the constructor).
    """

    __slots__ = ("_nets",)

    def __init__(self, cidrs: Iterable[str]) -> None:
        nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for cidr in cidrs:
            try:
                nets.append(ipaddress.ip_network(cidr.strip(), strict=False))
            except ValueError as e:
                raise ValueError(f"invalid CIDR {cidr!r}") from e
        self._nets = tuple(nets)

    @classmethod
    def parse(cls, text: str) -> NetRestrict:
        """geth's flag form: comma-separated CIDRs."""
        return cls(c for c in text.split(",") if c.strip())

    @property
    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return self._nets

    def contains(self, ip: str | IPAddress | None) -> bool:
        """Whether ``ip`` is in one of the networks (a name or ``None`` never is)."""
        if ip is None:
            return False
        addr = ip if not isinstance(ip, str) else parse_ip(ip)
        if addr is None:
            return False
        return any(addr in n for n in self._nets)

    def __contains__(self, ip: object) -> bool:
        return isinstance(ip, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)) and self.contains(ip)

    def __repr__(self) -> str:
        return f"NetRestrict({[str(n) for n in self._nets]!r})"


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` tokens per second of ``clock`` time."""

    __slots__ = ("_clock", "_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, clock: Clock) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"token bucket needs rate > 0 and burst >= 1, got rate={rate} burst={burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock.monotonic()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    @property
    def full(self) -> bool:
        """Whether the bucket holds its whole burst (as a new one would)."""
        return self.tokens >= self.burst

    def try_take(self, n: float = 1.0) -> bool:
        """Take ``n`` tokens if there are that many; never waits."""
        self._refill()
        if self._tokens < n:
            return False
        self._tokens -= n
        return True

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate}, burst={self.burst}, tokens={self.tokens:.2f})"


def write_private_file(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically, mode 0600 from creation (never chmod-ed after).

    The data goes to a temporary file in the same directory, is flushed to disk,
    and replaces ``path`` in one rename, so a reader sees the old file or the new
    one, never half of either. The parent directory is created with mode 0700.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false (checked
            atomically: a file created meanwhile is not replaced).
    """
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if someone created path meanwhile
            os.unlink(tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
