"""``SwitchConfig``: every knob of the switch in one frozen, validated dataclass.

Nothing is clamped silently: a value out of range raises :class:`ConfigError`
(a ``ValueError``) naming the field. The config shows in the switch's repr.
gno's ``With*`` options remain as ``with_*`` functions; each is a thin shim
that sets one field (or the reactors, clock, resolver, rng), and options
apply in any order (the switch is built after all of them ran).

Drop and backpressure policy (issue: "accepted means delivered"):

- Received messages are never dropped. Each channel of each peer has a
  dispatch queue of ``dispatch_queue_size`` messages / ``dispatch_queue_bytes``
  bytes; when it is full the connection stops reading from that peer (its
  bytes wait in the socket and TCP slows the sender down, as gno's blocking
  ``Receive`` does), and reading resumes when the reactor catches up. While
  paused, that peer's pings are not read either: a reactor stuck for longer
  than the pong timeout loses the peer, as in gno.
- ``broadcast`` never waits, so it is the one place that drops: each peer
  has an outgoing queue of ``broadcast_queue_size`` messages /
  ``broadcast_queue_bytes`` bytes; when it is full the message is dropped
  *for that peer* and counted (``SwitchStats.broadcast_dropped``). A caller
  that must not lose a message uses ``await peer.send(...)`` (True means it
  will be delivered unless the connection dies).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from peerwire._clock import Clock
from peerwire.tm2._addr import AddressError, NetAddress, Resolver
from peerwire.tm2._contracts import Reactor
from peerwire.tm2._keys import ID, validate_id

__all__ = [
    "DEFAULT_BROADCAST_QUEUE",
    "DEFAULT_DIAL_TIMEOUT",
    "DEFAULT_DISPATCH_QUEUE",
    "DEFAULT_MAX_CONCURRENT_DIALS",
    "DEFAULT_MAX_INBOUND",
    "DEFAULT_MAX_OUTBOUND",
    "DEFAULT_NODE_BUDGET",
    "DEFAULT_REDIAL_INTERVAL",
    "ConfigError",
    "SwitchConfig",
    "SwitchOption",
    "SwitchSetup",
    "with_broadcast_queue_size",
    "with_clock",
    "with_dial_timeout",
    "with_allow_duplicate_ip",
    "with_dispatch_queue_size",
    "with_node_budget_bytes",
    "with_max_concurrent_dials",
    "with_max_inbound_peers",
    "with_max_outbound_peers",
    "with_persistent_peers",
    "with_private_peers",
    "with_reactor",
    "with_redial_interval",
    "with_resolver",
    "with_rng",
]

DEFAULT_MAX_INBOUND = 40  # gno config.DefaultP2PConfig
DEFAULT_MAX_OUTBOUND = 10
DEFAULT_DIAL_TIMEOUT = 3.0  # gno switch.go defaultDialTimeout: bounds the TCP connect only
DEFAULT_REDIAL_INTERVAL = 5.0  # the persistent peer check period
DEFAULT_MAX_CONCURRENT_DIALS = 8
# Messages queued for one peer by broadcast before new ones are dropped: a
# stalled peer costs at most this many messages of memory.
DEFAULT_BROADCAST_QUEUE = 256
# Messages received on one channel of one peer and not yet taken by the
# reactor; past it the connection stops reading from that peer.
DEFAULT_DISPATCH_QUEUE = 256
# The same two queues are also bounded in bytes (one message is always let in, so a
# message up to the channel's capacity still passes): a peer sending 21 MiB messages
# faster than its reactor reads them costs at most this much memory per channel.
DEFAULT_QUEUE_BYTES = 8 * 1024 * 1024
# Bytes all peers together may make the node hold (incomplete messages in reassembly and
# messages waiting in dispatch queues): the per-peer bounds alone let 50 peers hold over
# 1 GiB. Over it, the peer holding the most is ended (NodeBudgetError).
DEFAULT_NODE_BUDGET = 256 * 1024 * 1024


class ConfigError(ValueError):
    """A switch setting is out of range or malformed."""


def _as_address(a: NetAddress | str) -> NetAddress:
    return a if isinstance(a, NetAddress) else NetAddress.parse(str(a))


@dataclass(frozen=True)
class SwitchConfig:
    """The switch's settings (gno ``switch_option.go`` + our bounds). See the module doc for drops.

    ``persistent_peers`` accepts ``id@host:port`` strings or :class:`NetAddress`
    (kept as a tuple of :class:`NetAddress`, see :attr:`persistent_addresses`);
    hostnames are resolved again on every dial. ``private_peers`` are IDs never
    gossiped by discovery (kept as a frozenset, see :attr:`private_ids`).
    """

    max_inbound_peers: int = DEFAULT_MAX_INBOUND
    max_outbound_peers: int = DEFAULT_MAX_OUTBOUND
    persistent_peers: Sequence[NetAddress | str] = ()
    private_peers: Collection[str] = frozenset()
    dial_timeout: float = DEFAULT_DIAL_TIMEOUT
    redial_interval: float = DEFAULT_REDIAL_INTERVAL
    max_concurrent_dials: int = DEFAULT_MAX_CONCURRENT_DIALS
    broadcast_queue_size: int = DEFAULT_BROADCAST_QUEUE
    broadcast_queue_bytes: int = DEFAULT_QUEUE_BYTES
    dispatch_queue_size: int = DEFAULT_DISPATCH_QUEUE
    dispatch_queue_bytes: int = DEFAULT_QUEUE_BYTES
    #: gno v1.7.1 ``AllowDuplicateIP``: False refuses an inbound peer from an IP that already
    #: holds a peer slot (fresh node keys are free, so one host could take every slot).
    #: gno's switch defaults to False; ours to True, so that nodes sharing 127.0.0.1 (tests,
    #: local testnets, the simulator's shared hosts) connect as gno's own test config lets them.
    #: A node on a public network should set False (``peerwire node`` takes gno's key).
    allow_duplicate_ip: bool = True
    node_budget_bytes: int = DEFAULT_NODE_BUDGET

    def __post_init__(self) -> None:
        try:
            peers = tuple(_as_address(a) for a in self.persistent_peers)
        except AddressError as e:
            raise ConfigError(f"persistent_peers: {e}") from None
        try:
            private = frozenset(validate_id(str(i)) for i in self.private_peers)
        except ValueError as e:
            raise ConfigError(f"private_peers: {e}") from None
        object.__setattr__(self, "persistent_peers", peers)
        object.__setattr__(self, "private_peers", private)
        for name in ("max_inbound_peers", "max_outbound_peers"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ConfigError(f"{name} must be an int >= 0, got {v!r}")
        for name in (
            "max_concurrent_dials",
            "broadcast_queue_size",
            "broadcast_queue_bytes",
            "dispatch_queue_size",
            "dispatch_queue_bytes",
            "node_budget_bytes",
        ):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"{name} must be an int >= 1, got {v!r}")
        for name in ("dial_timeout", "redial_interval"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or isinstance(v, bool) or not v > 0:
                raise ConfigError(f"{name} must be a number of seconds > 0, got {v!r}")

    @property
    def persistent_addresses(self) -> tuple[NetAddress, ...]:
        """``persistent_peers``, parsed (done once, at construction)."""
        return tuple(a for a in self.persistent_peers if isinstance(a, NetAddress))

    @property
    def private_ids(self) -> frozenset[ID]:
        """``private_peers``, validated."""
        return frozenset(ID(i) for i in self.private_peers)

    def replace(self, **changes: object) -> SwitchConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass
class SwitchSetup:
    """What the ``with_*`` options write to; the switch is built from it once they all ran."""

    config: SwitchConfig = field(default_factory=SwitchConfig)
    reactors: dict[str, Reactor] = field(default_factory=dict)
    clock: Clock | None = None
    resolver: Resolver | None = None
    rng: random.Random | None = None


SwitchOption = Callable[[SwitchSetup], None]


def _set(**changes: object) -> SwitchOption:
    def apply(s: SwitchSetup) -> None:
        s.config = s.config.replace(**changes)

    return apply


def with_reactor(name: str, reactor: Reactor) -> SwitchOption:
    """Add a reactor; its channels must not be claimed by an earlier one."""

    def apply(s: SwitchSetup) -> None:
        if name in s.reactors:
            raise ConfigError(f"reactor name {name!r} already used")
        s.reactors[name] = reactor

    return apply


def with_allow_duplicate_ip(allow: bool) -> SwitchOption:
    """gno ``WithAllowDuplicateIP``: False refuses inbound peers from an IP that already has one."""
    return _set(allow_duplicate_ip=allow)


def with_node_budget_bytes(n: int) -> SwitchOption:
    """Bytes all peers together may make the node hold (see ``DEFAULT_NODE_BUDGET``)."""
    return _set(node_budget_bytes=n)


def with_max_inbound_peers(n: int) -> SwitchOption:
    return _set(max_inbound_peers=n)


def with_max_outbound_peers(n: int) -> SwitchOption:
    return _set(max_outbound_peers=n)


def with_persistent_peers(addrs: Iterable[NetAddress | str]) -> SwitchOption:
    """Peers kept connected at all cost; hostnames are resolved again on every dial."""
    wanted = tuple(addrs)

    def apply(s: SwitchSetup) -> None:
        s.config = s.config.replace(persistent_peers=(*s.config.persistent_peers, *wanted))

    return apply


def with_private_peers(ids: Iterable[str]) -> SwitchOption:
    """Peers never shared with others by discovery."""
    wanted = tuple(ids)

    def apply(s: SwitchSetup) -> None:
        s.config = s.config.replace(private_peers=s.config.private_ids | {ID(i) for i in wanted})

    return apply


def with_dial_timeout(seconds: float) -> SwitchOption:
    return _set(dial_timeout=seconds)


def with_redial_interval(seconds: float) -> SwitchOption:
    return _set(redial_interval=seconds)


def with_max_concurrent_dials(n: int) -> SwitchOption:
    return _set(max_concurrent_dials=n)


def with_broadcast_queue_size(n: int) -> SwitchOption:
    return _set(broadcast_queue_size=n)


def with_dispatch_queue_size(n: int) -> SwitchOption:
    return _set(dispatch_queue_size=n)


def with_clock(clock: Clock) -> SwitchOption:
    def apply(s: SwitchSetup) -> None:
        s.clock = clock

    return apply


def with_resolver(resolver: Resolver) -> SwitchOption:
    def apply(s: SwitchSetup) -> None:
        s.resolver = resolver

    return apply


def with_rng(rng: random.Random) -> SwitchOption:
    def apply(s: SwitchSetup) -> None:
        s.rng = rng

    return apply


def reactors_from(mapping: Mapping[str, Reactor] | None) -> list[SwitchOption]:
    return [with_reactor(n, r) for n, r in (mapping or {}).items()]
