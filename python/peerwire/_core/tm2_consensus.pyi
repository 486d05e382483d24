# Stubs for peerwire._core.tm2_consensus: gno's bft reactor messages (consensus, mempool, blockchain).
from typing import Any

def decode_consensus(bz: bytes) -> tuple[str, dict[str, Any]]: ...
def encode_consensus(name: str, fields: dict[str, Any]) -> bytes: ...
def decode_mempool(bz: bytes) -> bytes: ...
def encode_mempool(tx: bytes) -> bytes: ...
def decode_blockchain(bz: bytes) -> tuple[str, dict[str, Any]]: ...
def encode_blockchain(name: str, height: int) -> bytes: ...

STATE_CHANNEL: int
DATA_CHANNEL: int
VOTE_CHANNEL: int
VOTE_SET_BITS_CHANNEL: int
MEMPOOL_CHANNEL: int
BLOCKCHAIN_CHANNEL: int
MAX_CONSENSUS_MSG_SIZE: int
MAX_BLOCKCHAIN_MSG_SIZE: int
MAX_TX_BYTES: int
BLOCK_PART_SIZE_BYTES: int
MAX_VOTES_COUNT: int
MAX_BLOCK_PARTS_COUNT: int
