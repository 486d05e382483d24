"""MultiplexTransport and the peer it yields (gno ``tm2/pkg/p2p/transport.go``, ``peer.go``).

A connection becomes a peer in steps, each with its own deadline as in gno:
the TCP connect (the caller's ``connect_timeout``, the switch's 3 s dial
timeout), the secret handshake (3 s), then the NodeInfo exchange (3 s) with
``validate()``, the pubkey-to-ID check, the dialed-ID check and
``compatible_with()``. Unlike gno, the number of inbound handshakes running
at once is bounded (``max_inbound_handshakes``); a connection beyond the
bound is closed at once. A second connection from a remote ``ip:port`` that
is already active is refused (gno's duplicate-connection guard); the guard's
key is the transport's own, never stored in the peer's user-facing store.

The byte carrier is pluggable: :meth:`MultiplexTransport._connect` and
:meth:`MultiplexTransport._serve` (which feeds :meth:`handle_connection`) are
TCP here and an in-memory pipe in :mod:`peerwire.testing.tm2`; everything
above (handshake, peer, MConnection) is the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._tasks import TaskScope
from peerwire.errors import ConnectionClosedError, DecodeError, DialError, PeerwireError
from peerwire.events import DialFailureReason
from peerwire.tm2._addr import NetAddress
from peerwire.tm2._contracts import ConnInfo, PeerBehavior, PeerConn, Receiver
from peerwire.tm2._errors import (
    IncompatibleNodeInfoError,
    NodeInfoError,
    PacketDecodeError,
    PeerRefusedError,
    RefusalReason,
)
from peerwire.tm2._keys import ID, NodeKey, id_from_public_key
from peerwire.tm2._mconn import ConnectionStatus, MConnConfig, MConnection
from peerwire.tm2._nodeinfo import MAX_NODE_INFO_SIZE, NodeInfo
from peerwire.tm2._secret import STREAM_LIMIT, Reader, SecretConnection, Writer
from peerwire.tm2.profiles import explain_incompatibility, incompatibility_kinds

__all__ = ["HANDSHAKE_TIMEOUT", "MultiplexTransport", "Peer", "Verified"]

#: gno ``defaultHandshakeTimeout``, used once for the STS step and once for NodeInfo.
HANDSHAKE_TIMEOUT = 3.0
#: Inbound handshakes allowed at once; gno has no bound, which lets a peer
#: hold unlimited sockets and goroutines in the 6 s handshake window.
DEFAULT_MAX_INBOUND_HANDSHAKES = 64


class Peer:
    """A connected, verified peer running an MConnection (gno ``PeerConn``)."""

    def __init__(
        self,
        sc: SecretConnection,
        node_info: NodeInfo,
        conn_info: ConnInfo,
        behavior: PeerBehavior,
        mconfig: MConnConfig,
        clock: Clock,
        conn_key: str,
    ) -> None:
        self._node_info = node_info
        self.conn_info = conn_info
        self._sc = sc
        self._behavior = behavior
        self._data: dict[str, object] = {}
        self._conn_key = conn_key  # the transport's duplicate-guard key
        self._reactors = behavior.reactors()
        self.mconn = MConnection(
            sc,
            behavior.reactor_ch_descriptors(),
            self._on_receive,
            self._on_error,
            mconfig,
            clock=clock,
            node_budget=behavior.node_budget(),
            budget_holder=self,
        )

    async def _on_receive(self, ch_id: int, msg: bytes) -> None:
        receiver: Receiver | None = self._reactors.get(ch_id)
        if receiver is None:
            raise PeerwireError(f"no reactor for channel {ch_id:#x}")
        await receiver.receive(ch_id, self, msg)

    def _on_error(self, err: BaseException) -> None:
        self._behavior.handle_peer_error(self, err)

    @property
    def id(self) -> ID:
        return self._node_info.id

    @property
    def node_info(self) -> NodeInfo:
        return self._node_info

    @property
    def remote_ip(self) -> str:
        return self.conn_info.remote_ip

    @property
    def remote_addr(self) -> NetAddress:
        return self.conn_info.socket_addr

    @property
    def socket_addr(self) -> NetAddress:
        return self.conn_info.socket_addr

    @property
    def is_outbound(self) -> bool:
        return self.conn_info.outbound

    @property
    def is_persistent(self) -> bool:
        return self.conn_info.persistent

    @property
    def is_private(self) -> bool:
        return self.conn_info.private

    def start(self) -> None:
        self.mconn.start()

    @property
    def is_running(self) -> bool:
        return self.mconn.is_running

    async def stop(self) -> None:
        await self.mconn.stop()

    def status(self) -> ConnectionStatus:
        return self.mconn.status()

    def _has_channel(self, ch_id: int) -> bool:
        return ch_id in self._node_info.channels

    async def send(self, ch_id: int, msg: bytes) -> bool:
        """Queue ``msg``; True means it will be delivered unless the connection dies.
        False if not running, the remote did not advertise ``ch_id``, or no room within 10 s."""
        if not self.is_running or not self._has_channel(ch_id):
            return False
        return await self.mconn.send(ch_id, msg)

    def try_send(self, ch_id: int, msg: bytes) -> bool:
        if not self.is_running or not self._has_channel(ch_id):
            return False
        return self.mconn.try_send(ch_id, msg)

    def get(self, key: str) -> object:
        return self._data.get(key)

    def set(self, key: str, value: object) -> None:
        self._data[key] = value

    async def close_conn(self) -> None:
        await self._sc.close()

    @property
    def closed(self) -> bool:
        """Whether the connection under the peer is closed."""
        return self._sc.closed

    def __repr__(self) -> str:
        return f"Peer({self.id}, {'out' if self.is_outbound else 'in'} {self.socket_addr.dial_string()})"


@dataclass
class Verified:
    """A connection that passed every handshake check, not yet a peer."""

    sc: SecretConnection
    node_info: NodeInfo
    socket_addr: NetAddress
    remote_ip: str
    key: str


class MultiplexTransport:
    """Listens, accepts and dials TM2 peers (gno ``MultiplexTransport``)."""

    def __init__(
        self,
        node_info: NodeInfo,
        node_key: NodeKey,
        mconfig: MConnConfig | None = None,
        *,
        max_inbound_handshakes: int = DEFAULT_MAX_INBOUND_HANDSHAKES,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._node_info = node_info
        self._node_key = node_key
        self._mconfig = mconfig or MConnConfig()
        self._clock = clock
        self._handshake_timeout = handshake_timeout
        self._max_inbound = max_inbound_handshakes
        self._server: asyncio.Server | None = None
        self._net_address: NetAddress | None = None
        self._accepted: asyncio.Queue[Verified] = asyncio.Queue(maxsize=1)
        self._active: set[str] = set()
        # Inbound handshakes run in this scope (opened by listen(), closed by close()).
        self._handshakes = TaskScope("tm2-handshakes")
        self._closed = False
        self.rejected_inbound = 0
        #: Told about every inbound connection that failed its handshake: ``(peer or None,
        #: address, outbound, error)``. The switch sets it to feed its lifecycle events.
        self.on_handshake_failed: Callable[[PeerConn | None, str, bool, BaseException], None] | None = None

    @property
    def node_info(self) -> NodeInfo:
        """What we tell peers about ourselves."""
        return self._node_info

    def net_address(self) -> NetAddress:
        if self._net_address is None:
            raise RuntimeError("transport is not listening")
        return self._net_address

    async def listen(self, addr: NetAddress) -> None:
        """Start accepting on ``addr`` (port 0 picks one; ``net_address()`` then has it)."""
        await self._open()
        self._net_address = await self._serve(addr)

    async def _open(self) -> None:
        """Open the handshake task scope (once per listen after a close)."""
        if not self._handshakes.running:
            self._handshakes = TaskScope("tm2-handshakes")
            await self._handshakes.start()
        self._closed = False

    async def _serve(self, addr: NetAddress) -> NetAddress:
        """Start the listener, calling :meth:`_on_inbound` per connection; return the bound address."""
        self._server = await asyncio.start_server(
            self.handle_connection, addr.host, addr.port, limit=STREAM_LIMIT
        )
        port = self._server.sockets[0].getsockname()[1]
        return NetAddress(addr.id, addr.host, port)

    async def _connect(self, addr: NetAddress) -> tuple[Reader, Writer]:
        """Open the byte carrier to ``addr`` (raises OSError when refused)."""
        return await asyncio.open_connection(addr.host, addr.port, limit=STREAM_LIMIT)

    def handle_connection(self, reader: Reader, writer: Writer) -> None:
        """Run the inbound handshake on an accepted byte stream (the listener calls this; a
        custom carrier may too). Verified peers come out of :meth:`accept`."""
        # Tasks are counted from creation, so a burst cannot overshoot the bound.
        if self._closed or not self._handshakes.running or self._handshakes.tasks >= self._max_inbound:
            self.rejected_inbound += 1
            writer.close()
            return
        self._handshakes.spawn(self._inbound(reader, writer), name="inbound handshake")

    async def _inbound(self, reader: Reader, writer: Writer) -> None:
        try:
            verified = await self._process(reader, writer, None)
        except (PeerwireError, OSError, TimeoutError) as e:
            if self.on_handshake_failed is not None:
                peername = writer.get_extra_info("peername")
                where = (
                    NetAddress("", str(peername[0]), int(peername[1])).dial_string()
                    if isinstance(peername, tuple)
                    else ""
                )
                self.on_handshake_failed(None, where, False, e)
            return
        await self._accepted.put(verified)

    async def _process(self, reader: Reader, writer: Writer, expected: ID | None) -> Verified:
        peername = writer.get_extra_info("peername")
        if not isinstance(peername, tuple) or len(peername) < 2:
            writer.close()
            raise ConnectionClosedError("connection has no remote address")
        host, port = str(peername[0]), int(peername[1])
        key = NetAddress("", host, port).dial_string()
        if key in self._active:
            writer.close()
            raise PeerRefusedError(RefusalReason.DUPLICATE, f"a connection from {key} is active")
        self._active.add(key)
        sc: SecretConnection | None = None
        try:
            async with self._clock.timeout(self._handshake_timeout):
                sc = await SecretConnection.make(
                    reader, writer, self._node_key, timeout=None, clock=self._clock
                )
            async with self._clock.timeout(self._handshake_timeout):
                await sc.write(self._node_info.encode())
                try:
                    peer_info = NodeInfo.decode(await sc.read_sized(MAX_NODE_INFO_SIZE))
                except DecodeError as e:  # re-typed: TM2 errors carry no devp2p disconnect code
                    raise PacketDecodeError(f"node info: {e}") from None
            peer_info.validate()
            conn_id = id_from_public_key(sc.remote_public_key)
            if conn_id != peer_info.id:
                raise NodeInfoError(
                    f"connection ID does not match node info ID ({conn_id} != {peer_info.id})"
                )
            if expected is not None and conn_id != expected:
                raise NodeInfoError(f"connection ID does not match the dialed ID ({conn_id} != {expected})")
            self._check_compatible(peer_info)
        except BaseException:
            self._active.discard(key)
            if sc is not None:
                await sc.close()
            else:
                writer.close()
            raise
        return Verified(sc, peer_info, NetAddress(peer_info.id, host, port), host, key)

    def _check_compatible(self, theirs: NodeInfo) -> None:
        """gno's ``CompatibleWith``, its error explained (the remote named by its moniker).

        Raises:
            IncompatibleNodeInfoError: ``theirs`` is not compatible with our NodeInfo.
        """
        ours = self._node_info
        try:
            ours.compatible_with(theirs)
        except NodeInfoError as e:
            why = explain_incompatibility(ours, theirs) or str(e)
            kinds = incompatibility_kinds(ours, theirs)
            raise IncompatibleNodeInfoError(why, str(e), kinds, str(theirs.id)) from None

    def _peer(self, v: Verified, behavior: PeerBehavior, outbound: bool) -> Peer:
        info = ConnInfo(
            outbound=outbound,
            persistent=behavior.is_persistent_peer(v.node_info.id),
            private=behavior.is_private_peer(v.node_info.id),
            remote_ip=v.remote_ip,
            socket_addr=v.socket_addr,
        )
        return Peer(v.sc, v.node_info, info, behavior, self._mconfig, self._clock, v.key)

    async def accept(self, behavior: PeerBehavior) -> Peer:
        """Wait for the next verified inbound peer (not started)."""
        if self._closed:
            raise ConnectionClosedError("transport closed")
        return self._peer(await self._accepted.get(), behavior, outbound=False)

    async def dial(
        self, addr: NetAddress, behavior: PeerBehavior, *, connect_timeout: float | None = None
    ) -> Peer:
        """Connect to ``addr``, handshake, and check the peer is ``addr.id`` (not started).

        ``connect_timeout`` bounds the connect only (gno's dial context); the secret
        handshake and the NodeInfo exchange then get ``handshake_timeout`` each.

        Raises:
            DialError: the connection failed or ``addr`` has no IP (resolve it first).
            HandshakeError / NodeInfoError / FrameError: the peer failed verification.
            peerwire.errors.TimeoutError: a step ran out of time.
        """
        if addr.ip is None:
            raise DialError(f"dial {addr}: host is not resolved", reason=DialFailureReason.RESOLVE_FAILED)
        try:
            async with self._clock.timeout(connect_timeout):
                reader, writer = await self._connect(addr)
        except OSError as e:
            raise DialError(f"dial {addr}: {e}", reason=DialFailureReason.CONNECT_REFUSED) from e
        except TimeoutError as e:
            raise DialError(
                f"dial {addr}: no connection within {connect_timeout} s",
                reason=DialFailureReason.CONNECT_TIMEOUT,
            ) from e
        v = await self._process(reader, writer, addr.id or None)
        # Outbound peers are known by the address we dialed.
        v.socket_addr = addr
        return self._peer(v, behavior, outbound=True)

    def remove(self, peer: PeerConn) -> None:
        """Forget the peer's socket address in the duplicate guard."""
        if isinstance(peer, Peer):
            self._active.discard(peer._conn_key)

    async def close(self) -> None:
        self._closed = True
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        await self._handshakes.stop()
        while not self._accepted.empty():
            await self._accepted.get_nowait().sc.close()
