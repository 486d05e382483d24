"""The ENR ``eth`` entry and geth's eth node filter (``eth.NewNodeFilter``)."""

from __future__ import annotations

from collections.abc import Callable

from peerwire.devp2p import Node
from peerwire.eth._chain import Chain, ForkFilter, ForkID, Head

__all__ = ["enr_filter"]


def enr_filter(chain: Chain, head: Head | Callable[[], Head] | None = None) -> Callable[[Node], bool]:
    """A node filter for ``devp2p.Config(node_filter=…)``: keep nodes whose record has an
    ``eth`` entry with a fork ID compatible with ``chain`` at ``head`` (geth ``NewNodeFilter``).
    Nodes without a record, without the entry or with a malformed one are dropped."""
    fork_filter = ForkFilter(chain, head)

    def keep(node: Node) -> bool:
        fid = ForkID.from_enr(node.record)
        return fid is not None and fork_filter(fid)

    return keep
