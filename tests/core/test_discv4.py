"""discv4 wire codec (peerwire._core.discv4) against every tests/vectors/discv4.json packet."""

from __future__ import annotations

import contextlib
import ipaddress
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import load_vector

from peerwire import devp2p
from peerwire._core import discv4, keccak, rlp
from peerwire.errors import DecodeError, InvalidKeyError

D: Any = load_vector("discv4.json")
SIGNER = devp2p.PrivateKey.from_hex(D["signer"]["private_key"])
PACKETS = {p["name"]: p for p in D["packets"]}


def _ep(e: discv4.Endpoint) -> dict[str, Any]:
    return {"ip": str(ipaddress.ip_address(e.ip)), "udp": e.udp, "tcp": e.tcp}


@pytest.mark.parametrize("name", list(PACKETS))
def test_vector_hash_and_signature(name: str) -> None:
    p = PACKETS[name]
    raw = bytes.fromhex(p["hex"])
    assert len(raw) == p["length"]
    h, sender, ptype = discv4.verify_head(raw)
    assert h.hex() == p["hash"]
    assert sender.hex() == D["signer"]["public_key"]
    assert ptype == p["packet_type"]


@pytest.mark.parametrize("name", [n for n, p in PACKETS.items() if p["accepted_by_current_geth"]])
def test_vector_decodes_like_geth(name: str) -> None:
    p = PACKETS[name]
    e = p["expected"]
    ptype, h, _sender, sender_id, f = discv4.decode(bytes.fromhex(p["hex"]))
    assert h.hex() == p["hash"] and sender_id.hex() == D["signer"]["node_id"]
    assert f.expiration == e["expiration"]
    assert [r.hex() for r in f.rest] == e["rest"]
    if e["type"] == "ping":
        assert ptype == 1 and f.version == e["version"]
        for side in ("from", "to"):
            endpoint = f.from_ if side == "from" else f.to
            got = _ep(endpoint)
            assert got == {k: e[side][k] for k in ("ip", "udp", "tcp")}
            assert endpoint.ip.hex() == e[side]["ip_hex"]
        assert f.enr_seq == e["enr_seq"]
    elif e["type"] == "findnode":
        assert ptype == 3 and f.target.hex() == e["target"]
    elif e["type"] == "neighbours":
        assert ptype == 4
        got = [
            {"ip": str(ipaddress.ip_address(ip)), "ip_hex": ip.hex(), "udp": u, "tcp": t, "id": i.hex()}
            for ip, u, t, i in ((n.ip, n.udp, n.tcp, n.id) for n in f.nodes)
        ]
        assert got == e["nodes"]
    else:  # pragma: no cover - every accepted vector type is listed above
        pytest.fail(f"unexpected vector type {e['type']}")


@pytest.mark.parametrize("name", [n for n, p in PACKETS.items() if not p["accepted_by_current_geth"]])
def test_list_enr_seq_is_rejected_as_in_current_geth(name: str) -> None:
    p = PACKETS[name]
    assert p["enr_seq_is_list"]
    with pytest.raises(DecodeError, match="enr-seq"):
        discv4.decode(bytes.fromhex(p["hex"]))


def test_roundtrip_every_type() -> None:
    sk = SIGNER.to_bytes()
    me = (bytes([127, 0, 0, 1]), 30303, 30303)
    pkt, h = discv4.encode_ping(sk, me, (bytes(16), 1, 0), 123, 1_700_000_000_000)
    t, h2, sender, _, f = discv4.decode(pkt)
    assert (t, h2, f.enr_seq, (f.from_.ip, f.from_.udp, f.from_.tcp)) == (1, h, 1_700_000_000_000, me)
    assert sender == SIGNER.public_key.to_bytes()
    pkt, h = discv4.encode_pong(sk, me, b"\x01" * 32, 5)
    t, _, _, _, f = discv4.decode(pkt)
    assert (t, f.reply_tok, f.enr_seq) == (2, b"\x01" * 32, None)
    pkt, _ = discv4.encode_findnode(sk, SIGNER.public_key.to_bytes(), 9)
    assert discv4.decode(pkt)[4].target == SIGNER.public_key.to_bytes()
    pkt, req_hash = discv4.encode_enr_request(sk, 9)
    assert discv4.decode(pkt)[0] == 5
    rec = devp2p.ENR.build(SIGNER, seq=3, ip="127.0.0.1", udp=1)
    pkt, _ = discv4.encode_enr_response(sk, req_hash, rec.to_bytes())
    t, _, _, _, f = discv4.decode(pkt)
    assert t == 6 and f.reply_tok == req_hash and f.record.raw == rec.to_bytes()


def test_neighbors_split_at_12_and_size_bound() -> None:
    node = (bytes(range(16)), 65535, 65535, SIGNER.public_key.to_bytes())
    pkts = discv4.encode_neighbors(SIGNER.to_bytes(), [node] * 16, 2**64 - 1)
    assert len(pkts) == 2 and discv4.MAX_NEIGHBORS == 12
    assert all(len(p) <= discv4.MAX_PACKET_SIZE for p in pkts)
    assert [len(discv4.decode(p)[4].nodes) for p in pkts] == [12, 4]
    assert len(discv4.encode_neighbors(SIGNER.to_bytes(), [], 1)) == 1


def test_bad_packets() -> None:
    good, _ = discv4.encode_enr_request(SIGNER.to_bytes(), 9)
    with pytest.raises(DecodeError):
        discv4.decode(good[:97])  # too small
    with pytest.raises(DecodeError):
        discv4.decode(good + b"\x00" * 1280)  # oversize
    bad_hash = bytes([good[0] ^ 1]) + good[1:]
    with pytest.raises(DecodeError, match="hash"):
        discv4.decode(bad_hash)
    # unknown type, validly hashed and signed by construction: re-frame by hand
    body = bytes([7]) + bytes.fromhex("c0")
    sig = SIGNER.sign_recoverable(keccak.keccak256(body))
    pkt = keccak.keccak256(sig + body) + sig + body
    with pytest.raises(DecodeError, match="unknown packet type"):
        discv4.decode(pkt)
    # trailing junk after the RLP list is tolerated
    body = bytes([5]) + rlp.encode([9, b"\x01"]) + b"junk"
    sig = SIGNER.sign_recoverable(keccak.keccak256(body))
    t, _, _, _, f = discv4.decode(keccak.keccak256(sig + body) + sig + body)
    assert t == 5 and f.expiration == 9 and f.rest == [b"\x01"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1400))
def test_random_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(DecodeError, InvalidKeyError):
        discv4.decode(data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(PACKETS)), st.integers(min_value=98, max_value=460), st.integers(0, 255))
def test_mutated_vectors_are_rejected_or_decoded(name: str, pos: int, value: int) -> None:
    raw = bytearray(bytes.fromhex(PACKETS[name]["hex"]))
    body = bytes(raw[97:])
    if pos - 97 >= len(body):
        return
    mutated = bytearray(body)
    mutated[pos - 97] = value
    # re-sign and re-hash so the mutation reaches the RLP decoder
    sig = SIGNER.sign_recoverable(keccak.keccak256(bytes(mutated)))
    pkt = keccak.keccak256(sig + bytes(mutated)) + sig + bytes(mutated)
    with contextlib.suppress(DecodeError, InvalidKeyError):
        discv4.decode(pkt)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_records_never_crash(data: bytes) -> None:
    with contextlib.suppress(DecodeError, InvalidKeyError):
        devp2p.ENR.decode(data)
