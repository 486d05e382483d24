"""``peerwire key new|show`` as a subprocess: files 0600, secrets shown only on request."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

from peerwire.devp2p import PrivateKey
from peerwire.tm2 import NodeKey

from .conftest import run_cli


def test_key_new_devp2p(tmp_path: Path, peerwire_bin: Path) -> None:
    res = run_cli("key", "new", "--stack", "devp2p", "--out", "k", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    path = tmp_path / "k"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert len(text) == 64  # geth's SaveECDSA: hex, no newline
    key = PrivateKey.from_hex(text)
    assert f"node_id:    {key.public_key.node_id.hex()}" in res.stdout
    assert key.public_key.to_hex() in res.stdout
    assert text not in res.stdout + res.stderr
    assert "private" not in res.stdout


def test_key_new_tm2_json(tmp_path: Path, peerwire_bin: Path) -> None:
    res = run_cli("key", "new", "--stack", "tm2", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    path = tmp_path / "node_key.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    nk = NodeKey.load(path)
    info = json.loads(res.stdout)
    assert info == {
        "stack": "tm2",
        "node_id": nk.id,
        "public_key": nk.public_key.hex(),
        "file": "node_key.json",
    }
    out = res.stdout + res.stderr
    assert nk.to_bytes().hex() not in out
    assert base64.b64encode(nk.to_go_bytes()).decode() not in out


def test_key_new_refuses_to_overwrite(tmp_path: Path, peerwire_bin: Path) -> None:
    assert run_cli("key", "new", cwd=tmp_path).returncode == 0
    before = (tmp_path / "nodekey").read_text()
    res = run_cli("key", "new", cwd=tmp_path)
    assert res.returncode == 2
    assert "already exists" in res.stderr
    assert (tmp_path / "nodekey").read_text() == before
    assert run_cli("key", "new", "--force", cwd=tmp_path).returncode == 0
    assert (tmp_path / "nodekey").read_text() != before
    assert stat.S_IMODE((tmp_path / "nodekey").stat().st_mode) == 0o600


def test_key_show_detects_format_and_hides_secret(tmp_path: Path, peerwire_bin: Path) -> None:
    key = PrivateKey.generate()
    (tmp_path / "geth.key").write_text(key.to_hex() + "\n")
    (tmp_path / "geth.key").chmod(0o600)
    res = run_cli("key", "show", "geth.key", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["stack"] == "devp2p"
    assert info["node_id"] == key.public_key.node_id.hex()
    assert "private_key" not in info and key.to_hex() not in res.stdout + res.stderr
    nk = NodeKey.from_secret(b"show-me")
    nk.save(tmp_path / "nk.json")
    res = run_cli("key", "show", "nk.json", cwd=tmp_path)
    assert res.returncode == 0
    assert nk.id in res.stdout and nk.to_bytes().hex() not in res.stdout


def test_key_show_private_only_when_asked(tmp_path: Path, peerwire_bin: Path) -> None:
    key = PrivateKey.generate()
    (tmp_path / "k").write_text(key.to_hex())
    res = run_cli("key", "show", "k", "--show-private", cwd=tmp_path)
    assert res.returncode == 0
    assert f"private_key: {key.to_hex()}" in res.stdout
    # a world-readable key file is used, with a warning that does not contain the key
    assert "chmod 600" in res.stderr
    assert key.to_hex() not in res.stderr


def test_key_show_errors(tmp_path: Path, peerwire_bin: Path) -> None:
    res = run_cli("key", "show", "missing", cwd=tmp_path)
    assert (res.returncode, res.stderr.strip()) == (2, "error: missing: no such file")
    (tmp_path / "junk").write_text("hello")
    res = run_cli("key", "show", "junk", cwd=tmp_path)
    assert res.returncode == 2
    assert "neither a devp2p nodekey" in res.stderr
    (tmp_path / "zero").write_text("00" * 32)
    res = run_cli("key", "show", "zero", cwd=tmp_path)
    assert res.returncode == 2
    assert "not a valid secp256k1 private key" in res.stderr


def test_enr_decode_subprocess(tmp_path: Path, peerwire_bin: Path) -> None:
    res = run_cli(
        "enr",
        "decode",
        "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8",
    )
    assert res.returncode == 0, res.stderr
    assert "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7" in res.stdout


def test_ping_validates_target(tmp_path: Path, peerwire_bin: Path) -> None:
    res = run_cli("ping", "enode://abcd@127.0.0.1:30303")
    assert res.returncode == 2
    assert "invalid enode" in res.stderr
    res = run_cli("ping", "not-a-node")
    assert res.returncode == 2
    assert "expected enode://" in res.stderr


def test_ping_unreachable_is_a_clear_error(peerwire_bin: Path) -> None:
    key = PrivateKey.generate()
    res = run_cli("ping", f"enode://{key.public_key.to_hex()}@127.0.0.1:9", "--timeout", "3")
    assert res.returncode == 1
    assert res.stderr.startswith("error: ping enode://") and res.stderr[-1] == "\n"


def test_usage_errors(peerwire_bin: Path) -> None:
    res = run_cli()
    assert res.returncode == 2 and "usage: peerwire" in res.stderr
    res = run_cli("testnet", "--nodes", "0")
    assert res.returncode == 2 and "must be >= 1" in res.stderr
    res = run_cli("--version")
    assert res.returncode == 0 and res.stdout.startswith("peerwire ")
