"""Crawl configuration and live statistics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from peerwire import eth
from peerwire.devp2p import PrivateKey

__all__ = ["DEFAULT_PARALLEL", "CrawlConfig", "CrawlStats"]

#: Discovery requests in flight by default (the issue asks for at least 200).
DEFAULT_PARALLEL = 256
#: Dials in flight by default: enough for > 300 probes/s at ~0.3 s per local probe.
DEFAULT_DIAL_PARALLEL = 128


@dataclass(frozen=True, slots=True)
class CrawlConfig:
    """What to crawl and how hard. ``db`` ":memory:" keeps nothing on disk."""

    stack: Literal["devp2p", "tm2"] = "devp2p"
    bootnodes: Sequence[str] = ()
    db: str | Path = "crawl.sqlite"
    chain: eth.Chain | None = None
    listen: str = "0.0.0.0:0"
    parallel: int = DEFAULT_PARALLEL
    dial_parallel: int = DEFAULT_DIAL_PARALLEL
    v4: bool = True
    v5: bool = True
    probe: bool = True
    accept_inbound: bool = True
    random_lookups: bool = True
    #: FINDNODE targets per v4 node (besides its own key) sent at once: one per log distance,
    #: from its farthest bucket down; the walk then goes deeper while buckets answer.
    random_targets: int = 8
    dial_timeout: float = 5.0
    key: PrivateKey | None = None
    #: TM2 only: the network (chain ID) named in our NodeInfo; None = the first peer's.
    network: str | None = None
    net_restrict: Sequence[str] | None = None
    #: With a ``chain``: dial only nodes whose record's ``eth`` entry is compatible with it
    #: (geth's ``eth.NewNodeFilter``), once their record is known. False dials every node.
    enr_filter: bool = True

    def __post_init__(self) -> None:
        if self.stack not in ("devp2p", "tm2"):
            raise ValueError(f"stack must be devp2p or tm2, not {self.stack!r}")
        if self.parallel < 1 or self.dial_parallel < 1:
            raise ValueError("parallel and dial_parallel must be >= 1")
        if self.stack == "devp2p" and not (self.v4 or self.v5):
            raise ValueError("enable at least one of v4 and v5")


@dataclass(slots=True)
class CrawlStats:
    """Counters of this run (``found`` etc. include what a resumed database already knew)."""

    found: int = 0
    probed: int = 0
    dialable: int = 0
    with_status: int = 0
    queries: int = 0
    query_failures: int = 0
    inbound: int = 0
    elapsed: float = 0.0
    clients: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Nodes found per second over this run."""
        return self.found / self.elapsed if self.elapsed > 0 else 0.0
