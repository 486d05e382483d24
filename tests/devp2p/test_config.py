"""devp2p.Config: frozen, validated on construction, read once; node_filter wired to the dialer."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.devp2p._aio import aio
from tests.devp2p.test_server import ECHO1, make, wait_for

from peerwire.devp2p import Config, Node, PrivateKey
from peerwire.devp2p._transport import MemoryNetwork
from peerwire.errors import InvalidArgumentError

KEY = PrivateKey.generate()
ENODE = f"enode://{PrivateKey.generate().public_key.to_hex()}@127.0.0.1:30303"


def test_frozen_and_normalised() -> None:
    cfg = Config(private_key=KEY, static_nodes=[ENODE], net_restrict=["10.0.0.0/8"], protocols=[ECHO1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.max_peers = 1  # type: ignore[misc]
    assert isinstance(cfg.static_nodes, tuple) and isinstance(cfg.static_nodes[0], Node)
    assert cfg.net_restrict == ("10.0.0.0/8",) and cfg.protocols == (ECHO1,)
    assert cfg.discovery_v4 and cfg.discovery_v5 and cfg.node_filter is None  # geth: both on
    changed = cfg.replace(max_peers=7)
    assert (changed.max_peers, cfg.max_peers) == (7, 50)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"max_peers": -1}, "max_peers must be an integer >= 0"),
        ({"dial_ratio": 1.5}, "dial_ratio must be an integer"),
        ({"name": ""}, "name must be a non-empty string"),
        ({"listen_addr": "127.0.0.1"}, "listen_addr"),
        ({"discovery_addr": "[::1:30303"}, "discovery_addr"),
        ({"net_restrict": ["10.0.0.0/33"]}, "net_restrict"),
        ({"net_restrict": "10.0.0.0/8"}, "not one string"),
        ({"bootstrap_nodes": ["enode://nope@1.2.3.4:1"]}, "bootstrap_nodes"),
        ({"trusted_nodes": [42]}, "trusted_nodes: expected Node"),
        ({"event_buffer": 0}, "event_buffer"),
        ({"node_filter": "yes"}, "node_filter must be callable"),
    ],
)
def test_bad_values_raise_clear_value_errors(kw: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match) as e:
        Config(private_key=KEY, **kw)
    assert isinstance(e.value, ValueError)


def test_bad_key_type_and_non_bool_discovery_switches_are_refused() -> None:
    with pytest.raises(TypeError, match="private_key"):
        Config(private_key=b"\x01" * 32)  # type: ignore[arg-type]
    for field in ("no_discovery", "discovery_v4", "discovery_v5"):
        with pytest.raises(InvalidArgumentError, match=f"Config.{field} must be a bool"):
            Config(private_key=KEY, **{field: "yes"})  # type: ignore[arg-type]


def test_discovery_runs_with_either_version() -> None:
    assert Config(private_key=KEY, no_discovery=False).discovery_enabled
    assert Config(private_key=KEY, no_discovery=False, discovery_v4=False).discovery_enabled  # v5 only
    assert Config(private_key=KEY, no_discovery=False, discovery_v5=False).discovery_enabled  # v4 only
    assert not Config(
        private_key=KEY, no_discovery=False, discovery_v4=False, discovery_v5=False
    ).discovery_enabled
    assert not Config(private_key=KEY).discovery_enabled  # no_discovery defaults to True


@aio
async def test_server_dials_only_candidates_passing_node_filter() -> None:
    net = MemoryNetwork()
    b, c = make(net), make(net)
    async with b, c:
        wanted, unwanted = b.self_node(), c.self_node()

        async def candidates() -> AsyncIterator[Node]:
            yield unwanted
            yield wanted
            await asyncio.Event().wait()

        async def only_b(n: Node) -> bool:
            return n.id == wanted.id

        a = make(net, dial_candidates=[candidates()], node_filter=only_b)
        async with a:
            await wait_for(lambda: a.peer_count() == 1)
            assert [p.id for p in a.peers()] == [wanted.id]
            assert a.dialer.filtered_out == 1
            assert ("127.0.0.1", unwanted.tcp_port) not in net.dials
