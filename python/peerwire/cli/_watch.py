"""``peerwire watch <id@host:port>``: the live consensus of a TM2 (gno.land) chain.

Joins the peer with the ``gnoland`` profile (chain ``--chain-id``) and a
:class:`peerwire.tm2.observe.Observer`, then prints height, round, step, proposer, votes and
transactions as they are gossiped. ``--json`` prints one object per line with at least
``height``, ``round``, ``step`` and ``peer``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
from typing import Any, TextIO

from peerwire._clock import SYSTEM_CLOCK
from peerwire.tm2 import (
    MultiplexSwitch,
    MultiplexTransport,
    NetAddress,
    NodeKey,
    with_persistent_peers,
    with_reactor,
)
from peerwire.tm2.observe import (
    BlockPart,
    InvalidMessage,
    NewRoundStep,
    NewValidBlock,
    Observed,
    Observer,
    Proposal,
    Tx,
    Vote,
    block_from_parts,
)
from peerwire.tm2.profiles import gnoland

__all__ = ["add_watch_parser", "cmd_watch", "run_watch"]

#: Proposal part sets kept while they fill (current and one stale round): bounds memory
#: against a peer that starts part sets it never finishes.
MAX_PENDING_PART_SETS = 2
#: Parts of one block we buffer at most (gno's part count for a 8 MiB block data limit).
MAX_PARTS = 129


class _Parts:
    def __init__(self, total: int) -> None:
        self.total = total
        self.parts: dict[int, bytes] = {}


class WatchState:
    """What the watcher knows of the chain: it turns observed messages into output records."""

    def __init__(self) -> None:
        self.height = 0
        self.round = 0
        self.step = ""
        self.proposer = ""
        self.part_sets: dict[tuple[int, int], _Parts] = {}

    def _base(self, ob: Observed, event: str) -> dict[str, Any]:
        return {
            "event": event,
            "height": self.height,
            "round": self.round,
            "step": self.step,
            "peer": ob.peer_id,
        }

    def update(self, ob: Observed) -> dict[str, Any] | None:
        m = ob.message
        if isinstance(m, NewRoundStep):
            self.height, self.round, self.step = m.height, m.round, m.step_name
            return self._base(ob, "step")
        if isinstance(m, Proposal):
            if 0 < m.block_id.parts.total <= MAX_PARTS:
                self.part_sets[(m.height, m.round)] = _Parts(m.block_id.parts.total)
                while len(self.part_sets) > MAX_PENDING_PART_SETS:
                    self.part_sets.pop(min(self.part_sets))
            rec = self._base(ob, "proposal")
            rec.update(height=m.height, round=m.round, block=m.block_id.hash.hex())
            return rec
        if isinstance(m, BlockPart):
            return self._part(ob, m)
        if isinstance(m, Vote):
            rec = self._base(ob, m.type_label)
            rec.update(
                height=m.height,
                round=m.round,
                validator=m.validator_address,
                index=m.validator_index,
                block=m.block_id.hash.hex() or None,
            )
            return rec
        if isinstance(m, NewValidBlock) and m.is_commit:
            rec = self._base(ob, "commit")
            rec.update(height=m.height, round=m.round)
            return rec
        if isinstance(m, Tx):
            rec = self._base(ob, "tx")
            rec.update(bytes=len(m.tx))
            return rec
        return None

    def _part(self, ob: Observed, m: BlockPart) -> dict[str, Any] | None:
        ps = self.part_sets.get((m.height, m.round))
        if ps is None and 0 < m.proof_total <= MAX_PARTS:
            # catch-up gossip sends parts without a proposal: the proof names the part count
            ps = self.part_sets[(m.height, m.round)] = _Parts(m.proof_total)
            while len(self.part_sets) > MAX_PENDING_PART_SETS:
                self.part_sets.pop(min(self.part_sets))
        if ps is None or not 0 <= m.index < ps.total:
            return None
        ps.parts[m.index] = m.data
        if len(ps.parts) < ps.total:
            return None
        self.part_sets.pop((m.height, m.round), None)
        try:
            block = block_from_parts(b"".join(ps.parts[i] for i in range(ps.total)))
        except InvalidMessage:
            return None
        self.proposer = block.proposer_address
        rec = self._base(ob, "block")
        rec.update(height=block.height, round=m.round, proposer=block.proposer_address, txs=block.num_txs)
        return rec


def _human(rec: dict[str, Any]) -> str:
    head = f"H={rec['height']} R={rec['round']} {rec['step']:<13}"
    ev = rec["event"]
    if ev == "step":
        return head
    if ev == "proposal":
        return f"{head} proposal block={rec['block'][:16]}"
    if ev == "block":
        return f"{head} block proposer={rec['proposer']} txs={rec['txs']}"
    if ev in ("prevote", "precommit"):
        target = (rec["block"] or "nil")[:16]
        return f"{head} {ev} #{rec['index']} {rec['validator']} -> {target}"
    if ev == "commit":
        return f"{head} commit"
    if ev == "tx":
        return f"{head} tx {rec['bytes']} bytes"
    return head


async def run_watch(
    target: str, *, chain_id: str, as_json: bool, duration: float | None, out: TextIO = sys.stdout
) -> int:
    """Watch ``target`` until ``duration`` seconds pass (or forever); returns records printed."""
    addr = NetAddress.parse(target)
    key = NodeKey.generate()
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    here = NetAddress(str(key.id), "127.0.0.1", port)
    # no PEX reactor here: a watcher listens to one chain peer, it does not gossip addresses
    info = gnoland(chain_id, pex=False).node_info(here, "peerwire-watch")
    transport = MultiplexTransport(info, key)
    await transport.listen(here)
    obs = Observer()
    sw = MultiplexSwitch(transport, with_reactor("observer", obs), with_persistent_peers([str(addr)]))
    state = WatchState()
    printed = 0
    async with sw:
        msgs = obs.messages()
        with contextlib.suppress(TimeoutError):
            async with SYSTEM_CLOCK.timeout(duration):
                async for ob in msgs:
                    rec = state.update(ob)
                    if rec is None:
                        continue
                    print(json.dumps(rec) if as_json else _human(rec), file=out, flush=True)
                    printed += 1
    return printed


def add_watch_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    w = sub.add_parser(
        "watch", parents=[common], help="live height / round / step / votes / txs of a TM2 chain"
    )
    w.add_argument("target", help="<g1 id>@host:port of a chain node")
    w.add_argument("--chain-id", default="dev", help="the chain ID (NodeInfo network), default dev")
    w.add_argument("--json", action="store_true", help="one JSON object per line")
    w.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    w.set_defaults(func=cmd_watch)


def cmd_watch(args: argparse.Namespace) -> int:
    try:
        asyncio.run(run_watch(args.target, chain_id=args.chain_id, as_json=args.json, duration=args.duration))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
