"""Base-protocol codecs: Hello, Disconnect, capability matching, DiscReason."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peerwire import devp2p
from peerwire._core import p2p_base
from peerwire.devp2p import Cap, DiscReason
from peerwire.errors import DecodeError

EIP8_HELLO = bytes.fromhex(
    "f87137916b6e6574682f76302e39312f706c616e39cdc5836574683dc6846d6f726b1682270fb840"
    "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569"
    "bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877c883666f6f836261720304"
)


def test_disc_reason_values_and_geth_strings() -> None:
    assert DiscReason.REQUESTED == 0 and DiscReason.SUBPROTOCOL_ERROR == 0x10
    assert str(DiscReason.TOO_MANY_PEERS) == "too many peers"
    assert str(DiscReason.PROTOCOL_ERROR) == "breach of protocol"
    assert str(DiscReason.INCOMPATIBLE_VERSION) == "incompatible p2p protocol version"
    assert str(DiscReason.QUITTING) == "client quitting"
    assert DiscReason.from_wire(0x0C) is DiscReason.INVALID
    assert [int(r) for r in DiscReason if r is not DiscReason.INVALID] == [*range(0x0C), 0x10]


def test_hello_eip8_vector_extra_elements_ignored() -> None:
    h = p2p_base.decode_hello(EIP8_HELLO)
    assert (h.version, h.name, h.listen_port) == (55, "kneth/v0.91/plan9", 9999)
    assert h.caps == [("eth", 61), ("mork", 22)]
    assert h.id_is_valid()


def test_hello_encode_sorts_caps_by_name_then_version() -> None:
    enc = p2p_base.encode_hello(5, "pw", [("snap", 1), ("eth", 68), ("eth", 67)], 0, b"\x01" * 64)
    h = p2p_base.decode_hello(enc)
    assert h.caps == [("eth", 67), ("eth", 68), ("snap", 1)]
    assert enc[:4] == b"\xf8\x5b\x05\x82"  # long list header, version 5, then the name


def test_hello_too_big_and_malformed() -> None:
    big = p2p_base.encode_hello(5, "x" * 2100, [], 0, b"\x01" * 64)
    with pytest.raises(DecodeError, match="too big"):
        p2p_base.decode_hello(big)
    with pytest.raises(DecodeError):
        p2p_base.decode_hello(b"\xc0")
    zero = p2p_base.decode_hello(p2p_base.encode_hello(5, "", [], 0, bytes(64)))
    assert not zero.id_is_valid()
    assert not p2p_base.decode_hello(p2p_base.encode_hello(5, "", [], 0, b"\x01" * 63)).id_is_valid()


@given(st.binary(max_size=300))
def test_hello_decode_never_crashes(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        p2p_base.decode_hello(data)


def test_disconnect_list_and_bare_forms() -> None:
    assert p2p_base.encode_disconnect(4) == b"\xc1\x04"
    assert p2p_base.encode_disconnect(0) == b"\xc1\x80"
    assert p2p_base.decode_disconnect(b"\xc1\x04") == 4
    assert p2p_base.decode_disconnect(b"\x08") == 8
    assert p2p_base.decode_disconnect(b"\xc0") == 0xFF
    assert p2p_base.decode_disconnect(b"\x82\x01\x00") == 0xFF


@given(st.binary(max_size=200))
def test_disconnect_decode_total(data: bytes) -> None:
    assert 0 <= p2p_base.decode_disconnect(data) <= 0xFF


def test_match_protocols_go_example() -> None:
    h = p2p_base.decode_hello(
        p2p_base.encode_hello(5, "", [("", 1), ("", 2), ("", 3), ("a", 0)], 0, b"\x01" * 64)
    )
    assert h.match_protocols([("", 1, 1), ("", 2, 2), ("", 3, 3), ("a", 0, 4)]) == [(2, 16), (3, 19)]


def test_match_protocols_highest_shared_version_and_byte_order() -> None:
    remote = [("echo", 1), ("echo", 2), ("Zed", 1), ("b", 1)]
    h = p2p_base.decode_hello(p2p_base.encode_hello(5, "", remote, 0, b"\x01" * 64))
    local = [("b", 1, 7), ("echo", 1, 2), ("echo", 2, 3), ("echo", 3, 9), ("Zed", 1, 1)]
    # "Zed" < "b" < "echo" in byte order; echo/3 is not shared so echo/2 wins.
    assert h.match_protocols(local) == [(4, 16), (0, 17), (2, 24)]


def test_cap_ordering() -> None:
    assert sorted([Cap("snap", 1), Cap("eth", 68), Cap("eth", 67)]) == [
        Cap("eth", 67),
        Cap("eth", 68),
        Cap("snap", 1),
    ]
    assert str(Cap("eth", 68)) == "eth/68"
    assert devp2p.Protocol("x", 1, 1, run=_noop).cap == Cap("x", 1)


async def _noop(peer: devp2p.Peer, rw: devp2p.MsgReadWriter) -> None:
    return None
