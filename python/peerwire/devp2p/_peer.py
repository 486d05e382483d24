"""A running devp2p peer: base protocol, sub-protocol multiplexing, liveness.

Mirrors go-ethereum's ``p2p.Peer``: one read loop routes frames by code range
(0x00-0x0f to the base protocol, each negotiated protocol its own range from
0x10), a ping loop sends Ping every 15 s, Pong is answered at once, every read
has a 30 s deadline and every write a 20 s one. The first ending wins and
decides the reason sent in the final Disconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from peerwire._budget import NodeBudget
from peerwire._clock import Clock
from peerwire._core import p2p_base
from peerwire.devp2p._base import (
    BASE_PROTOCOL_LENGTH,
    DISC_MSG,
    DISC_WRITE_TIMEOUT,
    EMPTY_LIST,
    FRAME_READ_TIMEOUT,
    FRAME_WRITE_TIMEOUT,
    PING_INTERVAL,
    PING_MSG,
    PONG_MSG,
    Cap,
    ConnFlag,
    DiscReason,
    Msg,
    PeerEvent,
    PeerEventType,
)
from peerwire.devp2p._enode import Node
from peerwire.devp2p._transport import Transport
from peerwire.errors import ConnectionClosedError, LocalProtocolError, PeerwireError, ProtocolError

__all__ = ["MsgReadWriter", "Peer", "PeerEnd", "Protocol"]

PROTO_QUEUE_DEPTH = 16  # frames buffered per protocol before the read loop waits (backpressure)
#: Decoded (decompressed) payload bytes a peer may have waiting for its protocol handlers.
#: Stops snappy bombs: ~1 MiB on the wire decompresses to 16 MiB, and 16 queued messages
#: per protocol would hold 256 MiB for one peer (issue 12, item 4). One message of any
#: size is always accepted into an empty queue; going over ends the peer (SUBPROTOCOL_ERROR:
#: its protocol handlers cannot keep up with what it sends).
PEER_DECODED_BUDGET = 16 * 1024 * 1024
#: The same bytes for all peers of one server together: the per-peer bound alone lets 40
#: peers hold 640 MiB. Over it, the peer holding the most is ended (SUBPROTOCOL_ERROR).
NODE_DECODED_BUDGET = 256 * 1024 * 1024
#: Messages the read loop handles before yielding to the event loop: messages already
#: buffered are returned without suspending, so without this one flooding peer would
#: run its whole backlog in one turn and stall every other peer (issue 12, item 6).
MSGS_PER_TURN = 8


@dataclass(frozen=True, slots=True)
class Protocol:
    """A sub-protocol: ``run(peer, rw)`` is a coroutine that owns the peer's traffic for it.

    ``length`` is the number of message codes it uses. ``node_info``/``peer_info``
    feed :meth:`Server.node_info` / :meth:`Server.peers_info` (geth's ``NodeInfo``/``PeerInfo``).
    """

    name: str
    version: int
    length: int
    run: Callable[[Peer, MsgReadWriter], Awaitable[None]]
    node_info: Callable[[], Any] | None = None
    peer_info: Callable[[bytes], Any] | None = None
    #: Entries the server publishes in the local node record (geth ``Protocol.Attributes``),
    #: e.g. ``{"eth": [[fork_hash, fork_next]]}``; values are RLP-encoded like ``ENR.build`` extras.
    attributes: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: Which discovered nodes are worth dialing for this protocol (geth: the filtered
    #: ``DialCandidates`` of ``eth.MakeProtocols``, e.g. ``eth.enr_filter``). With a filter on
    #: any protocol and no ``Config.node_filter``, the server dials a discovered node only if
    #: one of them keeps it, as geth drops its unfiltered default feed then.
    node_filter: Callable[[Node], bool | Awaitable[bool]] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.length <= 0:
            raise ValueError("protocol length must be positive")
        if self.version < 0:
            raise ValueError("protocol version must be non-negative")

    @property
    def cap(self) -> Cap:
        return Cap(self.name, self.version)


@dataclass(frozen=True, slots=True)
class PeerEnd:
    """How a peer ended: the reason, whether the remote asked for it, and a description."""

    reason: DiscReason
    remote_requested: bool
    error: str


class MsgReadWriter:
    """A protocol's view of the connection: codes relative to the protocol's offset."""

    def __init__(self, peer: Peer, proto: Protocol, offset: int) -> None:
        self._peer = peer
        self.protocol = proto
        self.offset = offset
        self._in: asyncio.Queue[Msg] = asyncio.Queue(maxsize=PROTO_QUEUE_DEPTH)

    async def read_msg(self) -> Msg:
        """The next message for this protocol. Raises ConnectionClosedError once the peer is gone."""
        if self._peer.closed and self._in.empty():
            raise ConnectionClosedError("peer disconnected")
        msg = await self._in.get()
        self._peer._released(len(msg.payload))
        self._peer._msg_event(PeerEventType.MSG_RECV, self.protocol.name, msg.code, len(msg.payload))
        return msg

    async def write_msg(self, code: int, payload: bytes) -> None:
        """Send ``payload`` (RLP) with a code relative to the protocol.

        Raises:
            LocalProtocolError: ``code`` is not below the protocol's length.
            ConnectionClosedError: the peer is gone or the write failed.
        """
        if not 0 <= code < self.protocol.length:
            raise LocalProtocolError(
                f"invalid message code {code} for {self.protocol.name}/{self.protocol.version} "
                f"(length {self.protocol.length})"
            )
        await self._peer._write(self.offset + code, payload)
        self._peer._msg_event(PeerEventType.MSG_SEND, self.protocol.name, code, len(payload))


def _fmt(addr: tuple[str, int] | None) -> str:
    if addr is None:
        return ""
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Peer:
    """A connected devp2p peer (geth's ``p2p.Peer``)."""

    def __init__(
        self,
        *,
        transport: Transport,
        node: Node,
        name: str,
        caps: list[Cap],
        flags: ConnFlag,
        matched: list[tuple[Protocol, int]],
        clock: Clock,
        emit: Callable[[PeerEvent], None] | None = None,
        local_address: tuple[str, int] | None = None,
        remote_address: tuple[str, int] | None = None,
        node_budget: NodeBudget | None = None,
    ) -> None:
        self._t = transport
        self.node = node
        self.name = name
        self.caps = sorted(caps)
        self.flags = flags
        self._clock = clock
        self._emit = emit
        self.local_address = _fmt(local_address)
        self.remote_address = _fmt(remote_address)
        self._rws = [MsgReadWriter(self, p, off) for p, off in matched]
        self._wlock = asyncio.Lock()
        self._end: asyncio.Future[PeerEnd] = asyncio.get_running_loop().create_future()
        #: Bytes of decoded payloads queued for the protocol handlers (see PEER_DECODED_BUDGET).
        self._decoded_waiting = 0
        self.decoded_budget = PEER_DECODED_BUDGET
        #: The server's budget for the same bytes over all its peers (NODE_DECODED_BUDGET).
        self._node_budget = node_budget
        if node_budget is not None:
            node_budget.register(self, lambda: self._over_node_budget(node_budget.limit))

    # -- public surface ---------------------------------------------------
    @property
    def id(self) -> bytes:
        return self.node.id

    @property
    def inbound(self) -> bool:
        return bool(self.flags & ConnFlag.INBOUND)

    @property
    def trusted(self) -> bool:
        return bool(self.flags & ConnFlag.TRUSTED)

    @property
    def static(self) -> bool:
        return bool(self.flags & ConnFlag.STATIC_DIALED)

    @property
    def closed(self) -> bool:
        return self._end.done()

    @property
    def running_protocols(self) -> list[tuple[Protocol, int]]:
        """The negotiated protocols with their absolute code offsets."""
        return [(rw.protocol, rw.offset) for rw in self._rws]

    def disconnect(self, reason: DiscReason = DiscReason.REQUESTED) -> None:
        """End the connection, telling the peer ``reason``. Returns at once."""
        self._finish(DiscReason(reason), False, str(DiscReason(reason)))

    async def wait_closed(self) -> PeerEnd:
        return await asyncio.shield(self._end)

    def info(self) -> dict[str, Any]:
        """geth's ``p2p.PeerInfo`` (the elements of ``admin_peers``)."""
        protocols: dict[str, Any] = {}
        for rw in self._rws:
            p = rw.protocol
            meta: Any = "unknown"
            if p.peer_info is not None:  # geth: None from the query means "handshake" (still running)
                got = p.peer_info(self.id)
                meta = got if got is not None else "handshake"
            protocols[p.name] = meta
        return {
            "enode": self.node.enode_url(),
            "id": self.id.hex(),
            "name": self.name,
            "caps": [str(c) for c in self.caps],
            "network": {
                "localAddress": self.local_address,
                "remoteAddress": self.remote_address,
                "inbound": self.inbound,
                "trusted": self.trusted,
                "static": self.static,
            },
            "protocols": protocols,
        }

    def __repr__(self) -> str:
        return f"Peer {self.id[:8].hex()} {self.remote_address} {self.flags.describe()}"

    # -- runtime ----------------------------------------------------------
    def _finish(self, reason: DiscReason, remote: bool, error: str) -> None:
        if not self._end.done():
            self._end.set_result(PeerEnd(reason, remote, error))

    def _released(self, size: int) -> None:
        """A queued message reached its handler: its bytes no longer count as waiting."""
        self._decoded_waiting -= size
        if self._node_budget is not None:
            self._node_budget.release(self, size)

    def _over_node_budget(self, limit: int) -> None:
        self._finish(
            DiscReason.SUBPROTOCOL_ERROR,
            False,
            f"the node's decoded bytes waiting are over budget ({limit}) and this peer holds the most "
            f"({self._decoded_waiting})",
        )

    def _msg_event(self, kind: PeerEventType, proto: str, code: int, size: int) -> None:
        if self._emit is not None:
            self._emit(
                PeerEvent(
                    kind,
                    self.id,
                    protocol=proto,
                    msg_code=code,
                    msg_size=size,
                    local_address=self.local_address,
                    remote_address=self.remote_address,
                )
            )

    async def _write(self, code: int, payload: bytes) -> None:
        if self.closed:
            raise ConnectionClosedError("peer disconnected")
        try:
            async with self._wlock, self._clock.timeout(FRAME_WRITE_TIMEOUT):
                await self._t.send(code, payload)
        except (PeerwireError, OSError) as e:
            self._finish(DiscReason.NETWORK_ERROR, False, f"write error: {e}")
            raise ConnectionClosedError(f"write failed: {e}") from e

    async def _read_loop(self) -> None:
        try:
            handled = 0
            while True:
                async with self._clock.timeout(FRAME_READ_TIMEOUT):  # the one bound on this read
                    code, payload = await self._t.recv()
                await self._handle(code, payload)
                handled += 1
                if handled >= MSGS_PER_TURN:  # let other peers run (fairness)
                    handled = 0
                    await asyncio.sleep(0)
        except (PeerwireError, OSError) as e:
            self._finish(DiscReason.NETWORK_ERROR, False, f"read error: {e}")

    async def _handle(self, code: int, payload: bytes) -> None:
        if code == PING_MSG:
            with contextlib.suppress(ConnectionClosedError):
                await self._write(PONG_MSG, EMPTY_LIST)
        elif code == DISC_MSG:
            reason = DiscReason.from_wire(p2p_base.decode_disconnect(payload))
            self._finish(reason, True, str(reason))
        elif code < BASE_PROTOCOL_LENGTH:
            return  # Pong, a late Hello and unknown base codes are ignored
        else:
            for rw in self._rws:
                if rw.offset <= code < rw.offset + rw.protocol.length:
                    waiting = self._decoded_waiting + len(payload)
                    if self._decoded_waiting and waiting > self.decoded_budget:
                        self._finish(
                            DiscReason.SUBPROTOCOL_ERROR,
                            False,
                            f"decoded bytes waiting over budget ({waiting} > {self.decoded_budget})",
                        )
                        return
                    self._decoded_waiting = waiting
                    if self._node_budget is not None:
                        self._node_budget.charge(self, len(payload))
                    await rw._in.put(Msg(code - rw.offset, payload, self._clock.monotonic()))
                    return
            self._finish(DiscReason.PROTOCOL_ERROR, False, f"msg code out of range: {code}")

    async def _ping_loop(self) -> None:
        while True:
            await self._clock.sleep(PING_INTERVAL)
            try:
                await self._write(PING_MSG, EMPTY_LIST)
            except ConnectionClosedError:
                return

    async def _run_protocol(self, rw: MsgReadWriter) -> None:
        try:
            await rw.protocol.run(self, rw)
        except asyncio.CancelledError:
            raise
        except ProtocolError as e:
            reason = DiscReason.from_wire(
                e.disconnect_reason if e.disconnect_reason is not None else DiscReason.SUBPROTOCOL_ERROR
            )
            self._finish(reason, False, str(e))
        except Exception as e:
            self._finish(DiscReason.SUBPROTOCOL_ERROR, False, f"{type(e).__name__}: {e}")
        else:
            self._finish(DiscReason.QUITTING, False, "protocol returned")

    async def run(self) -> PeerEnd:
        """Run until the peer ends; sends the final Disconnect (unless the cause rules it out)."""
        tasks = [asyncio.ensure_future(self._read_loop()), asyncio.ensure_future(self._ping_loop())]
        tasks += [asyncio.ensure_future(self._run_protocol(rw)) for rw in self._rws]
        try:
            await asyncio.shield(self._end)
        except asyncio.CancelledError:
            self._finish(DiscReason.QUITTING, False, "server stopped")
            raise
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._node_budget is not None:  # what its handlers never read is freed with it
                self._node_budget.forget(self)
            end = self._end.result()
            if not end.remote_requested and end.reason not in (DiscReason.NETWORK_ERROR, DiscReason.INVALID):
                with contextlib.suppress(PeerwireError, OSError):
                    async with self._clock.timeout(DISC_WRITE_TIMEOUT):
                        await self._t.send(DISC_MSG, p2p_base.encode_disconnect(int(end.reason)))
            with contextlib.suppress(PeerwireError, OSError):
                await self._t.close()
        return end
