"""The simulation's demo protocol: flood gossip over real devp2p peers.

``simgossip/1`` has one message, code 0: an RLP string of
``message id (8 bytes) || origin time in µs of virtual time (8 bytes) || filler``.
A node that sees an id for the first time records when, and forwards the
message to every other peer; a repeat is dropped. That is the broadcast a
traffic generator drives and whose propagation delays the result plots.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable

from peerwire.devp2p import DiscReason, MsgReadWriter, Peer, Protocol
from peerwire.errors import PeerwireError

__all__ = [
    "GOSSIP_MSG",
    "MAX_MESSAGE",
    "SEEN_LIMIT",
    "Gossip",
    "GossipState",
    "decode_gossip",
    "encode_gossip",
]

GOSSIP_MSG = 0
#: Largest gossip payload (filler included): a traffic generator configured past this is refused.
MAX_MESSAGE = 64 * 1024
#: Message ids remembered per node for duplicate suppression (LRU); an older id that comes
#: round again is forwarded once more, which bounds memory without losing a fresh message.
SEEN_LIMIT = 4096
_HEADER = 16


def _rlp_string(data: bytes) -> bytes:
    n = len(data)
    if n == 1 and data[0] < 0x80:
        return data
    if n < 56:
        return bytes([0x80 + n]) + data
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0xB7 + len(size)]) + size + data


def encode_gossip(msg_id: int, origin_time: float, size: int) -> bytes:
    """The RLP payload of one gossip message of ``size`` bytes (at least the 16-byte header)."""
    body = msg_id.to_bytes(8, "big") + round(origin_time * 1e6).to_bytes(8, "big")
    return _rlp_string(body + bytes(max(0, size - _HEADER)))


def decode_gossip(payload: bytes) -> tuple[int, float]:
    """``(message id, origin time)`` of a gossip payload; ValueError when it is not one."""
    if len(payload) < 1 + _HEADER or payload[0] < 0x80 or payload[0] > 0xBF:
        raise ValueError("not a gossip message")
    skip = 1 if payload[0] <= 0xB7 else 1 + payload[0] - 0xB7
    body = payload[skip:]
    if len(body) < _HEADER:
        raise ValueError("short gossip message")
    return int.from_bytes(body[:8], "big"), int.from_bytes(body[8:16], "big") / 1e6


class GossipState:
    """What one node knows of the gossip: the ids it has seen, and when it first saw each."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self._seen: OrderedDict[int, None] = OrderedDict()
        #: message id -> (virtual time first seen here, origin time)
        self.first_seen: dict[int, tuple[float, float]] = {}
        self.duplicates = 0

    def originate(self, msg_id: int, size: int) -> bytes:
        """Mark ``msg_id`` as sent from here; its payload."""
        now = self.now()
        self.first_seen[msg_id] = (now, now)
        self._mark(msg_id)
        return encode_gossip(msg_id, now, size)

    def fresh(self, payload: bytes) -> bool:
        """Record a received message; True if it is new here (then it is to be forwarded).

        Raises:
            ValueError: ``payload`` is not a gossip message.
        """
        msg_id, origin = decode_gossip(payload)
        if not self._mark(msg_id):
            self.duplicates += 1
            return False
        self.first_seen.setdefault(msg_id, (self.now(), origin))
        return True

    def _mark(self, msg_id: int) -> bool:
        if msg_id in self._seen:
            self._seen.move_to_end(msg_id)
            return False
        self._seen[msg_id] = None
        if len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)
        return True


class Gossip(GossipState):
    """The devp2p side: ``simgossip/1`` over the Server's peers."""

    def __init__(self, now: Callable[[], float]) -> None:
        super().__init__(now)
        self._peers: dict[bytes, MsgReadWriter] = {}

    @property
    def protocol(self) -> Protocol:
        return Protocol("simgossip", 1, 1, self.run)

    async def _send(self, payload: bytes, skip: bytes | None) -> None:
        # Peers in connection order (a dict keeps it), so forwarding is the same every run.
        for pid, rw in list(self._peers.items()):
            if pid != skip:
                with contextlib.suppress(PeerwireError):
                    await rw.write_msg(GOSSIP_MSG, payload)

    async def publish(self, msg_id: int, size: int) -> None:
        """Originate message ``msg_id`` here and send it to every peer."""
        await self._send(self.originate(msg_id, size), None)

    async def run(self, peer: Peer, rw: MsgReadWriter) -> None:
        self._peers[peer.id] = rw
        try:
            while True:
                try:
                    msg = await rw.read_msg()
                except PeerwireError:
                    return
                try:
                    fresh = self.fresh(msg.payload)
                except ValueError:
                    peer.disconnect(DiscReason.SUBPROTOCOL_ERROR)
                    return
                if fresh:
                    await self._send(msg.payload, peer.id)
        finally:
            if self._peers.get(peer.id) is rw:
                del self._peers[peer.id]
