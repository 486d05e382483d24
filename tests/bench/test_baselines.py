"""The baselines ``peerwire bench`` measures against are themselves correct."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from peerwire.bench import _pyrlpx, _rlpx, _suite
from peerwire.bench._crypto import aes256_ctr, chacha20poly1305_roundtrip

MSGS = [(0x10, bytes(range(256)) * 4), (0, b"\x83abc"), (0x99, b"y" * 20_000), (0x1234, b"")]


@pytest.mark.parametrize("backend", ["cryptography+pysha3", "pycryptodome"])
def test_pure_python_rlpx_frames_open_in_peerwire(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    if backend == "pycryptodome":
        monkeypatch.setattr(_pyrlpx, "_have", lambda mod: mod.startswith("Crypto"))
    assert _pyrlpx.available() is None
    _, b = _rlpx.codec_pair()
    w = _pyrlpx.PyFrameWriter(b"\x11" * 32, b"\x22" * 32, b"a")
    assert b.feed(b"".join(w.seal(c, p) for c, p in MSGS)) == MSGS


def test_pure_python_writer_missing_parts_is_a_skip_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pyrlpx, "_have", lambda mod: False)
    ctx = _suite.Context(quick=True)
    assert _suite.run_entries(_suite.select("rlpx-python"), ctx) == []
    assert ctx.notes and "install safe-pysha3 or pycryptodome" in ctx.notes[0]


@pytest.mark.parametrize("backend", ["cryptography", "pycryptodome"])
def test_crypto_bounds_agree_across_backends(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    monkeypatch.setattr("peerwire.bench._crypto.crypto_backend", lambda: backend)
    data = bytes(range(256)) * 64
    ctr = aes256_ctr(b"\x11" * 32)
    aead = chacha20poly1305_roundtrip(b"\x07" * 32)
    assert ctr is not None and aead is not None
    assert ctr(ctr(data)) == data  # CTR is its own inverse with the same key and IV
    assert aead(data) == data
    # both backends produce the same keystream
    assert ctr(data) == _other_backend_ctr(monkeypatch, backend)(data)


def _other_backend_ctr(monkeypatch: pytest.MonkeyPatch, backend: str) -> Callable[[bytes], bytes]:
    other = "pycryptodome" if backend == "cryptography" else "cryptography"
    monkeypatch.setattr("peerwire.bench._crypto.crypto_backend", lambda: other)
    fn = aes256_ctr(b"\x11" * 32)
    assert fn is not None
    return fn


def test_rlpx_python_entry_compares_seal_throughput() -> None:
    ctx = _suite.Context(quick=True)
    out = _suite.run_entries(_suite.select("rlpx-python"), ctx)
    assert [(c.name, c.peer_name, c.unit) for c in out] == [
        ("rlpx frame seal 1KiB", "pure Python", "MB/s"),
        ("rlpx frame seal 16KiB", "pure Python", "MB/s"),
    ]
    assert all(c.ratio > 0 for c in out)


def test_latency_entry_times_echoed_round_trips_against_plain_asyncio() -> None:
    ctx = _suite.Context(quick=True)
    out = _suite.run_entries(_suite.select("latency"), ctx)
    assert [(c.name, c.unit) for c in out] == [
        ("rlpx round trip 64 B", "µs"),
        ("tm2 secret connection round trip 64 B", "µs"),
    ]
    # µs: less is better, so the ratio is the floor's time over peerwire's
    assert all(c.ratio == pytest.approx(c.peer / c.peerwire) for c in out)
