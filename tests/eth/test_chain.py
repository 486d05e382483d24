"""Chains, fork IDs and the ENR eth entry (peerwire.eth), against geth's forkid vectors."""

from __future__ import annotations

from typing import Any

import pytest

from peerwire import devp2p, eth
from peerwire.errors import DecodeError
from tests.conftest import load_vector

VEC = load_vector("eth_forkid.json")


@pytest.mark.parametrize("name", ["mainnet", "sepolia", "hoodi"])
def test_presets_reproduce_geth_creation_cases(name: str) -> None:
    chain = eth.Chain.preset(name)
    assert chain.genesis_hash.hex() == VEC["chains"][name]["genesis_hash"]
    cases = VEC["creation"][name]
    assert cases
    for c in cases:
        assert chain.fork_id(c["head"], c["time"]) == eth.ForkID(bytes.fromhex(c["hash"]), c["next"])


def test_preset_network_ids() -> None:
    assert [eth.Chain.preset(n).network_id for n in ("mainnet", "sepolia", "hoodi")] == [
        1,
        11155111,
        560048,
    ]
    with pytest.raises(ValueError, match="unknown chain"):
        eth.Chain.preset("ropsten")


def test_fork_filter_geth_validation_cases() -> None:
    chain = eth.Chain.mainnet()
    legacy = eth.Chain("legacy", 1, chain.genesis_hash, chain.block_forks, ())
    errors = {
        None: None,
        "ErrRemoteStale": "remote needs update",
        "ErrLocalIncompatibleOrStale": "local incompatible or needs update",
    }
    for c in VEC["validation"]:
        ch = legacy if c["config"] == "mainnet_legacy" else chain
        f = eth.ForkFilter(ch, eth.Head(c["head"], bytes(32), c["time"]))
        remote = eth.ForkID(bytes.fromhex(c["hash"]), c["next"])
        assert f.check(remote) == errors[c["error"]], c
        assert f(remote) is (c["error"] is None)


def _node_with(extra: dict[str, Any]) -> devp2p.Node:
    key = devp2p.PrivateKey.generate()
    rec = devp2p.ENR.build(key, 1, ip="127.0.0.1", tcp=30303, udp=30303, extra=extra)
    return devp2p.Node.parse(str(rec))


def test_enr_entry_roundtrip_and_node_filter() -> None:
    chain = eth.Chain.mainnet()
    head = eth.Head(20_000_000, bytes(32), 1_681_338_455)
    ours = chain.fork_id(head.number, head.time)
    good = _node_with({"eth": ours.enr_value()})
    assert good.record is not None
    assert eth.ForkID.from_enr(good.record) == ours
    keep = eth.enr_filter(chain, head)
    assert keep(good)
    # missing entry, another chain, a stale remote, malformed entries: all dropped
    assert not keep(_node_with({}))
    assert not keep(_node_with({"eth": eth.Chain.sepolia().fork_id().enr_value()}))
    stale = eth.ForkID(bytes.fromhex("f0afd0e3"), 0)  # Gray Glacier, unaware of Shanghai
    assert not keep(_node_with({"eth": stale.enr_value()}))
    assert not keep(_node_with({"eth": [[b"\x01\x02\x03", 0]]}))
    assert not keep(_node_with({"eth": b"junk"}))
    assert eth.ForkID.from_enr(_node_with({"eth": [[b"\x01\x02\x03", 0]]}).record) is None
    # an extra (future) element in the entry is ignored, as geth's rlp:"tail"
    tail = _node_with({"eth": [[ours.hash, ours.next], b"future"]})
    assert keep(tail)


def _private_genesis(**config: Any) -> dict[str, Any]:
    cfg = {
        "chainId": 1337,
        "homesteadBlock": 0,
        "eip150Block": 0,
        "eip155Block": 0,
        "eip158Block": 0,
        "byzantiumBlock": 0,
        "constantinopleBlock": 0,
        "petersburgBlock": 0,
        "istanbulBlock": 0,
        "berlinBlock": 0,
        "londonBlock": 0,
        "mergeNetsplitBlock": 0,
        "terminalTotalDifficulty": 0,
        **config,
    }
    return {
        "config": cfg,
        "difficulty": "0x0",
        "gasLimit": "0x1c9c380",
        "timestamp": "0x6000",
        "extraData": "0x",
        "alloc": {
            "71562b71999873db5b286df957af199ec94617f7": {"balance": "0xffffffffffffffffffff"},
            "0x0000000000000000000000000000000000000100": {
                "balance": "0",
                "nonce": "0x2",
                "code": "0x6000",
                "storage": {"0x01": "0x2a", "0x02": "0x00"},
            },
        },
    }


def test_genesis_fields_follow_the_fork_set() -> None:
    london = eth.Chain.from_genesis(_private_genesis())
    assert london.genesis_header is not None
    h = eth.BlockHeader.decode(london.genesis_header)
    assert h.base_fee == 1_000_000_000 and h.hash == london.genesis_hash
    prague = eth.Chain.from_genesis(
        _private_genesis(shanghaiTime=0, cancunTime=0, pragueTime=0, osakaTime=2_000_000_000)
    )
    assert prague.genesis_hash != london.genesis_hash
    assert prague.time_forks == (0, 0, 0, 2_000_000_000)
    # forks at or before the genesis time are not hashed; the future one is next
    assert prague.fork_id(0, 0x6000).next == 2_000_000_000
    assert len(prague.genesis_header or b"") > len(london.genesis_header)


def test_genesis_json_errors_are_typed(tmp_path: Any) -> None:
    p = tmp_path / "g.json"
    p.write_text("{not json")
    with pytest.raises(DecodeError):
        eth.Chain.from_genesis_json(p)
    p.write_text('{"config": {"chainId": 1}, "alloc": {"zz": {"balance": "1"}}}')
    with pytest.raises(DecodeError):
        eth.Chain.from_genesis_json(p)
