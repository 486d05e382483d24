"""discv5 wire codec (peerwire._core.discv5) against every tests/vectors/discv5.json packet
and crypto primitive, plus the codec's session and bad-input rules."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
from tests.conftest import load_vector

from peerwire._core import discv5, enr
from peerwire.errors import DecodeError, HandshakeError

D: Any = load_vector("discv5.json")
P = {p["name"]: p for p in D["packets"]}
KEY_A = bytes.fromhex(D["keys"]["node_a"]["private_key"])
KEY_B = bytes.fromhex(D["keys"]["node_b"]["private_key"])
ID_A = bytes.fromhex(D["keys"]["node_a"]["node_id"])
ID_B = bytes.fromhex(D["keys"]["node_b"]["node_id"])
PUB_B = bytes.fromhex(D["keys"]["node_b"]["public_key_compressed"])
RECORD_A = bytes.fromhex(P["ping_handshake_enr"]["decoded"]["authdata"]["record"])
ADDR = "127.0.0.1:30303"
PING = 1


def _h(s: str) -> bytes:
    return bytes.fromhex(s)


def _codec_b() -> discv5.Codec:
    rec = enr.Record.sign_v4(KEY_B, 1, [])
    return discv5.Codec(KEY_B, rec.raw)


def test_crypto_primitives() -> None:
    c = D["crypto_primitives"]
    e = c["ecdh"]["values"]
    assert discv5.ecdh(_h(e["secret-key"]), _h(e["public-key"])) == _h(e["shared-secret"])
    k = c["key_derivation"]["values"]
    keys = discv5.derive_keys(
        _h(k["ephemeral-key"]),
        _h(k["dest-pubkey"]),
        _h(k["node-id-a"]),
        _h(k["node-id-b"]),
        _h(k["challenge-data"]),
    )
    assert keys == (_h(k["initiator-key"]), _h(k["recipient-key"]))
    n = c["id_nonce_signing"]["values"]
    sig = discv5.id_signature(
        _h(n["static-key"]), _h(n["challenge-data"]), _h(n["ephemeral-pubkey"]), _h(n["node-id-B"])
    )
    assert sig == _h(n["id-signature"])
    g = c["aes_gcm"]["values"]
    ct = discv5.encrypt_gcm(_h(g["encryption-key"]), _h(g["nonce"]), _h(g["pt"]), _h(g["ad"]))
    assert ct == _h(g["message-ciphertext"])


def test_ping_message_vector() -> None:
    p = P["ping_message"]
    hc = p["header_comments"]
    data = _h(p["hex"])
    args = (hc["ping.enr-seq"],)
    enc = discv5.encode_message_packet(
        ID_B, ID_A, bytes(16), _h(hc["nonce"]), _h(hc["read-key"]), PING, _h(hc["ping.req-id"]), args
    )
    assert enc == data
    b = _codec_b()
    assert b.decode(data, ADDR, 0.0) == ("unknown", ID_A, _h(hc["nonce"]), None, None)
    b.store_session(ID_A, ADDR, bytes(16), _h(hc["read-key"]), RECORD_A)
    kind, src, _nonce, msg, node = b.decode(data, ADDR, 0.0)
    assert (kind, src, node) == ("message", ID_A, None)
    assert msg == (PING, _h("00000001"), (2,))
    assert b.decode(data, "127.0.0.1:30304", 0.0)[0] == "unknown"  # session bound to ip:port


def test_whoareyou_vector() -> None:
    p = P["whoareyou"]
    hc = p["header_comments"]
    data = _h(p["hex"])
    enc = discv5.encode_whoareyou_packet(
        ID_B, bytes(16), _h(hc["whoareyou.request-nonce"]), _h(hc["whoareyou.id-nonce"]), 0
    )
    assert enc == data
    kind, _src, nonce, payload, _ = _codec_b().decode(data, ADDR, 0.0)
    assert (kind, nonce) == ("whoareyou", _h(hc["whoareyou.request-nonce"]))
    assert payload == (_h(hc["whoareyou.id-nonce"]), 0, _h(hc["whoareyou.challenge-data"]))


@pytest.mark.parametrize("name", ["ping_handshake", "ping_handshake_enr"])
def test_handshake_vectors(name: str) -> None:
    p = P[name]
    hc = p["header_comments"]
    data = _h(p["hex"])
    with_record = name.endswith("_enr")
    cdata = _h(hc["whoareyou.challenge-data"])
    pkt, ik, _rk = discv5.encode_handshake_packet(
        KEY_A,
        PUB_B,
        cdata,
        _h(hc["ephemeral-key"]),
        RECORD_A if with_record else None,
        bytes(16),
        _h(hc["nonce"]),
        PING,
        _h(hc["ping.req-id"]),
        (hc["ping.enr-seq"],),
    )
    assert pkt == data
    assert ik == _h(hc["read-key"])
    b = _codec_b()
    with pytest.raises(HandshakeError):  # no challenge pending
        b.decode(data, ADDR, 0.0)
    b.store_challenge(ID_A, ADDR, cdata, None if with_record else RECORD_A, 0.0)
    kind, src, _n, msg, node = b.decode(data, ADDR, 0.2)
    assert (kind, src, node) == ("message", ID_A, RECORD_A)
    assert msg == (PING, _h("00000001"), (1,))
    assert b.has_session(ID_A, ADDR)
    with pytest.raises(HandshakeError):  # replayed handshake
        b.decode(data, ADDR, 0.3)


def test_bad_packets() -> None:
    b = _codec_b()
    data = _h(P["ping_message"]["hex"])
    for short in (b"", data[:40], data[:62]):
        assert b.decode(short, ADDR, 0.0)[0] == "not_discv5"
    with pytest.raises(DecodeError):
        b.decode(data + bytes(1280), ADDR, 0.0)
    # A packet masked for another node does not unmask.
    a = discv5.Codec(KEY_A, RECORD_A)
    assert a.decode(data, ADDR, 0.0)[0] == "not_discv5"
    # A bad GCM tag inside a session: undecryptable, i.e. "unknown" (WHOAREYOU).
    b.store_session(ID_A, ADDR, bytes(16), bytes(16), RECORD_A)
    bad = data[:-1] + bytes([data[-1] ^ 1])
    assert b.decode(bad, ADDR, 0.0)[0] == "unknown"
    for _ in range(200):  # random garbage never raises anything but typed errors
        junk = os.urandom(63 + os.urandom(1)[0] * 4)
        with contextlib.suppress(DecodeError, HandshakeError):
            b.decode(junk, ADDR, 0.0)


def test_request_id_limit() -> None:
    ok = discv5.encode_message(PING, bytes(8), (1,))
    assert discv5.decode_message(ok) == (PING, bytes(8), (1,))
    with pytest.raises(DecodeError, match="request ID"):
        discv5.decode_message(discv5.encode_message(PING, bytes(9), (1,)))


def test_all_messages_roundtrip() -> None:
    msgs: list[tuple[int, bytes, tuple[Any, ...]]] = [
        (1, b"\x01", (5,)),
        (2, b"\x01", (5, b"\x7f\x00\x00\x01", 30303)),
        (3, b"\x01", ([256, 255, 254],)),
        (4, b"\x01", (1, [RECORD_A])),
        (5, b"\x01", (b"proto", b"req")),
        (6, b"\x01", (b"resp",)),
    ]
    for m in msgs:
        assert discv5.decode_message(discv5.encode_message(*m)) == m
