"""peerwire: devp2p (go-ethereum) and Tendermint2 (gno) peer-to-peer stacks for asyncio.

Protocol state and every byte on the wire live in a sans-IO Rust core
(``peerwire._core``); sockets, tasks, timers and policy live in Python.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from peerwire.errors import (
    ConnectionClosedError,
    DecodeError,
    DialError,
    FrameError,
    HandshakeError,
    InternalError,
    InvalidArgumentError,
    InvalidKeyError,
    LocalProtocolError,
    PeerwireError,
    ProtocolError,
    RefusedError,
    RemoteProtocolError,
    TimeoutError,
)

try:
    __version__ = version("peerwire")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "ConnectionClosedError",
    "DecodeError",
    "DialError",
    "FrameError",
    "HandshakeError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidKeyError",
    "LocalProtocolError",
    "PeerwireError",
    "ProtocolError",
    "RefusedError",
    "RemoteProtocolError",
    "TimeoutError",
    "__version__",
]
