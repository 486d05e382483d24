"""devp2p as go-ethereum speaks it: keys, nodes, RLPx, the server and discovery."""

from __future__ import annotations

from peerwire.devp2p import discover
from peerwire.devp2p._enode import Node
from peerwire.devp2p._enr import ENR, LocalNode
from peerwire.devp2p._keys import PrivateKey, PublicKey, recover_public_key

__all__ = ["ENR", "LocalNode", "Node", "discover", "PrivateKey", "PublicKey", "recover_public_key"]
