"""``peerwire ping``: one handshake with a peer, then print what it said about itself.

devp2p: RLPx handshake (ECIES, EIP-8) and the Hello exchange; prints the peer's client name,
capabilities, node ID, protocol version and listen port, then sends ``Disconnect(requested)``.
TM2: the station-to-station secret handshake and the NodeInfo exchange; prints moniker,
network, version, channels and the rest of the NodeInfo. We send a valid NodeInfo of our own
(network ``--network``, no channels); the peer may refuse us after reading it, which is fine:
both sides send their NodeInfo before either checks the other's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from peerwire import __version__
from peerwire._clock import SYSTEM_CLOCK
from peerwire._core import keccak, p2p_base
from peerwire.devp2p import DiscReason, Node, PrivateKey, encode_hello, exchange_hello, rlpx
from peerwire.devp2p._base import DISC_MSG
from peerwire.errors import PeerwireError, RemoteProtocolError
from peerwire.tm2 import MAX_NODE_INFO_SIZE, NetAddress, NodeInfo, NodeKey, SecretConnection

__all__ = ["ping_devp2p", "ping_tm2"]


async def ping_devp2p(url: str, within: float, *, name: str | None = None) -> dict[str, Any]:
    """Dial ``url`` (enode), exchange Hellos, disconnect. Returns what the peer told us."""
    node = Node.parse(url)
    if node.ip is None:
        raise PeerwireError(f"{url}: the enode URL has no IP address")
    key = PrivateKey.generate()
    t0 = time.monotonic()
    async with SYSTEM_CLOCK.timeout(within):
        conn = await rlpx.dial(
            node.ip, node.tcp_port, remote_public_key=node.public_key, private_key=key, timeout=None
        )
        handshake_ms = (time.monotonic() - t0) * 1000
        try:
            ours = encode_hello(key.public_key, name or f"peerwire-ping/v{__version__}")
            h = await exchange_hello(conn, ours)
            with contextlib.suppress(PeerwireError, OSError, TimeoutError):
                await conn.send(DISC_MSG, p2p_base.encode_disconnect(int(DiscReason.REQUESTED)))
        finally:
            with contextlib.suppress(PeerwireError, OSError):
                await conn.close()
    node_id = keccak.keccak256(h.id)
    if node_id != node.id:
        raise RemoteProtocolError("the Hello's node ID does not match the dialed key")
    return {
        "stack": "devp2p",
        "enode": node.enode_url(),
        "id": node_id.hex(),
        "name": h.name,
        "caps": [f"{n}/{v}" for n, v in h.caps],
        "version": h.version,
        "listen_port": h.listen_port,
        "handshake_ms": round(handshake_ms, 1),
    }


async def ping_tm2(addr: str, within: float, *, network: str = "peerwire-ping") -> dict[str, Any]:
    """Dial ``addr`` (``id@host:port``), run STS + NodeInfo, close. Returns the peer's NodeInfo."""
    target = NetAddress.parse(addr)
    key = NodeKey.generate()
    t0 = time.monotonic()
    ours = NodeInfo(
        net_address=NetAddress(str(key.id), "127.0.0.1", 1),
        network=network,
        version="v1.0.0",
        channels=b"",
        moniker=f"peerwire-ping-{__version__}",
    )
    async with SYSTEM_CLOCK.timeout(within):
        reader, writer = await asyncio.open_connection(target.host, target.port)  # a name resolves here
        sc: SecretConnection | None = None
        try:
            sc = await SecretConnection.make(reader, writer, key)
            handshake_ms = (time.monotonic() - t0) * 1000
            await sc.write(ours.encode())
            info = NodeInfo.decode(await sc.read_sized(MAX_NODE_INFO_SIZE))
        finally:
            if sc is not None:
                with contextlib.suppress(PeerwireError, OSError):
                    await sc.close()
            else:
                writer.close()
    conn_id = str(sc.remote_id)
    if conn_id != target.id:
        raise RemoteProtocolError(f"the peer's key is {conn_id}, not the dialed {target.id}")
    if info.id != target.id:
        raise RemoteProtocolError(f"the peer's NodeInfo names {info.id}, not the dialed {target.id}")
    return {
        "stack": "tm2",
        "id": str(info.id),
        "moniker": info.moniker,
        "network": info.network,
        "version": info.version,
        "channels": info.channels.hex(),
        "net_address": str(info.net_address),
        "software": info.software,
        "version_set": [f"{v.name}={v.version}" for v in info.version_set],
        "rpc_address": info.other.rpc_address,
        "tx_index": info.other.tx_index,
        "handshake_ms": round(handshake_ms, 1),
    }
