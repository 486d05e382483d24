"""The server's real network: TCP + RLPx through the public API of :mod:`peerwire.devp2p.rlpx`.

Inbound sockets come through the RLPx gate (:func:`rlpx.serve`): each is
paused as soon as it is accepted, so the server's admission steps (handshake
token, net_restrict, inbound throttle) run before a single RLPx byte is read
or written, as in go-ethereum's listen loop; a refused socket is simply closed.

Connections are made without deadlines of their own (``timeout=None``,
``read_timeout=None``, ``write_timeout=None``): the server and its peers own
every deadline, on the server's injected clock.
"""

from __future__ import annotations

from collections.abc import Callable

from peerwire.devp2p import rlpx
from peerwire.devp2p._keys import PrivateKey, PublicKey
from peerwire.devp2p._transport import Incoming, Listener, Transport

__all__ = ["SERVER_INBOX_LIMIT", "RlpxNetwork"]

#: Received-but-unread bytes per connection before its socket stops being
#: read; smaller than the raw transport's default so thousands of idle peers
#: stay cheap (devp2p messages above this still pass, they just pause reading).
SERVER_INBOX_LIMIT = 1024 * 1024


class RlpxNetwork:
    """Dial and listen with RLPx over TCP."""

    async def dial(
        self, host: str, port: int, remote_public_key: PublicKey, private_key: PrivateKey
    ) -> tuple[Transport, tuple[str, int]]:
        conn = await rlpx.dial(
            host,
            port,
            remote_public_key=remote_public_key,
            private_key=private_key,
            timeout=None,
            read_timeout=None,
            write_timeout=None,
            inbox_limit=SERVER_INBOX_LIMIT,
        )
        return conn, conn.local_address

    async def listen(
        self,
        host: str,
        port: int,
        private_key: PrivateKey,
        on_accept: Callable[[Incoming], None],
    ) -> Listener:
        return await rlpx.serve(
            host,
            port,
            on_accept,
            private_key=private_key,
            read_timeout=None,
            write_timeout=None,
            inbox_limit=SERVER_INBOX_LIMIT,
        )
