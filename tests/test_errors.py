"""The exception hierarchy, and errors crossing the Rust boundary."""

from __future__ import annotations

import builtins

import pytest

import peerwire
from peerwire import _core, errors
from peerwire._core import keccak, rlp, secp256k1, tm2


def test_hierarchy_shape() -> None:
    assert issubclass(errors.RemoteProtocolError, errors.ProtocolError)
    assert issubclass(errors.LocalProtocolError, errors.ProtocolError)
    for cls in (errors.HandshakeError, errors.FrameError, errors.DecodeError):
        assert issubclass(cls, errors.RemoteProtocolError)
    for cls in (errors.ProtocolError, errors.DialError, errors.TimeoutError, errors.InternalError):
        assert issubclass(cls, errors.PeerwireError)
    assert issubclass(errors.TimeoutError, builtins.TimeoutError)
    assert issubclass(errors.ConnectionClosedError, ConnectionError)
    assert issubclass(errors.DecodeError, ValueError)
    assert peerwire.PeerwireError is errors.PeerwireError


def test_disconnect_reason_defaults_and_overrides() -> None:
    assert errors.RemoteProtocolError("x").disconnect_reason == 0x02
    assert errors.ProtocolError("x", disconnect_reason=0x10).disconnect_reason == 0x10


def test_rust_raises_the_python_classes() -> None:
    with pytest.raises(errors.InvalidKeyError, match="32 bytes"):
        secp256k1.Secp256k1SecretKey(b"\x00" * 31)
    with pytest.raises(errors.DecodeError, match="trailing"):
        rlp.decode(b"\x80\x80")
    with pytest.raises(errors.DecodeError):
        tm2.decode_node_id("g1notanid")


def test_rust_panic_becomes_internal_error_not_abort() -> None:
    with pytest.raises(errors.InternalError, match="boom from the test"):
        _core._panic_for_tests("boom from the test")
    # The interpreter and the module are still fine afterwards.
    assert len(keccak.keccak256(b"")) == 32
    # And it is catchable as an ordinary Exception (PyO3's PanicException is not).
    caught: Exception | None = None
    try:
        _core._panic_for_tests("again")
    except Exception as e:  # an ordinary handler catches it
        caught = e
    assert isinstance(caught, errors.PeerwireError)
