"""The ``peerwire`` command: a local testnet, a long-running node, keys and tools.

``main()`` is the console entry point (``[project.scripts] peerwire``). :class:`NodeBackend`
is what the admin RPC talks to (one implementation per stack, over the real server or
switch); :class:`TestnetStack` is what ``testnet`` runs, and
:func:`register_testnet_stack` replaces a stack's for a run (tests, experiments).
"""

from __future__ import annotations

import sys

from peerwire.cli._app import build_parser
from peerwire.cli._app import main as _main
from peerwire.cli._backend import NodeBackend
from peerwire.cli._config import ConfigError, NodeConfig, load_config, parse_config
from peerwire.cli._testnet import TestnetNode, TestnetStack, register_testnet_stack

__all__ = [
    "ConfigError",
    "NodeBackend",
    "NodeConfig",
    "TestnetNode",
    "TestnetStack",
    "build_parser",
    "load_config",
    "main",
    "parse_config",
    "register_testnet_stack",
]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; as a console script the return value becomes the exit status."""
    return _main(argv if argv is not None else sys.argv[1:])
