"""``peerwire enr decode`` against a stand-in with the ENR surface of API.md
(``decode``, ``verify``, ``seq``, ``node_id``, field properties, ``keys``, ``[key]``, ``str``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from peerwire import devp2p
from peerwire.cli import main
from peerwire.errors import DecodeError


class FakeENR:
    def __init__(self, good: bool) -> None:
        self._good = good

    @classmethod
    def decode(cls, text: str) -> FakeENR:
        if not text.startswith("enr:"):
            raise DecodeError("missing enr: prefix")
        return cls(good="bad" not in text)

    def verify(self) -> None:  # discv4's style: None, or raises
        if not self._good:
            raise DecodeError("bad signature")

    seq = 7
    node_id = bytes.fromhex("a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7")
    ip = "127.0.0.1"
    udp = 30303
    tcp = None

    def keys(self) -> list[bytes]:
        return [b"id", b"ip", b"secp256k1", b"udp", b"eth"]

    def __getitem__(self, key: bytes) -> bytes:
        return {b"eth": b"\xc7\xc6\x84\xfc\x64\xec\x04\x80"}.get(key, b"\x01")

    def __str__(self) -> str:
        return "enr:-fake"


@pytest.fixture
def fake_enr(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(devp2p, "ENR", FakeENR, raising=False)
    yield
    root = logging.getLogger()  # main() installed its stderr handler; drop it with capsys's stream
    for h in [h for h in root.handlers if getattr(h, "_peerwire", False)]:
        root.removeHandler(h)


def test_decode_prints_fields(fake_enr: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enr", "decode", "enr:-good", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["seq"] == 7 and info["signature_valid"] is True
    assert info["node_id"] == FakeENR.node_id.hex()
    assert (info["ip"], info["udp"]) == ("127.0.0.1", 30303) and "tcp" not in info
    assert info["eth"] == "c7c684fc64ec0480" and info["secp256k1"] == "01" and "id" not in info
    assert info["enr"] == "enr:-fake"


def test_bad_signature_and_bad_text(fake_enr: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enr", "decode", "enr:-bad"]) == 1
    assert "signature_valid:" in capsys.readouterr().out
    assert main(["enr", "decode", "nope"]) == 2
    assert "invalid ENR: missing enr: prefix" in capsys.readouterr().err
