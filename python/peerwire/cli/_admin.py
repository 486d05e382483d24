"""The admin endpoints of a node: JSON-RPC 2.0 at ``POST /`` and Prometheus at ``GET /metrics``.

Method names and result shapes are go-ethereum's (``admin_*``, ``net_*``; ``net_peerCount``
is a hex quantity) plus gno's ``net_info`` for TM2 and ``rpc_modules``, and
``admin_dialFailures`` (peerwire's: the peers whose dial or handshake failed, with the reason,
the last error and the next retry; see ``peerwire.diagnostics``) on both stacks.
"""

from __future__ import annotations

import json
from typing import Any

from peerwire._metrics import CONTENT_TYPE_LATEST, NetMetrics
from peerwire.cli._backend import BackendRefusal, NodeBackend
from peerwire.cli._http import HttpServer, Request, Response
from peerwire.cli._jsonrpc import Dispatcher, RpcError

__all__ = ["build_dispatcher", "build_server"]

_JSON = "application/json"


def build_dispatcher(backend: NodeBackend) -> Dispatcher:
    d = Dispatcher()

    async def node_info() -> dict[str, Any]:
        return backend.node_info()

    async def peers() -> list[dict[str, Any]]:
        return backend.peers_info()

    def peer_op(name: str) -> Any:
        async def op(url: str) -> bool:
            try:
                return bool(await getattr(backend, name)(url))
            except ValueError as e:  # malformed URL: geth answers "invalid enode: …"
                raise RpcError(str(e)) from None
            except BackendRefusal as e:
                raise RpcError(str(e)) from None

        return op

    async def peer_count() -> str:
        return hex(backend.peer_count())

    async def listening() -> bool:
        return backend.listening()

    async def version() -> str:
        return backend.network_version()

    async def net_info() -> dict[str, Any]:
        return backend.net_info()

    async def dial_failures() -> list[dict[str, Any]]:
        return backend.dial_failures()

    async def modules() -> dict[str, str]:
        return {"admin": "1.0", "net": "1.0", "rpc": "1.0"}

    d.register("admin_nodeInfo", node_info)
    d.register("admin_peers", peers)
    d.register("admin_addPeer", peer_op("add_peer"), ("url", str))
    d.register("admin_removePeer", peer_op("remove_peer"), ("url", str))
    d.register("admin_addTrustedPeer", peer_op("add_trusted_peer"), ("url", str))
    d.register("admin_removeTrustedPeer", peer_op("remove_trusted_peer"), ("url", str))
    d.register("admin_dialFailures", dial_failures)
    d.register("net_peerCount", peer_count)
    d.register("net_listening", listening)
    d.register("net_version", version)
    d.register("net_info", net_info)
    d.register("rpc_modules", modules)
    return d


def build_server(
    backend: NodeBackend,
    metrics: NetMetrics,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    token: str | None = None,
    max_body: int = 1 << 20,
) -> HttpServer:
    dispatcher = build_dispatcher(backend)

    async def rpc(req: Request) -> Response:
        ctype = req.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype != _JSON:
            return Response(415, f"content type must be {_JSON}\n".encode())
        body = await dispatcher.handle_bytes(req.body)
        if body is None:
            return Response(204)
        return Response(200, body, content_type=_JSON)

    async def rpc_get(req: Request) -> Response:
        # geth answers a bodiless GET on the RPC endpoint with 200 and an empty body (health probes)
        return Response(200, b"", content_type=_JSON)

    async def scrape(req: Request) -> Response:
        return Response(200, metrics.exposition(), content_type=CONTENT_TYPE_LATEST)

    async def health(req: Request) -> Response:
        return Response(200, json.dumps({"ok": True, "stack": backend.stack}).encode(), content_type=_JSON)

    return HttpServer(
        {"/": {"POST": rpc, "GET": rpc_get}, "/metrics": {"GET": scrape}, "/health": {"GET": health}},
        host,
        port,
        token=token,
        max_body=max_body,
    )
