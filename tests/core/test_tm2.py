"""peerwire._core.tm2 against the TM2 vectors: golden KDF, nonces, handshake, packets, NodeInfo, discovery."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from peerwire._core import tm2 as core
from peerwire._core.ed25519 import Ed25519SecretKey
from peerwire.errors import DecodeError, FrameError, HandshakeError, InvalidKeyError


def test_all_32_golden_kdf_lines() -> None:
    lines = [ln for ln in (VECTORS / "tm2_kdf_golden.txt").read_text().splitlines() if ln.strip()]
    assert len(lines) == 32
    for ln in lines:
        dh, least, recv, send, challenge = ln.split(",")
        got = core.derive_secrets(bytes.fromhex(dh), least == "true")
        assert (got[0].hex(), got[1].hex(), got[2].hex()) == (recv, send, challenge)


def test_hkdf_extra_and_nonce_layout(vectors: Callable[[str], Any]) -> None:
    v = vectors("tm2.json")
    extra = v["hkdf_extra"]
    recv, send, ch = core.derive_secrets(bytes.fromhex(extra["dh_secret"]), True)
    assert (recv + send + ch).hex() == extra["okm"]
    for case in v["nonce_layout"]["cases"]:
        assert core.nonce(case["increments_from_zero"]).hex() == case["nonce"]
    assert core.nonce(0x0102030405060707 + 1).hex() == "000000000807060504030201"


def test_low_order_blacklist(vectors: Callable[[str], Any]) -> None:
    for p in vectors("tm2.json")["low_order_blacklist"]["points"]:
        assert core.has_small_order(bytes.fromhex(p["hex"]))
    assert not core.has_small_order(bytes(range(32)))


def _pair() -> tuple[core.SecretHandshake, core.SecretHandshake]:
    return (
        core.SecretHandshake(Ed25519SecretKey(b"\x01" * 32), b"\x11" * 32),
        core.SecretHandshake(Ed25519SecretKey(b"\x02" * 32), b"\x22" * 32),
    )


def test_deterministic_handshake(vectors: Callable[[str], Any]) -> None:
    v = vectors("tm2.json")["deterministic_handshake"]
    a, b = _pair()
    assert a.ephemeral_message().hex() == v["node_a_eph_message"]
    assert b.ephemeral_message().hex() == v["node_b_eph_message"]
    fa = a.read_ephemeral(b.ephemeral_message())
    fb = b.read_ephemeral(a.ephemeral_message())
    assert fa.hex() == v["frames"]["node_a_frame0"]["hex"]
    assert fb.hex() == v["frames"]["node_b_frame0"]["hex"]
    assert hashlib.sha256(fa).hexdigest() == v["frames"]["node_a_frame0"]["sha256"]
    assert a.read_auth(fb)
    assert not b.read_auth(fa[:1000])
    assert b.read_auth(fa[1000:])
    sa, remote_b, left_a = a.finish()
    sb, remote_a, left_b = b.finish()
    assert (remote_a.hex(), remote_b.hex()) == (v["node_a_pub_key"], v["node_b_pub_key"])
    assert left_a == left_b == b""
    ping = core.encode_ping()
    f1 = sa.seal(ping)
    assert f1.hex() == v["frames"]["node_a_frame1"]["hex"]
    assert sb.open(f1) == ping


def test_wire_layouts(vectors: Callable[[str], Any]) -> None:
    layouts = vectors("tm2.json")["handshake_wire_layouts"]
    assert layouts["ephemeral_pubkey_message"]["length"] == core.EPHEMERAL_MSG_SIZE == 35
    v = vectors("tm2.json")["deterministic_handshake"]
    assert len(bytes.fromhex(v["node_a_auth_sig_plaintext"])) == 101


@given(st.lists(st.binary(max_size=5000), max_size=8), st.integers(1, 3000))
def test_seal_open_is_a_byte_stream(writes: list[bytes], cut: int) -> None:
    a, b = _pair()
    fa, fb = a.read_ephemeral(b.ephemeral_message()), b.read_ephemeral(a.ephemeral_message())
    assert a.read_auth(fb) and b.read_auth(fa)
    sa, sb = a.finish()[0], b.finish()[0]
    wire = b"".join(sa.seal(w) for w in writes)
    assert len(wire) == sum(-(-len(w) // 1024) for w in writes) * core.SEALED_FRAME_SIZE
    got = b"".join(sb.open(wire[i : i + cut]) for i in range(0, len(wire), cut))
    assert got == b"".join(writes)
    assert sb.pending_ciphertext == 0


def test_bad_frames_and_exhaustion() -> None:
    a, b = _pair()
    fa, fb = a.read_ephemeral(b.ephemeral_message()), b.read_ephemeral(a.ephemeral_message())
    assert a.read_auth(fb) and b.read_auth(fa)
    sa, sb = a.finish()[0], b.finish()[0]
    frame = bytearray(sa.seal(b"hello"))
    frame[100] ^= 0xFF
    with pytest.raises(FrameError, match="failed to decrypt"):
        sb.open(bytes(frame))
    sa._set_counters(2**64 - 1, 0)
    with pytest.raises(FrameError, match="nonce"):
        sa.seal(b"x")


def test_bad_ephemeral_messages() -> None:
    a, b = _pair()
    with pytest.raises(HandshakeError, match="35 bytes"):
        a.read_ephemeral(b.ephemeral_message()[:34])
    a, _ = _pair()
    with pytest.raises(HandshakeError, match="low order"):
        a.read_ephemeral(b"\x22\x0a\x20" + bytes(32))


@pytest.mark.parametrize("idx", range(8))
def test_packet_vectors(vectors: Callable[[str], Any], idx: int) -> None:
    pk = vectors("tm2.json")["amino_packets"]["packets"][idx]
    raw = bytes.fromhex(pk["hex"])
    assert len(raw) == pk["length"]
    decoded, used = core.decode_packets(raw, 2000)
    assert used == len(raw) and len(decoded) == 1
    kind, ch, eof, data = decoded[0]
    if kind == 0:
        assert core.encode_ping() == raw
    elif kind == 1:
        assert core.encode_pong() == raw
    else:
        assert core.encode_msg_packet(ch, eof, data) == raw


def test_two_packet_message_vector(vectors: Callable[[str], Any]) -> None:
    pk = vectors("tm2.json")["amino_packets"]["packets"][8]
    want = "".join(p["hex"] for p in pk["packets"])
    assert core.encode_message(0x77, bytes(i % 256 for i in range(2048)), 1024).hex() == want


def test_packet_limits_and_bad_packets() -> None:
    assert core.max_packet_msg_size(1024) == 1056
    two = core.encode_message(0x77, bytes(2048), 1024)
    assert len(two) == 1044 + 1046
    with pytest.raises(DecodeError, match="read overflow"):
        core.decode_packets(core.encode_message(1, bytes(1100), 2048), 1056)
    with pytest.raises(DecodeError, match="unknown message type"):
        core.decode_packets(b"\x0b\x0a\x09/p2p.Pang", 1056)
    with pytest.raises(DecodeError, match="unknown field"):
        core.decode_packets(b"\x0e\x0a\x08/p2p.Msg\x12\x02\x20\x01", 1056)


@given(st.integers(0, 255), st.binary(max_size=3000))
def test_message_round_trip(ch: int, msg: bytes) -> None:
    wire = core.encode_message(ch, msg, 1024)
    pkts, used = core.decode_packets(wire, 1056)
    assert used == len(wire)
    assert all(p[1] == ch and p[0] == 2 for p in pkts)
    assert [p[2] for p in pkts] == [0] * (len(pkts) - 1) + [1]
    assert b"".join(p[3] for p in pkts) == msg


def test_discovery_vectors(vectors: Callable[[str], Any]) -> None:
    d = vectors("tm2.json")["discovery"]
    assert core.encode_pex_request().hex() == d["request"]["hex"]
    assert core.decode_pex(bytes.fromhex(d["request"]["hex"])) is None
    r = d["response_one_peer"]
    assert core.encode_pex_response(r["peers"]).hex() == r["hex"]
    assert core.decode_pex(bytes.fromhex(r["hex"])) == r["peers"]
    with pytest.raises(DecodeError, match="trailing"):
        core.decode_pex(bytes.fromhex(r["hex"]) + b"\x00")


def test_encode_chunks_controls_eof() -> None:
    wire = core.encode_chunks(5, bytes(2500), 1024, False)
    pkts, used = core.decode_packets(wire, 1056)
    assert used == len(wire) and [p[2] for p in pkts] == [0, 0, 0]
    wire = core.encode_chunks(5, bytes(2500), 1024, True)
    assert [p[2] for p in core.decode_packets(wire, 1056)[0]] == [0, 0, 1]
    assert wire == core.encode_message(5, bytes(2500), 1024)
    assert core.encode_chunks(5, b"", 1024, True) == core.encode_msg_packet(5, 1, b"")


@given(
    st.lists(st.tuples(st.sampled_from([1, 2]), st.binary(max_size=3000)), max_size=6), st.integers(1, 2000)
)
def test_packet_reader_reassembles_any_cut(msgs: list[tuple[int, bytes]], cut: int) -> None:
    wire = (
        core.encode_ping() + b"".join(core.encode_message(ch, m, 1024) for ch, m in msgs) + core.encode_pong()
    )
    reader = core.PacketReader([(1, 1 << 20), (2, 1 << 20)], 1056)
    events = [ev for i in range(0, len(wire), cut) for ev in reader.feed(wire[i : i + cut], 0.0)]
    assert events == [(0, 0, b""), *[(2, ch, m) for ch, m in msgs], (1, 0, b"")]


def test_packet_reader_limits() -> None:
    with pytest.raises(DecodeError, match="unknown channel 9"):
        core.PacketReader([(1, 10)], 1056).feed(core.encode_msg_packet(9, 1, b"x"), 0.0)
    with pytest.raises(DecodeError, match="capacity"):
        core.PacketReader([(1, 10)], 1056).feed(core.encode_message(1, bytes(11), 1024), 0.0)
    # gno v1.7.1 MaxRecvBufferBytes: incomplete messages over all channels, the last packet counted.
    reader = core.PacketReader([(1, 5000), (2, 5000)], 1056, 3000)
    assert reader.feed(core.encode_chunks(1, bytes(2000), 1024, last=False), 1.0) == []
    assert reader.buffered == 2000 and reader.assembling == 1
    assert reader.oldest_assembly() == (1, 1.0)
    with pytest.raises(DecodeError, match="budget exceeded: 3001 > 3000"):
        reader.feed(core.encode_message(2, bytes(1001), 1024), 2.0)


def test_node_ids(vectors: Callable[[str], Any]) -> None:
    for ex in vectors("tm2.json")["node_ids"]["derived_examples"]:
        assert core.node_id(bytes.fromhex(ex["pub_key"])) == ex["id"]
        assert core.decode_node_id(ex["id"]).hex() == ex["address_hex"]
    with pytest.raises(InvalidKeyError, match="32 bytes"):
        core.node_id(b"\x01" * 31)
    with pytest.raises(DecodeError):
        core.decode_node_id("g1notanid")


def test_handshake_takes_the_key_object_not_seed_bytes() -> None:
    with pytest.raises(TypeError):
        core.SecretHandshake(b"\x01" * 32)  # type: ignore[arg-type]
    a, b = _pair()
    fa, fb = a.read_ephemeral(b.ephemeral_message()), b.read_ephemeral(a.ephemeral_message())
    assert a.read_auth(fb) and b.read_auth(fa)
    assert a.finish()[1] == Ed25519SecretKey(b"\x02" * 32).public_key()
