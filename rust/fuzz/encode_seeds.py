#!/usr/bin/env python3
"""Encode the seeds of the fuzz targets that have no byte vectors of their own.

discv5 message plaintexts, eth messages and TM2 consensus/blockchain/mempool
messages are built here with peerwire's own encoders (``peerwire._core``),
each checked to decode again, and written to ``encoded_seeds.json``, which
``seed_corpus.py`` reads. Run with the project's venv after an encoder
changes: ``.venv/bin/python rust/fuzz/encode_seeds.py``. The values are
ordinary valid messages (the shapes gno v1.7.1 and geth v1.17.5 send); the
fuzzer mutates outwards from them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from peerwire._core import discv5, enr, eth, rlp
from peerwire._core import tm2_consensus as c

HASH = bytes(range(32))
RECORD = bytes.fromhex(
    "f87db84017e1b073918da32d640642c762c0e2781698e4971f8ab39a77746adad83f01e76ffc874c5924808bbe7c50890882c2b8a"
    "01287a0b08312d1d53a17d517f5eb2701826964827634826970847f00000189736563703235366b31a10313d14211e0287b2361a1"
    "615890a9b5212080546d0a257ae4cff96cf534992cb9"
)  # node A's record of the discv5 wire vectors (tests/vectors/discv5.json)
VERSIONS = [68, 69, 70, 71, 72]  # eth_messages.rs: version = VERSIONS[(sel >> 4) % 5]
ETH_KINDS = 14  # eth_messages.rs: kind = sel % 14


def discv5_messages() -> list[bytes]:
    out = [
        discv5.encode_message(1, b"\x00\x00\x00\x01", (1,)),
        discv5.encode_message(2, b"\x01", (7, b"\x7f\x00\x00\x01", 30303)),
        discv5.encode_message(2, b"\x01" * 8, (7, bytes(16), 9000)),
        discv5.encode_message(3, b"\x02", ([256, 255, 254],)),
        discv5.encode_message(3, b"\x02", ([0],)),
        discv5.encode_message(4, b"\x03", (1, [RECORD])),
        discv5.encode_message(4, b"\x03", (2, [])),
        discv5.encode_message(5, b"\x04", (b"eth", b"hello")),
        discv5.encode_message(6, b"\x04", (b"world",)),
    ]
    for m in out:
        discv5.decode_message(m)
    enr.Record.decode(RECORD)
    return out


def eth_selector(kind: int, version: int) -> int:
    return next(s for s in range(256) if s % ETH_KINDS == kind and VERSIONS[(s >> 4) % 5] == version)


def eth_messages() -> list[bytes]:
    status = {
        v: eth.encode_status(v, 1337, HASH, b"\x01\x02\x03\x04", 0, b"\x01", HASH, 0, 9, HASH)
        for v in VERSIONS
    }
    seeds: list[tuple[int, int, bytes]] = [(0, v, status[v]) for v in VERSIONS]
    seeds += [
        (1, 69, eth.encode_get_block_headers(5, 100, 64, 0, False)),
        (1, 69, eth.encode_get_block_headers(6, HASH, 1, 3, True)),
        (2, 69, _genesis_header()),
        (3, 69, eth.encode_id_and_raw_list(7, [b"\xc0", rlp.encode([b"\x01", b"\x02"])])),
        (4, 69, eth.encode_hash_request(8, [HASH, HASH[::-1]])),
        (5, 69, eth.encode_block_range(0, 9, HASH)),
        (6, 69, rlp.encode([b"\x02\x03", [100, 200], [HASH, HASH[::-1]]])),
        (6, 72, rlp.encode([b"\x03", [131072], [HASH], b"\xff" * 16])),
        (7, 69, rlp.encode([[HASH, 9], [HASH[::-1], 10]])),
        (8, 70, rlp.encode([9, 2, [HASH]])),
        (9, 70, eth.encode_receipts70(9, False, [rlp.encode([[b"\x01", 21000, bytes(256), []]])])),
        (10, 72, rlp.encode([10, [[HASH], b"\x01" * 16]])),
        (11, 72, eth.encode_cells(11, [HASH], [rlp.encode([b"\x00" * 64])], b"\x01" * 16)),
        (12, 69, eth.encode_enr_entry(b"\xfc\x64\xec\x04", 1150000)),
        (12, 69, rlp.encode([b"\xfc\x64\xec\x04", 1150000])),
        (13, 69, rlp.encode([[b"\x01"], b"\x02", [[b"\x03"]]])),
    ]
    return [bytes([eth_selector(k, v)]) + b for k, v, b in seeds]


def _genesis_header() -> bytes:
    fields: list[Any] = [
        bytes(32),
        bytes.fromhex("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"),
        bytes(20),
        HASH,
        HASH,
        HASH,
        bytes(256),
        1,
        0,
        30_000_000,
        0,
        0,
        b"",
        bytes(32),
        bytes(8),
        1_000_000_000,
        HASH,
        0,
        0,
        HASH,
        HASH,
    ]  # a post-Cancun/Prague header: base fee, withdrawals, blob gas, beacon root, requests hash
    raw = rlp.encode(fields)
    eth.Header.decode(raw)
    return raw


def tm2_messages() -> list[bytes]:
    bid = {"hash": HASH, "parts": {"total": 1, "hash": HASH}}
    bits = {"bits": 4, "elems": [5]}
    vote = {
        "type": 2,
        "height": 5,
        "round": 0,
        "block_id": bid,
        "timestamp": (1_700_000_000, 5),
        "validator_address": "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5",
        "validator_index": 0,
        "signature": b"\x01" * 64,
    }
    consensus = [
        (
            "NewRoundStepMessage",
            {"height": 7, "round": 0, "step": 3, "seconds_since_start_time": 1, "last_commit_round": 0},
        ),
        (
            "NewValidBlockMessage",
            {
                "height": 7,
                "round": 1,
                "block_parts_header": bid["parts"],
                "block_parts": {"bits": 1, "elems": [1]},
                "is_commit": False,
            },
        ),
        (
            "ProposalMessage",
            {
                "type": 32,
                "height": 7,
                "round": 0,
                "pol_round": -1,
                "block_id": bid,
                "timestamp": (1_700_000_000, 0),
                "signature": b"\x02" * 64,
            },
        ),
        ("ProposalPOLMessage", {"height": 7, "proposal_pol_round": 0, "proposal_pol": bits}),
        (
            "BlockPartMessage",
            {
                "height": 5,
                "round": 0,
                "index": 0,
                "bytes": b"\xab" * 64,
                "proof_total": 1,
                "proof_index": 0,
                "leaf_hash": HASH,
                "aunts": [],
            },
        ),
        ("VoteMessage", vote),
        ("HasVoteMessage", {"height": 5, "round": 0, "type": 1, "index": 1}),
        ("VoteSetMaj23Message", {"height": 5, "round": 0, "type": 2, "block_id": bid}),
        ("VoteSetBitsMessage", {"height": 5, "round": 0, "type": 2, "block_id": bid, "votes": bits}),
    ]
    out = []
    for name, fields in consensus:
        bz = c.encode_consensus(name, fields)
        c.decode_consensus(bz)
        out.append(b"\x00" + bz)
    for name, height in [
        ("BlockRequest", 5),
        ("NoBlockResponse", 5),
        ("StatusRequest", 0),
        ("StatusResponse", 9),
    ]:
        bz = c.encode_blockchain(name, height)
        c.decode_blockchain(bz)
        out.append(b"\x01" + bz)
    tx = c.encode_mempool(b"\x0a\x0b" * 20)
    c.decode_mempool(tx)
    out.append(b"\x02" + tx)
    return out


def main() -> None:
    msgs = discv5_messages()
    doc = {
        "description": "Seeds encoded by peerwire._core (rust/fuzz/encode_seeds.py); each decodes again.",
        "discv5_message": [m.hex() for m in msgs],
        "discv5_packet_plaintext": [m.hex() for m in msgs],
        "eth_messages": [m.hex() for m in eth_messages()],
        "tm2_consensus": [m.hex() for m in tm2_messages()],
    }
    out = Path(__file__).with_name("encoded_seeds.json")
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{out}: " + ", ".join(f"{k} {len(v)}" for k, v in doc.items() if isinstance(v, list)))


if __name__ == "__main__":
    main()
