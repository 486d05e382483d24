"""``peerwire node``: one long-running node with its admin RPC and metrics."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TextIO

from peerwire import __version__
from peerwire._clock import SYSTEM_CLOCK
from peerwire._metrics import NetMetrics
from peerwire.cli._admin import build_server
from peerwire.cli._backend import Identity, NodeBackend
from peerwire.cli._config import NodeConfig
from peerwire.cli._http import HttpServer
from peerwire.cli._keyfile import (
    ensure_private_dir,
    load_devp2p_key,
    load_tm2_key,
    save_devp2p_key,
    save_tm2_key,
)
from peerwire.cli._logging import register_secret
from peerwire.cli._signals import stop_on_signals
from peerwire.cli._stacks import make_backend
from peerwire.devp2p import PrivateKey
from peerwire.tm2 import NodeKey

__all__ = ["load_or_create_identity", "run_node"]

log = logging.getLogger(__name__)

#: Seconds the node gives its p2p stack and RPC server to stop before exiting anyway.
SHUTDOWN_TIMEOUT = 10.0


def load_or_create_identity(cfg: NodeConfig) -> Identity:
    """The node key: from ``nodekeyhex``, the key file, or a new one saved (0600) in the data dir."""
    ensure_private_dir(cfg.data_dir)
    if cfg.stack == "devp2p":
        if cfg.devp2p.nodekeyhex is not None:
            key = PrivateKey.from_hex(cfg.devp2p.nodekeyhex)
        else:
            path = cfg.devp2p_key_path
            if path.exists():
                key = load_devp2p_key(path)
            else:
                key = PrivateKey.generate()
                save_devp2p_key(key, path)
                log.info("generated a new node key", extra={"path": str(path)})
        register_secret(key.to_bytes())
        return key
    path = cfg.tm2_key_path
    if path.exists():
        nk = load_tm2_key(path)
    else:
        nk = NodeKey.generate()
        save_tm2_key(nk, path)
        log.info("generated a new node key", extra={"path": str(path)})
    register_secret(nk.to_bytes())
    register_secret(nk.to_go_bytes())
    return nk


async def run_node(cfg: NodeConfig, *, out: TextIO | None = None, stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set). Returns the exit code."""
    out = out if out is not None else sys.stdout
    identity = load_or_create_identity(cfg)
    if cfg.stack == "tm2":
        ensure_private_dir(cfg.addr_book_path.parent)
    if cfg.rpc.token:
        register_secret(cfg.rpc.token)
    stop = stop if stop is not None else asyncio.Event()
    with stop_on_signals(stop):
        metrics = NetMetrics(cfg.stack, version=__version__)
        backend = await make_backend(cfg, identity, metrics)
        server: HttpServer | None = None
        try:
            await backend.start()
            info = backend.node_info()
            log.info(
                "node started",
                extra={"stack": cfg.stack, "id": info.get("id"), "data_dir": str(cfg.data_dir)},
            )
            if cfg.rpc.enabled:
                server = build_server(
                    backend,
                    metrics,
                    cfg.rpc.host,
                    cfg.rpc.port,
                    token=cfg.rpc.token,
                    max_body=cfg.rpc.max_body_bytes,
                )
                await server.start()
                log.info("admin RPC listening", extra={"url": server.url, "auth": cfg.rpc.token is not None})
                print(
                    f"rpc={server.url}/ metrics={server.url}/metrics id={info.get('id')}",
                    file=out,
                    flush=True,
                )
            else:
                print(f"rpc=disabled id={info.get('id')}", file=out, flush=True)
            await stop.wait()
            log.info("shutting down")
        finally:
            clean = await _shutdown(server, backend)
    if not clean:
        return 1
    log.info("stopped")
    return 0


async def _shutdown(server: HttpServer | None, backend: NodeBackend) -> bool:
    """Close the RPC server, then the p2p stack, within :data:`SHUTDOWN_TIMEOUT`."""
    try:
        async with SYSTEM_CLOCK.timeout(SHUTDOWN_TIMEOUT):
            if server is not None:
                await server.close()
            await backend.stop()
    except TimeoutError:
        log.error("shutdown timed out", extra={"timeout": SHUTDOWN_TIMEOUT})
        return False
    return True
