"""``node.toml``: the configuration of one long-running node, validated into dataclasses.

Layout (every key optional; defaults are go-ethereum's and gno's)::

    stack = "devp2p"                 # or "tm2"
    data_dir = "data"                # relative to this file; holds keys, node DB, address book
    log_level = "info"
    moniker = "peerwire"             # TM2 NodeInfo.moniker (gno base config)
    network = "dev"                  # TM2 NodeInfo.network (the chain ID)
    node_key_file = "secrets/node_key.json"   # TM2 key, relative to data_dir (gno base config)

    [rpc]                            # admin JSON-RPC (POST /) and Prometheus (GET /metrics)
    enabled = true
    listen = "127.0.0.1:8545"
    token_file = "rpc.token"         # optional bearer token (or `token = "…"`)

    [devp2p]                         # go-ethereum's p2p flags, same names and meaning
    maxpeers = 50
    maxpendpeers = 0                 # 0 means geth's default, 50
    port = 30303
    bootnodes = ["enode://…"]        # or one comma-separated string, as on geth's command line
    nodekey = "path/to/nodekey"      # or nodekeyhex = "…" (mutually exclusive)
    nodiscover = false
    discovery.v4 = true              # geth --discovery.v4 / --discovery.v5 (both on by default;
    discovery.v5 = true              # both share the UDP port); off with nodiscover
    netrestrict = "127.0.0.0/8,10.0.0.0/8"
    network_id = 1                   # what net_version reports

    [p2p]                            # gno tm2/pkg/p2p/config, the keys of config.toml's [p2p]
    laddr = "tcp://0.0.0.0:26656"
    external_address = ""            # advertised in NodeInfo instead of laddr when set
    ...

    [node_info]                      # TM2 NodeInfo profile (peerwire.tm2.profiles.from_table)
    profile = "gnoland"              # what a gno.land v1.7.1 node advertises (the default)
    version = "v1.0.0-rc.0"          # also: software, tx_index, rpc_address, channels = [0x40, …],
    version_set = { p2p = "v1.0.0-rc.0", app = "dev" }   # or [{name, version, optional}]

Errors are :class:`ConfigError`: they name the file, the line and the key.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from peerwire import __version__
from peerwire._net import NetRestrict, parse_ip
from peerwire.cli._addr import parse_enode, parse_tm2_address, split_host_port
from peerwire.cli._logging import LEVELS
from peerwire.devp2p import Node
from peerwire.errors import PeerwireError
from peerwire.tm2 import validate_id
from peerwire.tm2.profiles import NodeProfile
from peerwire.tm2.profiles import from_table as profile_from_table

__all__ = [
    "ConfigError",
    "Devp2pConfig",
    "NodeConfig",
    "P2PConfig",
    "RpcConfig",
    "find_key_line",
    "load_config",
    "parse_config",
    "parse_go_duration",
]

Stack = Literal["devp2p", "tm2"]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_MAX_PENDING_PEERS = 50  # go-ethereum p2p.defaultMaxPendingPeers
DEFAULT_RPC_PORT = 8545
# The largest body the admin RPC accepts; geth's http.Server uses 5 MiB, admin calls are tiny.
DEFAULT_RPC_MAX_BODY = 1 << 20
# gno p2p/config MinRecvBufferBytes = MinSendBufferBytes = 8 MiB + 64 KiB
_MIN_BUFFER_BYTES = (8 << 20) + (64 << 10)


class ConfigError(PeerwireError, ValueError):
    """A configuration value is missing, malformed or out of range.

    ``str()`` reads ``node.toml:12: [devp2p] maxpeers: must be >= 0, got -1``.
    """

    def __init__(
        self, message: str, *, key: str | None = None, path: str | None = None, line: int | None = None
    ) -> None:
        self.message = message
        self.key = key
        self.path = path
        self.line = line
        where = path or "<config>"
        if line is not None:
            where += f":{line}"
        text = f"{where}: {key}: {message}" if key else f"{where}: {message}"
        super().__init__(text)


@dataclass(frozen=True, slots=True)
class RpcConfig:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = DEFAULT_RPC_PORT
    token: str | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_RPC_MAX_BODY


@dataclass(frozen=True, slots=True)
class Devp2pConfig:
    """go-ethereum's p2p flags (``cmd/utils/flags.go``), same names, same defaults."""

    maxpeers: int = 50
    maxpendpeers: int = 0
    port: int = 30303
    listen_host: str = "0.0.0.0"
    bootnodes: tuple[Node, ...] = ()
    static_nodes: tuple[Node, ...] = ()
    trusted_nodes: tuple[Node, ...] = ()
    nodekey: Path | None = None
    nodekeyhex: str | None = field(default=None, repr=False)
    nodiscover: bool = False
    #: geth ``--discovery.v4`` (``DiscoveryV4``)
    discovery_v4: bool = True
    #: geth ``--discovery.v5`` (``DiscoveryV5``); shares the UDP port with v4
    discovery_v5: bool = True
    netrestrict: tuple[IPNetwork, ...] = ()
    network_id: int = 1
    name: str = f"peerwire/v{__version__}/python{sys.version_info[0]}.{sys.version_info[1]}"

    @property
    def max_pending_peers(self) -> int:
        """``maxpendpeers`` with geth's 0 → 50 default applied."""
        return self.maxpendpeers or DEFAULT_MAX_PENDING_PEERS


@dataclass(frozen=True, slots=True)
class P2PConfig:
    """gno ``tm2/pkg/p2p/config.P2PConfig``: the TOML keys of ``[p2p]`` and their defaults."""

    home: str = ""
    laddr: str = "tcp://0.0.0.0:26656"
    external_address: str = ""
    seeds: tuple[str, ...] = ()
    persistent_peers: tuple[str, ...] = ()
    max_num_inbound_peers: int = 40
    max_num_outbound_peers: int = 10
    flush_throttle_timeout: float = 0.1
    max_packet_msg_payload_size: int = 1024
    send_rate: int = 5_120_000
    recv_rate: int = 5_120_000
    pex: bool = True
    private_peer_ids: tuple[str, ...] = ()
    addr_book_file: str = "config/addrbook.json"
    # gno v1.7.1 additions (not in older TM2), with gno's defaults; 0 turns a bound off.
    recv_assembly_timeout: float = 30.0
    max_recv_buffer_bytes: int = 20 << 20
    max_send_buffer_bytes: int = 20 << 20
    # gno's default is false; true here so that several local nodes on 127.0.0.1 connect
    # (gnoland's own config.toml carries the key, so a gno.land config keeps gno's guard).
    allow_duplicate_ip: bool = True

    @property
    def listen_host_port(self) -> tuple[str, int]:
        return split_host_port(self.laddr.split("://", 1)[-1])


@dataclass(frozen=True, slots=True)
class NodeConfig:
    stack: Stack = "devp2p"
    data_dir: Path = Path("data")
    log_level: str = "info"
    moniker: str = "peerwire"
    network: str = "dev"
    node_key_file: str = "secrets/node_key.json"
    rpc: RpcConfig = RpcConfig()
    devp2p: Devp2pConfig = Devp2pConfig()
    p2p: P2PConfig = P2PConfig()
    source: str | None = None
    #: the TM2 NodeInfo profile (``[node_info]``; default: gnoland for ``network``)
    node_profile: NodeProfile | None = field(default=None, repr=False)

    @property
    def devp2p_key_path(self) -> Path:
        """Where the devp2p key lives: ``--nodekey`` or ``<data_dir>/nodekey`` (geth's layout)."""
        return self.devp2p.nodekey if self.devp2p.nodekey is not None else self.data_dir / "nodekey"

    @property
    def tm2_key_path(self) -> Path:
        return self.data_dir / self.node_key_file

    @property
    def node_db_path(self) -> Path:
        """The devp2p node database (SQLite)."""
        return self.data_dir / "nodes.sqlite"

    @property
    def addr_book_path(self) -> Path:
        """The TM2 address book; a relative ``addr_book_file`` resolves against ``[p2p] home``
        (gno's root directory), itself relative to the data directory when it is."""
        p = Path(self.p2p.addr_book_file or "config/addrbook.json")
        home = self.data_dir / self.p2p.home if self.p2p.home else self.data_dir
        return p if p.is_absolute() else home / p


# ----------------------------------------------------------------------------- locating keys

_HEADER_RE = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY_RE = re.compile(
    r"""^\s*(?P<key>(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _dotted(text: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return tuple(p.strip("\"'") for p in parts)


def find_key_line(text: str, path: tuple[str, ...]) -> int | None:
    """The 1-based line where the key ``path`` (e.g. ``("devp2p", "maxpeers")``) is set.

    For a table path (e.g. ``("devp2p",)``) the line of its header. ``None`` if not found.
    """
    table: tuple[str, ...] = ()
    in_multiline: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multiline is not None:
            if in_multiline in line:
                in_multiline = None
            continue
        m = _HEADER_RE.match(line)
        if m:
            table = _dotted(m.group("name"))
            if table == path:
                return lineno
            continue
        k = _KEY_RE.match(line)
        if k:
            full = table + _dotted(k.group("key"))
            if full == path:
                return lineno
            rest = line[k.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multiline = quote
    return None


# ----------------------------------------------------------------------------- parsing

T = TypeVar("T")


class _Reader:
    """Reads one TOML table, reporting errors with the key's line."""

    def __init__(
        self,
        doc: Mapping[str, Any],
        table: tuple[str, ...],
        text: str,
        path: str | None,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.doc = doc
        self.table = table
        self.text = text
        self.path = path
        self.overrides = overrides or {}
        self.seen: set[str] = set()

    def error(self, key: str | None, message: str) -> ConfigError:
        if key is not None and key in self.overrides:
            return ConfigError(message, key=self.overrides[key], path="command line")
        line = find_key_line(self.text, (*self.table, key) if key else self.table) if self.text else None
        name = key if key is not None else None
        if name is not None and self.table:
            name = f"[{'.'.join(self.table)}] {name}"
        return ConfigError(message, key=name, path=self.path, line=line)

    def get(
        self, key: str, kind: type[T], default: T, *, check: Callable[[T], str | None] | None = None
    ) -> T:
        self.seen.add(key)
        if key not in self.doc:
            return default
        value = self.doc[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(key, f"must be {_kind_name(kind)}, got {_show(value)}")
        if check is not None:
            problem = check(value)
            if problem:
                raise self.error(key, f"{problem}, got {_show(value)}")
        return value

    def get_list(self, key: str) -> tuple[str, ...]:
        """A list given as a TOML array of strings or as one comma-separated string."""
        self.seen.add(key)
        if key not in self.doc:
            return ()
        value = self.doc[key]
        if isinstance(value, str):
            return tuple(s.strip() for s in value.split(",") if s.strip())
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(v.strip() for v in value if v.strip())
        raise self.error(key, f"must be a string or an array of strings, got {_show(value)}")

    def table_of(self, key: str) -> Mapping[str, Any]:
        self.seen.add(key)
        value = self.doc.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table ([{key}]), got {_show(value)}")
        return value

    def reject_unknown(self) -> None:
        for key in self.doc:
            if key not in self.seen:
                hint = difflib.get_close_matches(key, sorted(self.seen), n=1)
                suffix = f"; did you mean {hint[0]!r}?" if hint else ""
                where = f"[{'.'.join(self.table)}]" if self.table else "the top level"
                raise self.error(key, f"unknown key in {where}{suffix}")


def _kind_name(kind: type[Any]) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        kind, kind.__name__
    )


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def _nonneg(v: int) -> str | None:
    return "must be >= 0" if v < 0 else None


def _port(v: int) -> str | None:
    return "must be a port number 0..65535" if not 0 <= v <= 65535 else None


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float:
    """Go's ``time.ParseDuration`` ("100ms", "1m30s", "-1.5h", "0") in seconds."""
    s = text.strip()
    sign = 1.0
    if s[:1] in "+-" and s:
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"invalid duration {text!r}")
    pos, total = 0, 0.0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m:
            raise ValueError(f'invalid duration {text!r} (use Go syntax, e.g. "100ms", "1m30s")')
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    return sign * total


def _duration(r: _Reader, key: str, default: float) -> float:
    text = r.get(key, str, "")
    if key not in r.doc:
        return default
    try:
        value = parse_go_duration(text)
    except ValueError as e:
        raise r.error(key, str(e)) from None
    if value < 0:
        raise r.error(key, f"must be >= 0, got {text!r}")
    return value


def _nodes(r: _Reader, key: str) -> tuple[Node, ...]:
    try:
        return tuple(parse_enode(url) for url in r.get_list(key))
    except ValueError as e:
        raise r.error(key, str(e)) from None


def _tm2_addrs(r: _Reader, key: str) -> tuple[str, ...]:
    try:
        return tuple(parse_tm2_address(addr) for addr in r.get_list(key))
    except ValueError as e:
        raise r.error(key, str(e)) from None


def _parse_rpc(r: _Reader, base: Path) -> RpcConfig:
    enabled = r.get("enabled", bool, True)
    listen = r.get("listen", str, f"127.0.0.1:{DEFAULT_RPC_PORT}")
    try:
        host, port = split_host_port(listen)
    except ValueError as e:
        raise r.error("listen", str(e)) from None
    token = r.get("token", str, "") or None
    token_file = r.get("token_file", str, "")
    if token and token_file:
        raise r.error("token_file", "token and token_file are mutually exclusive")
    if token_file:
        tf = Path(token_file)
        tf = tf if tf.is_absolute() else base / tf
        try:
            token = tf.read_text().strip()
        except OSError as e:
            raise r.error("token_file", f"cannot read {tf}: {e.strerror}") from None
        if not token:
            raise r.error("token_file", f"{tf} is empty")
    max_body = r.get(
        "max_body_bytes",
        int,
        DEFAULT_RPC_MAX_BODY,
        check=lambda v: "must be between 1 KiB and 64 MiB" if not 1024 <= v <= 64 << 20 else None,
    )
    r.reject_unknown()
    return RpcConfig(enabled=enabled, host=host, port=port, token=token, max_body_bytes=max_body)


def _parse_discovery(r: _Reader) -> tuple[bool, bool]:
    """``discovery.v4`` / ``discovery.v5`` (geth's flag names, as TOML dotted keys)."""
    d = Devp2pConfig()
    v4 = r.get("v4", bool, d.discovery_v4)
    v5 = r.get("v5", bool, d.discovery_v5)
    r.reject_unknown()
    return v4, v5


def _parse_devp2p(r: _Reader, base: Path, nested_overrides: Mapping[str, Mapping[str, str]]) -> Devp2pConfig:
    d = Devp2pConfig()
    maxpeers = r.get("maxpeers", int, d.maxpeers, check=_nonneg)
    maxpend = r.get("maxpendpeers", int, d.maxpendpeers, check=_nonneg)
    port = r.get("port", int, d.port, check=_port)
    listen_host = r.get("listen_host", str, d.listen_host)
    try:
        ipaddress.ip_address(listen_host)
    except ValueError:
        raise r.error("listen_host", f"must be an IP address, got {listen_host!r}") from None
    bootnodes = _nodes(r, "bootnodes")
    static = _nodes(r, "static_nodes")
    trusted = _nodes(r, "trusted_nodes")
    nodekey_s = r.get("nodekey", str, "")
    nodekeyhex = r.get("nodekeyhex", str, "") or None
    if nodekey_s and nodekeyhex:
        raise r.error("nodekeyhex", "nodekey and nodekeyhex are mutually exclusive")
    nodekey = None
    if nodekey_s:
        nodekey = Path(nodekey_s).expanduser()
        nodekey = nodekey if nodekey.is_absolute() else base / nodekey
    if nodekeyhex is not None:
        from peerwire.devp2p import PrivateKey

        try:
            PrivateKey.from_hex(nodekeyhex)
        except PeerwireError:
            # never echo the value: it is (meant to be) key material
            raise r.error(
                "nodekeyhex", "must be 64 hex characters of a valid secp256k1 private key"
            ) from None
    nodiscover = r.get("nodiscover", bool, d.nodiscover)
    disc_table = ("devp2p", "discovery")
    discovery_v4, discovery_v5 = _parse_discovery(
        _Reader(r.table_of("discovery"), disc_table, r.text, r.path, nested_overrides.get("discovery"))
    )
    try:
        nets = NetRestrict(r.get_list("netrestrict")).networks
    except ValueError as e:
        raise r.error("netrestrict", str(e)) from None
    network_id = r.get("network_id", int, d.network_id, check=_nonneg)
    name = r.get("name", str, d.name, check=lambda v: "must not be empty" if not v else None)
    r.reject_unknown()
    return Devp2pConfig(
        maxpeers=maxpeers,
        maxpendpeers=maxpend,
        port=port,
        listen_host=listen_host,
        bootnodes=bootnodes,
        static_nodes=static,
        trusted_nodes=trusted,
        nodekey=nodekey,
        nodekeyhex=nodekeyhex,
        nodiscover=nodiscover,
        discovery_v4=discovery_v4,
        discovery_v5=discovery_v5,
        netrestrict=tuple(nets),
        network_id=network_id,
        name=name,
    )


def _buffer_bytes(v: int) -> str | None:
    if v < 0 or 0 < v < _MIN_BUFFER_BYTES:
        return f"must be 0 (off) or >= {_MIN_BUFFER_BYTES} (one maximum block response)"
    return None


def _parse_p2p(r: _Reader) -> P2PConfig:
    d = P2PConfig()
    home = r.get("home", str, d.home)
    laddr = r.get("laddr", str, d.laddr)
    try:
        split_host_port(laddr.split("://", 1)[-1])
    except ValueError as e:
        raise r.error("laddr", str(e)) from None
    external = r.get("external_address", str, d.external_address)
    if external:
        try:
            ext_host, ext_port = split_host_port(external.split("://", 1)[-1])
        except ValueError as e:
            raise r.error("external_address", str(e)) from None
        if parse_ip(ext_host) is None or ext_port == 0 or ext_host in ("0.0.0.0", "::"):
            raise r.error(
                "external_address",
                f"must be an IP address and a port (the address peers dial), got {external!r}",
            )
    seeds = _tm2_addrs(r, "seeds")
    persistent = _tm2_addrs(r, "persistent_peers")
    private = r.get_list("private_peer_ids")
    for pid in private:
        try:
            validate_id(pid)
        except PeerwireError as e:
            raise r.error("private_peer_ids", f"invalid node ID {pid!r}: {e}") from None
    cfg = P2PConfig(
        home=home,
        laddr=laddr,
        external_address=external,
        seeds=seeds,
        persistent_peers=persistent,
        max_num_inbound_peers=r.get("max_num_inbound_peers", int, d.max_num_inbound_peers, check=_nonneg),
        max_num_outbound_peers=r.get("max_num_outbound_peers", int, d.max_num_outbound_peers, check=_nonneg),
        flush_throttle_timeout=_duration(r, "flush_throttle_timeout", d.flush_throttle_timeout),
        max_packet_msg_payload_size=r.get(
            "max_packet_msg_payload_size", int, d.max_packet_msg_payload_size, check=_nonneg
        ),
        send_rate=r.get("send_rate", int, d.send_rate, check=_nonneg),
        recv_rate=r.get("recv_rate", int, d.recv_rate, check=_nonneg),
        pex=r.get("pex", bool, d.pex),
        private_peer_ids=private,
        addr_book_file=r.get("addr_book_file", str, d.addr_book_file),
        recv_assembly_timeout=_duration(r, "recv_assembly_timeout", d.recv_assembly_timeout),
        max_recv_buffer_bytes=r.get(
            "max_recv_buffer_bytes", int, d.max_recv_buffer_bytes, check=_buffer_bytes
        ),
        max_send_buffer_bytes=r.get(
            "max_send_buffer_bytes", int, d.max_send_buffer_bytes, check=_buffer_bytes
        ),
        allow_duplicate_ip=r.get("allow_duplicate_ip", bool, d.allow_duplicate_ip),
    )
    r.reject_unknown()
    return cfg


def parse_config(
    text: str,
    *,
    path: str | None = None,
    base_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> NodeConfig:
    """Parse and validate ``node.toml`` text.

    ``overrides`` are command-line values for ``[devp2p]`` keys (geth flag names) and the
    top-level ``stack`` / ``data_dir`` / ``log_level``; they win over the file.

    Raises:
        ConfigError: with the file, line and key of the first problem.
    """
    base = base_dir if base_dir is not None else Path(path).parent if path else Path.cwd()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # tomllib's message already ends with "(at line L, column C)"
        m = re.search(r"at line (\d+)", str(e))
        raise ConfigError(f"not valid TOML: {e}", path=path, line=int(m.group(1)) if m else None) from None
    overrides = dict(overrides or {})
    top_keys = ("stack", "data_dir", "log_level")
    top_over: dict[str, Any] = {k: overrides.pop(k) for k in top_keys if k in overrides}
    doc.update(top_over)
    # "discovery.v4": a dotted flag name is a key of a sub-table, as in TOML
    nested: dict[str, dict[str, Any]] = {}
    for k in [k for k in overrides if "." in k]:
        table, _, sub = k.partition(".")
        nested.setdefault(table, {})[sub] = overrides.pop(k)
    if overrides or nested:
        dev = doc.setdefault("devp2p", {})
        if isinstance(dev, dict):
            dev.update(overrides)
            for table, values in nested.items():
                sub_table = dev.setdefault(table, {})
                if isinstance(sub_table, dict):
                    sub_table.update(values)
    top = _Reader(doc, (), text, path, {k: f"--{k.replace('_', '-')}" for k in top_over})
    stack = top.get(
        "stack",
        str,
        "devp2p",
        check=lambda v: 'must be "devp2p" or "tm2"' if v not in ("devp2p", "tm2") else None,
    )
    data_dir_s = top.get("data_dir", str, "data", check=lambda v: "must not be empty" if not v else None)
    data_dir = Path(data_dir_s).expanduser()
    data_dir = data_dir if data_dir.is_absolute() else base / data_dir
    log_level = top.get(
        "log_level",
        str,
        "info",
        check=lambda v: f"must be one of {', '.join(LEVELS)}" if v.lower() not in LEVELS else None,
    )
    moniker = top.get("moniker", str, "peerwire")
    network = top.get("network", str, "dev", check=lambda v: "must not be empty" if not v else None)
    node_key_file = top.get("node_key_file", str, "secrets/node_key.json")
    rpc = _parse_rpc(_Reader(top.table_of("rpc"), ("rpc",), text, path), base)
    dev_over = {k: f"--{k}" for k in overrides}
    nested_over = {t: {k: f"--{t}.{k}" for k in values} for t, values in nested.items()}
    devp2p = _parse_devp2p(
        _Reader(top.table_of("devp2p"), ("devp2p",), text, path, dev_over), base, nested_over
    )
    p2p = _parse_p2p(_Reader(top.table_of("p2p"), ("p2p",), text, path))
    ni_table = top.table_of("node_info")
    try:
        node_profile = profile_from_table(ni_table, chain_id=network, pex=p2p.pex)
    except ValueError as e:
        key, _, msg = str(e).partition(": ")
        raise _Reader(ni_table, ("node_info",), text, path).error(key, msg) from None
    top.reject_unknown()
    stack_t: Stack = "tm2" if stack == "tm2" else "devp2p"
    return NodeConfig(
        stack=stack_t,
        data_dir=data_dir,
        log_level=log_level.lower(),
        moniker=moniker,
        network=network,
        node_key_file=node_key_file,
        rpc=rpc,
        devp2p=devp2p,
        p2p=p2p,
        source=path,
        node_profile=node_profile,
    )


def load_config(path: str | Path | None, *, overrides: Mapping[str, Any] | None = None) -> NodeConfig:
    """Read and validate a config file (``None``: defaults plus ``overrides``)."""
    if path is None:
        return parse_config("", path=None, base_dir=Path.cwd(), overrides=overrides)
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read config file: {e.strerror}", path=str(p)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError("not valid UTF-8", path=str(p), line=line) from None
    return parse_config(text, path=str(p), base_dir=p.resolve().parent, overrides=overrides)
