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
from peerwire._core import identity, p2p_base
from peerwire.devp2p import DiscReason, Node, PrivateKey
from peerwire.devp2p._base import BASE_PROTOCOL_VERSION, DISC_MSG, HELLO_MSG
from peerwire.devp2p._rlpxnet import RlpxNetwork
from peerwire.errors import PeerwireError, RemoteProtocolError
from peerwire.tm2 import MAX_NODE_INFO_SIZE, NetAddress, NodeInfo, NodeKey, SecretConnection

__all__ = ["ping_devp2p", "ping_tm2"]

MAX_HELLO_SIZE = 2048  # a Hello larger than this is refused (geth's baseProtocolMaxMsgSize is 2 KiB)


async def ping_devp2p(url: str, within: float, *, name: str | None = None) -> dict[str, Any]:
    """Dial ``url`` (enode), exchange Hellos, disconnect. Returns what the peer told us."""
    node = Node.parse(url)
    if node.ip is None:
        raise PeerwireError(f"{url}: the enode URL has no IP address")
    key = PrivateKey.generate()
    t0 = time.monotonic()
    async with asyncio.timeout(within):
        t, _local = await RlpxNetwork().dial(node.ip, node.tcp_port, node.public_key, key)
        handshake_ms = (time.monotonic() - t0) * 1000
        try:
            hello = p2p_base.encode_hello(
                BASE_PROTOCOL_VERSION,
                name or f"peerwire-ping/v{__version__}",
                [],
                0,
                key.public_key.to_bytes(),
            )
            await t.send(HELLO_MSG, hello)
            code, payload = await t.recv()
            if code == DISC_MSG:
                reason = DiscReason.from_wire(p2p_base.decode_disconnect(payload))
                raise RemoteProtocolError(f"peer disconnected before its Hello: {reason}")
            if code != HELLO_MSG:
                raise RemoteProtocolError(f"expected Hello (0x00), got message 0x{code:02x}")
            if len(payload) > MAX_HELLO_SIZE:
                raise RemoteProtocolError(f"Hello of {len(payload)} bytes is too big")
            h = p2p_base.decode_hello(payload)
            t.set_snappy(h.version >= 5)
            with contextlib.suppress(PeerwireError, OSError, TimeoutError):
                await t.send(DISC_MSG, p2p_base.encode_disconnect(int(DiscReason.REQUESTED)))
        finally:
            with contextlib.suppress(PeerwireError, OSError):
                await t.close()
    node_id = identity.keccak256(h.id)
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
    async with asyncio.timeout(within):
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
