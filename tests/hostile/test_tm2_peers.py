"""Hostile TM2 peers against a real node: secret connection, NodeInfo, MConnection, switch, PEX.

TM2 has no disconnect reason on the wire: the typed end an attacker can
observe is the victim closing the socket, which each case asserts; the shared
harness then checks fds, tasks and RSS back at baseline and an honest peer
still served.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from peerwire._core import tm2 as core
from peerwire.tm2 import discovery
from tests.devp2p._aio import aio
from tests.hostile._tm2 import RawSts, tm2_attack_then_check, tm2_victim
from tests.tm2.tcpnode import ECHO, TcpNode

Attack = Callable[[TcpNode], Awaitable[None]]

LOW_ORDER_POINTS = [
    bytes(32),
    b"\x01" + bytes(31),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    b"\xec" + b"\xff" * 30 + b"\x7f",
    b"\xed" + b"\xff" * 30 + b"\x7f",
    b"\xee" + b"\xff" * 30 + b"\x7f",
]


async def _closed(a: RawSts) -> None:
    assert await a.closed_by_victim(), "the victim kept a hostile connection open"
    await a.close()


def low_order(point: bytes) -> Attack:
    async def attack(v: TcpNode) -> None:
        a = await RawSts.connect(v, sts=False)
        a.writer.write(b"\x22\x0a\x20" + point)
        await _closed(a)

    attack.__name__ = f"low_order_point_{point[:2].hex()}"
    return attack


async def bad_ephemeral_prefix(v: TcpNode) -> None:
    a = await RawSts.connect(v, sts=False)
    a.writer.write(os.urandom(35))
    await _closed(a)


async def ephemeral_then_eof(v: TcpNode) -> None:
    a = await RawSts.connect(v, sts=False)
    a.writer.write(b"\x22\x0a\x20" + X25519PrivateKey.generate().public_key().public_bytes_raw())
    a.writer.write_eof()
    await _closed(a)


async def _forged_auth(v: TcpNode, edit: Callable[[bytes], bytes]) -> RawSts:
    """Complete the DH, then send an auth frame whose plaintext ``edit`` changed (sealed correctly)."""
    a = await RawSts.connect(v, sts=False)
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes_raw()
    hs = core.SecretHandshake(a.key.native, eph.private_bytes_raw())
    a.writer.write(hs.ephemeral_message())
    theirs = await a.reader.readexactly(35)
    good = hs.read_ephemeral(theirs)
    dh = eph.exchange(X25519PublicKey.from_public_bytes(theirs[3:]))
    _recv, send, _ch = core.derive_secrets(dh, eph_pub < theirs[3:])
    aead = ChaCha20Poly1305(send)
    plain = aead.decrypt(core.nonce(0), good, None)
    frame = edit(plain)
    a.writer.write(aead.encrypt(core.nonce(0), frame, None))
    return a


async def auth_wrong_signature(v: TcpNode) -> None:
    def flip(p: bytes) -> bytes:
        return p[:50] + bytes([p[50] ^ 1]) + p[51:]

    await _closed(await _forged_auth(v, flip))


async def auth_chunk_length_over_1024(v: TcpNode) -> None:
    await _closed(await _forged_auth(v, lambda p: (2000).to_bytes(4, "little") + p[4:]))


async def auth_wrong_prefix(v: TcpNode) -> None:
    await _closed(await _forged_auth(v, lambda p: p[:4] + b"\x65" + p[5:]))


async def auth_bad_aead_tag(v: TcpNode) -> None:
    a = await RawSts.connect(v, sts=False)
    hs = core.SecretHandshake(a.key.native)
    a.writer.write(hs.ephemeral_message())
    hs.read_ephemeral(await a.reader.readexactly(35))
    a.writer.write(os.urandom(core.SEALED_FRAME_SIZE))
    await _closed(a)


async def sts_half_open_flood(v: TcpNode) -> None:
    conns = [await RawSts.connect(v, sts=False) for _ in range(30)]
    for c in conns:
        await c.close()


async def sts_then_eof(v: TcpNode) -> None:
    a = await RawSts.connect(v)
    a.writer.write_eof()
    await _closed(a)


async def node_info_wrong_network(v: TcpNode) -> None:
    a = await RawSts.connect(v)
    a.send(a.node_info(network="other-chain"))
    await _closed(a)


async def node_info_wrong_id(v: TcpNode) -> None:
    from peerwire import tm2

    a = await RawSts.connect(v)
    other = tm2.NodeKey.generate().id
    a.send(a.node_info(net_address=tm2.NetAddress(other, "127.0.0.1", 26656)))
    await _closed(a)


async def node_info_garbage(v: TcpNode) -> None:
    a = await RawSts.connect(v)
    a.send(b"\x20" + os.urandom(32))
    await _closed(a)


async def node_info_oversize_prefix(v: TcpNode) -> None:
    a = await RawSts.connect(v)
    a.send(b"\xff\xff\xff\x7f" + os.urandom(2000))
    await _closed(a)


async def node_info_no_common_channel(v: TcpNode) -> None:
    a = await RawSts.connect(v)
    a.send(a.node_info(channels=b"\x01"))
    await _closed(a)


async def _admitted(v: TcpNode) -> RawSts:
    return await RawSts.connect(v, node_info=True)


async def unknown_channel(v: TcpNode) -> None:
    a = await _admitted(v)
    a.send(core.encode_message(0x55, b"hello", 1024))
    await _closed(a)


async def message_over_channel_capacity(v: TcpNode) -> None:
    a = await _admitted(v)
    a.send(core.encode_message(ECHO, b"\x00" * ((1 << 20) + 1), 1024))
    await _closed(a)


async def garbage_packet(v: TcpNode) -> None:
    a = await _admitted(v)
    a.send(b"\x05" + os.urandom(5))
    await _closed(a)


async def oversize_packet(v: TcpNode) -> None:
    a = await _admitted(v)
    a.send(core.encode_msg_packet(ECHO, 1, b"\x00" * 5000))
    await _closed(a)


async def bad_data_frame_tag(v: TcpNode) -> None:
    a = await _admitted(v)
    a.writer.write(os.urandom(core.SEALED_FRAME_SIZE))
    await _closed(a)


async def chunked_message_never_finished(v: TcpNode) -> None:
    a = await _admitted(v)
    a.send(core.encode_chunks(ECHO, b"\x00" * 100_000, 1024, False))
    await a.close()


async def ping_flood_then_eof(v: TcpNode) -> None:
    a = await _admitted(v)
    a.send(core.encode_ping() * 5000)
    a.writer.write_eof()
    await _closed(a)


async def pex_garbage(v: TcpNode) -> None:
    """gno's discovery reactor logs and ignores an undecodable message: we count it, and go on."""
    from tests.hostile._harness import eventually

    assert v.discovery is not None
    before = v.discovery.stats.garbage
    a = await _admitted(v)
    a.send(core.encode_message(discovery.CHANNEL, os.urandom(40), 1024))
    await eventually(
        lambda: v.discovery is not None and v.discovery.stats.garbage > before, "garbage counted"
    )
    await a.close()


async def pex_response_unsolicited_junk(v: TcpNode) -> None:
    a = await _admitted(v)
    junk = core.encode_pex_response(["not-an-address", "x@1.2.3.4:0", "@@@"])
    a.send(core.encode_message(discovery.CHANNEL, junk, 1024))
    await a.closed_by_victim(timeout=2)  # dropped or ignored: either way it must not hurt the node
    await a.close()


async def pex_request_flood(v: TcpNode) -> None:
    a = await _admitted(v)
    req = core.encode_message(discovery.CHANNEL, core.encode_pex_request(), 1024)
    a.send(req * 200)
    await a.closed_by_victim(timeout=3)
    await a.close()


ATTACKS: dict[str, Attack] = {
    f.__name__: f
    for f in [
        *(low_order(p) for p in LOW_ORDER_POINTS),
        bad_ephemeral_prefix,
        ephemeral_then_eof,
        auth_wrong_signature,
        auth_chunk_length_over_1024,
        auth_wrong_prefix,
        auth_bad_aead_tag,
        sts_half_open_flood,
        sts_then_eof,
        node_info_wrong_network,
        node_info_wrong_id,
        node_info_garbage,
        node_info_oversize_prefix,
        node_info_no_common_channel,
        unknown_channel,
        message_over_channel_capacity,
        garbage_packet,
        oversize_packet,
        bad_data_frame_tag,
        chunked_message_never_finished,
        ping_flood_then_eof,
        pex_garbage,
        pex_response_unsolicited_junk,
        pex_request_flood,
    ]
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
@aio
async def test_hostile_tm2_peer(name: str) -> None:
    async with tm2_victim() as v:
        await tm2_attack_then_check(v, ATTACKS[name])
