"""The ``peerwire`` command: a local testnet, a long-running node, keys and tools.

``main()`` is the console entry point (``[project.scripts] peerwire``). Library pieces that
the stacks plug into: :class:`NodeBackend` / :func:`register_backend` (what the admin RPC
talks to) and :class:`TestnetStack` / :func:`register_testnet_stack` (what ``testnet`` runs).
"""

from __future__ import annotations

import sys

from peerwire.cli._app import build_parser
from peerwire.cli._app import main as _main
from peerwire.cli._backend import IdentityBackend, NodeBackend, register_backend
from peerwire.cli._config import ConfigError, NodeConfig, load_config, parse_config
from peerwire.cli._testnet import TestnetNode, TestnetStack, register_testnet_stack

__all__ = [
    "ConfigError",
    "IdentityBackend",
    "NodeBackend",
    "NodeConfig",
    "TestnetNode",
    "TestnetStack",
    "build_parser",
    "load_config",
    "main",
    "parse_config",
    "register_backend",
    "register_testnet_stack",
]


# the real stacks register their node backends and testnet stacks
from peerwire.cli import _stacks as _stacks


def main(argv: list[str] | None = None) -> int:
    """Run the command line; as a console script the return value becomes the exit status."""
    return _main(argv if argv is not None else sys.argv[1:])
