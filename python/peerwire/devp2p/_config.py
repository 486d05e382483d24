"""The devp2p server's settings (geth's ``p2p.Config``): frozen, validated once, read once.

A :class:`Config` is checked when it is built: a bad value raises at once with
a message naming the field, not later inside a running server. Node lists are
parsed into :class:`Node` objects and sequences frozen into tuples, so a
config cannot change under a server that runs it (``dataclasses.replace``
builds a changed copy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._net import NetRestrict, split_host_port
from peerwire._pubsub import MAX_EVENT_BUFFER
from peerwire.devp2p._enode import Node
from peerwire.devp2p._keys import PrivateKey
from peerwire.devp2p._peer import Protocol
from peerwire.devp2p._transport import Network
from peerwire.errors import InvalidArgumentError

__all__ = ["DEFAULT_EVENT_BUFFER", "Config", "NodeFilter"]

DEFAULT_EVENT_BUFFER = 256

#: Decides whether a dial candidate from discovery (or ``dial_candidates``) is dialed.
NodeFilter = Callable[[Node], bool | Awaitable[bool]]


def _nodes(field: str, items: Sequence[Node | str]) -> tuple[Node, ...]:
    if isinstance(items, str):
        raise InvalidArgumentError(f"Config.{field} must be a sequence of nodes, not one string")
    out = []
    for n in items:
        if isinstance(n, Node):
            out.append(n)
        elif isinstance(n, str):
            try:
                out.append(Node.parse(n))
            except ValueError as e:
                raise InvalidArgumentError(f"Config.{field}: {e}") from e
        else:
            raise InvalidArgumentError(
                f"Config.{field}: expected Node or enode/enr text, got {type(n).__name__}"
            )
    return tuple(out)


def _address(field: str, addr: str | None) -> None:
    if addr is None:
        return
    try:
        split_host_port(addr, default_host="0.0.0.0")
    except ValueError as e:
        raise InvalidArgumentError(f"Config.{field}: {e}") from e


@dataclass(frozen=True)
class Config:
    """Server settings (geth's ``p2p.Config``); zero values take geth's defaults.

    ``max_pending_peers`` 0 means 50 and ``dial_ratio`` 0 means 3, as in geth.
    Discovery runs when ``no_discovery`` is false: v4 with ``discovery_v4``, v5
    with ``discovery_v5`` (both by default, as geth; both share one UDP socket;
    see ``peerwire.devp2p._server_discovery``), on ``discovery_addr`` or the
    ``listen_addr`` host, bootstrapped from ``bootstrap_nodes`` (v5 uses the
    ``enr:`` ones), stored in ``node_database``; the random nodes of each
    protocol join ``dial_candidates`` (async iterators of :class:`Node`) in one
    fair mix of dynamic dial candidates.
    Every dynamic candidate must pass ``node_filter`` (if set) before it is
    dialed; without one, a protocol's own ``Protocol.node_filter`` (the eth
    capability sets ``eth.enr_filter``) decides, with the record fetched first
    for a node found without one; static nodes are always dialed. Unlike geth, ``no_discovery``
    defaults to ``True``.

    Raises (on construction):
        InvalidArgumentError: a value is out of range or does not parse (a ``ValueError``).
        TypeError: ``private_key`` is not a :class:`PrivateKey`.
    """

    private_key: PrivateKey
    name: str = "peerwire"
    listen_addr: str | None = "0.0.0.0:30303"
    max_peers: int = 50
    max_pending_peers: int = 0
    dial_ratio: int = 0
    protocols: Sequence[Protocol] = ()
    no_discovery: bool = True
    #: Run discovery v4 (when ``no_discovery`` is false), as geth's ``DiscoveryV4``.
    discovery_v4: bool = True
    #: Run discovery v5 (when ``no_discovery`` is false), as geth's ``DiscoveryV5``.
    discovery_v5: bool = True
    no_dial: bool = False
    bootstrap_nodes: Sequence[Node | str] = ()
    static_nodes: Sequence[Node | str] = ()
    trusted_nodes: Sequence[Node | str] = ()
    net_restrict: Sequence[str] | None = None
    node_database: str | None = None
    #: UDP address for discovery (geth's ``DiscAddr``); ``None`` uses ``listen_addr``.
    discovery_addr: str | None = None
    enable_msg_events: bool = False
    #: Sources of dynamic dial candidates, mixed fairly (discovery plugs in here).
    dial_candidates: Sequence[AsyncIterator[Node]] = ()
    #: Dynamic dial candidates must pass this (sync or async) before they are dialed.
    node_filter: NodeFilter | None = None
    event_buffer: int = DEFAULT_EVENT_BUFFER
    clock: Clock = SYSTEM_CLOCK
    #: How to dial and listen; ``None`` is RLPx over TCP (``peerwire.devp2p.rlpx``).
    network: Network | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.private_key, PrivateKey):
            raise TypeError(
                f"Config.private_key must be a devp2p.PrivateKey, got {type(self.private_key).__name__}"
            )
        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgumentError("Config.name must be a non-empty string")
        for field in ("max_peers", "max_pending_peers", "dial_ratio"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidArgumentError(f"Config.{field} must be an integer >= 0, got {value!r}")
        if not 1 <= self.event_buffer <= MAX_EVENT_BUFFER:
            raise InvalidArgumentError(
                f"Config.event_buffer must be in 1..{MAX_EVENT_BUFFER}, got {self.event_buffer}"
            )
        for field in ("no_discovery", "discovery_v4", "discovery_v5"):
            if not isinstance(getattr(self, field), bool):
                raise InvalidArgumentError(f"Config.{field} must be a bool, got {getattr(self, field)!r}")
        if self.node_filter is not None and not callable(self.node_filter):
            raise InvalidArgumentError("Config.node_filter must be callable (Node -> bool | Awaitable[bool])")
        _address("listen_addr", self.listen_addr)
        _address("discovery_addr", self.discovery_addr)
        if self.net_restrict is not None:
            if isinstance(self.net_restrict, str):
                raise InvalidArgumentError("Config.net_restrict must be a sequence of CIDRs, not one string")
            try:
                NetRestrict(self.net_restrict)
            except ValueError as e:
                raise InvalidArgumentError(f"Config.net_restrict: {e}") from e
            object.__setattr__(self, "net_restrict", tuple(self.net_restrict))
        for field in ("bootstrap_nodes", "static_nodes", "trusted_nodes"):
            object.__setattr__(self, field, _nodes(field, getattr(self, field)))
        protocols = tuple(self.protocols)
        if not all(isinstance(p, Protocol) for p in protocols):
            raise InvalidArgumentError("Config.protocols must hold devp2p.Protocol objects")
        object.__setattr__(self, "protocols", protocols)
        object.__setattr__(self, "dial_candidates", tuple(self.dial_candidates))

    def replace(self, **changes: object) -> Config:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def discovery_enabled(self) -> bool:
        """Whether the server opens a discovery socket (some discovery version is on)."""
        return not self.no_discovery and (self.discovery_v4 or self.discovery_v5)
