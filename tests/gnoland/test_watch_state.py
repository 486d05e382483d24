"""``peerwire watch`` record building, without a chain: fields, and bounded part buffers."""

from __future__ import annotations

from peerwire.cli._watch import MAX_PENDING_PART_SETS, WatchState
from peerwire.tm2 import observe

H = b"\x22" * 32


def _bid(total: int) -> observe.BlockID:
    return observe.BlockID(H, observe.PartSetHeader(total, H))


def test_records_carry_height_round_step_and_peer() -> None:
    st = WatchState()
    rec = st.update(observe.Observed("g1peer", 0x20, observe.NewRoundStep(9, 1, 4, 0, 0)))
    assert rec == {"event": "step", "height": 9, "round": 1, "step": "Prevote", "peer": "g1peer"}
    vote = observe.Vote(2, 9, 1, _bid(1), (0, 0), "g1val", 0, b"s" * 64)
    rec = st.update(observe.Observed("g1peer", 0x22, vote))
    assert rec is not None and rec["event"] == "precommit" and rec["block"] == H.hex()
    assert st.update(observe.Observed("g1peer", 0x30, observe.Tx(b"abc"))) == {
        "event": "tx",
        "height": 9,
        "round": 1,
        "step": "Prevote",
        "peer": "g1peer",
        "bytes": 3,
    }


def test_part_buffers_are_bounded() -> None:
    st = WatchState()
    for h in range(10):
        st.update(observe.Observed("p", 0x21, observe.Proposal(h, 0, -1, _bid(4), (0, 0), b"s")))
        part = observe.BlockPart(h + 100, 0, 0, b"x", 4, 0, H, ())
        assert st.update(observe.Observed("p", 0x21, part)) is None  # incomplete: nothing yet
        assert len(st.part_sets) <= MAX_PENDING_PART_SETS
    # a part set that completes with bytes that are not a block yields nothing (and no error)
    for i in range(2):
        st.update(observe.Observed("p", 0x21, observe.BlockPart(500, 0, i, b"junk", 2, i, H, ())))
    assert (500, 0) not in st.part_sets
