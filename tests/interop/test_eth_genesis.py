"""Genesis hashing and fork IDs of peerwire.eth against go-ethereum's core.Genesis.ToBlock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_harness
from tests.eth.test_chain import _private_genesis

from peerwire import eth

pytestmark = pytest.mark.interop

FORK_SETS: dict[str, dict[str, Any]] = {
    "london": {},
    "shanghai": {"shanghaiTime": 0},
    "cancun": {"shanghaiTime": 0, "cancunTime": 0},
    "prague+future-osaka": {
        "shanghaiTime": 0,
        "cancunTime": 0,
        "pragueTime": 0,
        "osakaTime": 4_000_000_000,
        "blobSchedule": {
            "cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3338477},
            "prague": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
            "osaka": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
        },
    },
    "cancun-at-later-time": {"shanghaiTime": 0, "cancunTime": 0x7000},
}


@pytest.mark.parametrize("forks", list(FORK_SETS))
def test_genesis_hash_equals_geth(go_harness: Path, tmp_path: Path, forks: str) -> None:
    spec = _private_genesis(**FORK_SETS[forks])
    p = tmp_path / "genesis.json"
    p.write_text(json.dumps(spec))
    chain = eth.Chain.from_genesis_json(p)
    want = json.loads(run_harness(go_harness, "genesis-hash", str(p)))
    assert chain.genesis_header is not None
    assert chain.genesis_header.hex() == want["header"]
    assert chain.genesis_hash.hex() == want["hash"]
    fid = chain.fork_id(0, chain.genesis_time)
    assert (fid.hash.hex(), fid.next) == (want["fork_hash"], want["fork_next"])


def test_pre_london_ethash_genesis_equals_geth(go_harness: Path, tmp_path: Path) -> None:
    spec = {
        "config": {"chainId": 5, "homesteadBlock": 0, "eip150Block": 0, "ethash": {}},
        "nonce": "0x42",
        "difficulty": "0x400000000",
        "extraData": "0x11bbe8db",
        "gasLimit": "5000",
        "alloc": {"0x0000000000000000000000000000000000000001": {"balance": "1"}},
    }
    p = tmp_path / "genesis.json"
    p.write_text(json.dumps(spec))
    chain = eth.Chain.from_genesis_json(p)
    want = json.loads(run_harness(go_harness, "genesis-hash", str(p)))
    assert chain.genesis_hash.hex() == want["hash"]


def test_packet_codecs_match_geth_encodings(go_harness: Path) -> None:
    """Every sample packet geth encodes decodes with our codecs and re-encodes to the same bytes."""
    from peerwire._core import eth as core_eth

    pk = {k: bytes.fromhex(v) for k, v in json.loads(run_harness(go_harness, "eth-packets")).items()}
    h1, h2 = b"\x11" * 32, b"\x22" * 32
    st = eth.Status.decode(72, pk["status72"])
    assert st == eth.Status(72, 1337, h1, eth.ForkID(bytes.fromhex("deadbeef"), 42), 0, 5, h2)
    assert st.encode() == pk["status72"]
    assert core_eth.decode_get_block_headers(pk["get_headers_number"]) == (7, 9, 3, 1, True)
    assert core_eth.encode_get_block_headers(7, 9, 3, 1, True) == pk["get_headers_number"]
    assert core_eth.decode_get_block_headers(pk["get_headers_hash"]) == (1 << 40, h1, 1, 0, False)
    assert core_eth.encode_get_block_headers(1 << 40, h1, 1, 0, False) == pk["get_headers_hash"]
    assert core_eth.decode_block_range(pk["block_range"]) == (1, 100, h2)
    assert core_eth.encode_block_range(1, 100, h2) == pk["block_range"]
    assert core_eth.decode_hash_request(pk["get_bodies"], 10) == (5, [h1, h2])
    assert core_eth.encode_hash_request(5, [h1, h2]) == pk["get_bodies"]
    assert core_eth.decode_id_and_raw_list(pk["bodies_empty"], 10) == (5, [])
    assert core_eth.encode_id_and_raw_list(5, []) == pk["bodies_empty"]
    assert core_eth.decode_enr_entry(pk["enr_entry"]) == (bytes.fromhex("deadbeef"), 42)
    assert core_eth.encode_enr_entry(bytes.fromhex("deadbeef"), 42) == pk["enr_entry"]
    assert core_eth.decode_tx_announcement(71, pk["announce71"]) == (
        b"\x02\x03",
        [100, 70000],
        [h1, h2],
        None,
    )
    types, sizes, hashes, mask = core_eth.decode_tx_announcement(72, pk["announce72"])
    assert (types, sizes, hashes) == (b"\x03", [131072], [h2])
    assert mask == bytes.fromhex("9001800000000000000000000000000000")
    # eth/70 receipts: our empty answer is byte-equal to geth's ReceiptsPacket70{RequestId: 8}
    assert core_eth.encode_receipts70(8, False, []) == pk["receipts70_empty"]
    assert core_eth.decode_get_receipts70(pk["get_receipts70"], 10) == (8, 2, [h1])
    # eth/72 cells: geth's GetCells decodes; our "no blobs" answer equals geth's empty Cells
    mask = b"\xff" + bytes(15)
    assert core_eth.decode_get_cells(pk["get_cells"], 10) == (3, [h1], mask)
    assert core_eth.encode_cells(3, [], [], mask) == pk["cells_empty"]


@pytest.mark.parametrize("name", ["mainnet", "sepolia", "hoodi"])
def test_presets_equal_geth_params(go_harness: Path, name: str) -> None:
    """Genesis hash, network ID and the fork ID at every fork boundary (and either side of
    it) equal what go-ethereum computes from params/config.go and core/genesis.go."""
    chain = eth.Chain.preset(name)
    points = [[0, 0], [0, chain.genesis_time], [10**9, 2 * 10**9]]
    for b in chain.block_forks:
        points += [[max(b - 1, 0), chain.genesis_time], [b, chain.genesis_time]]
    last_block = max(chain.block_forks, default=0)
    for t in chain.time_forks:
        points += [[last_block, max(t - 1, 0)], [last_block, t]]
    want = json.loads(run_harness(go_harness, "preset-forkids", name, stdin=json.dumps(points)))
    assert chain.genesis_hash.hex() == want["hash"]
    assert chain.network_id == want["chain_id"]
    assert chain.genesis_time == want["time"]
    got = [[chain.fork_id(h, t).hash.hex(), chain.fork_id(h, t).next] for h, t in points]
    assert got == want["ids"]


def test_enr_filter_agrees_with_geths_node_filter(go_harness: Path, tmp_path: Path) -> None:
    """eth.enr_filter and geth's eth.NewNodeFilter (forkid.NewFilter over the record's
    ``eth`` entry) give the same verdict on every record, at two heads."""
    from peerwire import devp2p

    spec = _private_genesis(**FORK_SETS["prague+future-osaka"])
    p = tmp_path / "genesis.json"
    p.write_text(json.dumps(spec))
    chain = eth.Chain.from_genesis_json(p)
    g0 = chain.fork_id(0, chain.genesis_time)
    osaka = chain.fork_id(0, 4_000_000_000)
    entries: list[Any] = [
        None,
        g0.enr_value(),
        [[g0.hash, 0]],
        [[g0.hash, 3_000_000_000]],  # a fork geth does not know, still in the future
        [[g0.hash, 4_000_000_000], b"future-field"],
        osaka.enr_value(),
        eth.Chain.mainnet().fork_id().enr_value(),
        [[b"\x01\x02\x03", 0]],
        b"not-a-list",
        [],
    ]
    lines = []
    for e in entries:
        extra = {} if e is None else {"eth": e}
        rec = devp2p.ENR.build(devp2p.PrivateKey.generate(), 1, ip="127.0.0.1", udp=1, extra=extra)
        lines.append(str(rec))
    nodes = [devp2p.Node.parse(line) for line in lines]
    for head_time in (chain.genesis_time, 4_000_000_001):
        head = eth.Head(0, chain.genesis_hash, head_time)
        want = json.loads(
            run_harness(go_harness, "eth-node-filter", str(p), "0", str(head_time), stdin="\n".join(lines))
        )
        got = [eth.enr_filter(chain, head)(n) for n in nodes]
        assert got == want, (head_time, got, want)
    assert True in want and False in want
