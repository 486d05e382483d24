"""node.toml parsing and validation (mirrors python/peerwire/cli/_config.py)."""

from __future__ import annotations

import asyncio
import ipaddress
import textwrap
from pathlib import Path

import pytest

from peerwire._metrics import NetMetrics
from peerwire.cli._config import (
    ConfigError,
    Devp2pConfig,
    NodeConfig,
    P2PConfig,
    find_key_line,
    load_config,
    parse_config,
    parse_go_duration,
)
from peerwire.devp2p import PrivateKey
from peerwire.tm2 import NodeKey

ENODE = f"enode://{PrivateKey.from_hex('11' * 32).public_key.to_hex()}@10.0.0.1:30303"


def _parse(text: str) -> NodeConfig:
    return parse_config(textwrap.dedent(text), path="node.toml", base_dir=Path("/base"))


def test_defaults_are_geth_and_gno_defaults() -> None:
    cfg = parse_config("", path=None, base_dir=Path("/x"))
    assert cfg.stack == "devp2p"
    assert cfg.data_dir == Path("/x/data")
    d = cfg.devp2p
    assert (d.maxpeers, d.maxpendpeers, d.max_pending_peers, d.port, d.nodiscover) == (
        50,
        0,
        50,
        30303,
        False,
    )
    assert d.bootnodes == () and d.netrestrict == () and d.nodekey is None and d.nodekeyhex is None
    p = cfg.p2p
    assert p == P2PConfig()
    assert p.laddr == "tcp://0.0.0.0:26656"
    assert (p.max_num_inbound_peers, p.max_num_outbound_peers) == (40, 10)
    assert p.flush_throttle_timeout == pytest.approx(0.1)
    assert (p.max_packet_msg_payload_size, p.send_rate, p.recv_rate) == (1024, 5_120_000, 5_120_000)
    assert p.pex is True and p.addr_book_file == "config/addrbook.json"
    assert (cfg.rpc.host, cfg.rpc.port, cfg.rpc.token) == ("127.0.0.1", 8545, None)
    assert cfg.devp2p_key_path == Path("/x/data/nodekey")
    assert cfg.tm2_key_path == Path("/x/data/secrets/node_key.json")
    assert cfg.addr_book_path == Path("/x/data/config/addrbook.json")
    assert cfg.node_db_path == Path("/x/data/nodes.sqlite")


def test_full_config() -> None:
    pid = NodeKey.from_secret(b"a").id
    cfg = _parse(f"""\
        stack = "tm2"
        data_dir = "/var/lib/pw"
        moniker = "m"
        network = "test-1"

        [rpc]
        listen = "[::1]:9000"
        token = "abc"

        [devp2p]
        maxpeers = 10
        maxpendpeers = 3
        bootnodes = "{ENODE}, {ENODE}"
        netrestrict = ["127.0.0.0/8", "10.1.2.3/16"]
        nodiscover = true
        nodekey = "keys/nk"

        [p2p]
        laddr = "tcp://127.0.0.1:26000"
        persistent_peers = "{pid}@127.0.0.1:26001,{pid}@localhost:26002"
        private_peer_ids = "{pid}"
        flush_throttle_timeout = "1m30s"
        addr_book_file = "/abs/book.json"
        max_recv_buffer_bytes = 0
        """)
    assert cfg.stack == "tm2"
    assert cfg.data_dir == Path("/var/lib/pw")
    assert (cfg.rpc.host, cfg.rpc.port, cfg.rpc.token) == ("::1", 9000, "abc")
    d: Devp2pConfig = cfg.devp2p
    assert len(d.bootnodes) == 2 and d.bootnodes[0].tcp_port == 30303
    assert d.netrestrict == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.1.0.0/16"))
    assert d.nodekey == Path("/base/keys/nk")
    assert d.max_pending_peers == 3
    p: P2PConfig = cfg.p2p
    assert p.persistent_peers == (f"{pid}@127.0.0.1:26001", f"{pid}@localhost:26002")
    assert p.flush_throttle_timeout == 90.0
    assert p.listen_host_port == ("127.0.0.1", 26000)
    assert cfg.addr_book_path == Path("/abs/book.json")
    assert "abc" not in repr(cfg)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[devp2p]\nmaxpeers = -1\n", "node.toml:2: [devp2p] maxpeers: must be >= 0, got -1"),
        (
            "[devp2p]\n\nport = 70000\n",
            "node.toml:3: [devp2p] port: must be a port number 0..65535, got 70000",
        ),
        (
            '[devp2p]\nnodiscover = "yes"\n',
            "node.toml:2: [devp2p] nodiscover: must be true or false, got 'yes'",
        ),
        ("[devp2p]\nmaxpeers = true\n", "node.toml:2: [devp2p] maxpeers: must be an integer, got true"),
        (
            "[devp2p]\nmaxpeer = 3\n",
            "node.toml:2: [devp2p] maxpeer: unknown key in [devp2p]; did you mean 'maxpeers'?",
        ),
        ('stak = "tm2"\n', "node.toml:1: stak: unknown key in the top level; did you mean 'stack'?"),
        ('stack = "eth"\n', 'node.toml:1: stack: must be "devp2p" or "tm2", got \'eth\''),
        ('[devp2p]\nbootnodes = ["enode://xyz"]\n', None),
        (
            '[devp2p]\nnetrestrict = "10.0.0.0/33"\n',
            "node.toml:2: [devp2p] netrestrict: invalid CIDR '10.0.0.0/33'",
        ),
        ('[p2p]\nflush_throttle_timeout = "100 ms"\n', None),
        (
            '[p2p]\nflush_throttle_timeout = "-1s"\n',
            "node.toml:2: [p2p] flush_throttle_timeout: must be >= 0, got '-1s'",
        ),
        ("[p2p]\nsend_rate = -1\n", "node.toml:2: [p2p] send_rate: must be >= 0, got -1"),
        ('[p2p]\nladdr = "tcp://nowhere"\n', None),
        ('[p2p]\npersistent_peers = "127.0.0.1:26656"\n', None),
        ("[p2p]\nmax_send_buffer_bytes = 1000\n", None),
        ('[rpc]\nlisten = "8545"\n', "node.toml:2: [rpc] listen: expected host:port, got '8545'"),
        ("devp2p = 5\n", "node.toml:1: devp2p: must be a table ([devp2p]), got 5"),
        ("[p2p.sub]\nx = 1\n", "node.toml:1: [p2p] sub: unknown key in [p2p]"),
        (
            '[devp2p]\nnodekey = "a"\nnodekeyhex = "b"\n',
            "node.toml:3: [devp2p] nodekeyhex: nodekey and nodekeyhex are mutually exclusive",
        ),
    ],
)
def test_semantic_errors_name_key_and_line(text: str, expected: str | None) -> None:
    with pytest.raises(ConfigError) as ei:
        parse_config(text, path="node.toml", base_dir=Path("/b"))
    msg = str(ei.value)
    if expected is not None:
        assert msg == expected
    else:
        assert msg.startswith("node.toml:2: [") and ei.value.line == 2, msg


def test_syntax_error_has_line() -> None:
    with pytest.raises(ConfigError) as ei:
        parse_config("a = 1\n\n[p2p\n", path="n.toml", base_dir=Path("/b"))
    assert ei.value.line == 3
    assert str(ei.value).startswith("n.toml:3: not valid TOML")


def test_nodekeyhex_value_never_echoed() -> None:
    secret = "ab" * 31 + "zz"
    with pytest.raises(ConfigError) as ei:
        parse_config(f'[devp2p]\nnodekeyhex = "{secret}"\n', path="n.toml", base_dir=Path("/b"))
    assert secret not in str(ei.value)
    cfg = parse_config(f'[devp2p]\nnodekeyhex = "{"11" * 32}"\n', path="n.toml", base_dir=Path("/b"))
    assert "11" * 32 not in repr(cfg)


def test_overrides_win_and_errors_name_the_flag() -> None:
    cfg = parse_config(
        "[devp2p]\nmaxpeers = 5\n",
        path="n.toml",
        base_dir=Path("/b"),
        overrides={"maxpeers": 9, "nodiscover": True, "bootnodes": ENODE, "stack": "tm2"},
    )
    assert (cfg.devp2p.maxpeers, cfg.devp2p.nodiscover, cfg.stack) == (9, True, "tm2")
    with pytest.raises(ConfigError) as ei:
        parse_config("", path="n.toml", base_dir=Path("/b"), overrides={"maxpendpeers": -2})
    assert str(ei.value) == "command line: --maxpendpeers: must be >= 0, got -2"


def test_gnoland_p2p_section_loads() -> None:
    # the [p2p] section as gnoland v1.7.1 writes it in config.toml
    text = textwrap.dedent("""\
        [p2p]
          home = ""
          laddr = "tcp://0.0.0.0:26656"
          external_address = ""
          seeds = ""
          persistent_peers = ""
          max_num_inbound_peers = 40
          max_num_outbound_peers = 10
          flush_throttle_timeout = "100ms"
          max_packet_msg_payload_size = 1024
          send_rate = 5120000
          recv_rate = 5120000
          recv_assembly_timeout = "30s"
          max_recv_buffer_bytes = 20971520
          max_send_buffer_bytes = 20971520
          pex = true
          private_peer_ids = ""
          allow_duplicate_ip = false
          addr_book_file = "config/addrbook.json"
        """)
    # gno v1.7.1's connection budgets and duplicate-IP guard are read and used
    p = parse_config(text, path="c.toml", base_dir=Path("/b")).p2p
    assert p.laddr == P2PConfig().laddr and not p.allow_duplicate_ip
    assert (p.recv_assembly_timeout, p.max_recv_buffer_bytes, p.max_send_buffer_bytes) == (
        30.0,
        20971520,
        20971520,
    )
    off = parse_config(text.replace('"30s"', '"0s"').replace("20971520", "0"), path="c.toml").p2p
    assert (off.recv_assembly_timeout, off.max_recv_buffer_bytes, off.max_send_buffer_bytes) == (0.0, 0, 0)
    for key, bad in (
        ("max_send_buffer_bytes", "1048576"),  # below gno's minimum: one maximum block response
        ("max_recv_buffer_bytes", "-1"),
        ("external_address", '"example.org:26656"'),
        ("external_address", '"0.0.0.0:26656"'),
    ):
        with pytest.raises(ConfigError, match=key):
            parse_config(f"[p2p]\n{key} = {bad}\n", path="c.toml")


def test_external_address_and_home_are_used(tmp_path: Path) -> None:
    cfg = parse_config(
        '[p2p]\nexternal_address = "tcp://203.0.113.7:26600"\nhome = "gno"\n',
        path="c.toml",
        base_dir=tmp_path,
    )
    assert cfg.addr_book_path == cfg.data_dir / "gno" / "config" / "addrbook.json"
    from peerwire.cli._stacks import tm2_node_backend

    key = NodeKey.generate()
    backend = asyncio.run(tm2_node_backend(cfg, key, NetMetrics("tm2")))
    assert backend.node_info()["enode"] == f"{key.id}@203.0.113.7:26600"  # advertised in NodeInfo


def test_find_key_line() -> None:
    text = textwrap.dedent('''\
        # comment
        a = 1
        "b.c" = 2
        x.y = """
        maxpeers = 1
        """
        [devp2p]  # the geth flags
        maxpeers = 3
          'port' = 4
        [[list]]
        k = 1
        ''')
    assert find_key_line(text, ("a",)) == 2
    assert find_key_line(text, ("b.c",)) == 3
    assert find_key_line(text, ("x", "y")) == 4
    assert find_key_line(text, ("devp2p",)) == 7
    assert find_key_line(text, ("devp2p", "maxpeers")) == 8
    assert find_key_line(text, ("devp2p", "port")) == 9
    assert find_key_line(text, ("list", "k")) == 11
    assert find_key_line(text, ("nope",)) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("100ms", 0.1),
        ("1m30s", 90.0),
        ("1.5h", 5400.0),
        ("-2s", -2.0),
        ("10us", 1e-5),
        ("3µs", 3e-6),
        ("250ns", 2.5e-7),
    ],
)
def test_go_duration(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "1d", "ms", "1s2", " -"])
def test_go_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_duration(text)


def test_load_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'a = 1\nb = "\xff"\n')
    with pytest.raises(ConfigError) as ei:
        load_config(bad)
    assert ei.value.line == 2 and "UTF-8" in str(ei.value)
    (tmp_path / "tok").write_text("")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[rpc]\ntoken_file = "tok"\n')
    with pytest.raises(ConfigError, match=r"c.toml:2: \[rpc\] token_file: .* is empty"):
        load_config(cfg)


def test_discovery_switches_as_toml_dotted_keys_and_flags() -> None:
    d = parse_config("", path="n.toml", base_dir=Path("/b")).devp2p
    assert (d.discovery_v4, d.discovery_v5) == (True, True)  # geth's defaults
    cfg = parse_config("[devp2p]\ndiscovery.v4 = false\n", path="n.toml", base_dir=Path("/b"))
    assert (cfg.devp2p.discovery_v4, cfg.devp2p.discovery_v5) == (False, True)
    cfg = parse_config("[devp2p.discovery]\nv5 = false\n", path="n.toml", base_dir=Path("/b"))
    assert (cfg.devp2p.discovery_v4, cfg.devp2p.discovery_v5) == (True, False)
    # the command line (geth's --discovery.v4 / --discovery.v5) wins over the file
    cfg = parse_config(
        "[devp2p]\ndiscovery.v4 = false\ndiscovery.v5 = true\n",
        path="n.toml",
        base_dir=Path("/b"),
        overrides={"discovery.v4": True, "discovery.v5": False, "maxpeers": 3},
    )
    assert (cfg.devp2p.discovery_v4, cfg.devp2p.discovery_v5, cfg.devp2p.maxpeers) == (True, False, 3)
    with pytest.raises(ConfigError) as ei:
        parse_config("[devp2p]\nmaxpeers = 1\ndiscovery.v5 = 1\n", path="n.toml", base_dir=Path("/b"))
    assert str(ei.value) == "n.toml:3: [devp2p.discovery] v5: must be true or false, got 1"
    with pytest.raises(ConfigError) as ei:
        parse_config("[devp2p]\ndiscovery.v6 = true\n", path="n.toml", base_dir=Path("/b"))
    assert "n.toml:2: [devp2p.discovery] v6: unknown key in [devp2p.discovery]" in str(ei.value)
    with pytest.raises(ConfigError) as ei:
        parse_config("", path="n.toml", base_dir=Path("/b"), overrides={"discovery.v4": "x"})
    assert str(ei.value) == "command line: --discovery.v4: must be true or false, got 'x'"
