"""The base-protocol Hello exchange (go-ethereum ``p2p/transport.go`` ``doProtoHandshake``).

Both sides send their Hello at once, then read the other's. The remote's
first message must be Hello (code 0x00); a Disconnect instead ends the
exchange with the reason the remote gave. Snappy compression is switched on
for both directions when the remote speaks base protocol version 5 or later.

The exchange has no deadline of its own: the caller owns it (``async with
clock.timeout(...)``), as the server and ``peerwire ping`` do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from peerwire._core import p2p_base
from peerwire.devp2p._base import (
    BASE_PROTOCOL_VERSION,
    DISC_MSG,
    HELLO_MSG,
    SNAPPY_PROTOCOL_VERSION,
    Cap,
    DiscReason,
)
from peerwire.devp2p._keys import PublicKey
from peerwire.devp2p._transport import Transport
from peerwire.errors import RefusedError, RemoteProtocolError

__all__ = ["MAX_HELLO_SIZE", "Hello", "encode_hello", "exchange_hello"]

MAX_HELLO_SIZE: int = p2p_base.MAX_HELLO_SIZE
"""A larger first message is refused before decoding (geth ``baseProtocolMaxMsgSize``, 2 KiB):
an unauthenticated remote cannot make us decode or keep a large Hello."""

#: A decoded Hello: ``version``, ``name``, ``caps``, ``listen_port``, ``id`` (64-byte key),
#: ``id_is_valid()``, ``match_protocols(local)``.
Hello = p2p_base.DecodedHello


def encode_hello(
    public_key: PublicKey,
    name: str,
    caps: Sequence[Cap | tuple[str, int]] = (),
    *,
    listen_port: int = 0,
    version: int = BASE_PROTOCOL_VERSION,
) -> bytes:
    """Our Hello payload (caps sorted as geth sends them)."""
    pairs = sorted((c.name, c.version) if isinstance(c, Cap) else (str(c[0]), int(c[1])) for c in caps)
    return p2p_base.encode_hello(version, name, pairs, listen_port, public_key.to_bytes())


async def exchange_hello(conn: Transport, ours: bytes) -> Hello:
    """Send the Hello ``ours`` (see :func:`encode_hello`) and read the remote's.

    Our Hello is written while the remote's is read; on failure our write is
    let finish before the error is raised (geth). On success snappy is set on
    ``conn`` from the remote's version.

    Raises:
        RefusedError: the remote disconnected first (``disconnect_reason`` is its
            reason, ``by_remote`` true).
        RemoteProtocolError: the remote sent another message, an oversize Hello,
            or an invalid identity (``disconnect_reason`` INVALID_IDENTITY).
        DecodeError: the Hello does not decode.
        ConnectionClosedError, TimeoutError: from the connection.
    """
    send = asyncio.ensure_future(conn.send(HELLO_MSG, ours))
    try:
        code, payload = await conn.recv()
        if len(payload) > MAX_HELLO_SIZE:
            raise RemoteProtocolError("message too big")
        if code == DISC_MSG:
            reason = DiscReason.from_wire(p2p_base.decode_disconnect(payload))
            # The remote said no (its policy, or its view of us): a refusal, not a breach by it.
            raise RefusedError(
                f"disconnected before hello: {reason}", disconnect_reason=int(reason), by_remote=True
            )
        if code != HELLO_MSG:
            raise RemoteProtocolError(f"expected handshake, got {code:x}")
        hello = p2p_base.decode_hello(payload)
        if not hello.id_is_valid():
            raise RemoteProtocolError(
                str(DiscReason.INVALID_IDENTITY), disconnect_reason=int(DiscReason.INVALID_IDENTITY)
            )
    except asyncio.CancelledError:
        send.cancel()
        await asyncio.gather(send, return_exceptions=True)
        raise
    except BaseException:
        await asyncio.gather(send, return_exceptions=True)
        raise
    await send
    conn.set_snappy(hello.version >= SNAPPY_PROTOCOL_VERSION)
    return hello
