"""NodeInfo / NetAddress: vectors, validation and compatibility exactly as gno."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peerwire import tm2
from peerwire.errors import DecodeError
from peerwire.tm2._nodeinfo import semver_major

ADDR = "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@127.0.0.1:26656"


def _from_fields(f: dict[str, Any]) -> tm2.NodeInfo:
    return tm2.NodeInfo(
        version_set=[tm2.VersionInfo(v["name"], v["version"], v["optional"]) for v in f["version_set"]],
        net_address=tm2.NetAddress.parse(f["net_address"]),
        network=f["network"],
        software=f["software"],
        version=f["version"],
        channels=bytes.fromhex(f["channels"]),
        moniker=f["moniker"],
        other=tm2.NodeInfoOther(f["other"]["tx_index"], f["other"]["rpc_address"]),
    )


@pytest.mark.parametrize("idx", range(3))
def test_node_info_vectors(vectors: Callable[[str], Any], idx: int) -> None:
    ex = vectors("tm2.json")["node_info"]["examples"][idx]
    ni = _from_fields(ex["fields"])
    enc = ni.encode()
    assert enc.hex() == ex["sized_hex"]
    assert len(enc) == ex["length"]
    prefix = 2 if enc[0] & 0x80 else 1
    assert tm2.NodeInfo.decode(enc[prefix:]) == ni
    ni.validate()


def test_net_address_parse_and_print() -> None:
    a = tm2.NetAddress.parse("tcp://" + ADDR)
    assert str(a) == ADDR and a.port == 26656
    a.validate()
    v6 = tm2.NetAddress.parse("g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@[::1]:1")
    assert str(v6) == "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@[::1]:1"
    assert str(tm2.NetAddress.parse("g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@[::ffff:1.2.3.4]:1")).endswith(
        "@1.2.3.4:1"
    )
    for bad in (
        "127.0.0.1:26656",
        "a@b@127.0.0.1:1",
        "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@127.0.0.1",
        "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@:1",
        "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@127.0.0.1:65536",
        "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@::1:5",
        "g1xxxx@127.0.0.1:1",
    ):
        with pytest.raises(tm2.AddressError) as err:
            tm2.NetAddress.parse(bad)
        assert isinstance(err.value, ValueError) and not isinstance(err.value, DecodeError)
    with pytest.raises(DecodeError):
        tm2.NetAddress.from_amino("g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@localhost:1")
    with pytest.raises(tm2.AddressError):
        tm2.NetAddress.parse("g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@0.0.0.0:1").validate()


def _ni(**kw: Any) -> tm2.NodeInfo:
    base: dict[str, Any] = {
        "net_address": tm2.NetAddress.parse(ADDR),
        "network": "dev",
        "channels": b"\x77",
        "moniker": "m",
    }
    base.update(kw)
    return tm2.NodeInfo(**base)


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"moniker": ""}, "moniker"),
        ({"moniker": "   "}, "moniker"),
        ({"moniker": "caf\u00e9"}, "moniker"),
        ({"channels": bytes(range(17))}, "excessive"),
        ({"channels": b"\x01\x01"}, "duplicate"),
        ({"version": " "}, "version"),
        ({"other": tm2.NodeInfoOther("", "\x01")}, "RPC"),
    ],
)
def test_validate_rejects(kw: dict[str, Any], msg: str) -> None:
    with pytest.raises(tm2.NodeInfoError, match=msg):
        _ni(**kw).validate()


def test_compatible_with() -> None:
    p2p1 = tm2.VersionInfo("p2p", "v1.0.0-rc.0")
    base = _ni(version_set=[p2p1])
    base.compatible_with(_ni(version_set=[tm2.VersionInfo("p2p", "v1.9")]))
    base.compatible_with(_ni(version_set=[p2p1, tm2.VersionInfo("x", "v9", optional=True)]))
    with pytest.raises(tm2.NodeInfoError, match="version"):
        base.compatible_with(_ni(version_set=[tm2.VersionInfo("p2p", "v2.0.0")]))
    with pytest.raises(tm2.NodeInfoError, match="version"):
        base.compatible_with(_ni(version_set=[p2p1, tm2.VersionInfo("app", "dev")]))
    with pytest.raises(tm2.NodeInfoError, match="networks"):
        base.compatible_with(_ni(version_set=[p2p1], network="other"))
    with pytest.raises(tm2.NodeInfoError, match="common"):
        base.compatible_with(_ni(version_set=[p2p1], channels=b"\x01"))
    # non-semver strings are compatible only with each other
    _ni(version_set=[tm2.VersionInfo("app", "dev")]).compatible_with(
        _ni(version_set=[tm2.VersionInfo("app", "")])
    )


def test_semver_major_like_golang_x_mod() -> None:
    cases = {
        "v1.0.0-rc.0": "v1",
        "v1": "v1",
        "v1.2": "v1",
        "v0.40.0": "v0",
        "v1.2.3+build.5": "v1",
        "1.0.0": "",
        "dev": "",
        "": "",
        "v01.0.0": "",
        "v1.2-pre": "",
        "v1.2.3-01": "",
    }
    for v, want in cases.items():
        assert semver_major(v) == want, v


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20))
def test_node_info_round_trip(moniker: str) -> None:
    ni = _ni(moniker=moniker, version_set=[tm2.VersionInfo("p2p", "v1", True)])
    assert tm2.NodeInfo.decode(ni.encode()[1:]) == ni


_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=30)


@given(
    st.lists(st.builds(tm2.VersionInfo, _TEXT, _TEXT, st.booleans()), max_size=6),
    _TEXT,
    _TEXT,
    _TEXT,
    st.binary(max_size=20),
    _TEXT,
    st.builds(tm2.NodeInfoOther, _TEXT, _TEXT),
    st.integers(0, 65535),
)
def test_node_info_full_round_trip(
    vs: list[tm2.VersionInfo],
    network: str,
    software: str,
    version: str,
    channels: bytes,
    moniker: str,
    other: tm2.NodeInfoOther,
    port: int,
) -> None:
    ni = tm2.NodeInfo(
        net_address=tm2.NetAddress("g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5", "10.0.0.1", port),
        network=network,
        version_set=vs,
        software=software,
        version=version,
        channels=channels,
        moniker=moniker,
        other=other,
    )
    enc = ni.encode()
    prefix = 1 if enc[0] < 0x80 else 2
    assert tm2.NodeInfo.decode(enc[prefix:]) == ni


def test_rust_boundary_hands_out_a_typed_frozen_node_info() -> None:
    from peerwire._core import tm2 as core

    ni = _ni(
        version_set=[tm2.VersionInfo("p2p", "v1.0.0", optional=True)], other=tm2.NodeInfoOther("on", "x")
    )
    enc = ni.encode()
    body, used = core.take_sized(enc, tm2.MAX_NODE_INFO_SIZE) or (b"", 0)
    assert used == len(enc)
    d = core.decode_node_info(body)
    assert isinstance(d, core.DecodedNodeInfo) and not isinstance(d, dict)
    assert d.version_set == [("p2p", "v1.0.0", True)] and d.channels == b"\x77" and d.tx_index == "on"
    with pytest.raises(AttributeError):
        d.moniker = "changed"  # type: ignore[misc]
