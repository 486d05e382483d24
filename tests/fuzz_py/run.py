"""atheris harnesses for the Python code that parses untrusted input (``make fuzz-py``).

Targets (each: any input returns a value or raises the documented typed
error, ``ValueError``/``PeerwireError`` subclasses; anything else, or a hang, is
a finding):

* ``config``: ``node.toml`` text through the CLI config loader (``parse_config``):
  ``ConfigError`` or a config.
* ``rpc``: JSON-RPC request bodies through the CLI ``Dispatcher.handle_bytes``
  with a registered method: always a JSON-RPC response (or None), never an exception.
* ``enode``: ``Node.parse`` on enode/enr URLs.
* ``enr_text``: ``ENR.decode`` on text and bytes.
* ``tm2_addr``: TM2 peer/net addresses (``PeerAddress.parse``, ``NetAddress.parse``
  without resolution).

Each target runs for ``FUZZ_SECONDS`` (default 30) in its own process and
prints the executions it made. Usage: ``run.py [target ...]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time

TARGETS = ["config", "rpc", "enode", "enr_text", "tm2_addr"]


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def make(target: str):  # type: ignore[no-untyped-def]
    from peerwire.errors import PeerwireError

    if target == "config":
        from pathlib import Path

        from peerwire.cli._config import ConfigError, parse_config

        def one(data: bytes) -> None:
            with contextlib.suppress(ConfigError):
                parse_config(_text(data), path="fuzz.toml", base_dir=Path("/nonexistent-fuzz"))

    elif target == "rpc":
        import json

        from peerwire.cli._jsonrpc import Dispatcher

        d = Dispatcher()

        async def echo(*args: object) -> object:
            return list(args)

        d.register("test_echo", echo, ("a", str), ("b", int, False))
        loop = asyncio.new_event_loop()

        def one(data: bytes) -> None:
            out = loop.run_until_complete(d.handle_bytes(data))
            if out is not None:
                json.loads(out)  # always a valid JSON-RPC response

    elif target == "enode":
        from peerwire.devp2p import Node

        def one(data: bytes) -> None:
            with contextlib.suppress(ValueError, PeerwireError):
                Node.parse(_text(data))

    elif target == "enr_text":
        from peerwire.devp2p import ENR

        def one(data: bytes) -> None:
            for arg in (_text(data), data):
                with contextlib.suppress(ValueError, PeerwireError):
                    ENR.decode(arg)

    elif target == "tm2_addr":
        from peerwire.tm2 import NetAddress
        from peerwire.tm2._addr import PeerAddress

        def one(data: bytes) -> None:
            text = _text(data)
            for parse in (PeerAddress.parse, lambda t: NetAddress.parse(t, resolve=False)):
                with contextlib.suppress(ValueError, PeerwireError):
                    parse(text)

    else:
        raise SystemExit(f"unknown target {target}")
    return one


def child(target: str, seconds: float) -> None:
    import atheris

    with atheris.instrument_imports():
        one = make(target)
    count = 0
    deadline = time.monotonic() + seconds

    def test_one(data: bytes) -> None:
        nonlocal count
        count += 1
        if count % 1000 == 0 and time.monotonic() > deadline:
            print(f"{target} result=ok execs={count}", flush=True)
            os._exit(0)
        one(data)

    atheris.Setup([sys.argv[0], "-rss_limit_mb=2048", "-timeout=10"], test_one)
    atheris.Fuzz()


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        child(sys.argv[2], float(os.environ.get("FUZZ_SECONDS", "30")))
        return
    status = 0
    for t in sys.argv[1:] or TARGETS:
        p = subprocess.run([sys.executable, __file__, "--child", t], capture_output=True, text=True)
        line = next((ln for ln in p.stdout.splitlines() if "result=" in ln), None)
        if p.returncode != 0 or line is None:
            status = 1
            print(f"{t} result=CRASH\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        else:
            print(line)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
