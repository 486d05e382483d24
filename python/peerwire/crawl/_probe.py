"""Probe one devp2p node: RLPx, Hello, eth Status when offered, then Disconnect.

Hello goes through :func:`peerwire.devp2p.exchange_hello`, the server's own
exchange (one implementation, one size limit). Without a chain we read the
remote Status first and answer with its own network, genesis and fork ID
(always compatible), so a crawl completes Status on any network. With a chain
we answer with that chain's values and validate the remote Status as geth does
(:meth:`peerwire.eth.Protocol.check_status`); a mismatch is still recorded,
and the peer is told why it is dropped.

The Disconnect we send says why we leave: QUITTING after a good probe, the
reason of the protocol rule the remote broke otherwise (SUBPROTOCOL_ERROR for
a bad or mismatched Status, UNEXPECTED_IDENTITY for a Hello naming another
node, READ_TIMEOUT when it kept silent), nothing when it disconnected first
or the connection is gone.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field

from peerwire import __version__, devp2p, eth
from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire.devp2p import DiscReason, PrivateKey, PublicKey, rlpx
from peerwire.errors import (
    ConnectionClosedError,
    DecodeError,
    PeerwireError,
    ProtocolError,
    RefusedError,
    RemoteProtocolError,
)

__all__ = ["ProbeResult", "hello_payload", "probe_connection", "probe_node"]

DISC_MSG = 0x01
PING_MSG = 0x02
PONG_MSG = 0x03
#: Base-protocol codes end here: eth is the first capability we share when we share it
#: (eth sorts before snap, the only other one we offer), so its Status is this code.
ETH_OFFSET = 0x10
#: Base-protocol messages (pings) we answer while waiting for Status: a remote cannot keep
#: the probe busy with them past this, even within the deadline.
MAX_MESSAGES_BEFORE_STATUS = 8
#: Status is longer than this only to make us decode garbage (geth's eth maxMessageSize).
MAX_STATUS_SIZE = 10 * 1024 * 1024
#: Wait this long before the final Disconnect is given up (geth discWriteTimeout).
DISC_WRITE_TIMEOUT = 1.0
OUR_CAPS = sorted([("eth", v) for v in eth.ETH_VERSIONS] + [("snap", 1)])


@dataclass(slots=True)
class ProbeResult:
    node_id: bytes
    client: str = ""
    caps: list[str] = field(default_factory=list)
    p2p_version: int = 0
    status: eth.Status | None = None
    error: str | None = None
    #: What our final Disconnect said (None: none was sent).
    sent_reason: DiscReason | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def hello_payload(key: PrivateKey, name: str | None = None, listen_port: int = 0) -> bytes:
    return devp2p.encode_hello(
        key.public_key, name or f"peerwire-crawler/v{__version__}", OUR_CAPS, listen_port=listen_port
    )


@functools.lru_cache(maxsize=8)
def _checker(chain: eth.Chain) -> eth.Protocol:
    """One eth.Protocol per chain: it builds our Status and validates the remote's."""
    return eth.Protocol(chain)


def _answer(remote: eth.Status, chain: eth.Chain | None) -> eth.Status:
    if chain is None:
        return remote  # its own values: compatible by construction
    return _checker(chain).our_status(remote.version)


async def _exchange_status(
    conn: rlpx.Connection, version: int, chain: eth.Chain | None, res: ProbeResult
) -> None:
    for _ in range(MAX_MESSAGES_BEFORE_STATUS):
        code, payload = await conn.recv()
        if code == PING_MSG:
            await conn.send(PONG_MSG, b"\xc0")
            continue
        if code == DISC_MSG:
            reason = DiscReason.decode(payload)
            raise RefusedError(
                f"disconnected before Status: {reason}", disconnect_reason=int(reason), by_remote=True
            )
        if code < ETH_OFFSET:
            continue  # Pong, a late Hello, unknown base codes: ignored as geth does
        if code != ETH_OFFSET:
            raise eth.EthHandshakeError(
                f"no status message: first msg has code {code - ETH_OFFSET:x} (!= 0)",
                DiscReason.SUBPROTOCOL_ERROR,
            )
        if len(payload) > MAX_STATUS_SIZE:
            raise eth.EthHandshakeError("message too long", DiscReason.SUBPROTOCOL_ERROR)
        try:
            res.status = eth.Status.decode(version, payload)
        except DecodeError as e:
            raise eth.EthHandshakeError(f"invalid status: {e}", DiscReason.SUBPROTOCOL_ERROR) from e
        if chain is not None:
            _checker(chain).check_status(version, devp2p.Msg(0, payload))
        await conn.send(ETH_OFFSET, _answer(res.status, chain).encode())
        return
    raise eth.EthHandshakeError("no status message", DiscReason.SUBPROTOCOL_ERROR)


def _reason_for(e: BaseException) -> DiscReason | None:
    """What to tell a remote we leave because of ``e`` (None: say nothing)."""
    if isinstance(e, RefusedError) and e.by_remote:
        return None
    if isinstance(e, TimeoutError):  # before OSError: TimeoutError is one
        return DiscReason.READ_TIMEOUT
    if isinstance(e, ConnectionClosedError | OSError):
        return None
    if isinstance(e, ProtocolError) and e.disconnect_reason is not None:
        return DiscReason.from_wire(e.disconnect_reason)
    return DiscReason.PROTOCOL_ERROR


async def probe_connection(
    conn: rlpx.Connection,
    hello: bytes,
    chain: eth.Chain | None,
    timeout: float,  # noqa: ASYNC109
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> ProbeResult:
    """Hello and Status on an established RLPx connection (each within ``timeout``), then
    Disconnect (see the module doc). Errors are recorded in the result, not raised."""
    res = ProbeResult(conn.remote_public_key.node_id)
    reason: DiscReason | None = DiscReason.QUITTING
    try:
        async with clock.timeout(timeout):
            h = await devp2p.exchange_hello(conn, hello)
        res.client, res.p2p_version = h.name, h.version
        res.caps = [f"{n}/{v}" for n, v in h.caps]
        if h.id != conn.remote_public_key.to_bytes():
            raise RemoteProtocolError(
                "Hello names another node than the RLPx key", DiscReason.UNEXPECTED_IDENTITY
            )
        shared = sorted({v for n, v in h.caps if n == "eth"}.intersection(eth.ETH_VERSIONS))
        if shared:
            async with clock.timeout(timeout):
                await _exchange_status(conn, shared[-1], chain, res)
    except (PeerwireError, OSError, TimeoutError) as e:
        res.error = f"{type(e).__name__}: {e}"
        reason = _reason_for(e)
    finally:
        if reason is not None:
            try:
                async with clock.timeout(DISC_WRITE_TIMEOUT):
                    await conn.send(DISC_MSG, reason.encode())
                res.sent_reason = reason
            except (PeerwireError, OSError, TimeoutError):
                pass
        with contextlib.suppress(PeerwireError, OSError):
            await conn.close()
    return res


async def probe_node(
    key: PrivateKey,
    hello: bytes,
    pub: PublicKey,
    ip: str,
    tcp: int,
    chain: eth.Chain | None,
    timeout: float = 5.0,  # noqa: ASYNC109
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> ProbeResult:
    """Dial ``ip:tcp`` and probe it (see the module doc)."""
    try:
        conn = await rlpx.dial(ip, tcp, remote_public_key=pub, private_key=key, timeout=timeout, clock=clock)
    except (PeerwireError, OSError, TimeoutError) as e:
        return ProbeResult(pub.node_id, error=f"{type(e).__name__}: {e}")
    return await probe_connection(conn, hello, chain, timeout, clock=clock)
