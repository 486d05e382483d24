"""enode URLs (mirrors python/peerwire/devp2p/_enode.py)."""

from __future__ import annotations

import pytest

from peerwire import devp2p
from peerwire.errors import InvalidArgumentError, RemoteProtocolError

KEY = devp2p.PrivateKey.from_hex("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
HEX = KEY.public_key.to_hex()


def test_parse_full_url_with_discport() -> None:
    n = devp2p.Node.parse(f"enode://{HEX}@127.0.0.1:30303?discport=30301")
    assert n.public_key == KEY.public_key
    assert (n.ip, n.tcp_port, n.udp_port) == ("127.0.0.1", 30303, 30301)
    assert n.id == KEY.public_key.node_id
    assert n.enode_url() == f"enode://{HEX}@127.0.0.1:30303?discport=30301"


def test_same_ports_omit_discport_and_hostnames_are_kept() -> None:
    n = devp2p.Node.parse(f"enode://{HEX}@boot.example.org:30303")
    assert n.host == "boot.example.org" and n.ip is None and n.udp_port == 30303
    assert n.enode_url() == f"enode://{HEX}@boot.example.org:30303"


def test_incomplete_and_ipv6() -> None:
    n = devp2p.Node.parse(f"enode://{HEX}")
    assert n.incomplete and n.enode_url() == f"enode://{HEX}"
    v6 = devp2p.Node.parse(f"enode://{HEX}@[::1]:30303")
    assert v6.ip == "::1" and v6.enode_url() == f"enode://{HEX}@[::1]:30303"


@pytest.mark.parametrize(
    "url",
    [
        "http://x@127.0.0.1:1",
        f"enode://{HEX[:-2]}@127.0.0.1:30303",
        f"enode://{'00' * 64}@127.0.0.1:30303",
        f"enode://{HEX}@127.0.0.1:99999",
        f"enode://{HEX}@127.0.0.1:30303?discport=abc",
    ],
)
def test_malformed(url: str) -> None:
    # The user's own input: an InvalidArgumentError (a ValueError), not a remote's DecodeError.
    with pytest.raises(InvalidArgumentError) as e:
        devp2p.Node.parse(url)
    assert isinstance(e.value, ValueError) and not isinstance(e.value, RemoteProtocolError)
