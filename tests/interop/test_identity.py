"""Go and Python agree on node IDs, enode URLs and TM2 IDs (go-ethereum v1.17.5, gno v1.7.1)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_harness

from peerwire import devp2p, tm2

pytestmark = pytest.mark.interop


def test_secp256k1_ids_and_enode_urls(go_harness: Path, vectors: Callable[[str], Any]) -> None:
    v = vectors("rlpx_eip8.json")["keys"]
    secrets = [v[k]["hex"] for k in ("static_key_a", "static_key_b", "ephemeral_key_a", "ephemeral_key_b")]
    secrets += [devp2p.PrivateKey.generate().to_hex() for _ in range(16)]
    out = json.loads(run_harness(go_harness, "identity", stdin=json.dumps({"secp256k1": secrets})))
    assert len(out["secp256k1"]) == len(secrets)
    for secret, go in zip(secrets, out["secp256k1"], strict=True):
        key = devp2p.PrivateKey.from_hex(secret)
        assert key.public_key.to_hex() == go["public"]
        assert key.public_key.node_id.hex() == go["node_id"]
        node = devp2p.Node(key.public_key, "127.0.0.1", 30303, 30301)
        assert node.enode_url() == go["enode"]
        assert devp2p.Node.parse(go["enode"]) == node


def test_tm2_ids_and_node_key_files(go_harness: Path, vectors: Callable[[str], Any], tmp_path: Path) -> None:
    ids = vectors("tm2.json")["node_ids"]
    seeds = [ex["seed"] for ex in ids["derived_examples"] if "secret" not in ex]
    seeds.append(ids["primary_examples"][1]["seed"])
    seeds += [os.urandom(32).hex() for _ in range(16)]
    secrets = ["node-a", "node-b", "peerwire"]
    out = json.loads(
        run_harness(
            go_harness, "identity", stdin=json.dumps({"ed25519_seeds": seeds, "tm2_secrets": secrets})
        )
    )
    ours = [tm2.NodeKey.from_seed(bytes.fromhex(s)) for s in seeds]
    ours += [tm2.NodeKey.from_secret(s.encode()) for s in secrets]
    assert len(out["ed25519"]) == len(ours)
    for nk, go in zip(ours, out["ed25519"], strict=True):
        assert nk.public_key.hex() == go["public"]
        assert nk.to_go_bytes().hex() == go["go_private"]
        assert nk.id == go["id"]
        # gno's node_key.json loads in peerwire, and ours has the same content.
        path = tmp_path / f"{nk.id}.json"
        path.write_text(go["node_key_json"])
        assert tm2.NodeKey.load(path) == nk
        nk.save(path)
        assert json.loads(path.read_text()) == json.loads(go["node_key_json"])
