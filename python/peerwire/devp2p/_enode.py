"""devp2p node addresses: ``enode://<hex pubkey>@ip:tcp?discport=udp`` and ``enr:…`` records."""

from __future__ import annotations

import functools
import ipaddress
import urllib.parse
from dataclasses import dataclass

from peerwire.devp2p._enr import ENR
from peerwire.devp2p._keys import PublicKey
from peerwire.errors import DecodeError, InvalidArgumentError, InvalidKeyError

__all__ = ["Node"]


#: Host strings whose parsed IP is remembered (discovery asks for ``Node.ip`` on every
#: packet); an LRU, so hosts from a flood of hearsay cannot grow it past this.
IP_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=IP_CACHE_SIZE)
def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Node:
    """A devp2p node: its public key and, when known, where to reach it.

    ``host`` keeps a DNS name as written (resolved later, before each dial);
    ``ip`` is set when the host is a literal address. ``record`` is the
    node's verified ENR when it is known.
    """

    public_key: PublicKey
    host: str | None = None
    tcp_port: int = 0
    udp_port: int = 0
    record: ENR | None = None

    @property
    def id(self) -> bytes:
        """The 32-byte node ID (keccak256 of the public key)."""
        return self.public_key.node_id

    @property
    def ip(self) -> str | None:
        return None if self.host is None else _literal_ip(self.host)

    @property
    def incomplete(self) -> bool:
        """True for an ID-only node (``enode://<hex>``) that cannot be dialed."""
        return self.host is None

    @classmethod
    def from_record(cls, record: ENR) -> Node:
        """A node from a record (verified here): IPv4 endpoint preferred, else IPv6.

        Raises:
            InvalidKeyError: the record's signature does not verify.
        """
        record.verify()
        if record.ip is not None:
            host, tcp, udp = record.ip, record.tcp, record.udp
        elif record.ip6 is not None:
            host, tcp, udp = record.ip6, record.tcp6, record.udp6
        else:
            host, tcp, udp = None, record.tcp, record.udp
        return cls(
            public_key=record.public_key, host=host, tcp_port=tcp or 0, udp_port=udp or 0, record=record
        )

    @classmethod
    def parse(cls, url: str) -> Node:
        """Parse an ``enode://`` URL (complete or ID-only) or an ``enr:`` record.

        The text comes from this side's user, so a malformed one is an
        :class:`InvalidArgumentError` (a ``ValueError``), not a remote's decode error.

        Raises:
            InvalidArgumentError: the URL or record is malformed.
            InvalidKeyError: an ``enr:`` record's signature is invalid.
        """
        if url.strip().startswith("enr:"):
            try:
                return cls.from_record(ENR.decode(url.strip()))
            except DecodeError as e:
                raise InvalidArgumentError(f"invalid enr record: {e}") from e
        u = urllib.parse.urlsplit(url.strip())
        if u.scheme != "enode":
            raise InvalidArgumentError(f"not an enode URL (scheme {u.scheme!r}): {url!r}")
        if u.username is None and "@" not in u.netloc:
            return cls(public_key=_parse_key(u.netloc))
        if not u.username:
            raise InvalidArgumentError(f"enode URL without node key: {url!r}")
        pub = _parse_key(u.username)
        host = u.hostname
        if not host:
            raise InvalidArgumentError(f"enode URL without host: {url!r}")
        try:
            tcp = u.port or 0
        except ValueError:
            raise InvalidArgumentError(f"invalid port in enode URL: {url!r}") from None
        udp = tcp
        query = urllib.parse.parse_qs(u.query)
        if "discport" in query:
            try:
                udp = int(query["discport"][0])
            except ValueError:
                raise InvalidArgumentError(f"invalid discport in enode URL: {url!r}") from None
            if not 0 <= udp <= 65535:
                raise InvalidArgumentError(f"discport out of range in enode URL: {url!r}")
        return cls(public_key=pub, host=host, tcp_port=tcp, udp_port=udp)

    def enode_url(self) -> str:
        """The ``enode://`` URL, as go-ethereum's ``URLv4`` writes it."""
        key = self.public_key.to_hex()
        if self.host is None:
            return f"enode://{key}"
        host = self.host
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        url = f"enode://{key}@{host}:{self.tcp_port}"
        if self.udp_port != self.tcp_port:
            url += f"?discport={self.udp_port}"
        return url

    def with_record(self, record: ENR) -> Node:
        """This node with a newer record (endpoint taken from the record)."""
        return Node.from_record(record)

    def __str__(self) -> str:
        return self.enode_url()


def _parse_key(text: str) -> PublicKey:
    if len(text) != 128:
        raise InvalidArgumentError(f"enode key must be 128 hex characters, got {len(text)}")
    try:
        return PublicKey.from_hex(text)
    except InvalidKeyError as e:
        raise InvalidArgumentError(f"invalid enode key: {e}") from None
