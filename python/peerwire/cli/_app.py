"""The ``peerwire`` command line: argument parsing and the small subcommands."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from peerwire import __version__
from peerwire.cli import _bench
from peerwire.cli._addr import parse_peer_url, split_host_port
from peerwire.cli._config import ConfigError, load_config
from peerwire.cli._keyfile import (
    detect_key_kind,
    load_devp2p_key,
    load_tm2_key,
    save_devp2p_key,
    save_tm2_key,
)
from peerwire.cli._logging import LEVELS, setup_logging
from peerwire.devp2p import Node, PrivateKey
from peerwire.errors import PeerwireError
from peerwire.tm2 import NodeKey

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

log = logging.getLogger("peerwire.cli")

EXIT_OK = 0
EXIT_ERROR = 1  # the command ran and failed
EXIT_USAGE = 2  # bad arguments or config, or a feature this build does not have


class CliError(Exception):
    """A failure to report as ``error: <message>`` with an exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def _key_default_path(stack: str) -> Path:
    return Path("nodekey") if stack == "devp2p" else Path("node_key.json")


def _describe_key(key: PrivateKey | NodeKey, path: Path | None, show_private: bool) -> dict[str, Any]:
    if isinstance(key, PrivateKey):
        info: dict[str, Any] = {
            "stack": "devp2p",
            "node_id": key.public_key.node_id.hex(),
            "public_key": key.public_key.to_hex(),
            "enode": f"enode://{key.public_key.to_hex()}",  # ID-only: the host and port are the node's
        }
        if show_private:
            info["private_key"] = key.to_hex()
    else:
        info = {"stack": "tm2", "node_id": str(key.id), "public_key": key.public_key.hex()}
        if show_private:
            info["private_key"] = key.to_bytes().hex()
    if path is not None:
        info["file"] = str(path)
    return info


def _print_info(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(info, indent=2))
        return
    width = max(len(k) for k in info) + 1
    for k, v in info.items():
        print(f"{(k + ':'):<{width}} {v}")


def cmd_key_new(args: argparse.Namespace) -> int:
    path = Path(args.out) if args.out else _key_default_path(args.stack)
    key: PrivateKey | NodeKey
    try:
        if args.stack == "devp2p":
            key = PrivateKey.generate()
            save_devp2p_key(key, path, overwrite=args.force)
        else:
            key = NodeKey.generate()
            save_tm2_key(key, path, overwrite=args.force)
    except FileExistsError as e:
        raise CliError(str(e), EXIT_USAGE) from None
    except OSError as e:
        raise CliError(f"cannot write {path}: {e.strerror}") from None
    log.info("key written", extra={"path": str(path), "stack": args.stack})
    _print_info(_describe_key(key, path, args.show_private), args.json)
    return EXIT_OK


def cmd_key_show(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        stack = args.stack if args.stack != "auto" else detect_key_kind(path)
        key: PrivateKey | NodeKey = load_devp2p_key(path) if stack == "devp2p" else load_tm2_key(path)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file", EXIT_USAGE) from None
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None
    except PeerwireError as e:
        raise CliError(str(e), EXIT_USAGE) from None
    _print_info(_describe_key(key, path, args.show_private), args.json)
    return EXIT_OK


_GETH_FLAGS = (
    "maxpeers",
    "maxpendpeers",
    "port",
    "bootnodes",
    "nodekey",
    "nodekeyhex",
    "nodiscover",
    "netrestrict",
)
#: geth's discovery switches: flag name -> argparse dest
_DISCOVERY_FLAGS = {"discovery.v4": "discovery_v4", "discovery.v5": "discovery_v5"}


def cmd_node(args: argparse.Namespace) -> int:
    from peerwire.cli._node import run_node

    overrides: dict[str, Any] = {}
    for name in _GETH_FLAGS:
        value = getattr(args, name)
        if value is not None and value is not False:
            overrides[name] = value
    for flag, dest in _DISCOVERY_FLAGS.items():
        value = getattr(args, dest)
        if value is not None:
            if args.nodiscover:  # geth: flags.CheckExclusive(ctx, DiscoveryV4Flag, NoDiscoverFlag)
                raise CliError(f"flags --{flag} and --nodiscover can't be used at the same time", EXIT_USAGE)
            overrides[flag] = value
    if args.nodekey is not None:  # a path on the command line is relative to the cwd, not the config
        overrides["nodekey"] = str(Path(args.nodekey).expanduser().resolve())
    if args.stack is not None:
        overrides["stack"] = args.stack
    if args.datadir is not None:
        overrides["data_dir"] = str(Path(args.datadir).resolve())
    try:
        cfg = load_config(args.config, overrides=overrides)
    except ConfigError as e:
        raise CliError(str(e), EXIT_USAGE) from None
    if args.rpc_listen is not None:
        from dataclasses import replace

        try:
            host, port = split_host_port(args.rpc_listen)
        except ValueError as e:
            raise CliError(f"--rpc-listen: {e}", EXIT_USAGE) from None
        cfg = replace(cfg, rpc=replace(cfg.rpc, host=host, port=port, enabled=True))
    if args.log_level is None:
        setup_logging(cfg.log_level)
    try:
        return asyncio.run(run_node(cfg))
    except PeerwireError as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"{e.strerror or e}" + (f": {e.filename}" if e.filename else "")) from None


def cmd_enr_decode(args: argparse.Namespace) -> int:
    """Decode an ``enr:…`` record (also raw RLP hex), verify its signature, print its fields."""
    from peerwire.devp2p import ENR

    text: str = args.record.strip()
    data: str | bytes = text
    if not text.startswith("enr:"):
        try:
            data = bytes.fromhex(text.removeprefix("0x"))
        except ValueError:
            raise CliError(
                "invalid ENR: expected enr:<base64> or the record's RLP in hex", EXIT_USAGE
            ) from None
    try:
        rec = ENR.decode(data, verify=False)
    except (PeerwireError, ValueError) as e:
        raise CliError(f"invalid ENR: {e}", EXIT_USAGE) from None
    try:
        rec.verify()
        verified = True
    except (PeerwireError, ValueError):
        verified = False
    info: dict[str, Any] = {"seq": rec.seq, "node_id": rec.node_id.hex(), "signature_valid": verified}
    info["public_key"] = rec.public_key.to_hex()
    for name in ("ip", "tcp", "udp", "ip6", "tcp6", "udp6"):
        value = getattr(rec, name)
        if value is not None:
            info[name] = value
    if rec.ip is not None and rec.tcp:
        node = Node(rec.public_key, rec.ip, rec.tcp, rec.udp or rec.tcp)
        info["enode"] = node.enode_url()
    for key in rec:
        name = key.decode("ascii", "replace")
        if name not in info and name not in ("id", "secp256k1"):
            info[name] = rec[key].hex()
    info["enr"] = str(rec)
    _print_info(info, args.json)
    return EXIT_OK if verified else EXIT_ERROR


def cmd_ping(args: argparse.Namespace) -> int:
    target: str = args.target.strip()
    if target.startswith("enr:"):  # discovery v5: PING and the node's record
        from peerwire.devp2p.discover import ping_v5

        try:
            info = asyncio.run(ping_v5(target, args.timeout))
        except TimeoutError:
            raise CliError(f"ping {target[:24]}…: no answer within {args.timeout:g} s") from None
        except (PeerwireError, OSError, ValueError) as e:
            raise CliError(f"ping {target[:24]}…: {e}") from None
        _print_info(info, args.json)
        return EXIT_OK
    stack = "devp2p" if target.startswith("enode://") else "tm2"
    try:
        normalised = parse_peer_url(stack, target)
    except ValueError as e:
        raise CliError(
            f"{e} (expected enode://<pubkey>@host:port or <g1 id>@host:port)", EXIT_USAGE
        ) from None
    from peerwire.cli._ping import ping_devp2p, ping_tm2

    try:
        if stack == "devp2p":
            info = asyncio.run(ping_devp2p(normalised, args.timeout))
        else:
            info = asyncio.run(ping_tm2(normalised, args.timeout, network=args.network))
    except TimeoutError:
        raise CliError(f"ping {normalised}: no answer within {args.timeout:g} s") from None
    except (PeerwireError, OSError) as e:
        raise CliError(f"ping {normalised}: {e}") from None
    _print_info(info, args.json)
    return EXIT_OK


def cmd_testnet(args: argparse.Namespace) -> int:
    from peerwire.cli._testnet import run_testnet_cli

    return run_testnet_cli(args.stack, args.nodes, args.duration, live=not args.no_live)


def cmd_crawl(args: argparse.Namespace) -> int:
    from peerwire.cli._crawl import run_crawl

    return run_crawl(args)


def cmd_bench(args: argparse.Namespace) -> int:
    from peerwire.cli._bench import run_bench

    return run_bench(args)


def _bool_value(text: str) -> bool:
    """A boolean flag value as Go's ``strconv.ParseBool`` reads it (geth's ``--flag=false``)."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="peerwire",
        description="devp2p (go-ethereum) and Tendermint2 (gno) p2p nodes, tools and a local testnet.",
    )
    p.add_argument("--version", action="version", version=f"peerwire {__version__}")
    levels = sorted(set(LEVELS) - {"warn"})
    log_help = "log verbosity on stderr (default: info, or the config's log_level)"
    p.add_argument("--log-level", choices=levels, default=None, help=log_help)
    # also accepted after the subcommand (`peerwire node --log-level debug`)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-level", choices=levels, default=argparse.SUPPRESS, help=log_help)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    # key
    key = sub.add_parser("key", parents=[common], help="create or inspect node keys")
    ksub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    kn = ksub.add_parser("new", parents=[common], help="generate a node key file (mode 0600)")
    kn.add_argument("--stack", choices=("devp2p", "tm2"), default="devp2p")
    kn.add_argument("--out", "-o", help="file to write (default ./nodekey or ./node_key.json)")
    kn.add_argument("--force", action="store_true", help="replace an existing file")
    kn.add_argument("--show-private", action="store_true", help="also print the private key (careful)")
    kn.add_argument("--json", action="store_true", help="print JSON")
    kn.set_defaults(func=cmd_key_new)
    ks = ksub.add_parser("show", parents=[common], help="print the public identity of a key file")
    ks.add_argument("file")
    ks.add_argument("--stack", choices=("auto", "devp2p", "tm2"), default="auto")
    ks.add_argument("--show-private", action="store_true", help="also print the private key (careful)")
    ks.add_argument("--json", action="store_true", help="print JSON")
    ks.set_defaults(func=cmd_key_show)

    # node
    node = sub.add_parser("node", parents=[common], help="run one node with admin JSON-RPC and /metrics")
    node.add_argument("--config", "-c", help="node.toml (see the docs for the keys)")
    node.add_argument("--stack", choices=("devp2p", "tm2"), default=None)
    node.add_argument("--datadir", default=None, help="data directory (overrides data_dir)")
    node.add_argument("--rpc-listen", default=None, metavar="HOST:PORT", help="admin RPC address")
    g = node.add_argument_group("go-ethereum p2p flags (override [devp2p])")
    g.add_argument("--maxpeers", type=int, default=None, help="maximum number of peers (default 50)")
    g.add_argument("--maxpendpeers", type=int, default=None, help="pending connection limit (0 = 50)")
    g.add_argument("--port", type=int, default=None, help="network listening port (default 30303)")
    g.add_argument("--bootnodes", default=None, help="comma-separated enode URLs")
    g.add_argument("--nodekey", default=None, help="P2P node key file")
    g.add_argument("--nodekeyhex", default=None, help="P2P node key as hex (for testing)")
    g.add_argument("--nodiscover", action="store_true", default=None, help="disable peer discovery")
    for flag, dest in _DISCOVERY_FLAGS.items():
        g.add_argument(
            f"--{flag}",
            dest=dest,
            type=_bool_value,
            nargs="?",
            const=True,
            default=None,
            metavar="BOOL",
            help=f"enable the {flag.split('.')[1]} discovery mechanism (default true; --{flag}=false: off)",
        )
    g.add_argument("--netrestrict", default=None, help="restrict communication to these CIDR masks")
    node.set_defaults(func=cmd_node)

    # testnet
    tn = sub.add_parser("testnet", parents=[common], help="run a local devp2p / TM2 network with a live view")
    tn.add_argument("--stack", choices=("devp2p", "tm2", "both"), default="both")
    tn.add_argument("--nodes", type=_positive_int, default=8, help="nodes per stack (default 8)")
    tn.add_argument("--duration", type=_positive_float, default=20.0, help="seconds to run (default 20)")
    tn.add_argument("--no-live", action="store_true", help="no live view, only the summary")
    tn.set_defaults(func=cmd_testnet)

    # enr
    enr = sub.add_parser("enr", parents=[common], help="Ethereum Node Records")
    esub = enr.add_subparsers(dest="enr_command", metavar="ACTION", required=True)
    ed = esub.add_parser("decode", parents=[common], help="decode and verify an enr:… record")
    ed.add_argument("record")
    ed.add_argument("--json", action="store_true")
    ed.set_defaults(func=cmd_enr_decode)

    # ping
    pg = sub.add_parser("ping", parents=[common], help="handshake with a peer and print what it said")
    pg.add_argument("target", help="enode://…@host:port or <g1 id>@host:port")
    pg.add_argument("--timeout", type=_positive_float, default=5.0)
    pg.add_argument("--network", default="peerwire-ping", help="network named in our TM2 NodeInfo")
    pg.add_argument("--json", action="store_true", help="print JSON")
    pg.set_defaults(func=cmd_ping)

    # crawl
    from peerwire.cli._crawl import add_arguments as add_crawl_arguments

    add_crawl_arguments(sub, common)
    sub.choices["crawl"].set_defaults(func=cmd_crawl)

    # bench
    bn = sub.add_parser(
        "bench", parents=[common], help="measure peerwire against its peers and print the ratios"
    )
    _bench.add_arguments(bn)
    bn.set_defaults(func=cmd_bench)

    from peerwire.cli._watch import add_watch_parser  # peerwire watch (gno.land observer)

    add_watch_parser(sub, common)

    from peerwire.cli._sim import add_sim_parser

    add_sim_parser(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``peerwire`` command. Returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.log_level is not None or args.command != "node":
        setup_logging(args.log_level or "info")
    try:
        code: int = args.func(args)
    except CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        return 130
    return code
