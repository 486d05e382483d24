"""Chains and EIP-2124 fork IDs (go-ethereum ``params`` and ``core/forkid``).

A :class:`Chain` is what the eth handshake needs of a chain: network ID,
genesis hash and the fork schedule (block forks, then time forks). Presets
copy go-ethereum v1.17.5 ``params/config.go``; :meth:`Chain.from_genesis_json`
reads a geth ``genesis.json`` and hashes its genesis block as
``core/genesis.go`` ``ToBlock`` does (the fork computations are Rust).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from peerwire._core import eth as _eth
from peerwire.devp2p import ENR
from peerwire.errors import DecodeError

__all__ = ["Chain", "ForkFilter", "ForkID", "Head"]


@dataclass(frozen=True, slots=True)
class ForkID:
    """EIP-2124 fork identifier: CRC32 of genesis and passed forks, and the next fork."""

    hash: bytes
    next: int = 0

    def __post_init__(self) -> None:
        if len(self.hash) != 4:
            raise ValueError("fork hash must be 4 bytes")

    @classmethod
    def from_enr(cls, record: ENR | None) -> ForkID | None:
        """The fork ID in a record's ``eth`` entry; ``None`` when missing or malformed."""
        raw = record.raw_value(b"eth") if record is not None else None
        if raw is None:
            return None
        try:
            h, n = _eth.decode_enr_entry(raw)
        except DecodeError:
            return None
        return cls(h, n)

    def enr_value(self) -> list[list[bytes | int]]:
        """The ``eth`` entry value: ``[[forkhash, forknext]]``."""
        return [[self.hash, self.next]]

    def __repr__(self) -> str:
        return f"ForkID(hash=0x{self.hash.hex()}, next={self.next})"


@dataclass(frozen=True, slots=True)
class Head:
    """Our chain head as the handshake announces it (eth/69: block range earliest..number)."""

    number: int
    hash: bytes
    time: int = 0
    earliest: int = 0
    td: int = 0  # eth/68 total difficulty


# Fork fields of geth's ChainConfig in JSON, as gatherForks finds them ("…Block" / "…Time").
_BLOCK_FORK_KEYS = [
    "homesteadBlock",
    "daoForkBlock",
    "eip150Block",
    "eip155Block",
    "eip158Block",
    "byzantiumBlock",
    "constantinopleBlock",
    "petersburgBlock",
    "istanbulBlock",
    "muirGlacierBlock",
    "berlinBlock",
    "londonBlock",
    "arrowGlacierBlock",
    "grayGlacierBlock",
    "mergeNetsplitBlock",
]
_TIME_FORK_KEYS = [
    "shanghaiTime",
    "cancunTime",
    "pragueTime",
    "osakaTime",
    "bpo1Time",
    "bpo2Time",
    "bpo3Time",
    "bpo4Time",
    "bpo5Time",
    "amsterdamTime",
    "bogotaTime",
    "ubtTime",
]

GENESIS_GAS_LIMIT = 4_712_388  # params.GenesisGasLimit
GENESIS_DIFFICULTY = 131_072  # params.GenesisDifficulty
INITIAL_BASE_FEE = 1_000_000_000  # params.InitialBaseFee
_EMPTY_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
_EMPTY_REQUESTS_HASH = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
MAX_GENESIS_FILE = 64 * 1024 * 1024  # a genesis file larger than this is refused unread


@dataclass(frozen=True)
class Chain:
    """Network ID, genesis and fork schedule of one chain."""

    name: str
    network_id: int
    genesis_hash: bytes
    block_forks: tuple[int, ...] = ()
    time_forks: tuple[int, ...] = ()
    genesis_time: int = 0
    #: The genesis header's RLP when known (from a genesis file): served on request.
    genesis_header: bytes | None = field(default=None, repr=False)

    def fork_id(self, head_number: int = 0, head_time: int = 0) -> ForkID:
        h, n = _eth.fork_id(
            self.genesis_hash,
            list(self.block_forks),
            list(self.time_forks),
            self.genesis_time,
            head_number,
            head_time,
        )
        return ForkID(h, n)

    # ------------------------------------------------------------- presets
    @classmethod
    def mainnet(cls) -> Chain:
        return cls(
            "mainnet",
            1,
            bytes.fromhex("d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"),
            (1_150_000, 1_920_000, 2_463_000, 2_675_000, 2_675_000, 4_370_000, 7_280_000,
             7_280_000, 9_069_000, 9_200_000, 12_244_000, 12_965_000, 13_773_000, 15_050_000),
            (1681338455, 1710338135, 1746612311, 1764798551, 1765290071, 1767747671),
            0,
        )  # fmt: skip

    @classmethod
    def sepolia(cls) -> Chain:
        return cls(
            "sepolia",
            11155111,
            bytes.fromhex("25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9"),
            (0,) * 11 + (1_735_371,),
            (1677557088, 1706655072, 1741159776, 1760427360, 1761017184, 1761607008),
            1633267481,
        )

    @classmethod
    def hoodi(cls) -> Chain:
        return cls(
            "hoodi",
            560048,
            bytes.fromhex("bbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b"),
            (0,) * 13,
            (0, 0, 1742999832, 1761677592, 1762365720, 1762955544),
            1742212800,
        )

    @classmethod
    def preset(cls, name: str) -> Chain:
        presets = {"mainnet": cls.mainnet, "sepolia": cls.sepolia, "hoodi": cls.hoodi}
        if name not in presets:
            raise ValueError(f"unknown chain {name!r} (known: {', '.join(presets)})")
        return presets[name]()

    # ------------------------------------------------------------- genesis.json
    @classmethod
    def from_genesis_json(cls, path: str | os.PathLike[str]) -> Chain:
        """Read a geth ``genesis.json``; the genesis hash is computed as geth computes it."""
        with open(path, "rb") as f:
            data = f.read(MAX_GENESIS_FILE + 1)
        if len(data) > MAX_GENESIS_FILE:
            raise DecodeError("genesis file larger than MAX_GENESIS_FILE")
        try:
            spec = json.loads(data)
        except ValueError as e:
            raise DecodeError(f"genesis file is not JSON: {e}") from e
        return cls.from_genesis(spec, name=os.fspath(path))

    @classmethod
    def from_genesis(cls, spec: dict[str, Any], *, name: str = "genesis") -> Chain:
        config = spec.get("config") or {}
        header = genesis_header(spec)
        block_forks = tuple(_num(config[k]) for k in _BLOCK_FORK_KEYS if config.get(k) is not None)
        time_forks = tuple(_num(config[k]) for k in _TIME_FORK_KEYS if config.get(k) is not None)
        return cls(
            name,
            _num(config.get("chainId", 0)),
            header.hash,
            block_forks,
            time_forks,
            header.time,
            header.encode(),
        )


def _num(v: Any) -> int:
    """geth's HexOrDecimal: a JSON number, "0x…" hex or a decimal string."""
    if isinstance(v, bool):
        raise DecodeError("boolean where a number was expected")
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        try:
            return int(v, 16) if v[:2] in ("0x", "0X") else int(v, 10)
        except ValueError as e:
            raise DecodeError(f"bad number {v!r}") from e
    raise DecodeError(f"bad number {v!r}")


def _hex(v: Any, size: int | None = None) -> bytes:
    if v is None:
        return b"" if size is None else bytes(size)
    s = str(v)
    s = s[2:] if s[:2] in ("0x", "0X") else s
    try:
        b = bytes.fromhex(s if len(s) % 2 == 0 else "0" + s)
    except ValueError as e:
        raise DecodeError(f"bad hex {v!r}") from e
    if size is not None:
        if len(b) > size:
            raise DecodeError(f"{v!r} longer than {size} bytes")
        b = bytes(size - len(b)) + b
    return b


def _forked(config: dict[str, Any], key: str, at: int) -> bool:
    v = config.get(key)
    return v is not None and _num(v) <= at


def genesis_header(spec: dict[str, Any]) -> _eth.Header:
    """The genesis header as geth's ``Genesis.ToBlock`` builds it."""
    config = spec.get("config")
    accounts = []
    for addr, acc in (spec.get("alloc") or {}).items():
        storage = [(_hex(k, 32), _hex(v, 32)) for k, v in (acc.get("storage") or {}).items()]
        balance = _num(acc.get("balance", 0))
        accounts.append(
            (
                _hex(addr, 20),
                _num(acc.get("nonce", 0)),
                balance.to_bytes(32, "big").lstrip(b"\0"),
                _hex(acc.get("code")),
                storage,
            )
        )
    root = _eth.state_root(accounts)
    number, time = _num(spec.get("number", 0)), _num(spec.get("timestamp", 0))
    mix = _hex(spec.get("mixHash"), 32)
    difficulty = spec.get("difficulty")
    if difficulty is not None:
        diff = _num(difficulty)
    elif config is not None and config.get("ethash") is None:
        diff = 0
    elif mix == bytes(32):
        diff = GENESIS_DIFFICULTY
    else:
        diff = 0
    fields: dict[str, Any] = {}
    cfg = config or {}
    london = _forked(cfg, "londonBlock", 0)
    if config is not None and london:
        fee = spec.get("baseFeePerGas")
        fields["base_fee"] = _num(fee) if fee is not None else INITIAL_BASE_FEE
    if config is not None:
        # IsShanghai/IsCancun/IsPrague: London at the genesis number and the time fork passed.
        london_at = _forked(cfg, "londonBlock", number)
        if london_at and _forked(cfg, "shanghaiTime", time):
            fields["withdrawals_root"] = _EMPTY_ROOT
        if london_at and _forked(cfg, "cancunTime", time):
            fields["parent_beacon_root"] = bytes(32)
            fields["excess_blob_gas"] = _num(spec.get("excessBlobGas") or 0)
            fields["blob_gas_used"] = _num(spec.get("blobGasUsed") or 0)
        elif spec.get("excessBlobGas") is not None:
            fields["excess_blob_gas"] = _num(spec["excessBlobGas"])
        if london_at and _forked(cfg, "pragueTime", time):
            fields["requests_hash"] = _EMPTY_REQUESTS_HASH
        if london_at and _forked(cfg, "amsterdamTime", time):
            raise DecodeError("genesis with Amsterdam active is not supported yet")
    return _eth.Header(
        parent_hash=_hex(spec.get("parentHash"), 32),
        coinbase=_hex(spec.get("coinbase"), 20),
        state_root=root,
        difficulty=diff,
        number=number,
        gas_limit=_num(spec.get("gasLimit", 0)) or GENESIS_GAS_LIMIT,
        gas_used=_num(spec.get("gasUsed", 0)),
        time=time,
        extra=_hex(spec.get("extraData")),
        mix_digest=mix,
        nonce=_num(spec.get("nonce", 0)),
        **fields,
    )


class ForkFilter:
    """geth's ``forkid.Filter``: ``filter(remote_id)`` is True when compatible.

    ``head`` is a callable giving our current (number, time), or a :class:`Head`.
    :meth:`check` gives geth's reason for a refusal.
    """

    def __init__(self, chain: Chain, head: Head | Any = None) -> None:
        self._filter = _eth.ForkFilter(
            chain.genesis_hash, list(chain.block_forks), list(chain.time_forks), chain.genesis_time
        )
        self._head = head

    def _now(self) -> tuple[int, int]:
        h = self._head() if callable(self._head) else self._head
        if h is None:
            return 0, 0
        return h.number, h.time

    def check(self, remote: ForkID) -> str | None:
        number, time = self._now()
        return self._filter.validate(remote.hash, remote.next, number, time)

    def __call__(self, remote: ForkID) -> bool:
        return self.check(remote) is None
