"""A small HTTP/1.1 server for the admin endpoints: h11 (sans-IO) over asyncio streams.

Only what the admin port needs, with every limit explicit:

* :data:`MAX_HEADER_BYTES` for the request line and headers (h11 rejects more with 431/400);
* ``max_body`` for the body (413 before reading it when Content-Length says so);
* :data:`READ_TIMEOUT` per read and :data:`IDLE_TIMEOUT` between keep-alive requests,
  so a slow or silent client cannot hold a connection;
* :data:`MAX_CONNECTIONS` concurrent connections (more are closed at once).

Routes are exact paths; the handler gets a :class:`Request` and returns a :class:`Response`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import h11

from peerwire._clock import SYSTEM_CLOCK

__all__ = ["HttpServer", "Request", "Response", "Route"]

log = logging.getLogger(__name__)

#: Request line + headers; stops header-flood memory growth.
MAX_HEADER_BYTES = 16 * 1024
#: Seconds a single read may wait (slowloris guard).
READ_TIMEOUT = 10.0
#: Seconds an idle keep-alive connection is kept.
IDLE_TIMEOUT = 30.0
#: Seconds to write a response.
WRITE_TIMEOUT = 10.0
#: Concurrent connections served; more are refused (the admin port is for one operator).
MAX_CONNECTIONS = 32
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[Request], Awaitable[Response]]


def _text(status: int, message: str, **headers: str) -> Response:
    return Response(status, (message + "\n").encode(), headers=dict(headers))


class HttpServer:
    """Serves ``routes`` (path → {method → handler}) on ``host:port``.

    With ``token`` set every request needs ``Authorization: Bearer <token>`` (401 otherwise).
    """

    def __init__(
        self,
        routes: dict[str, dict[str, Route]],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        max_body: int = 1 << 20,
        read_timeout: float = READ_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self._routes = routes
        self._host = host
        self._port = port
        self._token = token
        self._max_body = max_body
        self._read_timeout = read_timeout
        self._idle_timeout = idle_timeout
        self._max_connections = max_connections
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def host(self) -> str:
        return self._host

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connect, self._host, self._port, limit=_READ_CHUNK)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._conns):
            task.cancel()
        if self._conns:
            await asyncio.gather(*self._conns, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                async with SYSTEM_CLOCK.timeout(2.0):
                    await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> HttpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._conns) >= self._max_connections or task is None:
            writer.close()
            return
        self._conns.add(task)
        try:
            await self._serve(reader, writer)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("http connection failed")
        finally:
            self._conns.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                async with SYSTEM_CLOCK.timeout(1.0):
                    await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        while True:
            try:
                request = await self._read_request(conn, reader)
            except h11.RemoteProtocolError as e:
                if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    status = e.error_status_hint
                    await self._send(conn, writer, _text(status, f"bad request: {e}"), close=True)
                return
            except _BodyTooLarge:
                await self._send(conn, writer, _text(413, "request body too large"), close=True)
                return
            except _HeaderTooLarge:
                await self._send(conn, writer, _text(431, "request header fields too large"), close=True)
                return
            if request is None:
                return
            response = await self._dispatch(request)
            await self._send(conn, writer, response, close=False)
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            try:
                conn.start_next_cycle()
            except h11.LocalProtocolError:
                return

    async def _read_request(self, conn: h11.Connection, reader: asyncio.StreamReader) -> Request | None:
        head: h11.Request | None = None
        body = bytearray()
        first = True
        head_bytes = 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                timeout = self._idle_timeout if first and head is None else self._read_timeout
                async with SYSTEM_CLOCK.timeout(timeout):
                    data = await reader.read(_READ_CHUNK)
                first = False
                if head is None:
                    head_bytes += len(data)
                    if head_bytes > MAX_HEADER_BYTES + _READ_CHUNK:
                        raise _HeaderTooLarge
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                head = event
                if sum(len(k) + len(v) + 4 for k, v in event.headers) + len(event.target) > MAX_HEADER_BYTES:
                    raise _HeaderTooLarge
                length = _content_length(event)
                if length is not None and length > self._max_body:
                    raise _BodyTooLarge
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self._max_body:
                    raise _BodyTooLarge
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in head.headers}
                path = head.target.decode("latin-1").split("?", 1)[0]
                return Request(head.method.decode("ascii", "replace"), path, headers, bytes(body))
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None

    async def _dispatch(self, request: Request) -> Response:
        if self._token is not None:
            auth = request.headers.get("authorization", "")
            scheme, _, value = auth.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                value.strip().encode(), self._token.encode()
            ):
                return _text(
                    401, "missing or invalid bearer token", **{"WWW-Authenticate": 'Bearer realm="peerwire"'}
                )
        methods = self._routes.get(request.path)
        if methods is None:
            return _text(404, "not found")
        handler = methods.get(request.method)
        if handler is None:
            return _text(405, "method not allowed", Allow=", ".join(sorted(methods)))
        try:
            return await handler(request)
        except Exception:
            log.exception("http handler failed", extra={"path": request.path})
            return _text(500, "internal server error")

    async def _send(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, resp: Response, *, close: bool
    ) -> None:
        headers = [("Server", "peerwire"), ("Cache-Control", "no-store"), *resp.headers.items()]
        if resp.status != 204:  # a 204 carries neither a body nor its length (RFC 9110 8.6)
            headers += [("Content-Type", resp.content_type), ("Content-Length", str(len(resp.body)))]
        if close:
            headers.append(("Connection", "close"))
        try:
            data = conn.send(h11.Response(status_code=resp.status, headers=headers))
            if resp.body:
                data = (data or b"") + (conn.send(h11.Data(data=resp.body)) or b"")
            data = (data or b"") + (conn.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError:
            return
        writer.write(data)
        async with SYSTEM_CLOCK.timeout(WRITE_TIMEOUT):
            await writer.drain()


class _BodyTooLarge(Exception):
    pass


class _HeaderTooLarge(Exception):
    pass


def _content_length(req: h11.Request) -> int | None:
    for k, v in req.headers:
        if k.lower() == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None
    return None
