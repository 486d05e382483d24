"""``tm2.profiles``: the gnoland profile, node.toml overrides, and human incompatibility reasons."""

from __future__ import annotations

import pytest

from peerwire.cli._config import ConfigError, parse_config
from peerwire.tm2 import NetAddress, NodeInfo, NodeInfoError, NodeKey, VersionInfo, profiles

KEY = NodeKey.from_secret(b"profile")
ADDR = NetAddress(str(KEY.id), "127.0.0.1", 26656)


def _gnoland_node(chain: str = "dev") -> NodeInfo:
    other = NodeKey.from_secret(b"gnoland")
    return profiles.gnoland(chain).node_info(NetAddress(str(other.id), "127.0.0.1", 26657), "gnoland")


def test_gnoland_profile_is_makenodeinfo_of_v1_7_1() -> None:
    p = profiles.gnoland("test-chain")
    assert p.network == "test-chain"
    assert [(v.name, v.version, v.optional) for v in p.version_set] == [
        ("abci", "v1.0.0-rc.0", False),
        ("app", "dev", False),
        ("bft", "v1.0.0-rc.0", False),
        ("blockchain", "v1.0.0-rc.0", False),
        ("p2p", "v1.0.0-rc.0", False),
    ]
    assert p.version == "v1.0.0-rc.0"
    assert p.channels == bytes([0x40, 0x20, 0x21, 0x22, 0x23, 0x30, 0x50])
    assert profiles.gnoland(pex=False).channels == bytes([0x40, 0x20, 0x21, 0x22, 0x23, 0x30])
    assert (p.other.tx_index, p.other.rpc_address) == ("off", "")
    info = p.node_info(ADDR, "watcher")
    info.validate()
    _gnoland_node("test-chain").compatible_with(info)
    info.compatible_with(_gnoland_node("test-chain"))
    assert NodeInfo.decode(info.encode()[2:]) == info  # sized (2-byte prefix) round trip


def test_explain_names_the_missing_version_set_entries() -> None:
    bare = profiles.bare("dev", bytes([0x77, 0x40])).node_info(ADDR, "peerwire")
    gno = _gnoland_node()
    with pytest.raises(NodeInfoError):
        gno.compatible_with(bare)
    assert profiles.explain_incompatibility(bare, gno) == (
        "gnoland requires version set entries abci, app, bft, blockchain"
    )
    assert profiles.explain_incompatibility(profiles.gnoland().node_info(ADDR, "x"), gno) is None


def test_explain_network_channels_and_majors() -> None:
    ours = profiles.gnoland("dev").replace(channels=b"\x77", version_set=(VersionInfo("p2p", "v2.0.0"),))
    reason = profiles.explain_incompatibility(ours.node_info(ADDR, "x"), _gnoland_node("other"))
    assert reason is not None
    assert "gnoland requires version set entries abci, app, bft, blockchain" in reason
    assert "incompatible major versions with gnoland: p2p v2.0.0 vs v1.0.0-rc.0" in reason
    assert "gnoland is on network 'other', we are on 'dev'" in reason
    assert "no common channels with gnoland" in reason
    assert profiles.incompatibility_kinds(ours.node_info(ADDR, "x"), _gnoland_node("other")) == (
        profiles.INCOMPATIBILITY_KINDS
    )
    assert profiles.incompatibility_kinds(profiles.gnoland().node_info(ADDR, "x"), _gnoland_node()) == ()
    mine = profiles.gnoland().replace(version_set=(*profiles.gnoland().version_set, VersionInfo("eth", "v1")))
    assert profiles.explain_incompatibility(mine.node_info(ADDR, "x"), _gnoland_node()) == (
        "we require version set entries eth that gnoland lacks"
    )


def test_node_toml_defaults_to_gnoland_and_overrides_every_field() -> None:
    cfg = parse_config('stack = "tm2"\nnetwork = "test5"\n')
    assert cfg.node_profile == profiles.gnoland("test5")
    cfg = parse_config(
        'stack = "tm2"\nnetwork = "c"\n[p2p]\npex = false\n[node_info]\nversion = "v9.0.0"\n'
        'software = "peerwire"\ntx_index = "on"\nrpc_address = "tcp://127.0.0.1:1"\n'
        "channels = [0x40, 0x77]\n"
        'version_set = { p2p = "v1.0.0-rc.0", app = "dev" }\n'
    )
    p = cfg.node_profile
    assert p is not None
    assert (p.network, p.version, p.software) == ("c", "v9.0.0", "peerwire")
    assert (p.other.tx_index, p.other.rpc_address) == ("on", "tcp://127.0.0.1:1")
    assert p.channels == bytes([0x40, 0x77])
    assert [(v.name, v.version) for v in p.version_set] == [("app", "dev"), ("p2p", "v1.0.0-rc.0")]
    assert (
        profiles.gnoland("c", pex=False).channels
        == parse_config('stack = "tm2"\nnetwork = "c"\n[p2p]\npex = false\n').node_profile.channels
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('profile = "cosmos"', "profile"),
        ("channels = [300]", "channels"),
        ("version = 3", "version"),
        ("nonsense = 1", "nonsense"),
        ("version_set = 5", "version_set"),
    ],
)
def test_node_toml_node_info_errors_name_the_key(table: str, key: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(f'stack = "tm2"\n[node_info]\n{table}\n', path="node.toml")
    assert key in str(e.value) and "node_info" in str(e.value)
