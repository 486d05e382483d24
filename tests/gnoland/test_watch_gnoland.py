"""``peerwire watch`` against a real gnoland chain: height / round / step / proposer / votes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.gnoland._gnoland import Gnoland

pytestmark = [pytest.mark.interop, pytest.mark.slow]

PEERWIRE = Path(sys.executable).parent / "peerwire"


def test_watch_json_shows_heights_steps_votes_and_proposer(gnoland: Gnoland) -> None:
    res = subprocess.run(
        [str(PEERWIRE), "watch", gnoland.p2p_address, "--chain-id", "dev", "--json", "--duration", "12"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    recs = [json.loads(line) for line in res.stdout.splitlines()]
    assert recs, res.stderr
    for r in recs:
        assert {"height", "round", "step", "peer"} <= r.keys()
        assert r["peer"] == gnoland.node_id()
    heights = {r["height"] for r in recs if r["event"] == "step"}
    assert len(heights) >= 3, heights
    assert {"NewHeight", "Propose", "Prevote", "Precommit", "Commit"} <= {r["step"] for r in recs}
    validator = gnoland.call("status")["validator_info"]["address"]
    blocks = [r for r in recs if r["event"] == "block"]
    assert blocks and all(b["proposer"] == validator for b in blocks)
    precommits = [r for r in recs if r["event"] == "precommit" and r["block"]]
    assert precommits and all(p["validator"] == validator for p in precommits)
    for p in precommits[:3]:
        assert bytes.fromhex(p["block"]) == gnoland.block_hash(p["height"])


def test_watch_human_output(gnoland: Gnoland) -> None:
    res = subprocess.run(
        [str(PEERWIRE), "watch", gnoland.p2p_address, "--duration", "12"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "precommit" in res.stdout and "H=" in res.stdout and "proposer=g1" in res.stdout, res.stdout
