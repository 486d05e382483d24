"""``NodeInfo``: what two TM2 nodes tell each other after the secret handshake.

Encoding lives in Rust (``peerwire._core.tm2``); ``validate`` and
``compatible_with`` follow gno's ``tm2/pkg/p2p/types/node_info.go`` and
``tm2/pkg/versionset`` rule for rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from peerwire._core import tm2 as _tm2
from peerwire.errors import DecodeError
from peerwire.tm2._addr import NetAddress
from peerwire.tm2._errors import NodeInfoError
from peerwire.tm2._keys import ID

__all__ = [
    "MAX_NODE_INFO_SIZE",
    "MAX_NUM_CHANNELS",
    "NodeInfo",
    "NodeInfoError",
    "NodeInfoOther",
    "VersionInfo",
    "semver_major",
]

#: A sized NodeInfo (prefix included) may not be larger than this.
MAX_NODE_INFO_SIZE = _tm2.MAX_NODE_INFO_SIZE
#: gno's ``maxNumChannels``.
MAX_NUM_CHANNELS = 16


_NUM = r"(?:0|[1-9][0-9]*)"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"v({_NUM})(?:\.{_NUM}(?:\.{_NUM}(?:-{_PRE_ID}(?:\.{_PRE_ID})*)?(?:\+{_BUILD_ID}(?:\.{_BUILD_ID})*)?)?)?",
    re.ASCII,
)


def semver_major(version: str) -> str:
    """``semver.Major(semver.MajorMinor(v))`` of golang.org/x/mod: ``"vN"``, or ``""`` if invalid."""
    m = _SEMVER.fullmatch(version)
    return f"v{m.group(1)}" if m else ""


def _ascii_text(s: str) -> bool:
    """gno ``IsASCIIText``: non-empty, bytes 32..126 only."""
    return bool(s) and all(32 <= ord(c) <= 126 for c in s)


def _blank(s: str) -> bool:
    return s.strip(" ") == ""


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    optional: bool = False


@dataclass(frozen=True)
class NodeInfoOther:
    tx_index: str = ""
    rpc_address: str = ""


@dataclass
class NodeInfo:
    """gno ``types.NodeInfo``."""

    net_address: NetAddress
    network: str = ""
    version_set: list[VersionInfo] = field(default_factory=list)
    software: str = ""
    version: str = ""
    channels: bytes = b""
    moniker: str = ""
    other: NodeInfoOther = field(default_factory=NodeInfoOther)

    @property
    def id(self) -> ID:
        return self.net_address.id

    def encode(self) -> bytes:
        """``amino.MarshalSized(nodeInfo)``."""
        return _tm2.encode_node_info(
            [(v.name, v.version, v.optional) for v in self.version_set],
            str(self.net_address),
            self.network,
            self.software,
            self.version,
            bytes(self.channels),
            self.moniker,
            self.other.tx_index,
            self.other.rpc_address,
        )

    @classmethod
    def decode(cls, body: bytes) -> NodeInfo:
        """Decode the amino body (no size prefix).

        Raises:
            DecodeError: bad amino, unknown fields, or a NetAddress that does not parse.
        """
        d = _tm2.decode_node_info(body)
        return cls(
            net_address=NetAddress.from_amino(d.net_address),
            network=d.network,
            version_set=[VersionInfo(n, v, o) for n, v, o in d.version_set],
            software=d.software,
            version=d.version,
            channels=d.channels,
            moniker=d.moniker,
            other=NodeInfoOther(d.tx_index, d.rpc_address),
        )

    def validate(self) -> None:
        """gno ``NodeInfo.Validate``.

        Raises:
            NodeInfoError: what is wrong.
        """
        try:
            NetAddress.from_amino(str(self.net_address))
        except DecodeError as e:
            raise NodeInfoError(f"invalid net address in node info, {e}") from None
        if self.version and (not _ascii_text(self.version) or _blank(self.version)):
            raise NodeInfoError("invalid node version")
        if len(self.channels) > MAX_NUM_CHANNELS:
            raise NodeInfoError("excessive node channels")
        if len(set(self.channels)) != len(self.channels):
            raise NodeInfoError("duplicate node channels")
        if not _ascii_text(self.moniker) or _blank(self.moniker):
            raise NodeInfoError("invalid node moniker")
        rpc = self.other.rpc_address
        if rpc and (not _ascii_text(rpc) or _blank(rpc)):
            raise NodeInfoError("invalid node RPC address")

    def compatible_with(self, other: NodeInfo) -> None:
        """gno ``NodeInfo.CompatibleWith``: version sets, network, a common channel.

        Raises:
            NodeInfoError: they are not compatible.
        """
        ours = {v.name: v for v in self.version_set}
        theirs = {v.name: v for v in other.version_set}
        errs: list[str] = []
        for name in sorted(ours.keys() | theirs.keys()):
            a, b = ours.get(name), theirs.get(name)
            if a is None:
                assert b is not None
                if not b.optional:
                    errs.append(f"Other VersionSet requires {b}")
            elif b is None:
                if not a.optional:
                    errs.append(f"Our VersionSet requires {a}")
            elif semver_major(a.version) != semver_major(b.version):
                errs.append(f"VersionInfos not compatible: {a} vs {b}")
        if errs:
            raise NodeInfoError("incompatible version sets, " + "; ".join(errs))
        if self.network != other.network:
            raise NodeInfoError("incompatible networks")
        if not set(self.channels) & set(other.channels):
            raise NodeInfoError("no common channels")
