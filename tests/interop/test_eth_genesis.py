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
