"""``peerwire enr decode`` with the real ``devp2p.ENR`` (EIP-778's example record and built ones)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator

import pytest

from peerwire.cli import main
from peerwire.devp2p import ENR, PrivateKey

# EIP-778's example record (key b71c71a6…, seq 1, ip 127.0.0.1, udp 30303)
EXAMPLE = (
    "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0"
    "gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8"
)
EXAMPLE_ID = "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7"


@pytest.fixture(autouse=True)
def _drop_log_handler() -> Iterator[None]:
    yield
    root = logging.getLogger()  # main() installed its stderr handler; drop it with capsys's stream
    for h in [h for h in root.handlers if getattr(h, "_peerwire", False)]:
        root.removeHandler(h)


def _tampered(text: str) -> str:
    raw = base64.urlsafe_b64decode(text.removeprefix("enr:") + "==")
    assert raw.endswith(b"\x83udp\x82\x76\x5f")
    bad = raw[:-1] + b"\x60"  # udp 30303 -> 30304: still decodes, signature no longer matches
    return "enr:" + base64.urlsafe_b64encode(bad).decode().rstrip("=")


def test_decode_eip778_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enr", "decode", EXAMPLE, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["seq"] == 1 and info["signature_valid"] is True
    assert info["node_id"] == EXAMPLE_ID
    assert (info["ip"], info["udp"]) == ("127.0.0.1", 30303) and "tcp" not in info
    assert info["public_key"] == ENR.decode(EXAMPLE).public_key.to_hex()
    assert "id" not in info and "secp256k1" not in info and "enode" not in info
    assert info["enr"] == EXAMPLE


def test_decode_built_record_with_extra_key_and_hex_input(capsys: pytest.CaptureFixture[str]) -> None:
    key = PrivateKey.generate()
    rec = ENR.build(key, 9, ip="10.1.2.3", tcp=30303, udp=30301, extra={"eth": [[b"\xfc\x64\xec\x04", 0]]})
    assert main(["enr", "decode", rec.to_bytes().hex(), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["seq"] == 9 and info["signature_valid"] is True
    assert info["node_id"] == key.public_key.node_id.hex()
    assert info["enode"] == f"enode://{key.public_key.to_hex()}@10.1.2.3:30303?discport=30301"
    assert info["eth"] == "c7c684fc64ec0480"
    assert info["enr"] == str(rec)


def test_bad_signature_and_bad_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enr", "decode", _tampered(EXAMPLE), "--json"]) == 1
    info = json.loads(capsys.readouterr().out)
    assert info["signature_valid"] is False and info["udp"] == 30304
    assert main(["enr", "decode", "nope"]) == 2
    assert "invalid ENR" in capsys.readouterr().err
    assert main(["enr", "decode", "enr:-IS4QHCY"]) == 2
    assert "invalid ENR" in capsys.readouterr().err
