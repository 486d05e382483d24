"""peerwire._core.rlpx against the EIP-8 / go-ethereum vectors, round-trips and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import load_vector

from peerwire._core import rlpx, secp256k1
from peerwire.errors import DecodeError, FrameError, HandshakeError, InvalidKeyError, LocalProtocolError

EIP8: Any = load_vector("rlpx_eip8.json")
FRAMES: Any = load_vector("rlpx_frames.json")


def h(s: str) -> bytes:
    return bytes.fromhex(s)


def key(name: str) -> bytes:
    return h(EIP8["keys"][name]["hex"])


def pub(name: str) -> bytes:
    return h(EIP8["public_keys"][name]["hex"])


def packet(name: str) -> bytes:
    return h(EIP8["packets"][name]["hex"])


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


SECRETS = EIP8["secrets_b_auth2_ack2"]


@pytest.mark.parametrize("name", ["auth2", "auth3"])
def test_recipient_accepts_every_eip8_auth_vector(name: str) -> None:
    hs = rlpx.Handshake.recipient(key("static_key_b"), key("ephemeral_key_b"), key("nonce_b"))
    pkt = packet(name)
    assert hs.feed(pkt[:-1]) is None
    done = hs.feed(pkt[-1:])
    assert done is not None
    assert done.leftover == b""
    assert done.aes_secret.hex() == SECRETS["aes_secret"]
    assert done.mac_secret.hex() == SECRETS["mac_secret"]
    assert done.remote_public_key == pub("static_pub_a")
    if name == "auth2":
        assert done.ingress_mac_digest(b"foo").hex() == SECRETS["ingress_mac_foo"]
    # the ack we send back is EIP-8 and sized by its prefix
    assert int.from_bytes(done.send[:2], "big") + 2 == len(done.send)
    assert 100 + 113 + 100 < len(done.send) <= 2048


@pytest.mark.parametrize("name", ["ack2", "ack3"])
def test_initiator_accepts_every_eip8_ack_vector(name: str) -> None:
    hs, auth = rlpx.Handshake.initiator(
        key("static_key_a"), pub("static_pub_b"), key("ephemeral_key_a"), key("nonce_a")
    )
    assert int.from_bytes(auth[:2], "big") + 2 == len(auth)
    done = hs.feed(packet(name) + b"extra")
    assert done is not None
    assert done.send == b""
    assert done.leftover == b"extra"
    assert done.aes_secret.hex() == SECRETS["aes_secret"]
    assert done.mac_secret.hex() == SECRETS["mac_secret"]
    if name == "ack2":
        want = EIP8["intermediate_derived"]["b_egress_mac_foo"]
        assert done.ingress_mac_digest(b"foo").hex() == want


def test_our_auth_is_accepted_by_recipient_with_vector_keys() -> None:
    ini, auth = rlpx.Handshake.initiator(key("static_key_a"), pub("static_pub_b"))
    rec = rlpx.Handshake.recipient(key("static_key_b"))
    d_rec = rec.feed(auth)
    assert d_rec is not None
    d_ini = ini.feed(d_rec.send)
    assert d_ini is not None
    assert d_ini.aes_secret == d_rec.aes_secret
    assert d_ini.egress_mac_digest(b"x") == d_rec.ingress_mac_digest(b"x")
    assert d_ini.ingress_mac_digest(b"x") == d_rec.egress_mac_digest(b"x")


def test_legacy_vectors_are_refused() -> None:
    rec = rlpx.Handshake.recipient(key("static_key_b"))
    with pytest.raises(HandshakeError, match="legacy"):
        rec.feed(packet("auth1"))
    ini, _ = rlpx.Handshake.initiator(key("static_key_a"), pub("static_pub_b"))
    with pytest.raises(HandshakeError, match="legacy"):
        ini.feed(packet("ack1"))


def vector_sessions() -> tuple[rlpx.Session, rlpx.Session]:
    e2e = FRAMES["end_to_end_derived"]
    aes, mac = h(e2e["aes_secret"]), h(e2e["mac_secret"])
    mac1 = xor(mac, key("nonce_b")) + packet("auth2")
    mac2 = xor(mac, key("nonce_a")) + packet("ack2")
    a = rlpx.Session.from_secrets(aes, mac, mac1, mac2, pub("static_pub_b"))
    b = rlpx.Session.from_secrets(aes, mac, mac2, mac1, pub("static_pub_a"))
    return a, b


def test_derived_end_to_end_frames() -> None:
    a, b = vector_sessions()
    assert a.remote_public_key == pub("static_pub_b")
    for fr in FRAMES["end_to_end_derived"]["frames"]:
        tx, rx = (a, b) if fr["direction"] == "A->B" else (b, a)
        tx.snappy = rx.snappy = fr["snappy"]
        wire = tx.seal(fr["msg_code"], h(fr["payload_rlp"]))
        assert wire.hex() == fr["frame_hex"]
        assert rx.feed(wire) == [(fr["msg_code"], h(fr["payload_rlp"]))]


def test_small_snappy_payloads() -> None:
    for row in FRAMES["snappy_small_payloads"]["rows"]:
        assert rlpx.encode_code(row["msg_code"]) + h(row["rlp_payload"]) == h(
            row["frame_data_without_snappy"]
        )


def test_message_code_encoding() -> None:
    assert rlpx.encode_code(0) == b"\x80"
    assert rlpx.encode_code(0x7F) == b"\x7f"
    assert rlpx.encode_code(0x80) == b"\x81\x80"
    assert rlpx.encode_code(2**64 - 1) == b"\x88" + b"\xff" * 8


def pair() -> tuple[rlpx.Session, rlpx.Session]:
    a = rlpx.Session.from_secrets(b"\x01" * 32, b"\x02" * 32, b"ab", b"ba")
    b = rlpx.Session.from_secrets(b"\x01" * 32, b"\x02" * 32, b"ba", b"ab")
    return a, b


@settings(max_examples=60, deadline=None)
@given(
    msgs=st.lists(st.tuples(st.integers(0, 2**64 - 1), st.binary(max_size=3000)), max_size=8),
    snappy=st.booleans(),
    chunk=st.integers(1, 5000),
    batch=st.booleans(),
)
def test_codec_roundtrip(msgs: list[tuple[int, bytes]], snappy: bool, chunk: int, batch: bool) -> None:
    a, b = pair()
    a.snappy = b.snappy = snappy
    wire = a.seal_batch(msgs) if batch else b"".join(a.seal(c, p) for c, p in msgs)
    got: list[tuple[int, bytes]] = []
    for i in range(0, len(wire), chunk):
        got.extend(b.feed(wire[i : i + chunk]))
    assert got == msgs
    assert not b.mid_frame


@settings(max_examples=40, deadline=None)
@given(payload=st.binary(min_size=1, max_size=200), pos=st.data())
def test_any_flipped_bit_is_a_frame_error(payload: bytes, pos: st.DataObject) -> None:
    a, b = pair()
    wire = bytearray(a.seal(3, payload))
    i = pos.draw(st.integers(0, len(wire) - 1))
    wire[i] ^= 1 << pos.draw(st.integers(0, 7))
    with pytest.raises(FrameError, match="MAC"):
        b.feed(bytes(wire))
    with pytest.raises(LocalProtocolError):
        b.feed(b"")


def test_bad_header_and_frame_mac() -> None:
    a, b = pair()
    wire = bytearray(a.seal(1, b"hello"))
    wire[20] ^= 1
    with pytest.raises(FrameError, match="bad header MAC"):
        b.feed(bytes(wire))
    a, b = pair()
    wire = bytearray(a.seal(1, b"hello"))
    wire[-1] ^= 1
    with pytest.raises(FrameError, match="bad frame MAC"):
        b.feed(bytes(wire))


def test_oversize_frame_refused_before_body() -> None:
    a, b = pair()
    b.set_max_frame_size(1000)
    wire = a.seal(1, b"x" * 2000)
    with pytest.raises(FrameError, match="exceeds"):
        b.feed(wire[:32])
    with pytest.raises(LocalProtocolError):
        a.seal(1, bytes(rlpx.MAX_PAYLOAD_SIZE))  # code byte makes it 2^24


def test_max_size_frame_roundtrip() -> None:
    a, b = pair()
    payload = bytes(range(256)) * ((rlpx.MAX_FRAME_SIZE - 1) // 256) + b"\x01" * (
        (rlpx.MAX_FRAME_SIZE - 1) % 256
    )
    assert len(payload) == rlpx.MAX_FRAME_SIZE - 1
    assert b.feed(a.seal(0x7F, payload)) == [(0x7F, payload)]


@pytest.mark.parametrize(
    "bad",
    [b"\x00\x01", b"\x81\x05", b"\x82\x00\x01\x01", b"\xc0\x01", b"\x89" + b"\x01" * 9, b"", b"\x82\x01"],
)
def test_non_canonical_code_is_a_decode_error(bad: bytes) -> None:
    a, b = pair()
    with pytest.raises(DecodeError, match="invalid message code"):
        b.feed(a.seal_frame_data(bad))


def test_seal_frame_data_matches_seal() -> None:
    a1, _ = pair()
    a2, _ = pair()
    assert a1.seal_frame_data(b"\x80payload") == a2.seal(0, b"payload")


def test_snappy_length_over_16mib_and_corrupt_data() -> None:
    a, b = pair()
    b.snappy = True
    bomb = b"\x80\x80\x80\x08" + b"\x00" * 8  # varint 2^24
    with pytest.raises(FrameError, match="16 MiB"):
        b.feed(a.seal(1, bomb))
    a, b = pair()
    b.snappy = True
    with pytest.raises(FrameError, match="snappy"):
        b.feed(a.seal(1, b"\x05\xff\xff"))


def test_handshake_bad_inputs() -> None:
    sk = key("static_key_b")
    auth2 = packet("auth2")
    with pytest.raises(HandshakeError, match="too big"):
        rlpx.Handshake.recipient(sk).feed(b"\x08\x01")
    assert rlpx.Handshake.recipient(sk).feed(auth2[:200]) is None  # truncated: needs more
    bad = bytearray(auth2)
    bad[300] ^= 1
    with pytest.raises(HandshakeError, match="MAC"):
        rlpx.Handshake.recipient(sk).feed(bytes(bad))
    bad = bytearray(auth2)
    bad[10] ^= 1
    with pytest.raises(InvalidKeyError, match="curve"):
        rlpx.Handshake.recipient(sk).feed(bytes(bad))
    with pytest.raises(HandshakeError):
        rlpx.Handshake.recipient(sk).feed(b"\x00\x05" + b"\x04" * 5)
    with pytest.raises(InvalidKeyError):
        rlpx.Handshake.initiator(sk, b"\x00" * 64)
    with pytest.raises(InvalidKeyError):
        rlpx.Handshake.recipient(b"\x00" * 32)
    # auth for someone else: MAC fails
    with pytest.raises(HandshakeError):
        rlpx.Handshake.recipient(key("static_key_a")).feed(auth2)


def test_secp256k1_ecdh_agrees_on_static_shared_secret() -> None:
    want = EIP8["intermediate_derived"]["static_shared_secret"]
    assert secp256k1.Secp256k1SecretKey(key("static_key_a")).ecdh(pub("static_pub_b")).hex() == want
