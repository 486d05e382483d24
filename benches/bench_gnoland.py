"""gno.land consensus gossip decoding vs gno's own amino, the same bytes, the same run.

A 100-validator gossip load: 100 prevotes + 100 precommits (one per validator index) and the
64 KiB block parts of a 1 MiB proposal block, encoded once. ``bench_consensus_decode`` is
peerwire's Rust decoder (``peerwire._core.tm2_consensus.decode_consensus``: decode + gno's
``ValidateBasic`` bounds, one Python call per message, fields handed to Python);
gno's rate (``amino.Unmarshal`` into ``ConsensusMessage`` + ``ValidateBasic``, harness
``tm2-consensus-decode-bench``) over the same bytes goes into ``extra_info``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from pytest_benchmark.fixture import BenchmarkFixture
from tests.conftest import go_harness as go_harness  # the fixture, shared with the interop tests

from peerwire._core import tm2_consensus as c

VALIDATORS = 100
BLOCK_PARTS = 16  # 16 x 64 KiB: a 1 MiB block
H32 = bytes(range(32))


def _vote(kind: int, index: int) -> bytes:
    return c.encode_consensus(
        "VoteMessage",
        {
            "type": kind,
            "height": 123_456,
            "round": 0,
            "block_id": {"hash": H32, "parts": {"total": BLOCK_PARTS, "hash": H32}},
            "timestamp": (1_765_000_000, 123_456_789),
            "validator_address": "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5",
            "validator_index": index,
            "signature": bytes([index % 256]) * 64,
        },
    )


def _part(index: int) -> bytes:
    return c.encode_consensus(
        "BlockPartMessage",
        {
            "height": 123_456,
            "round": 0,
            "index": index,
            "bytes": bytes([index]) * c.BLOCK_PART_SIZE_BYTES,
            "proof_total": BLOCK_PARTS,
            "proof_index": index,
            "leaf_hash": H32,
            "aunts": [H32] * 4,
        },
    )


def gossip_load() -> list[bytes]:
    votes = [_vote(kind, i) for kind in (1, 2) for i in range(VALIDATORS)]
    return votes + [_part(i) for i in range(BLOCK_PARTS)]


def _gno_rate(binary: Path, msgs: list[bytes], rounds: int) -> dict[str, Any]:
    out = subprocess.run(
        [str(binary), "tm2-consensus-decode-bench", "-rounds", str(rounds)],
        input="\n".join(m.hex() for m in msgs),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    res: dict[str, Any] = json.loads(out)
    assert res["messages"] == len(msgs) and res["best_per_s"] > 0
    return res


def bench_consensus_decode(benchmark: BenchmarkFixture, go_harness: Path) -> None:
    msgs = gossip_load()
    # correctness first: every message decodes to what was encoded
    names = [c.decode_consensus(m)[0] for m in msgs]
    assert names.count("VoteMessage") == 2 * VALIDATORS and names.count("BlockPartMessage") == BLOCK_PARTS
    gno = _gno_rate(go_harness, msgs, 1 if benchmark.disabled else 20)
    benchmark.extra_info["gno_best_per_s"] = gno["best_per_s"]
    benchmark.extra_info["messages"] = len(msgs)
    decode = c.decode_consensus

    def run() -> int:
        for m in msgs:
            decode(m)
        return len(msgs)

    assert benchmark(run) == len(msgs)
