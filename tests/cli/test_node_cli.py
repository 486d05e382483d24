"""``peerwire node`` as a subprocess: data dir, admin JSON-RPC over real HTTP, /metrics, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import stat
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from peerwire.devp2p import ENR, Node, PrivateKey
from peerwire.devp2p.discover import listen_v4
from peerwire.errors import TimeoutError as PeerwireTimeout
from peerwire.tm2 import NodeKey

from .conftest import RunningNode, run_cli

ENODE = (
    "enode://a979fb575495b8d6db44f750317d0f4622bf4c2aa3365d6af7c284339968eef29b69ad0dce72a4d8db5ebb4968de0e3bec"
    "910127f134779fbcb0cb6d3331163c@52.16.188.185:30303"
)


def _write_config(tmp_path: Path, body: str) -> Path:
    cfg = tmp_path / "node.toml"
    cfg.write_text(textwrap.dedent(body))
    return cfg


def free_port() -> int:
    """A TCP port that is free now and whose UDP twin is too (discovery v4 uses the same number)."""
    while True:
        with socket.socket() as t, socket.socket(type=socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            port = int(t.getsockname()[1])
            try:
                u.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port


@pytest.fixture
def devp2p_port() -> int:
    return free_port()


@pytest.fixture
def devp2p_node(tmp_path: Path, node_factory: Any, peerwire_bin: Path, devp2p_port: int) -> RunningNode:
    cfg = _write_config(
        tmp_path,
        f"""\
        stack = "devp2p"
        data_dir = "data"

        [rpc]
        listen = "127.0.0.1:0"

        [devp2p]
        maxpeers = 25
        port = {devp2p_port}
        network_id = 7
        """,
    )
    node: RunningNode = node_factory("--config", str(cfg), cwd=tmp_path)
    return node


def test_node_creates_key_0600_and_reports_its_identity(
    devp2p_node: RunningNode, tmp_path: Path, devp2p_port: int
) -> None:
    key_file = tmp_path / "data" / "nodekey"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    key = PrivateKey.from_hex(key_file.read_text())
    assert devp2p_node.node_id == key.public_key.node_id.hex()
    info = devp2p_node.call("admin_nodeInfo")["result"]
    assert info["id"] == key.public_key.node_id.hex()
    assert info["enode"] == f"enode://{key.public_key.to_hex()}@127.0.0.1:{devp2p_port}"
    assert info["ports"] == {"discovery": devp2p_port, "listener": devp2p_port}
    assert info["listenAddr"] == f":{devp2p_port}"
    assert set(info) >= {"id", "name", "enode", "enr", "ip", "ports", "listenAddr", "protocols"}
    assert info["protocols"] == {"demo": {"interval": 5.0}}
    enr = ENR.decode(info["enr"])  # discovery v4's signed local record
    assert enr.verify() in (True, None) and bytes(enr.node_id).hex() == info["id"]
    code, _, err = devp2p_node.stop()
    assert code == 0, err
    assert key.to_hex() not in err


def test_node_net_methods_and_batch(devp2p_node: RunningNode) -> None:
    assert devp2p_node.call("net_listening")["result"] is True
    assert devp2p_node.call("net_peerCount")["result"] == "0x0"
    assert devp2p_node.call("net_version")["result"] == "7"
    assert devp2p_node.call("admin_peers")["result"] == []
    net = devp2p_node.call("net_info")["result"]
    assert net["listening"] is True and net["n_peers"] == "0" and net["peers"] == []
    assert len(net["listeners"]) == 1
    assert devp2p_node.call("rpc_modules")["result"]["admin"] == "1.0"
    batch = [
        {"jsonrpc": "2.0", "id": "a", "method": "net_version"},
        {"jsonrpc": "2.0", "method": "net_version"},  # notification: no reply
        {"jsonrpc": "2.0", "id": 3, "method": "nope_nope"},
        5,
    ]
    status, body, _ = devp2p_node.post(json.dumps(batch))
    assert status == 200
    replies = json.loads(body)
    assert [r["id"] for r in replies] == ["a", 3, None]
    assert replies[0]["result"] == "7"
    assert replies[1]["error"]["code"] == -32601
    assert replies[2]["error"]["code"] == -32600
    # a batch of notifications only: nothing to answer
    status, body, _ = devp2p_node.post(json.dumps([{"jsonrpc": "2.0", "method": "net_version"}]))
    assert (status, body) == (204, b"")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", -32700),
        ("\xff\xfe", -32700),
        ("[]", -32600),
        ('{"id": 1, "method": "net_version"}', -32600),  # no "jsonrpc"
        ('{"jsonrpc": "2.0", "id": 1, "method": 5}', -32600),
        ('{"jsonrpc": "2.0", "id": {}, "method": "net_version"}', -32600),
        ('{"jsonrpc": "2.0", "id": 1, "method": "net_version", "params": 3}', -32600),
        ('{"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}', -32601),
        ('{"jsonrpc": "2.0", "id": 1, "method": "admin_addPeer"}', -32602),
        ('{"jsonrpc": "2.0", "id": 1, "method": "admin_addPeer", "params": [5]}', -32602),
        ('{"jsonrpc": "2.0", "id": 1, "method": "admin_addPeer", "params": ["a", "b"]}', -32602),
        ('{"jsonrpc": "2.0", "id": 1, "method": "net_version", "params": {"x": 1}}', -32602),
        (
            '{"jsonrpc": "2.0", "id": 1, "method": "admin_addPeer", "params": ["enode://zz@1.2.3.4:1"]}',
            -32000,
        ),
        ("[" * 200 + "]" * 200, -32600),
    ],
)
def test_bad_rpc_input_gets_jsonrpc_errors(devp2p_node: RunningNode, body: str, code: int) -> None:
    status, raw, headers = devp2p_node.post(body.encode("latin-1"))
    assert status == 200
    assert headers["content-type"] == "application/json"
    reply = json.loads(raw)
    assert reply["jsonrpc"] == "2.0"
    assert reply["error"]["code"] == code, reply
    assert isinstance(reply["error"]["message"], str) and reply["error"]["message"]


def test_peer_management_validates_input(devp2p_node: RunningNode) -> None:
    bad = devp2p_node.call("admin_addPeer", "enode://1234@1.2.3.4:30303")["error"]
    assert bad["code"] == -32000
    assert bad["message"].startswith("invalid enode")
    for method in ("admin_addTrustedPeer", "admin_removeTrustedPeer", "admin_removePeer"):
        assert devp2p_node.call(method, ENODE)["result"] is True  # geth answers true


def _wait(cond: Any, within: float = 20.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def _peer_gauges(node: RunningNode) -> dict[str, float]:
    body = node.get("/metrics")[1].decode()
    fams = {f.name: f for f in text_string_to_metric_families(body)}
    return {s.labels["direction"]: s.value for s in fams["peerwire_peers"].samples}


def test_devp2p_admin_dial_failures_lists_an_unreachable_static_peer(devp2p_node: RunningNode) -> None:
    """admin_addPeer to a closed port: the failure is listed with its reason, last error and
    next retry (ISO 8601 UTC), counted by reason, and logged once at WARNING."""
    gone = PrivateKey.generate().public_key
    port = free_port()
    enode = f"enode://{gone.to_bytes().hex()}@127.0.0.1:{port}"
    assert devp2p_node.call("admin_addPeer", enode)["result"] is True
    entry = _wait(lambda: (r := devp2p_node.call("admin_dialFailures")["result"]) and r[0])
    assert entry["id"] == gone.node_id.hex() and entry["address"] == f"127.0.0.1:{port}"
    assert (entry["reason"], entry["direction"], entry["persistent"]) == ("refused", "outbound", True)
    assert entry["message"] == "connection refused: nothing listens at that address"
    assert entry["lastError"].startswith("ConnectionClosedError: connect to 127.0.0.1:")
    assert entry["attempts"] == 1 and entry["backoff"] == 35.0
    assert entry["nextRetry"].endswith("Z") and entry["nextRetry"] > entry["lastFailure"]
    fams = {f.name: f for f in text_string_to_metric_families(devp2p_node.get("/metrics")[1].decode())}
    counted = {
        (x.labels["direction"], x.labels["reason"]): x.value for x in fams["peerwire_dial_failures"].samples
    }
    assert counted == {("outbound", "refused"): 1.0}
    code, _, err = devp2p_node.stop()
    assert code == 0
    warns = [ln for ln in err.splitlines() if "level=warning" in ln and "peerwire.devp2p.dial" in ln]
    assert len(warns) == 1 and "next retry in 35.0 s" in warns[0], err[-2000:]


def test_two_devp2p_nodes_admin_add_and_remove_peer(
    tmp_path: Path, node_factory: Any, peerwire_bin: Path
) -> None:
    nodes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        cfg = _write_config(
            tmp_path / name,
            f"""\
            stack = "devp2p"
            [rpc]
            listen = "127.0.0.1:0"
            [devp2p]
            port = {free_port()}
            nodiscover = true
            name = "node-{name}"
            """,
        )
        nodes.append(node_factory("--config", str(cfg), cwd=tmp_path / name))
    a, b = nodes
    b_enode = b.call("admin_nodeInfo")["result"]["enode"]
    assert a.call("admin_addPeer", b_enode)["result"] is True
    peers = _wait(lambda: a.call("admin_peers")["result"])
    assert [p["id"] for p in peers] == [b.node_id]
    assert peers[0]["name"] == "node-b" and peers[0]["caps"] == ["demo/1"]
    assert peers[0]["network"]["inbound"] is False and peers[0]["network"]["static"] is True
    _wait(lambda: b.call("net_peerCount")["result"] == "0x1")
    assert _wait(lambda: _peer_gauges(a) == {"inbound": 0.0, "outbound": 1.0})
    assert _wait(lambda: _peer_gauges(b) == {"inbound": 1.0, "outbound": 0.0})
    assert a.call("admin_removePeer", b_enode)["result"] is True
    _wait(lambda: a.call("net_peerCount")["result"] == "0x0")
    _wait(lambda: b.call("net_peerCount")["result"] == "0x0")
    body = a.get("/metrics")[1].decode()
    fams = {f.name: f for f in text_string_to_metric_families(body)}
    disc = [s for s in fams["peerwire_disconnects"].samples if s.name == "peerwire_disconnects_total"]
    assert sum(s.value for s in disc) >= 1
    msgs = [s for s in fams["peerwire_messages"].samples if s.name == "peerwire_messages_total"]
    assert any(s.labels.get("protocol") == "demo" and s.value > 0 for s in msgs), msgs
    for n in nodes:
        code, _, err = n.stop()
        assert code == 0, err


def test_http_layer_errors(devp2p_node: RunningNode) -> None:
    assert devp2p_node.post('{"jsonrpc":"2.0"}', content_type="text/plain")[0] == 415
    assert devp2p_node.get("/nope")[0] == 404
    status, _, headers = devp2p_node.post(b"x", path="/metrics")
    assert status == 405
    assert headers["allow"] == "GET"
    assert devp2p_node.get("/health")[0] == 200
    host, port = devp2p_node.url.removeprefix("http://").split(":")
    # a declared body over the limit is refused before it is read
    big = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
    assert _raw(host, int(port), big).startswith(b"HTTP/1.1 413 ")
    # headers over the limit
    flood = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 20000 + b"\r\n\r\n"
    assert _raw(host, int(port), flood).startswith(b"HTTP/1.1 431 ")
    # not HTTP at all
    assert _raw(host, int(port), b"\x16\x03\x01\x00\x00garbage\r\n\r\n").startswith(b"HTTP/1.1 400 ")


def _raw(host: str, port: int, data: bytes) -> bytes:
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_metrics_parse(devp2p_node: RunningNode) -> None:
    status, body, headers = devp2p_node.get("/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    peers = {s.labels["direction"]: s.value for s in families["peerwire_peers"].samples}
    assert peers == {"inbound": 0.0, "outbound": 0.0}
    assert {
        "peerwire_dials",
        "peerwire_dial_results",
        "peerwire_handshake_failures",
        "peerwire_disconnects",
        "peerwire_messages",
        "peerwire_message_bytes",
        "peerwire_build_info",
    } <= set(families)
    dials = [s for s in families["peerwire_dials"].samples if s.name == "peerwire_dials_total"]
    assert dials[0].labels == {"stack": "devp2p"} and dials[0].value == 0.0


def test_sigint_also_stops_cleanly(devp2p_node: RunningNode) -> None:
    code, _, err = devp2p_node.stop(signal.SIGINT)
    assert code == 0, err
    assert "msg=stopped" in err


def test_sigterm_exits_zero_and_logs_logfmt(devp2p_node: RunningNode) -> None:
    assert devp2p_node.call("net_version")["result"] == "7"
    code, _out, err = devp2p_node.stop()
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if ln]
    assert any('msg="admin RPC listening"' in ln and "url=http://127.0.0.1:" in ln for ln in lines), err
    assert all(ln.startswith("ts=") and " level=" in ln for ln in lines), err
    assert "msg=stopped" in lines[-1]


def test_bearer_token(tmp_path: Path, node_factory: Any, peerwire_bin: Path) -> None:
    (tmp_path / "rpc.token").write_text("s3cret-token-value\n")
    cfg = _write_config(
        tmp_path,
        f"""\
        [rpc]
        listen = "127.0.0.1:0"
        token_file = "rpc.token"
        [devp2p]
        port = {free_port()}
        """,
    )
    node: RunningNode = node_factory("--config", str(cfg), cwd=tmp_path)
    req = '{"jsonrpc":"2.0","id":1,"method":"net_version"}'
    status, _, headers = node.post(req)
    assert status == 401
    assert headers["www-authenticate"].startswith("Bearer")
    assert node.post(req, headers={"Authorization": "Bearer wrong"})[0] == 401
    assert node.get("/metrics")[0] == 401
    assert node.call("net_version", headers={"Authorization": "Bearer s3cret-token-value"})["result"] == "1"
    code, _, err = node.stop()
    assert code == 0
    assert "s3cret-token-value" not in err


def _tm2_config(tmp_path: Path, moniker: str, port: int) -> Path:
    return _write_config(
        tmp_path,
        f"""\
        stack = "tm2"
        data_dir = "home"
        moniker = "{moniker}"
        network = "testchain"

        [rpc]
        listen = "127.0.0.1:0"

        [p2p]
        laddr = "tcp://127.0.0.1:{port}"
        max_num_inbound_peers = 5
        flush_throttle_timeout = "10ms"
        """,
    )


def test_tm2_node(tmp_path: Path, node_factory: Any, peerwire_bin: Path) -> None:
    port = free_port()
    node: RunningNode = node_factory("--config", str(_tm2_config(tmp_path, "py-node", port)), cwd=tmp_path)
    key_file = tmp_path / "home" / "secrets" / "node_key.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    nk = NodeKey.load(key_file)
    assert node.node_id == nk.id
    info = node.call("admin_nodeInfo")["result"]
    assert info["id"] == nk.id
    assert info["enode"] == f"{nk.id}@127.0.0.1:{port}"
    assert info["name"] == "py-node"
    assert node.call("net_version")["result"] == "testchain"
    assert node.call("net_listening")["result"] is True
    assert node.call("net_info")["result"]["n_peers"] == "0"
    assert (tmp_path / "home" / "config").is_dir()  # the address book's directory
    code, _, err = node.stop()
    assert code == 0, err
    assert nk.to_bytes().hex() not in err


def test_two_tm2_nodes_admin_add_peer_and_net_info(
    tmp_path: Path, node_factory: Any, peerwire_bin: Path
) -> None:
    nodes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        cfg = _tm2_config(tmp_path / name, f"tm2-{name}", free_port())
        nodes.append(node_factory("--config", str(cfg), cwd=tmp_path / name))
    a, b = nodes
    b_addr = b.call("admin_nodeInfo")["result"]["enode"]
    assert a.call("admin_addPeer", b_addr)["result"] is True
    info = _wait(lambda: (r := a.call("net_info")["result"])["n_peers"] == "1" and r)
    peer = info["peers"][0]
    assert peer["node_info"]["moniker"] == "tm2-b" and peer["is_outbound"] is True
    assert peer["node_info"]["network"] == "testchain"
    assert [p["id"] for p in a.call("admin_peers")["result"]] == [b.node_id]
    _wait(lambda: b.call("net_peerCount")["result"] == "0x1")
    assert _wait(lambda: _peer_gauges(b) == {"inbound": 1.0, "outbound": 0.0})
    err = a.call("admin_addTrustedPeer", b_addr)["error"]
    assert err["code"] == -32000 and "no trusted peers" in err["message"]
    assert a.call("admin_removePeer", b_addr)["result"] is True
    _wait(lambda: a.call("net_peerCount")["result"] == "0x0")
    for n in nodes:
        code, _, stderr = n.stop()
        assert code == 0, stderr


def test_node_reuses_existing_key_and_geth_flags_override(
    tmp_path: Path, node_factory: Any, peerwire_bin: Path
) -> None:
    key = PrivateKey.generate()
    port = free_port()
    (tmp_path / "mykey").write_text(key.to_hex() + "\n")
    (tmp_path / "mykey").chmod(0o600)
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "node.toml").write_text("[devp2p]\nport = 1\nmaxpeers = 3\n")
    node: RunningNode = node_factory(
        "--config",
        "conf/node.toml",  # --nodekey below is relative to the cwd, not to this file
        "--datadir",
        str(tmp_path / "d"),
        "--rpc-listen",
        "127.0.0.1:0",
        "--nodekey",
        "mykey",
        "--port",
        str(port),
        "--nodiscover",
        "--log-level",
        "warning",
        cwd=tmp_path,
    )
    assert node.node_id == key.public_key.node_id.hex()
    info = node.call("admin_nodeInfo")["result"]
    assert info["ports"] == {"discovery": 0, "listener": port}
    assert info["enode"] == f"enode://{key.public_key.to_hex()}@127.0.0.1:{port}?discport=0"  # as geth
    with socket.socket(type=socket.SOCK_DGRAM) as u:
        u.bind(("127.0.0.1", port))  # --nodiscover: the server opened no UDP socket on that port
    assert not (tmp_path / "d" / "nodekey").exists()
    code, _, err = node.stop()
    assert code == 0
    assert "level=info" not in err  # --log-level after the subcommand silences "node started" etc.


def test_bad_config_names_key_and_line(tmp_path: Path, peerwire_bin: Path) -> None:
    cfg = _write_config(
        tmp_path,
        """\
        stack = "devp2p"

        [devp2p]
        port = 30303
        maxpeers = -5
        """,
    )
    res = run_cli("node", "--config", str(cfg), cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip() == f"error: {cfg}:5: [devp2p] maxpeers: must be >= 0, got -5"
    assert not (tmp_path / "data").exists()  # nothing created for a config that does not load


def test_bad_toml_syntax_names_line(tmp_path: Path, peerwire_bin: Path) -> None:
    cfg = _write_config(
        tmp_path,
        """\
        [p2p]
        laddr = "tcp://0.0.0.0:26656"
        pex = yes
        """,
    )
    res = run_cli("node", "--config", str(cfg), cwd=tmp_path)
    assert res.returncode == 2
    assert f"{cfg}:3: not valid TOML" in res.stderr


def test_bad_flag_is_named(tmp_path: Path, peerwire_bin: Path) -> None:
    res = run_cli("node", "--maxpeers", "-1", "--datadir", str(tmp_path / "d"), cwd=tmp_path)
    assert res.returncode == 2
    assert "command line: --maxpeers: must be >= 0, got -1" in res.stderr
    res = run_cli("node", "--nodekeyhex", "00" * 32, cwd=tmp_path)
    assert res.returncode == 2
    assert "nodekeyhex" in res.stderr and "00" * 32 not in res.stderr


def test_missing_config_file(tmp_path: Path, peerwire_bin: Path) -> None:
    res = run_cli("node", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert res.returncode == 2
    assert "nope.toml: cannot read config file" in res.stderr


def test_devp2p_node_finds_its_bootnode_through_discovery(
    tmp_path: Path, node_factory: Any, peerwire_bin: Path
) -> None:
    (tmp_path / "boot").mkdir()
    (tmp_path / "joiner").mkdir()
    boot_port = free_port()
    boot_cfg = _write_config(
        tmp_path / "boot",
        f"""\
        stack = "devp2p"
        [rpc]
        listen = "127.0.0.1:0"
        [devp2p]
        port = {boot_port}
        listen_host = "127.0.0.1"
        """,
    )
    boot = node_factory("--config", str(boot_cfg), cwd=tmp_path / "boot")
    info = boot.call("admin_nodeInfo")["result"]
    boot_enode = info["enode"]
    # the server's own discovery: UDP on the TCP port number, in the enode and the ENR
    assert boot_enode.endswith(f"@127.0.0.1:{boot_port}") and info["ports"]["discovery"] == boot_port
    rec = ENR.decode(info["enr"])
    assert (rec.ip, rec.tcp, rec.udp) == ("127.0.0.1", boot_port, boot_port)
    joiner_cfg = _write_config(
        tmp_path / "joiner",
        f"""\
        stack = "devp2p"
        [rpc]
        listen = "127.0.0.1:0"
        [devp2p]
        port = {free_port()}
        listen_host = "127.0.0.1"
        bootnodes = ["{boot_enode}"]
        """,
    )
    joiner = node_factory("--config", str(joiner_cfg), cwd=tmp_path / "joiner")
    # no admin_addPeer: the joiner learns the bootnode's TCP endpoint from discovery v4 and dials it
    peers = _wait(lambda: joiner.call("admin_peers")["result"], within=30)
    assert [p["id"] for p in peers] == [boot.node_id]
    assert peers[0]["network"]["static"] is False
    for n in (joiner, boot):
        code, _, err = n.stop()
        assert code == 0, err


def test_tm2_node_joins_through_its_seed(tmp_path: Path, node_factory: Any, peerwire_bin: Path) -> None:
    (tmp_path / "seed").mkdir()
    (tmp_path / "joiner").mkdir()
    seed_port = free_port()
    seed = node_factory(
        "--config", str(_tm2_config(tmp_path / "seed", "seed", seed_port)), cwd=tmp_path / "seed"
    )
    cfg = _tm2_config(tmp_path / "joiner", "joiner", free_port())
    cfg.write_text(cfg.read_text() + f'seeds = "{seed.node_id}@127.0.0.1:{seed_port}"\n')
    joiner = node_factory("--config", str(cfg), cwd=tmp_path / "joiner")
    info = _wait(lambda: (r := joiner.call("net_info")["result"])["n_peers"] == "1" and r, within=30)
    assert info["peers"][0]["node_info"]["moniker"] == "seed"
    for n in (joiner, seed):
        code, _, err = n.stop()
        assert code == 0, err


def _answers_v4_ping(enode: str) -> bool:
    async def ping() -> bool:
        async with listen_v4(PrivateKey.generate(), "127.0.0.1:0") as d4:
            try:
                await d4.ping(Node.parse(enode))
            except PeerwireTimeout:
                return False
            return True

    return asyncio.run(ping())


def test_discovery_flags_v5_only_node_finds_its_bootnode(
    tmp_path: Path, node_factory: Any, peerwire_bin: Path
) -> None:
    """``--discovery.v4=false``: the nodes find each other through discovery v5 alone."""
    (tmp_path / "boot").mkdir()
    (tmp_path / "joiner").mkdir()
    base = '[rpc]\nlisten = "127.0.0.1:0"\n[devp2p]\nlisten_host = "127.0.0.1"\n'
    boot_port = free_port()
    (tmp_path / "boot" / "node.toml").write_text(base + f"port = {boot_port}\n")
    boot = node_factory(
        "--config", "node.toml", "--discovery.v4=false", "--discovery.v5", cwd=tmp_path / "boot"
    )
    info = boot.call("admin_nodeInfo")["result"]
    rec = ENR.decode(info["enr"])
    assert (rec.tcp, rec.udp) == (boot_port, boot_port) and info["ports"]["discovery"] == boot_port
    assert not _answers_v4_ping(info["enode"]), "v4 is off: no PONG"
    (tmp_path / "joiner" / "node.toml").write_text(
        base + f'port = {free_port()}\nbootnodes = ["{info["enr"]}"]\ndiscovery.v4 = false\n'
    )
    joiner = node_factory("--config", "node.toml", cwd=tmp_path / "joiner")
    peers = _wait(lambda: joiner.call("admin_peers")["result"], within=30)
    assert [p["id"] for p in peers] == [boot.node_id]
    assert peers[0]["network"]["static"] is False  # dialed because discovery v5 found it
    for n in (joiner, boot):
        code, _, err = n.stop()
        assert code == 0, err


def test_discovery_flags_exclusive_with_nodiscover_and_checked(tmp_path: Path, peerwire_bin: Path) -> None:
    res = run_cli("node", "--nodiscover", "--discovery.v5", "--datadir", str(tmp_path / "d"), cwd=tmp_path)
    assert res.returncode == 2
    assert "flags --discovery.v5 and --nodiscover can't be used at the same time" in res.stderr
    res = run_cli("node", "--discovery.v4=maybe", "--datadir", str(tmp_path / "d"), cwd=tmp_path)
    assert res.returncode == 2
    assert "--discovery.v4: invalid boolean value 'maybe'" in res.stderr
