"""``peerwire ping`` as a subprocess against our own running nodes (devp2p and TM2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from peerwire.tm2 import NodeKey

from .conftest import RunningNode, run_cli
from .test_node_cli import _tm2_config, _write_config, free_port


def test_ping_devp2p_node_prints_hello(tmp_path: Path, node_factory: Any, peerwire_bin: Path) -> None:
    cfg = _write_config(
        tmp_path,
        f"""\
        stack = "devp2p"
        [rpc]
        listen = "127.0.0.1:0"
        [devp2p]
        port = {free_port()}
        nodiscover = true
        name = "ping-target/v1"
        """,
    )
    node: RunningNode = node_factory("--config", str(cfg), cwd=tmp_path)
    enode = node.call("admin_nodeInfo")["result"]["enode"]
    res = run_cli("ping", enode, "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["id"] == node.node_id
    assert info["name"] == "ping-target/v1"
    assert info["caps"] == ["demo/1"]
    assert info["version"] == 5
    # the plain output names the same things
    res = run_cli("ping", enode)
    assert res.returncode == 0, res.stderr
    assert "ping-target/v1" in res.stdout and "demo/1" in res.stdout
    code, _, err = node.stop()
    assert code == 0, err


def test_ping_tm2_node_prints_node_info(tmp_path: Path, node_factory: Any, peerwire_bin: Path) -> None:
    port = free_port()
    node: RunningNode = node_factory("--config", str(_tm2_config(tmp_path, "pinged", port)), cwd=tmp_path)
    res = run_cli("ping", f"{node.node_id}@127.0.0.1:{port}", "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["id"] == node.node_id
    assert info["moniker"] == "pinged" and info["network"] == "testchain"
    assert info["net_address"] == f"{node.node_id}@127.0.0.1:{port}"
    assert info["channels"] == "40202122233050"  # the default gnoland profile: bft channels + PEX
    # a wrong ID for the right address: the secret handshake proves the key
    other = NodeKey.generate().id
    res = run_cli("ping", f"{other}@127.0.0.1:{port}")
    assert res.returncode == 1 and f"not the dialed {other}" in res.stderr
    code, _, err = node.stop()
    assert code == 0, err
