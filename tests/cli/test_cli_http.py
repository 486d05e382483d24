"""The admin HTTP server's limits, in process (mirrors python/peerwire/cli/_http.py)."""

from __future__ import annotations

import asyncio

from peerwire.cli._http import HttpServer, Request, Response


async def _echo(req: Request) -> Response:
    return Response(200, req.body or b"empty")


async def _exchange(port: int, data: bytes, *, read: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        out = await asyncio.wait_for(reader.read(), 5) if read else b""
    except ConnectionResetError:
        out = b""
    writer.close()
    return out


def test_keep_alive_serves_several_requests() -> None:
    async def main() -> bytes:
        async with HttpServer({"/": {"POST": _echo}}) as srv:
            req = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
            last = req[:-2].replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") + b"yo"
            return await _exchange(srv.port, req + req + last)

    out = asyncio.run(main())
    assert out.count(b"HTTP/1.1 200 ") == 3
    assert out.endswith(b"yo")


def test_chunked_body_over_limit_is_refused() -> None:
    async def main() -> bytes:
        async with HttpServer({"/": {"POST": _echo}}, max_body=10) as srv:
            body = b"20\r\n" + b"a" * 32 + b"\r\n0\r\n\r\n"
            return await _exchange(
                srv.port, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body
            )

    assert asyncio.run(main()).startswith(b"HTTP/1.1 413 ")


def test_silent_client_is_dropped_after_timeout() -> None:
    async def main() -> tuple[bytes, float]:
        async with HttpServer({"/": {"POST": _echo}}, read_timeout=0.2, idle_timeout=0.2) as srv:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
            writer.write(b"POST / HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
            data = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            return data, loop.time() - t0

    data, elapsed = asyncio.run(main())
    assert data == b"" and elapsed < 3


def test_connection_limit() -> None:
    async def main() -> tuple[bytes, bytes]:
        async with HttpServer({"/": {"POST": _echo}}, max_connections=1) as srv:
            r1, w1 = await asyncio.open_connection("127.0.0.1", srv.port)
            w1.write(b"POST / HTTP/1.1\r\nHost: x\r\n")  # holds the only slot
            await w1.drain()
            await asyncio.sleep(0.1)
            second = await _exchange(srv.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            w1.write(b"Content-Length: 1\r\nConnection: close\r\n\r\nz")
            first = await asyncio.wait_for(r1.read(), 5)
            w1.close()
            return first, second

    first, second = asyncio.run(main())
    assert second == b""  # refused: closed without an answer
    assert first.startswith(b"HTTP/1.1 200 ") and first.endswith(b"z")


def test_close_with_open_connection_is_prompt() -> None:
    async def main() -> float:
        srv = HttpServer({"/": {"POST": _echo}})
        await srv.start()
        _, w = await asyncio.open_connection("127.0.0.1", srv.port)
        await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await srv.close()
        w.close()
        return loop.time() - t0

    assert asyncio.run(main()) < 2.5
