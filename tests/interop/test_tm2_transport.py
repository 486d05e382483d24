"""peerwire MultiplexTransport <-> gno MultiplexTransport, dial and accept both ways, NodeInfo both ways."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from tests.tm2.test_transport import Behavior

from peerwire import tm2

pytestmark = pytest.mark.interop

GO_SEED = bytes(range(32))
GO_KEY = tm2.NodeKey.from_seed(GO_SEED)
OUR_KEY = tm2.NodeKey.from_secret(b"peerwire-transport")
GNOLAND_SET = [
    tm2.VersionInfo("abci", "v1.0.0-rc.0"),
    tm2.VersionInfo("app", "dev"),
    tm2.VersionInfo("bft", "v1.0.0-rc.0"),
    tm2.VersionInfo("blockchain", "v1.0.0-rc.0"),
    tm2.VersionInfo("p2p", "v1.0.0-rc.0"),
]


def _our_info(port: int, version_set: list[tm2.VersionInfo]) -> tm2.NodeInfo:
    return tm2.NodeInfo(
        net_address=tm2.NetAddress(OUR_KEY.id, "127.0.0.1", port),
        network="interop",
        version_set=version_set,
        version="v1.0.0-rc.0",
        channels=bytes([0x77, 0x50]),
        moniker="py-node",
        other=tm2.NodeInfoOther("off", "tcp://127.0.0.1:1"),
    )


async def _spawn(go_harness: Path, *args: str) -> tuple[asyncio.subprocess.Process, asyncio.StreamReader]:
    proc = await asyncio.create_subprocess_exec(
        str(go_harness),
        "tm2-transport",
        "-seed",
        GO_SEED.hex(),
        "-network",
        "interop",
        "-channels",
        "77",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    return proc, proc.stdout


async def _event(out: asyncio.StreamReader) -> dict[str, Any]:
    async with asyncio.timeout(15):
        line = await out.readline()
    assert line, "gno peer exited"
    ev: dict[str, Any] = json.loads(line)
    return ev


async def _finish(proc: asyncio.subprocess.Process) -> None:
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        async with asyncio.timeout(5):
            await proc.wait()
    except TimeoutError:
        proc.kill()
        await proc.wait()


def _check_go_info(info: tm2.NodeInfo, port: int, gnoland: bool) -> None:
    assert info.id == GO_KEY.id
    assert str(info.net_address) == f"{GO_KEY.id}@127.0.0.1:{port}"
    assert info.network == "interop" and info.moniker == "go-peer" and info.channels == b"\x77"
    assert info.version == "v1.0.0-rc.0"
    assert info.other == tm2.NodeInfoOther("off", "tcp://127.0.0.1:26657")
    assert info.version_set == (GNOLAND_SET if gnoland else [])


def _check_our_info_seen_by_go(ev: dict[str, Any], ours: tm2.NodeInfo) -> None:
    assert ev["event"] == "peer" and ev["id"] == OUR_KEY.id
    ni = ev["node_info"]
    assert ni["net_address"] == str(ours.net_address)
    assert ni["moniker"] == "py-node" and ni["channels"] == "7750" and ni["network"] == "interop"
    assert [(v["name"], v["version"], v["optional"]) for v in ni["version_set"]] == [
        (v.name, v.version, v.optional) for v in ours.version_set
    ]
    assert ni["other"] == {"tx_index": "off", "rpc_address": "tcp://127.0.0.1:1"}


@pytest.mark.parametrize("gnoland", [True, False])
def test_we_dial_gno(go_harness: Path, gnoland: bool) -> None:
    async def main() -> None:
        args = ["-listen-port", "0", *(["-gnoland"] if gnoland else [])]
        proc, out = await _spawn(go_harness, *args)
        try:
            ev = await _event(out)
            assert ev["event"] == "listening"
            addr = tm2.NetAddress.parse(ev["addr"])
            ours = _our_info(26656, GNOLAND_SET if gnoland else [])
            t = tm2.MultiplexTransport(ours, OUR_KEY)
            async with asyncio.timeout(10):
                peer = await t.dial(addr, Behavior())
            _check_go_info(peer.node_info, addr.port, gnoland)
            assert peer.is_outbound and peer.socket_addr == addr
            _check_our_info_seen_by_go(await _event(out), ours)
            await peer.close_conn()
            await t.close()
        finally:
            await _finish(proc)

    asyncio.run(main())


@pytest.mark.parametrize("gnoland", [True, False])
def test_gno_dials_us(go_harness: Path, gnoland: bool) -> None:
    async def main() -> None:
        t = tm2.MultiplexTransport(_our_info(0, GNOLAND_SET if gnoland else []), OUR_KEY)
        await t.listen(tm2.NetAddress(OUR_KEY.id, "127.0.0.1", 0))
        # Advertise the real port, as a node with a fixed laddr would.
        ours = _our_info(t.net_address().port, GNOLAND_SET if gnoland else [])
        t._node_info = ours
        proc, out = await _spawn(
            go_harness, "-dial", str(t.net_address()), *(["-gnoland"] if gnoland else [])
        )
        try:
            assert (await _event(out))["event"] == "dialing"
            async with asyncio.timeout(10):
                peer = await t.accept(Behavior())
            _check_go_info(peer.node_info, 26656, gnoland)
            assert not peer.is_outbound
            _check_our_info_seen_by_go(await _event(out), ours)
            await peer.close_conn()
        finally:
            await _finish(proc)
            await t.close()

    asyncio.run(main())


def test_incompatible_version_sets_fail_on_both_sides(go_harness: Path) -> None:
    async def main() -> None:
        proc, out = await _spawn(go_harness, "-listen-port", "0")
        try:
            addr = tm2.NetAddress.parse((await _event(out))["addr"])
            t = tm2.MultiplexTransport(_our_info(26656, GNOLAND_SET), OUR_KEY)
            with pytest.raises(tm2.NodeInfoError, match="version"):
                await t.dial(addr, Behavior())
            await t.close()
        finally:
            await _finish(proc)
        # And gno refuses us when we lack its required entries.
        t = tm2.MultiplexTransport(_our_info(0, []), OUR_KEY)
        await t.listen(tm2.NetAddress(OUR_KEY.id, "127.0.0.1", 0))
        proc, out = await _spawn(go_harness, "-dial", str(t.net_address()), "-gnoland")
        try:
            assert (await _event(out))["event"] == "dialing"
            ev = await _event(out)
            assert ev["event"] == "error" and "VersionSet" in ev["error"]
        finally:
            await _finish(proc)
            await t.close()

    asyncio.run(main())
