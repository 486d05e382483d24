"""One discv5 exchange with a node given by its ``enr:`` record (``peerwire ping enr:…``).

A throwaway key and an ephemeral UDP port: PING (handshake included), then FINDNODE at
distance 0 for the node's current record. Returns what the node said about itself.
"""

from __future__ import annotations

from typing import Any

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire.devp2p._enode import Node
from peerwire.devp2p._keys import PrivateKey
from peerwire.devp2p.discover._v5lookup import listen_v5
from peerwire.errors import PeerwireError

__all__ = ["ping_v5"]


async def ping_v5(record: str, within: float, *, clock: Clock = SYSTEM_CLOCK) -> dict[str, Any]:
    """PING the node of ``record`` over discv5 and fetch its record, all within ``within`` s."""
    node = Node.parse(record)
    if node.record is None or node.ip is None or not node.udp_port:
        raise PeerwireError(f"{record[:40]}…: the record has no IP address and UDP port")
    bind = "[::]:0" if ":" in node.ip else "0.0.0.0:0"
    async with clock.timeout(within), listen_v5(PrivateKey.generate(), bind, clock=clock) as d5:
        t0 = clock.monotonic()
        seq = await d5.ping(node)
        rtt_ms = (clock.monotonic() - t0) * 1000
        rec = await d5.request_enr(node)
    fields = {k.decode(errors="replace"): rec[k].hex() for k in rec}
    return {
        "stack": "devp2p",
        "protocol": "discv5",
        "id": rec.node_id.hex(),
        "seq": rec.seq,
        "pong_seq": seq,
        "ip": rec.ip or rec.ip6,
        "udp": rec.udp or rec.udp6,
        "tcp": rec.tcp or rec.tcp6,
        "enr": str(rec),
        "entries": fields,
        "ping_ms": round(rtt_ms, 1),
    }
