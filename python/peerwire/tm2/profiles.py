"""Node profiles: the NodeInfo a given TM2 chain expects from its peers.

A real gno.land node (``tm2/pkg/bft/node/node.go: makeNodeInfo`` at gno v1.7.1) refuses a
peer whose version set lacks any of its non-optional entries, whose network differs from
its chain ID, or that shares none of its channels. :func:`gnoland` builds exactly what
gnoland itself advertises, so a peerwire node using it is accepted::

    profile = tm2.profiles.gnoland(chain_id="dev")
    info = profile.node_info(net_address, moniker="watcher")

Every field can be overridden (``profile.replace(version="v1.1.0")``, or the ``[node_info]``
table of ``node.toml`` through :func:`from_table`). :func:`explain_incompatibility` turns a
rejected handshake into a sentence a user can act on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from peerwire.tm2._addr import NetAddress
from peerwire.tm2._nodeinfo import NodeInfo, NodeInfoOther, VersionInfo, semver_major

__all__ = [
    "BFT_VERSION",
    "GNOLAND_APP_VERSION",
    "GNOLAND_CHANNELS",
    "INCOMPATIBILITY_KINDS",
    "NodeProfile",
    "PROFILES",
    "bare",
    "explain_incompatibility",
    "from_table",
    "gnoland",
    "incompatibility_kinds",
]

#: ``tm2/pkg/bft/version.Version`` at gno v1.7.1: bft, abci, blockchain and p2p all carry it.
BFT_VERSION = "v1.0.0-rc.0"
#: gno.land's ``baseApp.SetAppVersion("dev")``. A fresh chain advertises ``""`` until its
#: first ABCI handshake stores the app's version; both are non-semver and compatible.
GNOLAND_APP_VERSION = "dev"
#: ``makeNodeInfo``'s channel list: blockchain 0x40, consensus 0x20-0x23, mempool 0x30
#: (and discovery 0x50 when PEX is on).
GNOLAND_CHANNELS = bytes([0x40, 0x20, 0x21, 0x22, 0x23, 0x30])
DISCOVERY_CHANNEL = 0x50


@dataclass(frozen=True, slots=True)
class NodeProfile:
    """Everything in a NodeInfo except the node's own address and moniker."""

    name: str
    network: str
    version_set: tuple[VersionInfo, ...] = ()
    version: str = ""
    channels: bytes = b""
    software: str = ""
    other: NodeInfoOther = dataclasses.field(default_factory=NodeInfoOther)

    def replace(self, **changes: Any) -> NodeProfile:
        return dataclasses.replace(self, **changes)

    def node_info(self, net_address: NetAddress, moniker: str) -> NodeInfo:
        """The NodeInfo to advertise: this profile at ``net_address``."""
        return NodeInfo(
            net_address=net_address,
            network=self.network,
            version_set=list(self.version_set),
            software=self.software,
            version=self.version,
            channels=bytes(self.channels),
            moniker=moniker,
            other=self.other,
        )


def gnoland(
    chain_id: str = "dev",
    *,
    pex: bool = True,
    app_version: str = GNOLAND_APP_VERSION,
    tx_index: str = "off",
    rpc_address: str = "",
) -> NodeProfile:
    """What a gno.land v1.7.1 node advertises (``makeNodeInfo``), for chain ``chain_id``."""
    vs = sorted(
        [
            VersionInfo("abci", BFT_VERSION),
            VersionInfo("app", app_version),
            VersionInfo("bft", BFT_VERSION),
            VersionInfo("blockchain", BFT_VERSION),
            VersionInfo("p2p", BFT_VERSION),
        ],
        key=lambda v: v.name,
    )
    channels = GNOLAND_CHANNELS + (bytes([DISCOVERY_CHANNEL]) if pex else b"")
    return NodeProfile(
        name="gnoland",
        network=chain_id,
        version_set=tuple(vs),
        version=BFT_VERSION,
        channels=channels,
        other=NodeInfoOther(tx_index=tx_index, rpc_address=rpc_address),
    )


def bare(network: str, channels: bytes) -> NodeProfile:
    """A p2p-only node (one ``p2p`` version entry), like gno's bare test switches."""
    return NodeProfile(
        name="bare",
        network=network,
        version_set=(VersionInfo("p2p", BFT_VERSION),),
        version=BFT_VERSION,
        channels=channels,
    )


PROFILES = {"gnoland": gnoland}

_TABLE_KEYS = frozenset(
    {"profile", "version_set", "version", "channels", "software", "tx_index", "rpc_address"}
)


def from_table(table: Mapping[str, Any], *, chain_id: str, pex: bool = True) -> NodeProfile:
    """The profile a ``[node_info]`` table of ``node.toml`` describes.

    ``profile = "gnoland"`` (the default) picks the base; ``version``, ``software``,
    ``tx_index``, ``rpc_address`` (strings), ``channels`` (list of ints) and ``version_set``
    (a table of ``name = "version"``, or a list of ``{name, version, optional}``) override it.

    Raises:
        ValueError: ``"<key>: <problem>"`` for the first bad key.
    """
    unknown = set(table) - _TABLE_KEYS
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]}: unknown key (known: {', '.join(sorted(_TABLE_KEYS))})")
    name = table.get("profile", "gnoland")
    if name not in PROFILES:
        raise ValueError(f"profile: unknown profile {name!r} (known: {', '.join(PROFILES)})")
    p = PROFILES[name](chain_id, pex=pex)
    for key in ("version", "software"):
        if key in table:
            if not isinstance(table[key], str):
                raise ValueError(f"{key}: must be a string")
            p = p.replace(**{key: table[key]})
    for key in ("tx_index", "rpc_address"):
        if key in table:
            if not isinstance(table[key], str):
                raise ValueError(f"{key}: must be a string")
            p = p.replace(other=dataclasses.replace(p.other, **{key: table[key]}))
    if "channels" in table:
        ch = table["channels"]
        if not isinstance(ch, list) or not all(isinstance(c, int) and 0 <= c <= 255 for c in ch):
            raise ValueError("channels: must be a list of channel ids 0..255")
        p = p.replace(channels=bytes(ch))
    if "version_set" in table:
        p = p.replace(version_set=_version_set(table["version_set"]))
    return p


def _version_set(raw: Any) -> tuple[VersionInfo, ...]:
    if isinstance(raw, Mapping):
        items = [VersionInfo(str(k), str(v)) for k, v in raw.items() if isinstance(v, str)]
        if len(items) != len(raw):
            raise ValueError("version_set: values must be version strings")
    elif isinstance(raw, list):
        items = []
        for e in raw:
            if not isinstance(e, Mapping) or not isinstance(e.get("name"), str):
                raise ValueError("version_set: entries need a string `name`")
            items.append(VersionInfo(e["name"], str(e.get("version", "")), bool(e.get("optional", False))))
    else:
        raise ValueError("version_set: must be a table or a list of tables")
    return tuple(sorted(items, key=lambda v: v.name))


def _names(vs: list[str]) -> str:
    return ", ".join(vs)


#: Stable labels of :func:`incompatibility_kinds`, for counting failed handshakes by reason.
INCOMPATIBILITY_KINDS = ("version_set_missing", "version_major", "network", "no_common_channels")


def incompatibility_kinds(ours: NodeInfo, theirs: NodeInfo) -> tuple[str, ...]:
    """Which of gno's ``CompatibleWith`` checks fail, as labels from :data:`INCOMPATIBILITY_KINDS`
    (a metrics label per reason; :func:`explain_incompatibility` gives the sentence)."""
    mine = {v.name: v for v in ours.version_set}
    other = {v.name: v for v in theirs.version_set}
    kinds: list[str] = []
    if any(n not in other and not v.optional for n, v in mine.items()) or any(
        n not in mine and not v.optional for n, v in other.items()
    ):
        kinds.append("version_set_missing")
    if any(
        semver_major(mine[n].version) != semver_major(other[n].version) for n in mine.keys() & other.keys()
    ):
        kinds.append("version_major")
    if ours.network != theirs.network:
        kinds.append("network")
    if not set(ours.channels) & set(theirs.channels):
        kinds.append("no_common_channels")
    return tuple(kinds)


def explain_incompatibility(ours: NodeInfo, theirs: NodeInfo, *, their_name: str = "") -> str | None:
    """A human reason why ``theirs`` rejects ``ours`` (or we reject them), or ``None``.

    Follows gno's ``NodeInfo.CompatibleWith`` check by check, naming the remote by its
    moniker (or ``their_name``), e.g. ``"gnoland requires version set entries abci, app,
    bft, blockchain"``.
    """
    who = their_name or theirs.moniker or str(theirs.id)
    mine = {v.name: v for v in ours.version_set}
    other = {v.name: v for v in theirs.version_set}
    missing_here = sorted(n for n, v in other.items() if n not in mine and not v.optional)
    missing_there = sorted(n for n, v in mine.items() if n not in other and not v.optional)
    majors = sorted(
        f"{n} {mine[n].version or '(none)'} vs {other[n].version or '(none)'}"
        for n in mine.keys() & other.keys()
        if semver_major(mine[n].version) != semver_major(other[n].version)
    )
    reasons: list[str] = []
    if missing_here:
        reasons.append(f"{who} requires version set entries {_names(missing_here)}")
    if missing_there:
        reasons.append(f"we require version set entries {_names(missing_there)} that {who} lacks")
    if majors:
        reasons.append(f"incompatible major versions with {who}: {_names(majors)}")
    if ours.network != theirs.network:
        reasons.append(f"{who} is on network {theirs.network!r}, we are on {ours.network!r}")
    if not set(ours.channels) & set(theirs.channels):
        reasons.append(
            f"no common channels with {who} (ours {bytes(ours.channels).hex()}, "
            f"theirs {bytes(theirs.channels).hex()})"
        )
    return "; ".join(reasons) or None
