"""The ``eth`` capability on a :class:`peerwire.devp2p.Server` (go-ethereum ``eth.MakeProtocols``).

One :class:`Protocol` offers eth/72..69 (what geth v1.17.5 speaks) and eth/68;
the server's capability matching picks the highest shared version. Each peer
first exchanges Status, validated as geth's ``readStatus`` does (network ID,
version, genesis, fork ID, block range) within geth's 5 s handshake timeout
(``DiscReadTimeout`` on expiry, ``DiscSubprotocolError`` on any mismatch).
Then an :class:`EthPeer` serves requests from the optional provider, or
answers them empty (a node with nothing to serve is not dropped by geth), and
lets the caller request headers by request ID with a deadline and a bound on
requests in flight.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol as TypingProtocol

from peerwire import devp2p
from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire._core import eth as _eth
from peerwire._core import rlp as _rlp
from peerwire.errors import (
    ConnectionClosedError,
    DecodeError,
    PeerwireError,
    RemoteProtocolError,
    TimeoutError,
)
from peerwire.eth import _messages as m
from peerwire.eth._chain import Chain, ForkFilter, ForkID, Head
from peerwire.eth._enr import enr_filter
from peerwire.eth._messages import BlockHeader, Status

__all__ = ["EthHandshakeError", "EthPeer", "EthProtocolError", "Protocol", "Provider"]

REQUEST_TIMEOUT = 10.0  # default deadline of one request (geth's fetchers use 5-10 s)
MAX_IN_FLIGHT = 16  # requests per peer awaiting an answer; more wait for a slot
MAX_READY_PEERS = 256  # peers kept for wait_peer(); an unbounded set would grow per dial
#: A request the caller gave up on is still expected this long (geth's request tracker
#: timeout): a slow but honest answer is dropped quietly, not taken for an unsolicited one.
TRACKER_TIMEOUT = 300.0
#: Given-up requests remembered per peer: the table cannot grow with every timeout.
MAX_TRACKED = 4 * MAX_IN_FLIGHT


class EthProtocolError(RemoteProtocolError):
    """The peer broke the eth protocol; it is dropped with ``disconnect_reason``
    (SUBPROTOCOL_ERROR, as geth), and a request it was answering fails with this error."""


class EthHandshakeError(EthProtocolError):
    """The Status exchange failed; ``disconnect_reason`` is what goes on the wire."""


class Provider(TypingProtocol):
    """Chain data to serve. Each method returns raw RLP items (at most ``limit``)."""

    def get_headers(self, origin: int | bytes, amount: int, skip: int, reverse: bool) -> Sequence[bytes]: ...


def _subproto(msg: str) -> EthHandshakeError:
    return EthHandshakeError(msg, devp2p.DiscReason.SUBPROTOCOL_ERROR)


def _bad_response(msg: str) -> EthProtocolError:
    return EthProtocolError(msg, devp2p.DiscReason.SUBPROTOCOL_ERROR)


#: Response codes -> names, for errors (geth's tracker names them too).
_RESPONSES = {
    m.BLOCK_HEADERS: "BlockHeaders",
    m.BLOCK_BODIES: "BlockBodies",
    m.RECEIPTS: "Receipts",
    m.POOLED_TRANSACTIONS: "PooledTransactions",
    m.BLOCK_ACCESS_LISTS: "BlockAccessLists",
    m.CELLS: "Cells",
}


@dataclass(slots=True)
class _Request:
    """A request sent and not answered yet (geth ``tracker.Request``)."""

    want: int  # the response code that answers it
    max_items: int  # more items than this is an oversize answer (geth ErrTooManyItems)
    decode: Callable[[list[bytes]], list[Any]]
    expires: float
    fut: asyncio.Future[list[Any]] | None  # None once the caller gave up


class EthPeer:
    """A peer that completed the eth Status handshake."""

    def __init__(
        self, proto: Protocol, version: int, peer: devp2p.Peer, rw: devp2p.MsgReadWriter, status: Status
    ):
        self.version = version
        self.status = status
        self.peer = peer
        self._proto = proto
        self._rw = rw
        self._pending: dict[int, _Request] = {}  # by request ID, oldest first
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self.closed = False

    @property
    def id(self) -> bytes:
        return self.peer.id

    async def get_block_headers(
        self,
        start: int | bytes,
        count: int,
        *,
        skip: int = 0,
        reverse: bool = False,
        timeout: float = REQUEST_TIMEOUT,  # noqa: ASYNC109 - a default bound per request
    ) -> list[BlockHeader]:
        """Request ``count`` headers from ``start`` (number or hash).

        Raises:
            TimeoutError: no answer within ``timeout``.
            ConnectionClosedError: the peer went away.
            EthProtocolError: the answer does not decode, is of the wrong kind or has more
                headers than asked; the peer is dropped (SUBPROTOCOL_ERROR).
        """
        headers: list[BlockHeader] = await self._request(
            lambda rid: _eth.encode_get_block_headers(rid, start, count, skip, reverse),
            m.GET_BLOCK_HEADERS,
            m.BLOCK_HEADERS,
            count,
            _decode_headers,
            timeout,
        )
        return headers

    async def get_block_bodies(
        self,
        hashes: Sequence[bytes],
        *,
        timeout: float = REQUEST_TIMEOUT,  # noqa: ASYNC109 - a default bound per request
    ) -> list[bytes]:
        """Request the bodies of ``hashes``; returns each body's raw RLP
        ``[transactions, uncles, withdrawals?]`` (decode what you use).

        Raises: as :meth:`get_block_headers`.
        """
        bodies: list[bytes] = await self._request(
            lambda rid: _eth.encode_hash_request(rid, list(hashes)),
            m.GET_BLOCK_BODIES,
            m.BLOCK_BODIES,
            len(hashes),
            list,
            timeout,
        )
        return bodies

    async def _request(
        self,
        encode: Callable[[int], bytes],
        code: int,
        want: int,
        max_items: int,
        decode: Callable[[list[bytes]], list[Any]],
        timeout: float,  # noqa: ASYNC109
    ) -> list[Any]:
        # One deadline covers waiting for an in-flight slot, sending and the answer.
        loop = asyncio.get_running_loop()
        clock = self._proto.clock
        req: _Request | None = None
        try:
            async with clock.timeout(timeout), self._slots:
                if self.closed:
                    raise devp2p_closed()
                rid = secrets.randbits(63)
                fut: asyncio.Future[list[Any]] = loop.create_future()
                req = _Request(want, max_items, decode, clock.monotonic() + TRACKER_TIMEOUT, fut)
                self._track(rid, req)
                await self._rw.write_msg(code, encode(rid))
                return await fut
        except builtins.TimeoutError as e:
            raise TimeoutError(f"eth request {code:#x} timed out after {timeout} s") from e
        finally:
            if req is not None:
                req.fut = None  # answered, failed or given up: a late answer is dropped quietly

    def _track(self, rid: int, req: _Request) -> None:
        now = self._proto.clock.monotonic()
        for old in [k for k, r in self._pending.items() if r.expires <= now]:
            del self._pending[old]
        while len(self._pending) >= MAX_TRACKED:  # forget the oldest given-up request
            given_up = next((k for k, r in self._pending.items() if r.fut is None), None)
            if given_up is None:
                break
            del self._pending[given_up]
        self._pending[rid] = req

    def _close(self, cause: PeerwireError | None = None) -> None:
        self.closed = True
        for req in self._pending.values():
            if req.fut is not None and not req.fut.done():
                req.fut.set_exception(cause if cause is not None else devp2p_closed())
        self._pending.clear()

    def _answer(self, code: int, rid: int, items: list[bytes]) -> None:
        """Match a response to its request as geth's tracker does (``Fulfil``); a response
        nobody asked for, of the wrong kind or with more items than asked drops the peer."""
        name = _RESPONSES[code]
        req = self._pending.get(rid)
        if req is None or req.expires <= self._proto.clock.monotonic():
            raise _bad_response(f"{name}: no matching request (id {rid})")
        del self._pending[rid]
        try:
            if req.want != code:
                raise _bad_response(f"{name}: wrong response code for request (want {req.want:#x})")
            if len(items) > req.max_items:
                raise _bad_response(
                    f"{name}: response is larger than request allows ({len(items)} > {req.max_items})"
                )
            try:
                value = req.decode(items)
            except DecodeError as e:
                raise _bad_response(f"{name}: {e}") from e
        except EthProtocolError as e:
            if req.fut is not None and not req.fut.done():
                req.fut.set_exception(e)
            raise
        if req.fut is not None and not req.fut.done():
            req.fut.set_result(value)

    # ------------------------------------------------------------ incoming
    async def _handle(self, msg: devp2p.Msg) -> None:
        code, payload = msg.code, msg.payload
        err: EthProtocolError | None = None
        if len(payload) > m.MAX_MESSAGE_SIZE:
            err = _subproto(f"message too long: {len(payload)} > {m.MAX_MESSAGE_SIZE}")
        elif code == m.STATUS or not _eth.code_allowed(self.version, code):
            err = _subproto(f"invalid message code: {code}")
        if err is not None:
            self._close(err)
            raise err
        try:
            await self._dispatch(code, payload)
        except DecodeError as e:
            err = _subproto(f"invalid message {code:#x}: {e}")
            self._close(err)
            raise err from e
        except EthProtocolError as e:
            self._close(e)  # the peer is dropped: its open requests fail with the cause
            raise

    async def _dispatch(self, code: int, payload: bytes) -> None:
        if code == m.GET_BLOCK_HEADERS:
            rid, origin, amount, skip, reverse = _eth.decode_get_block_headers(payload)
            amount = min(amount, m.MAX_HEADERS_SERVE)
            items = self._proto._serve_headers(origin, amount, skip, reverse)
            await self._rw.write_msg(m.BLOCK_HEADERS, _eth.encode_id_and_raw_list(rid, items))
        elif code in (m.GET_BLOCK_BODIES, m.GET_POOLED_TRANSACTIONS):
            rid, hashes = _eth.decode_hash_request(payload, m.MAX_LIST_ITEMS)
            if code == m.GET_BLOCK_BODIES:
                answer, items = m.BLOCK_BODIES, self._proto._serve("get_bodies", hashes)
            else:
                answer, items = m.POOLED_TRANSACTIONS, self._proto._serve("get_pooled_transactions", hashes)
            await self._rw.write_msg(answer, _eth.encode_id_and_raw_list(rid, items))
        elif code == m.GET_RECEIPTS:
            await self._answer_receipts(payload)
        elif code == m.GET_BLOCK_ACCESS_LISTS:
            rid, hashes = _eth.decode_hash_request(payload, m.MAX_LIST_ITEMS)
            # EIP-8159: one entry per hash, the empty string meaning "not available".
            unavailable = [b"\x80"] * min(len(hashes), m.MAX_BODIES_SERVE)
            await self._rw.write_msg(m.BLOCK_ACCESS_LISTS, _eth.encode_id_and_raw_list(rid, unavailable))
        elif code in (
            m.BLOCK_HEADERS,
            m.BLOCK_BODIES,
            m.POOLED_TRANSACTIONS,
            m.BLOCK_ACCESS_LISTS,
        ):
            rid, items = _eth.decode_id_and_raw_list(payload, m.MAX_LIST_ITEMS)
            self._answer(code, rid, list(items))
        elif code in (m.RECEIPTS, m.CELLS):  # answers to requests we never send: unsolicited
            self._answer(code, _request_id(payload), [])
        elif code == m.BLOCK_RANGE_UPDATE:
            earliest, latest, latest_hash = _eth.decode_block_range(payload)
            err = _eth.validate_block_range(earliest, latest, latest_hash)
            if err is not None:
                raise _subproto(f"invalid block range update: {err}")
            self.status = _replace_range(self.status, earliest, latest, latest_hash)
        elif code == m.GET_CELLS:
            # eth/72: we hold no blobs; geth's answer for that is no hashes and no cells
            rid, _hashes, mask = _eth.decode_get_cells(payload, m.MAX_LIST_ITEMS)
            await self._rw.write_msg(m.CELLS, _eth.encode_cells(rid, [], [], mask))
        elif code == m.NEW_POOLED_TRANSACTION_HASHES:
            # geth drops a peer whose announcement fields disagree in length; so do we
            _eth.decode_tx_announcement(self.version, payload)
        elif code == m.NEW_BLOCK_HASHES:
            _eth.decode_new_block_hashes(payload)
        elif code in (m.TRANSACTIONS, m.NEW_BLOCK):
            _rlp.decode(payload)  # well-formed RLP, bounded above; we keep no pool/chain

    async def _answer_receipts(self, payload: bytes) -> None:
        if self.version < 70:
            rid, hashes = _eth.decode_hash_request(payload, m.MAX_LIST_ITEMS)
            items = self._proto._serve("get_receipts", hashes)
            await self._rw.write_msg(m.RECEIPTS, _eth.encode_id_and_raw_list(rid, items))
            return
        # eth/70+: [request_id, first_block_receipt_index, [hashes]] -> [id, incomplete, [...]]
        rid, _first, hashes = _eth.decode_get_receipts70(payload, m.MAX_LIST_ITEMS)
        items = self._proto._serve("get_receipts", hashes)
        await self._rw.write_msg(m.RECEIPTS, _eth.encode_receipts70(rid, False, items))


def _replace_range(s: Status, earliest: int, latest: int, latest_hash: bytes) -> Status:
    return Status(s.version, s.network_id, s.genesis, s.fork_id, earliest, latest, latest_hash, s.td, s.head)


def _decode_headers(items: list[bytes]) -> list[BlockHeader]:
    return [BlockHeader.decode(h) for h in items]


def _request_id(payload: bytes) -> int:
    """The request ID leading a response (``[request_id, ...]``)."""
    msg = _rlp.decode(payload)
    if not isinstance(msg, list) or not msg or not isinstance(msg[0], bytes) or len(msg[0]) > 8:
        raise DecodeError("response without a request ID")
    return int.from_bytes(msg[0], "big")


def devp2p_closed() -> PeerwireError:
    return ConnectionClosedError("eth peer disconnected")


class _ChainProvider:
    """Serves what a chain file gives us: the genesis header."""

    def __init__(self, chain: Chain) -> None:
        self._header = chain.genesis_header
        self._hash = chain.genesis_hash

    def get_headers(self, origin: int | bytes, amount: int, skip: int, reverse: bool) -> Sequence[bytes]:
        if self._header is None or amount == 0:
            return []
        if origin == 0 or origin == self._hash:
            return [self._header]
        return []


class Protocol:
    """The eth capability: ``protocols()`` for ``devp2p.Config``, peers via ``wait_peer``."""

    def __init__(
        self,
        chain: Chain,
        head: Head | None = None,
        provider: Provider | None = None,
        *,
        versions: Sequence[int] = m.ETH_VERSIONS,
        handshake_timeout: float = m.HANDSHAKE_TIMEOUT,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.chain = chain
        self.head = head if head is not None else Head(0, chain.genesis_hash, chain.genesis_time)
        self.provider: Provider = provider if provider is not None else _ChainProvider(chain)
        self.versions = tuple(versions)
        self.handshake_timeout = handshake_timeout
        #: Handshake, request and tracker deadlines run on this clock (a fake one in tests).
        self.clock = clock
        self._filter = ForkFilter(chain, lambda: self.head)
        self._peers: dict[bytes, EthPeer] = {}
        self._changed = asyncio.Event()
        self._server: devp2p.Server | None = None

    def fork_id(self) -> ForkID:
        return self.chain.fork_id(self.head.number, self.head.time)

    def protocols(self) -> list[devp2p.Protocol]:
        """One devp2p.Protocol per version; each publishes the ENR ``eth`` entry, and the
        server dials only discovered nodes whose ``eth`` entry is compatible with our chain
        at our head (geth's ``NewNodeFilter`` on its discovery feeds)."""
        attrs = {"eth": self.fork_id().enr_value()}
        dial_filter = enr_filter(self.chain, lambda: self.head)
        return [
            devp2p.Protocol(
                name="eth",
                version=v,
                length=m.protocol_length(v),
                run=self._runner(v),
                node_info=self.node_info,
                attributes=attrs,
                node_filter=dial_filter,
            )
            for v in self.versions
        ]

    def node_info(self) -> dict[str, Any]:
        return {
            "network": self.chain.network_id,
            "genesis": "0x" + self.chain.genesis_hash.hex(),
            "head": "0x" + self.head.hash.hex(),
        }

    def attach(self, server: devp2p.Server) -> None:
        """Re-publish the record's ``eth`` entry on ``server`` when a head move passes a fork
        (geth ``StartENRUpdater``). Only a server running discovery has a live record."""
        self._server = server

    async def set_head(self, head: Head) -> None:
        """Move our head: later Status and fork checks use it, eth/69+ peers get a
        BlockRangeUpdate (geth announces its range as its head moves), and an attached
        server's record gets the new fork ID."""
        before = self.fork_id()
        self.head = head
        after = self.fork_id()
        disc = self._server.discovery if self._server is not None else None
        if after != before and disc is not None:  # the one record v4 and v5 both publish
            disc.local.set_extra("eth", after.enr_value())
        update = _eth.encode_block_range(head.earliest, head.number, head.hash)
        for ep in list(self._peers.values()):
            if ep.version >= 69 and not ep.closed:
                with contextlib.suppress(ConnectionClosedError):
                    await ep._rw.write_msg(m.BLOCK_RANGE_UPDATE, update)

    def peers(self) -> list[EthPeer]:
        return list(self._peers.values())

    async def wait_peer(self, timeout: float = 10.0) -> EthPeer:  # noqa: ASYNC109 (API.md name)
        """The first connected eth peer (waits for one). Raises TimeoutError."""
        try:
            async with self.clock.timeout(timeout):
                while not self._peers:
                    self._changed.clear()
                    await self._changed.wait()
        except builtins.TimeoutError as e:
            raise TimeoutError(f"no eth peer within {timeout} s") from e
        return next(iter(self._peers.values()))

    def _serve_headers(self, origin: Any, amount: int, skip: int, reverse: bool) -> list[bytes]:
        out: list[bytes] = []
        size = 0
        for h in self.provider.get_headers(origin, amount, skip, reverse)[:amount]:
            size += len(h)
            if size > m.SOFT_RESPONSE_LIMIT and out:
                break
            out.append(bytes(h))
        return out

    def _serve(self, method: str, hashes: list[bytes]) -> list[bytes]:
        """Items for a hash request from the provider (geth's serve count and size limits)."""
        get = getattr(self.provider, method, None)
        if get is None:
            return []
        out: list[bytes] = []
        size = 0
        for item in get(hashes[: m.MAX_BODIES_SERVE])[: m.MAX_BODIES_SERVE]:
            size += len(item)
            if size > m.SOFT_RESPONSE_LIMIT and out:
                break
            out.append(bytes(item))
        return out

    def our_status(self, version: int) -> Status:
        """The Status we send on ``eth/version``: our chain at our head."""
        h, chain = self.head, self.chain
        if version == 68:  # TD-era layout: [version, network, td, head, genesis, forkid]
            return Status(version, chain.network_id, chain.genesis_hash, self.fork_id(), td=h.td, head=h.hash)
        return Status(
            version,
            chain.network_id,
            chain.genesis_hash,
            self.fork_id(),
            earliest=h.earliest,
            latest=h.number,
            latest_hash=h.hash,
        )

    async def handshake(self, version: int, rw: devp2p.MsgReadWriter) -> Status:
        """Exchange and validate Status (geth ``Peer.Handshake``)."""
        send = asyncio.ensure_future(rw.write_msg(m.STATUS, self.our_status(version).encode()))
        try:
            async with self.clock.timeout(self.handshake_timeout):
                msg = await rw.read_msg()
                await send
        except builtins.TimeoutError as e:
            raise EthHandshakeError("eth handshake timed out", devp2p.DiscReason.READ_TIMEOUT) from e
        finally:
            if not send.done():
                send.cancel()
                with contextlib.suppress(BaseException):
                    await send
        return self.check_status(version, msg)

    def check_status(self, version: int, msg: devp2p.Msg) -> Status:
        """The remote's Status in ``msg``, validated as geth's ``readStatus``.

        Raises:
            EthHandshakeError: not a Status, too large, undecodable, or another network,
                genesis, version, fork ID or block range (``SUBPROTOCOL_ERROR``).
        """
        if msg.code != m.STATUS:
            raise _subproto(f"no status message: first msg has code {msg.code:x} (!= 0)")
        if len(msg.payload) > m.MAX_MESSAGE_SIZE:
            raise _subproto("message too long")
        try:
            st = Status.decode(version, msg.payload)
        except DecodeError as e:
            raise _subproto(f"invalid status: {e}") from e
        if st.network_id != self.chain.network_id:
            raise _subproto(f"network ID mismatch: {st.network_id} (!= {self.chain.network_id})")
        if st.version != version:
            raise _subproto(f"protocol version mismatch: {st.version} (!= {version})")
        if st.genesis != self.chain.genesis_hash:
            raise _subproto(f"genesis mismatch: {st.genesis.hex()} (!= {self.chain.genesis_hash.hex()})")
        reason = self._filter.check(st.fork_id)
        if reason is not None:
            raise _subproto(f"fork ID rejected: {reason}")
        if version >= 69:
            err = _eth.validate_block_range(st.earliest, st.latest, st.latest_hash)
            if err is not None:
                raise _subproto(f"invalid block range in status: {err}")
        return st

    def _runner(self, version: int) -> Callable[[devp2p.Peer, devp2p.MsgReadWriter], Awaitable[None]]:
        async def run(peer: devp2p.Peer, rw: devp2p.MsgReadWriter) -> None:
            status = await self.handshake(version, rw)
            ep = EthPeer(self, version, peer, rw, status)
            if len(self._peers) >= MAX_READY_PEERS:
                raise EthHandshakeError("too many eth peers", devp2p.DiscReason.TOO_MANY_PEERS)
            self._peers[peer.id] = ep
            self._changed.set()
            try:
                while True:
                    await ep._handle(await rw.read_msg())
            finally:
                ep._close()
                self._peers.pop(peer.id, None)

        return run
