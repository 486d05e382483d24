"""The probe against scripted RLPx remotes: Hello through devp2p.exchange_hello, Status checks
with and without a chain, and the Disconnect reason the remote gets for each failure."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import pytest

from peerwire import crawl, devp2p, eth
from peerwire.devp2p import DiscReason, rlpx
from peerwire.errors import ConnectionClosedError

CHAIN = eth.Chain.sepolia()
GOOD = eth.Protocol(CHAIN).our_status(69)
OTHER_KEY = devp2p.PrivateKey.generate()

Script = Callable[[rlpx.Connection, devp2p.PrivateKey], Awaitable[None]]


async def _last_disconnect(conn: rlpx.Connection) -> DiscReason | None:
    """Read until the prober disconnects; the reason it sent (None: it just closed)."""
    try:
        async with asyncio.timeout(5):
            while True:
                code, payload = await conn.recv()
                if code == 0x01:
                    return DiscReason.decode(payload)
    except ConnectionClosedError:
        return None


async def _probe(
    script: Script, chain: eth.Chain | None = None, within: float = 3.0
) -> tuple[crawl.ProbeResult, DiscReason | None]:
    key = devp2p.PrivateKey.generate()
    async with rlpx.listen("127.0.0.1", 0, private_key=key) as listener:
        ours = devp2p.PrivateKey.generate()
        hello = crawl.hello_payload(ours)
        probe = asyncio.ensure_future(
            crawl.probe_node(ours, hello, key.public_key, "127.0.0.1", listener.port, chain, within)
        )
        conn = await listener.accept(timeout=5)
        try:
            await script(conn, key)
            got = await _last_disconnect(conn)
        finally:
            await conn.close()
        return await probe, got


def _hello(key: devp2p.PrivateKey, caps: list[tuple[str, int]]) -> bytes:
    return devp2p.encode_hello(key.public_key, "scripted/v1", caps)


def _eth_remote(*msgs: tuple[int, bytes], caps: tuple[int, ...] = (69,)) -> Script:
    async def script(conn: rlpx.Connection, key: devp2p.PrivateKey) -> None:
        await devp2p.exchange_hello(conn, _hello(key, [("eth", v) for v in caps]))
        for code, payload in msgs:
            await conn.send(code, payload)

    return script


@pytest.mark.timeout(60)
def test_good_remote_without_chain_is_answered_with_its_own_status() -> None:
    other_net = dataclasses.replace(GOOD, network_id=4242)
    seen: list[eth.Status] = []

    async def script(conn: rlpx.Connection, key: devp2p.PrivateKey) -> None:
        await _eth_remote((0x10, other_net.encode()))(conn, key)
        code, payload = await conn.recv()
        assert code == 0x10
        seen.append(eth.Status.decode(69, payload))

    res, reason = asyncio.run(_probe(script))
    assert res.ok, res.error
    assert (res.client, res.p2p_version, res.caps) == ("scripted/v1", 5, ["eth/69"])
    assert res.status == other_net and seen == [other_net]
    assert reason == res.sent_reason == DiscReason.QUITTING


@pytest.mark.timeout(60)
def test_chain_mode_answers_with_the_chain_and_refuses_a_mismatched_status() -> None:
    # the chain's own Status passes, and we answer with the chain's values
    seen: list[eth.Status] = []

    async def good(conn: rlpx.Connection, key: devp2p.PrivateKey) -> None:
        await _eth_remote((0x10, GOOD.encode()))(conn, key)
        seen.append(eth.Status.decode(69, (await conn.recv())[1]))

    res, reason = asyncio.run(_probe(good, CHAIN))
    assert res.ok and reason == DiscReason.QUITTING, res.error
    assert seen == [GOOD]
    cases = {
        "network ID mismatch": dataclasses.replace(GOOD, network_id=1),
        "genesis mismatch": dataclasses.replace(GOOD, genesis=b"\x01" * 32),
        "fork ID rejected": dataclasses.replace(GOOD, fork_id=eth.ForkID(b"\x12\x34\x56\x78")),
        "invalid block range": dataclasses.replace(GOOD, earliest=5, latest=1),
    }
    for want, status in cases.items():
        res, reason = asyncio.run(_probe(_eth_remote((0x10, status.encode())), CHAIN))
        assert res.error is not None and "EthHandshakeError" in res.error and want in res.error, res.error
        assert res.status == status  # what the remote said is still recorded
        assert reason == res.sent_reason == DiscReason.SUBPROTOCOL_ERROR, want


@pytest.mark.timeout(60)
def test_bad_status_messages_are_subprotocol_errors() -> None:
    cases = {
        "invalid status": (0x10, b"\xc3\x01\x02\x03"),  # not a Status
        "no status message": (0x13, b"\xc0"),  # GetBlockHeaders before Status
    }
    for chain in (None, CHAIN):
        for want, msg in cases.items():
            res, reason = asyncio.run(_probe(_eth_remote(msg), chain))
            assert res.error is not None and want in res.error, res.error
            assert reason == DiscReason.SUBPROTOCOL_ERROR, (want, chain)


@pytest.mark.timeout(60)
def test_hello_failures_use_the_shared_exchange_and_say_why() -> None:
    async def other_identity(conn: rlpx.Connection, key: devp2p.PrivateKey) -> None:
        await devp2p.exchange_hello(conn, _hello(OTHER_KEY, []))

    res, reason = asyncio.run(_probe(other_identity))
    assert res.error is not None and "another node" in res.error
    assert reason == DiscReason.UNEXPECTED_IDENTITY

    async def oversize(conn: rlpx.Connection, key: devp2p.PrivateKey) -> None:
        await conn.send(0x00, b"\x00" * (2048 + 1))

    res, reason = asyncio.run(_probe(oversize))
    assert res.error is not None and "message too big" in res.error  # exchange_hello's limit
    assert reason == DiscReason.PROTOCOL_ERROR

    async def refuse(conn: rlpx.Connection, key: devp2p.PrivateKey) -> None:
        await conn.send(0x01, DiscReason.TOO_MANY_PEERS.encode())

    res, reason = asyncio.run(_probe(refuse))
    assert res.error is not None and res.error.startswith("RefusedError") and "too many peers" in res.error
    assert res.sent_reason is None and reason is None  # it left first: nothing to tell it


@pytest.mark.timeout(60)
def test_silent_remote_gets_read_timeout() -> None:
    res, reason = asyncio.run(_probe(_eth_remote(), within=0.5))
    assert res.client == "scripted/v1" and res.status is None
    assert res.error is not None and "TimeoutError" in res.error
    assert reason == DiscReason.READ_TIMEOUT
