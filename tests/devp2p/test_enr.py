"""ENR (EIP-778) through devp2p.ENR / Node / LocalNode, against tests/vectors/enr.json."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from tests.conftest import load_vector

from peerwire import devp2p
from peerwire._clock import FakeClock
from peerwire._core import enr as core_enr
from peerwire._core import rlp
from peerwire.errors import DecodeError, InvalidKeyError, LocalProtocolError

V: Any = load_vector("enr.json")["record"]
KEY = devp2p.PrivateKey.from_hex(V["private_key"])
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_vector_decodes_and_verifies() -> None:
    rec = devp2p.ENR.decode(V["text"])
    assert rec.seq == V["seq"] == 1
    assert rec.node_id.hex() == V["node_id"]
    assert rec.signature.hex() == V["signature"]
    assert rec.to_bytes().hex() == V["rlp_hex"]
    assert str(rec) == V["text"]
    assert rec[b"ip"] == bytes.fromhex("7f000001") and rec.ip == "127.0.0.1"
    assert rec["udp"] == bytes.fromhex("765f") and rec.udp == 30303 and rec.tcp is None
    assert rec[b"id"] == b"v4"
    assert rec.keys() == [p["key"].encode() for p in V["pairs"]]
    for p in V["pairs"]:
        assert rec.raw_value(p["key"]).hex() == p["value_rlp"]
    with pytest.raises(KeyError):
        rec[b"tcp"]


def test_build_reproduces_vector_byte_for_byte() -> None:
    rec = devp2p.ENR.build(KEY, seq=1, ip="127.0.0.1", udp=30303)
    assert str(rec) == V["text"]


def test_node_parse_enr() -> None:
    n = devp2p.Node.parse(V["text"])
    assert n.id.hex() == V["node_id"]
    assert (n.ip, n.udp_port, n.tcp_port) == ("127.0.0.1", 30303, 0)
    assert n.record is not None and str(n.record) == V["text"]


def _resign_high_s(rec: devp2p.ENR) -> bytes:
    sig = rec.signature
    s = int.from_bytes(sig[32:], "big")
    high = sig[:32] + (N - s).to_bytes(32, "big")
    fields = rlp.decode(rec.to_bytes())
    fields[0] = high
    return rlp.encode(fields)


def test_high_s_and_tampered_signatures_rejected() -> None:
    rec = devp2p.ENR.decode(V["text"])
    high = _resign_high_s(rec)
    unverified = devp2p.ENR.decode(high, verify=False)
    with pytest.raises(InvalidKeyError):
        unverified.verify()
    with pytest.raises(InvalidKeyError):
        devp2p.ENR.decode(high)
    fields = rlp.decode(rec.to_bytes())
    fields[1] = b"\x02"  # seq changed, signature stale
    with pytest.raises(InvalidKeyError):
        devp2p.ENR.decode(rlp.encode(fields))


@pytest.mark.parametrize(
    "fields",
    [
        [b"\x00" * 64],  # fewer than two elements
        [b"\x00" * 64, b"\x01", b"id"],  # incomplete pair
        [b"\x00" * 64, b"\x01", b"ip", b"x", b"id", b"v4"],  # not sorted
        [b"\x00" * 64, b"\x01", b"id", b"v4", b"id", b"v4"],  # duplicate
        [b"\x00" * 64, b"\x01", b"k", b"x" * 300],  # over 300 bytes
    ],
)
def test_structure_errors(fields: list[bytes]) -> None:
    with pytest.raises(DecodeError):
        devp2p.ENR.decode(rlp.encode(fields), verify=False)


def test_text_form_rules() -> None:
    body = V["text"][4:]
    with pytest.raises(DecodeError):
        devp2p.ENR.decode("enr:" + body + "=")  # padding
    with pytest.raises(DecodeError):
        devp2p.ENR.decode("xyz:" + body)
    assert base64.urlsafe_b64decode(body + "==").hex() == V["rlp_hex"]
    with pytest.raises(DecodeError):
        devp2p.ENR.decode("enr:" + "A" * 1000)


def test_build_size_limit_and_extra_values() -> None:
    rec = devp2p.ENR.build(KEY, seq=7, ip="10.0.0.1", tcp=30303, udp=30304, extra={b"eth": [[b"\x01", 5]]})
    assert rec.raw_value(b"eth") == rlp.encode([[b"\x01", 5]])
    assert rec[b"eth"] == rlp.encode([[b"\x01", 5]])  # list value: raw RLP
    assert devp2p.ENR.decode(str(rec)) == rec
    with pytest.raises(LocalProtocolError):
        devp2p.ENR.build(KEY, extra={b"big": b"x" * 250})
    assert core_enr.SIZE_LIMIT == 300


def test_local_node_seq_starts_at_unix_ms_and_bumps() -> None:
    clock = FakeClock(wall_offset=1_700_000_000.0)
    stored: list[int] = []
    ln = devp2p.LocalNode(KEY, clock=clock, store_seq=stored.append)
    assert ln.seq == 1_700_000_000_000 and stored == [ln.seq]
    r1 = ln.update(ip="127.0.0.1", udp=30303)
    assert r1.seq == 1_700_000_000_001 and r1.ip == "127.0.0.1"
    assert ln.update(ip="127.0.0.1") is r1  # no change, no bump
    r2 = ln.set_extra(b"foo", b"bar")
    assert r2.seq == r1.seq + 1 and r2[b"foo"] == b"bar"
    r2.verify()
    assert stored[-1] == r2.seq
    with pytest.raises(LocalProtocolError):
        ln.set_extra(b"big", b"x" * 250)
    assert ln.seq == r2.seq and ln.record == r2  # failed change leaves state alone
    restored = devp2p.LocalNode(KEY, seq=stored[-1])
    assert restored.seq == r2.seq
