"""Typed bft messages (gno v1.7.1 ``tm2/pkg/bft/{consensus,mempool,blockchain}``).

Decoding (and every bound on it) is Rust (``peerwire._core.tm2_consensus``); this module
only gives the decoded fields names and types. ``decode(channel, bytes)`` is the one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from peerwire._core import tm2_consensus as _c
from peerwire.errors import DecodeError

__all__ = [
    "BLOCKCHAIN_CHANNEL",
    "CONSENSUS_CHANNELS",
    "DATA_CHANNEL",
    "MEMPOOL_CHANNEL",
    "OBSERVED_CHANNELS",
    "STATE_CHANNEL",
    "STEP_NAMES",
    "VOTE_CHANNEL",
    "VOTE_SET_BITS_CHANNEL",
    "BitArray",
    "BlockID",
    "BlockPart",
    "BlockRequest",
    "BlockResponse",
    "HasVote",
    "InvalidMessage",
    "Message",
    "NewRoundStep",
    "NewValidBlock",
    "NoBlockResponse",
    "PartSetHeader",
    "Proposal",
    "ProposalPOL",
    "StatusRequest",
    "StatusResponse",
    "Tx",
    "Vote",
    "VoteSetBits",
    "VoteSetMaj23",
    "block_from_parts",
    "decode",
]

STATE_CHANNEL = _c.STATE_CHANNEL
DATA_CHANNEL = _c.DATA_CHANNEL
VOTE_CHANNEL = _c.VOTE_CHANNEL
VOTE_SET_BITS_CHANNEL = _c.VOTE_SET_BITS_CHANNEL
MEMPOOL_CHANNEL = _c.MEMPOOL_CHANNEL
BLOCKCHAIN_CHANNEL = _c.BLOCKCHAIN_CHANNEL
CONSENSUS_CHANNELS = (STATE_CHANNEL, DATA_CHANNEL, VOTE_CHANNEL, VOTE_SET_BITS_CHANNEL)
OBSERVED_CHANNELS = (BLOCKCHAIN_CHANNEL, *CONSENSUS_CHANNELS, MEMPOOL_CHANNEL)

#: ``cstypes.RoundStepType`` names, as gno prints them.
STEP_NAMES = {
    1: "NewHeight",
    2: "NewRound",
    3: "Propose",
    4: "Prevote",
    5: "PrevoteWait",
    6: "Precommit",
    7: "PrecommitWait",
    8: "Commit",
}
VOTE_TYPE_NAMES = {1: "prevote", 2: "precommit", 0x20: "proposal"}


class InvalidMessage(DecodeError):
    """A peer sent bytes on a bft channel that gno would reject (bad amino, unknown type,
    out-of-bounds size, height or index). ``channel`` says where."""

    def __init__(self, channel: int, reason: str) -> None:
        super().__init__(f"invalid message on channel {channel:#04x}: {reason}")
        self.channel = channel
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PartSetHeader:
    total: int
    hash: bytes

    @classmethod
    def of(cls, d: dict[str, Any]) -> PartSetHeader:
        return cls(d["total"], d["hash"])


@dataclass(frozen=True, slots=True)
class BlockID:
    hash: bytes
    parts: PartSetHeader

    @classmethod
    def of(cls, d: dict[str, Any]) -> BlockID:
        return cls(d["hash"], PartSetHeader.of(d["parts"]))

    @property
    def is_zero(self) -> bool:
        return not self.hash and not self.parts.hash and self.parts.total == 0


@dataclass(frozen=True, slots=True)
class BitArray:
    bits: int
    elems: tuple[int, ...]

    @classmethod
    def of(cls, d: dict[str, Any]) -> BitArray:
        return cls(d["bits"], tuple(d["elems"]))

    def ones(self) -> list[int]:
        return [i for i in range(self.bits) if self.elems[i // 64] >> (i % 64) & 1]


class Message:
    """Base of every typed bft message; ``type_name`` is gno's amino name."""

    type_name: ClassVar[str] = ""
    height: int


@dataclass(frozen=True, slots=True)
class NewRoundStep(Message):
    type_name: ClassVar[str] = "NewRoundStepMessage"
    height: int
    round: int
    step: int
    seconds_since_start_time: int
    last_commit_round: int

    @property
    def step_name(self) -> str:
        return STEP_NAMES.get(self.step, str(self.step))


@dataclass(frozen=True, slots=True)
class NewValidBlock(Message):
    type_name: ClassVar[str] = "NewValidBlockMessage"
    height: int
    round: int
    block_parts_header: PartSetHeader
    block_parts: BitArray
    is_commit: bool


@dataclass(frozen=True, slots=True)
class Proposal(Message):
    type_name: ClassVar[str] = "ProposalMessage"
    height: int
    round: int
    pol_round: int
    block_id: BlockID
    timestamp: tuple[int, int]
    signature: bytes


@dataclass(frozen=True, slots=True)
class ProposalPOL(Message):
    type_name: ClassVar[str] = "ProposalPOLMessage"
    height: int
    proposal_pol_round: int
    proposal_pol: BitArray


@dataclass(frozen=True, slots=True)
class BlockPart(Message):
    type_name: ClassVar[str] = "BlockPartMessage"
    height: int
    round: int
    index: int
    data: bytes  # the part's bytes (gno ``Part.Bytes``)
    proof_total: int
    proof_index: int
    leaf_hash: bytes
    aunts: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Vote(Message):
    type_name: ClassVar[str] = "VoteMessage"
    type: int
    height: int
    round: int
    block_id: BlockID
    timestamp: tuple[int, int]
    validator_address: str
    validator_index: int
    signature: bytes

    @property
    def type_label(self) -> str:
        return VOTE_TYPE_NAMES.get(self.type, str(self.type))


@dataclass(frozen=True, slots=True)
class HasVote(Message):
    type_name: ClassVar[str] = "HasVoteMessage"
    height: int
    round: int
    type: int
    index: int


@dataclass(frozen=True, slots=True)
class VoteSetMaj23(Message):
    type_name: ClassVar[str] = "VoteSetMaj23Message"
    height: int
    round: int
    type: int
    block_id: BlockID


@dataclass(frozen=True, slots=True)
class VoteSetBits(Message):
    type_name: ClassVar[str] = "VoteSetBitsMessage"
    height: int
    round: int
    type: int
    block_id: BlockID
    votes: BitArray


@dataclass(frozen=True, slots=True)
class Tx(Message):
    """A transaction gossiped on the mempool channel (``/tm.TxMessage``); no height."""

    type_name: ClassVar[str] = "TxMessage"
    tx: bytes
    height: int = -1


@dataclass(frozen=True, slots=True)
class BlockRequest(Message):
    type_name: ClassVar[str] = "BlockRequest"
    height: int


@dataclass(frozen=True, slots=True)
class NoBlockResponse(Message):
    type_name: ClassVar[str] = "NoBlockResponse"
    height: int


@dataclass(frozen=True, slots=True)
class StatusRequest(Message):
    type_name: ClassVar[str] = "StatusRequest"
    height: int


@dataclass(frozen=True, slots=True)
class StatusResponse(Message):
    type_name: ClassVar[str] = "StatusResponse"
    height: int


@dataclass(frozen=True, slots=True)
class BlockResponse(Message):
    """A whole block (header fields an observer needs, txs, last commit's precommits)."""

    type_name: ClassVar[str] = "BlockResponse"
    height: int
    chain_id: str
    time: tuple[int, int]
    num_txs: int
    total_txs: int
    app_version: str
    last_block_id: BlockID
    app_hash: bytes
    proposer_address: str
    txs: tuple[bytes, ...]
    last_commit_block_id: BlockID
    last_commit: tuple[Vote | None, ...]


def _vote(d: dict[str, Any]) -> Vote:
    return Vote(
        d["type"],
        d["height"],
        d["round"],
        BlockID.of(d["block_id"]),
        tuple(d["timestamp"]),
        d["validator_address"],
        d["validator_index"],
        d["signature"],
    )


def _consensus(name: str, d: dict[str, Any]) -> Message:
    if name == "NewRoundStepMessage":
        return NewRoundStep(
            d["height"], d["round"], d["step"], d["seconds_since_start_time"], d["last_commit_round"]
        )
    if name == "VoteMessage":
        return _vote(d)
    if name == "BlockPartMessage":
        return BlockPart(
            d["height"],
            d["round"],
            d["index"],
            d["bytes"],
            d["proof_total"],
            d["proof_index"],
            d["leaf_hash"],
            tuple(d["aunts"]),
        )
    if name == "HasVoteMessage":
        return HasVote(d["height"], d["round"], d["type"], d["index"])
    if name == "ProposalMessage":
        return Proposal(
            d["height"],
            d["round"],
            d["pol_round"],
            BlockID.of(d["block_id"]),
            tuple(d["timestamp"]),
            d["signature"],
        )
    if name == "NewValidBlockMessage":
        return NewValidBlock(
            d["height"],
            d["round"],
            PartSetHeader.of(d["block_parts_header"]),
            BitArray.of(d["block_parts"]),
            d["is_commit"],
        )
    if name == "ProposalPOLMessage":
        return ProposalPOL(d["height"], d["proposal_pol_round"], BitArray.of(d["proposal_pol"]))
    if name == "VoteSetMaj23Message":
        return VoteSetMaj23(d["height"], d["round"], d["type"], BlockID.of(d["block_id"]))
    assert name == "VoteSetBitsMessage", name
    return VoteSetBits(d["height"], d["round"], d["type"], BlockID.of(d["block_id"]), BitArray.of(d["votes"]))


_HEIGHT_ONLY: dict[str, type[BlockRequest | NoBlockResponse | StatusRequest | StatusResponse]] = {
    "BlockRequest": BlockRequest,
    "NoBlockResponse": NoBlockResponse,
    "StatusRequest": StatusRequest,
    "StatusResponse": StatusResponse,
}


def _blockchain(name: str, d: dict[str, Any]) -> Message:
    cls = _HEIGHT_ONLY.get(name)
    if cls is not None:
        return cls(d["height"])
    return BlockResponse(
        d["height"],
        d["chain_id"],
        tuple(d["time"]),
        d["num_txs"],
        d["total_txs"],
        d["app_version"],
        BlockID.of(d["last_block_id"]),
        d["app_hash"],
        d["proposer_address"],
        tuple(d["txs"]),
        BlockID.of(d["last_commit_block_id"]),
        tuple(None if v is None else _vote(v) for v in d["last_commit"]),
    )


def decode(channel: int, bz: bytes) -> Message:
    """Decode one message received on a bft channel.

    Raises:
        InvalidMessage: what gno would reject, or a channel that carries no bft message.
    """
    try:
        if channel in CONSENSUS_CHANNELS:
            return _consensus(*_c.decode_consensus(bz))
        if channel == MEMPOOL_CHANNEL:
            return Tx(_c.decode_mempool(bz))
        if channel == BLOCKCHAIN_CHANNEL:
            return _blockchain(*_c.decode_blockchain(bz))
    except DecodeError as e:
        raise InvalidMessage(channel, str(e)) from None
    raise InvalidMessage(channel, "not a bft channel")


def encode_new_round_step(m: NewRoundStep) -> bytes:
    return _c.encode_consensus(
        "NewRoundStepMessage",
        {
            "height": m.height,
            "round": m.round,
            "step": m.step,
            "seconds_since_start_time": m.seconds_since_start_time,
            "last_commit_round": m.last_commit_round,
        },
    )


def encode_height_only(name: str, height: int) -> bytes:
    return _c.encode_blockchain(name, height)


def block_from_parts(joined: bytes) -> BlockResponse:
    """The block a complete proposal part set carries (parts joined in index order).

    Raises:
        InvalidMessage: the bytes are not one sized block.
    """
    try:
        d = _c.decode_part_set_block(joined)
    except DecodeError as e:
        raise InvalidMessage(DATA_CHANNEL, str(e)) from None
    block = _blockchain("BlockResponse", d)
    assert isinstance(block, BlockResponse)
    return block
