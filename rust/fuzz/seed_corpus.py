#!/usr/bin/env python3
"""Seed each fuzz target's corpus from the protocol test vectors.

Every hex string (and every ``enr:`` text) in the vector files a target reads
becomes one seed, with the mode/plan prefix bytes that target expects, so the
fuzzer starts from real, valid messages and mutates outwards. Usage:
``seed_corpus.py <vectors dir> <corpus root>``; idempotent (files are named
by content hash).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

HEX = re.compile(r"(?:0x)?((?:[0-9a-f]{2}){2,})")


def strings(node: object) -> list[str]:
    """Every string leaf of a JSON document."""
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []


def hex_values(doc: object) -> list[bytes]:
    out = []
    for s in strings(doc):
        m = HEX.fullmatch(s)
        if m:
            out.append(bytes.fromhex(m.group(1)))
    return out


def records(blobs: list[bytes]) -> bytes:
    """rlpx_frame input: flags 0, plan 0, then len(1)||frame-data records."""
    out = bytearray([0, 0])
    for b in blobs:
        b = b[:254]
        out += bytes([len(b)]) + b
    return bytes(out)


def seeds_for(vectors: Path) -> dict[str, list[bytes]]:
    load = lambda name: json.loads((vectors / name).read_text())  # noqa: E731
    eip8, frames, discv4 = load("rlpx_eip8.json"), load("rlpx_frames.json"), load("discv4.json")
    enr, tm2 = load("enr.json"), load("tm2.json")
    v5 = [bytes.fromhex(p["hex"]) for p in load("discv5.json")["packets"]]
    # Encoded by peerwire's own encoders (encode_seeds.py): messages with no byte vectors.
    encoded = json.loads((Path(__file__).with_name("encoded_seeds.json")).read_text())
    enc = {k: [bytes.fromhex(h) for h in v] for k, v in encoded.items() if isinstance(v, list)}
    devp2p = hex_values(eip8) + hex_values(frames) + hex_values(discv4) + hex_values(enr)
    tm2_hex = hex_values(tm2)
    enr_text = [s.encode() for s in strings(enr) + strings(discv4) if s.startswith("enr:")]
    packets = discv4["packets"]
    return {
        # mode 0: raw bytes off the socket; mode 1: body sealed to our key
        "rlpx_auth": [b"\x00" + b for b in hex_values(eip8)] + [b"\x01" + b for b in hex_values(eip8)],
        "rlpx_ack": [b"\x00" + b for b in hex_values(eip8)] + [b"\x01" + b for b in hex_values(eip8)],
        "rlpx_eip8_msgs": hex_values(eip8),
        "rlpx_frame": [*(records([b]) for b in hex_values(frames)), records(hex_values(frames)[:8])],
        "snappy": hex_values(frames),
        "p2p_base": [*hex_values(frames), b"\xc1\x04", b"\x04", b"\xc0"],
        "discv4_packet": [b"\x00" + bytes.fromhex(p["hex"]) for p in packets]
        + [b"\x01" + bytes([p["packet_type"]]) + bytes.fromhex(p["packet_data"]) for p in packets],
        "discv4_body": [bytes([p["packet_type"]]) + bytes.fromhex(p["packet_data"]) for p in packets],
        "enr": hex_values(enr) + hex_values(discv4),
        "enr_text": enr_text,
        "rlp": devp2p,
        "secret_frames": [b"\x00" + b for b in tm2_hex],
        "secret_handshake": [b"\x00" + b for b in tm2_hex] + [b"\x01" + b for b in tm2_hex],
        "tm2_packet": [b"\xff" + b for b in tm2_hex],
        "mconn": [b"\x00" + b for b in tm2_hex],
        "amino": tm2_hex,
        "nodeinfo": tm2_hex,
        "pex": tm2_hex,
        # discv5_packet modes: 0 no state, 1 session (vector 0), 2 challenge (vector 3),
        # 3 challenge with A's record known (vector 2), 4 a plaintext sealed in the session
        "discv5_packet": [b"\x00" + p for p in v5]
        + [b"\x01" + v5[0], b"\x02" + v5[3], b"\x03" + v5[2]]
        + [b"\x04" + m for m in enc["discv5_packet_plaintext"]],
        "discv5_message": enc["discv5_message"],
        "eth_messages": enc["eth_messages"],
        "tm2_consensus": enc["tm2_consensus"],
    }


def main() -> None:
    vectors, root = Path(sys.argv[1]), Path(sys.argv[2])
    for target, seeds in seeds_for(vectors).items():
        d = root / target
        d.mkdir(parents=True, exist_ok=True)
        for s in seeds:
            (d / hashlib.sha1(s).hexdigest()).write_bytes(s)
        print(f"{target}: {len(list(d.iterdir()))} seeds")


if __name__ == "__main__":
    main()
