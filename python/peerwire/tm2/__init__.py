"""Tendermint2 p2p as gno speaks it: node keys, the secret connection, MConnection, switch."""

from __future__ import annotations

from peerwire.tm2._keys import ID, NodeKey, id_from_public_key, validate_id

__all__ = ["ID", "NodeKey", "id_from_public_key", "validate_id"]
