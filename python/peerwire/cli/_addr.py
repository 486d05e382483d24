"""Peer and listen addresses as the CLI, the config and the admin RPC accept them."""

from __future__ import annotations

from peerwire import _net
from peerwire.devp2p import Node
from peerwire.errors import PeerwireError
from peerwire.tm2 import validate_id

__all__ = ["parse_enode", "parse_peer_url", "parse_tm2_address", "split_host_port"]


def split_host_port(text: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` as the CLI takes it; an empty host means ``0.0.0.0``.

    Raises:
        ValueError: not that shape, or the port is out of range.
    """
    return _net.split_host_port(text.strip(), default_host="0.0.0.0")


def parse_enode(url: str) -> Node:
    """A complete (dialable) ``enode://`` URL.

    Raises:
        ValueError: with geth's wording, ``invalid enode: …``.
    """
    try:
        node = Node.parse(url)
    except PeerwireError as e:
        raise ValueError(f"invalid enode: {e}") from None
    if node.incomplete:
        raise ValueError("invalid enode: incomplete node (no host and port)")
    return node


def parse_tm2_address(url: str) -> str:
    """A TM2 ``<id>@<host>:<port>`` (an optional ``scheme://`` is dropped), normalised.

    Raises:
        ValueError: ``invalid address: …``.
    """
    text = url.strip().split("://", 1)[-1]
    node_id, sep, hostport = text.partition("@")
    if not sep or "@" in hostport:
        raise ValueError(f"invalid address: expected <id>@<host>:<port>, got {url!r}")
    try:
        validate_id(node_id)
    except PeerwireError as e:
        raise ValueError(f"invalid address: {e}") from None
    try:
        _, port = split_host_port(hostport)
    except ValueError as e:
        raise ValueError(f"invalid address: {e}") from None
    if not hostport.rsplit(":", 1)[0] or port == 0:
        raise ValueError(f"invalid address: no host or port in {url!r}")
    return text


def parse_peer_url(stack: str, url: str) -> str:
    """Validate a peer address for ``stack`` (enode URL for devp2p, ``id@host:port`` for TM2)."""
    return parse_enode(url).enode_url() if stack == "devp2p" else parse_tm2_address(url)
