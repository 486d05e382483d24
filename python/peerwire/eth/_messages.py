"""eth message codes, versions and limits (go-ethereum ``eth/protocols/eth``)."""

from __future__ import annotations

from dataclasses import dataclass

from peerwire._core import eth as _eth
from peerwire.eth._chain import ForkID

__all__ = ["ETH_VERSIONS", "BlockHeader", "Status"]

#: Versions we speak, preferred first: what geth v1.17.5 speaks (72..69) plus eth/68.
ETH_VERSIONS = (72, 71, 70, 69, 68)
HANDSHAKE_TIMEOUT = 5.0  # geth handshakeTimeout
MAX_MESSAGE_SIZE: int = _eth.MAX_MESSAGE_SIZE
MAX_HEADERS_SERVE: int = _eth.MAX_HEADERS_SERVE
MAX_BODIES_SERVE: int = _eth.MAX_BODIES_SERVE
MAX_RECEIPTS_SERVE: int = _eth.MAX_RECEIPTS_SERVE
SOFT_RESPONSE_LIMIT: int = _eth.SOFT_RESPONSE_LIMIT
MAX_LIST_ITEMS: int = _eth.MAX_LIST_ITEMS

STATUS = 0x00
NEW_BLOCK_HASHES = 0x01
TRANSACTIONS = 0x02
GET_BLOCK_HEADERS = 0x03
BLOCK_HEADERS = 0x04
GET_BLOCK_BODIES = 0x05
BLOCK_BODIES = 0x06
NEW_BLOCK = 0x07
NEW_POOLED_TRANSACTION_HASHES = 0x08
GET_POOLED_TRANSACTIONS = 0x09
POOLED_TRANSACTIONS = 0x0A
GET_RECEIPTS = 0x0F
RECEIPTS = 0x10
BLOCK_RANGE_UPDATE = 0x11
GET_BLOCK_ACCESS_LISTS = 0x12
BLOCK_ACCESS_LISTS = 0x13
GET_CELLS = 0x14
CELLS = 0x15


def protocol_length(version: int) -> int:
    n = _eth.protocol_length(version)
    if n is None:
        raise ValueError(f"unsupported eth version {version}")
    return n


@dataclass(frozen=True, slots=True)
class Status:
    """A peer's Status. eth/68 carries ``td`` and ``head``; eth/69+ the block range."""

    version: int
    network_id: int
    genesis: bytes
    fork_id: ForkID
    earliest: int = 0
    latest: int = 0
    latest_hash: bytes = bytes(32)
    td: int = 0
    head: bytes = bytes(32)

    def encode(self) -> bytes:
        td = self.td.to_bytes(32, "big").lstrip(b"\0")
        return _eth.encode_status(
            self.version,
            self.network_id,
            self.genesis,
            self.fork_id.hash,
            self.fork_id.next,
            td,
            self.head,
            self.earliest,
            self.latest,
            self.latest_hash,
        )

    @classmethod
    def decode(cls, version: int, payload: bytes) -> Status:
        s = _eth.decode_status(version, payload)
        return cls(
            s.version,
            s.network_id,
            s.genesis,
            ForkID(s.fork_hash, s.fork_next),
            s.earliest,
            s.latest,
            s.latest_hash,
            int.from_bytes(s.td, "big"),
            s.head,
        )


BlockHeader = _eth.Header
