"""devp2p as go-ethereum speaks it: keys, nodes, RLPx, the server and discovery."""

from __future__ import annotations

from peerwire.devp2p import rlpx
from peerwire.devp2p._enode import Node
from peerwire.devp2p._keys import PrivateKey, PublicKey, recover_public_key

__all__ = ["Node", "PrivateKey", "PublicKey", "recover_public_key", "rlpx"]
