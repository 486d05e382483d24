"""Probe one devp2p node: RLPx, Hello, eth Status when offered, then Disconnect(QUITTING).

Without a chain we read the remote Status first and answer with its own
network, genesis and fork ID (always compatible), so a crawl completes Status
on any network; with a chain we answer with that chain's values.

Hello goes through ``peerwire._core.p2p_base`` as ``peerwire ping`` does: the
public ``exchange_hello`` of the runtime-devp2p branch has not landed yet.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from peerwire import __version__, eth
from peerwire._core import keccak, p2p_base
from peerwire.devp2p import DiscReason, PrivateKey, PublicKey, rlpx
from peerwire.errors import PeerwireError, RemoteProtocolError

__all__ = ["ProbeResult", "hello_payload", "probe_connection", "probe_node"]

HELLO_MSG = 0x00
DISC_MSG = 0x01
PING_MSG = 0x02
PONG_MSG = 0x03
BASE_PROTOCOL_VERSION = 5
#: eth sorts before snap, and those are the only caps we offer, so eth starts right
#: after the 16 base-protocol codes whenever it is shared.
ETH_OFFSET = 0x10
#: A Hello larger than this is refused (geth's baseProtocolMaxMsgSize).
MAX_HELLO_SIZE = 2048
#: Messages we skip while waiting for Status (pings, announcements) before giving up.
MAX_MESSAGES_BEFORE_STATUS = 8
OUR_CAPS = sorted([("eth", v) for v in eth.ETH_VERSIONS] + [("snap", 1)])


@dataclass(slots=True)
class ProbeResult:
    node_id: bytes
    client: str = ""
    caps: list[str] = field(default_factory=list)
    p2p_version: int = 0
    status: eth.Status | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def hello_payload(key: PrivateKey, name: str | None = None, listen_port: int = 0) -> bytes:
    return p2p_base.encode_hello(
        BASE_PROTOCOL_VERSION,
        name or f"peerwire-crawler/v{__version__}",
        OUR_CAPS,
        listen_port,
        key.public_key.to_bytes(),
    )


def _answer(remote: eth.Status, chain: eth.Chain | None) -> eth.Status:
    if chain is None:
        return remote  # its own values: compatible by construction
    fid = chain.fork_id(0, 0)
    if remote.version == 68:
        return eth.Status(68, chain.network_id, chain.genesis_hash, fid, head=chain.genesis_hash)
    return eth.Status(
        remote.version, chain.network_id, chain.genesis_hash, fid, latest_hash=chain.genesis_hash
    )


async def probe_connection(
    conn: rlpx.Connection,
    hello: bytes,
    chain: eth.Chain | None,
    timeout: float,  # noqa: ASYNC109
) -> ProbeResult:
    """Hello and Status on an established RLPx connection; always ends it with QUITTING."""
    res = ProbeResult(conn.remote_public_key.node_id)
    try:
        await conn.send(HELLO_MSG, hello)
        code, payload = await conn.recv(timeout)
        if code == DISC_MSG:
            reason = DiscReason.from_wire(p2p_base.decode_disconnect(payload))
            raise RemoteProtocolError(f"disconnected before Hello: {reason}")
        if code != HELLO_MSG or len(payload) > MAX_HELLO_SIZE:
            raise RemoteProtocolError(f"expected a Hello, got message 0x{code:02x} ({len(payload)} bytes)")
        h = p2p_base.decode_hello(payload)
        if keccak.keccak256(h.id) != res.node_id:
            raise RemoteProtocolError("Hello names another node than the RLPx key")
        conn.set_snappy(h.version >= 5)
        res.client, res.p2p_version = h.name, h.version
        res.caps = [f"{n}/{v}" for n, v in h.caps]
        theirs = {v for n, v in h.caps if n == "eth"}
        shared = sorted(theirs.intersection(eth.ETH_VERSIONS))
        if shared:
            version = shared[-1]
            for _ in range(MAX_MESSAGES_BEFORE_STATUS):
                code, payload = await conn.recv(timeout)
                if code == PING_MSG:
                    await conn.send(PONG_MSG, b"\xc0")
                    continue
                if code == DISC_MSG:
                    reason = DiscReason.from_wire(p2p_base.decode_disconnect(payload))
                    raise RemoteProtocolError(f"disconnected before Status: {reason}")
                if code == ETH_OFFSET:
                    res.status = eth.Status.decode(version, payload)
                    await conn.send(ETH_OFFSET, _answer(res.status, chain).encode())
                    break
            else:
                raise RemoteProtocolError("no eth Status")
    except (PeerwireError, OSError, TimeoutError) as e:
        res.error = f"{type(e).__name__}: {e}"
    finally:
        with contextlib.suppress(PeerwireError, OSError, TimeoutError):
            await conn.send(DISC_MSG, p2p_base.encode_disconnect(int(DiscReason.QUITTING)))
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
) -> ProbeResult:
    """Dial ``ip:tcp`` and probe it (see the module doc)."""
    try:
        conn = await rlpx.dial(ip, tcp, remote_public_key=pub, private_key=key, timeout=timeout)
    except (PeerwireError, OSError, TimeoutError) as e:
        return ProbeResult(pub.node_id, error=f"{type(e).__name__}: {e}")
    return await probe_connection(conn, hello, chain, timeout)
