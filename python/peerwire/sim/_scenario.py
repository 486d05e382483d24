"""Scenarios: what to simulate, from a TOML file or built in Python."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from peerwire.sim._dist import Distribution, parse_duration
from peerwire.sim._gossip import MAX_MESSAGE

__all__ = ["Fault", "Scenario", "shipped_scenarios"]

STACKS = ("devp2p", "tm2", "both")
#: v4, v5, or both on one socket (as geth runs them)
DISCOVERY_CHOICES = (("v4",), ("v5",), ("v4", "v5"))
FAULT_KINDS = ("partition", "heal", "kill_bootnodes", "kill", "churn")
#: Top-level keys of a scenario file.
TOML_KEYS = (
    "name",
    "stack",
    "duration",
    "sample_interval",
    "nodes",
    "network",
    "faults",
    "attack",
    "traffic",
)


@dataclass(frozen=True)
class Fault:
    """One event on the timeline.

    ``partition`` splits the nodes into ``groups`` contiguous index ranges;
    ``heal`` removes every partition; ``kill_bootnodes`` stops the bootnodes;
    ``kill`` stops ``fraction`` of the nodes; ``churn`` stops one random node
    and starts a fresh one (new key, new address) every ``interval`` until ``until``.
    """

    at: float
    kind: str
    groups: int = 2
    fraction: float = 0.0
    interval: float = 10.0
    until: float = 0.0


@dataclass(frozen=True)
class Scenario:
    name: str = "scenario"
    stack: str = "devp2p"
    duration: float = 600.0
    #: how often the recorder samples tables and connections
    sample_interval: float = 10.0
    nodes: int = 100
    discovery: tuple[str, ...] = ("v4",)
    bootnodes: int = 1
    #: nodes join over this long (uniformly), as a real network does not start at one instant
    join_over: float = 30.0
    #: a random lookup this often per node, as a server's dialer asks for candidates
    #: (0: none beyond the table's own refresh, like a bare bootnode)
    lookup_interval: float = 0.0
    #: fraction of nodes that are unreachable inbound (NAT)
    nat: float = 0.0
    latency: Distribution = field(default_factory=lambda: Distribution.parse("uniform(10ms, 100ms)"))
    loss: float = 0.0
    bandwidth: float | None = None
    faults: tuple[Fault, ...] = ()
    #: eclipse attempt: this many attacker nodes ...
    attackers: int = 0
    #: ... from this many /24 subnets
    attacker_subnets: int = 2
    #: full nodes: each honest node also runs a devp2p ``Server`` (RLPx, real crypto) with the
    #: ``simgossip`` demo protocol, dialing what its discovery finds
    full: bool = False
    #: the full nodes' ``Config.max_peers`` (TM2: outbound peers)
    max_peers: int = 10
    #: TM2: the seeds are also persistent peers (redialed with backoff whenever lost)
    persistent_seeds: bool = False
    #: traffic generator: one gossip message from a random full node this often (0: none) ...
    traffic_interval: float = 0.0
    #: ... of this many bytes ...
    traffic_size: int = 256
    #: ... from this simulated time on (the mesh forms first)
    traffic_start: float = 60.0

    def __post_init__(self) -> None:
        if self.stack not in STACKS:
            raise ValueError(f"stack must be one of {STACKS}, got {self.stack!r}")
        if self.persistent_seeds and not self.runs_tm2:
            raise ValueError("persistent_seeds is a TM2 setting (stack = 'tm2' or 'both')")
        if self.stack == "tm2" and self.attackers:
            raise ValueError("attackers target the discovery v4 table: stack devp2p or both")
        if tuple(self.discovery) not in DISCOVERY_CHOICES:
            raise ValueError(f"discovery must be ['v4'], ['v5'] or ['v4', 'v5'], got {list(self.discovery)}")
        if self.discovery != ("v4",) and self.attackers:
            raise ValueError("attackers are simulated against discovery v4 only")
        if self.nodes < 1 or not 0 <= self.bootnodes <= self.nodes:
            raise ValueError("need nodes >= 1 and 0 <= bootnodes <= nodes")
        if not 0.0 <= self.loss < 1.0 or not 0.0 <= self.nat <= 1.0:
            raise ValueError("loss must be in [0, 1) and nat in [0, 1]")
        if self.attackers > 254 * self.attacker_subnets or not 1 <= self.attacker_subnets <= 256:
            raise ValueError("attackers: 1 to 256 subnets of at most 254 hosts each")
        if self.max_peers < 1:
            raise ValueError("max_peers must be at least 1")
        if self.traffic_interval < 0 or not 16 <= self.traffic_size <= MAX_MESSAGE:
            raise ValueError(f"traffic needs interval >= 0 and 16 <= size <= {MAX_MESSAGE} bytes")
        if self.traffic_interval > 0 and not self.servers:
            raise ValueError(
                "a traffic generator needs full nodes ([nodes] full = true) or TM2 (stack tm2 or both)"
            )
        if self.full and self.bandwidth is not None:
            # RLPx handshake padding (EIP-8) comes from the OS RNG inside the Rust core: with a
            # bandwidth model its size would shift timings, and the trace would not replay.
            raise ValueError("bandwidth is not simulated for full nodes (RLPx handshake sizes are random)")
        for f in self.faults:
            if f.kind not in FAULT_KINDS:
                raise ValueError(f"fault kind must be one of {FAULT_KINDS}, got {f.kind!r}")

    @property
    def servers(self) -> bool:
        """Whether nodes run a server or switch (devp2p full nodes; TM2 nodes always do)."""
        return self.full or self.runs_tm2

    @property
    def runs_devp2p(self) -> bool:
        return self.stack in ("devp2p", "both")

    @property
    def runs_tm2(self) -> bool:
        return self.stack in ("tm2", "both")

    @property
    def gossip_stacks(self) -> tuple[str, ...]:
        """The stacks the traffic generator publishes on: those whose nodes hold connections."""
        return tuple(s for s, on in (("devp2p", self.full), ("tm2", self.runs_tm2)) if on)

    def with_param(self, name: str, value: Any) -> Scenario:
        """A copy with one parameter changed (what a sweep varies)."""
        if name == "latency":
            value = Distribution.parse(value)
        elif name in ("duration", "sample_interval", "join_over", "lookup_interval", "traffic_interval"):
            value = parse_duration(value)
        return replace(self, **{name: value})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        unknown = set(d) - set(TOML_KEYS)
        if unknown:
            raise ValueError(f"unknown scenario keys: {sorted(unknown)}")
        nodes = dict(d.get("nodes", {}))
        net = dict(d.get("network", {}))
        attack = dict(d.get("attack", {}))
        kw: dict[str, Any] = {}
        for key in ("name", "stack"):
            if key in d:
                kw[key] = str(d[key])
        for key in ("duration", "sample_interval"):
            if key in d:
                kw[key] = parse_duration(d[key])
        node_keys = {"count": "nodes", "bootnodes": "bootnodes", "nat": "nat"}
        node_keys |= {"full": "full", "max_peers": "max_peers", "persistent_seeds": "persistent_seeds"}
        for src, dst in node_keys.items():
            if src in nodes:
                kw[dst] = nodes.pop(src)
        if "discovery" in nodes:
            kw["discovery"] = tuple(sorted(nodes.pop("discovery")))  # ["v5", "v4"] is ["v4", "v5"]
        for key in ("join_over", "lookup_interval"):
            if key in nodes:
                kw[key] = parse_duration(nodes.pop(key))
        if nodes:
            raise ValueError(f"unknown [nodes] keys: {sorted(nodes)}")
        if "latency" in net:
            kw["latency"] = Distribution.parse(net.pop("latency"))
        if "loss" in net:
            kw["loss"] = float(net.pop("loss"))
        if "bandwidth" in net:
            kw["bandwidth"] = float(net.pop("bandwidth"))
        if net:
            raise ValueError(f"unknown [network] keys: {sorted(net)}")
        if attack:
            kw["attackers"] = int(attack.pop("count", 0))
            kw["attacker_subnets"] = int(attack.pop("subnets", 2))
            if attack:
                raise ValueError(f"unknown [attack] keys: {sorted(attack)}")
        traffic = dict(d.get("traffic", {}))
        for key in ("interval", "start"):
            if key in traffic:
                kw[f"traffic_{key}"] = parse_duration(traffic.pop(key))
        if "size" in traffic:
            kw["traffic_size"] = int(traffic.pop("size"))
        if traffic:
            raise ValueError(f"unknown [traffic] keys: {sorted(traffic)}")
        faults = []
        for f in d.get("faults", []):
            f = dict(f)
            at = parse_duration(f.pop("at"))
            kind = str(f.pop("kind"))
            fk: dict[str, Any] = {}
            for key in ("interval", "until"):
                if key in f:
                    fk[key] = parse_duration(f.pop(key))
            if "groups" in f:
                fk["groups"] = int(f.pop("groups"))
            if "fraction" in f:
                fk["fraction"] = float(f.pop("fraction"))
            if f:
                raise ValueError(f"unknown fault keys: {sorted(f)}")
            faults.append(Fault(at, kind, **fk))
        kw["faults"] = tuple(sorted(faults, key=lambda x: x.at))
        return cls(**kw)

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read a scenario TOML file (or the name of a shipped scenario, e.g. ``"churn"``)."""
        p = Path(path)
        if not p.exists() and p.suffix == "" and p.name in shipped_scenarios():
            return cls.from_dict(tomllib.loads(_shipped_text(p.name)))
        with p.open("rb") as fh:
            return cls.from_dict(tomllib.load(fh))


def _shipped_text(name: str) -> str:
    return resources.files("peerwire.sim").joinpath("scenarios", f"{name}.toml").read_text()


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with peerwire."""
    d = resources.files("peerwire.sim").joinpath("scenarios")
    return sorted(f.name.removesuffix(".toml") for f in d.iterdir() if f.name.endswith(".toml"))
