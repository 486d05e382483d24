"""The TM2 crawl engine: walk a network through peer exchange (PEX, channel 0x50).

Each node is visited once: a first connection reads its NodeInfo (STS + NodeInfo
exchange, the node may refuse us afterwards: both sides send before checking);
a second one, with a NodeInfo of ours mirroring its network and version set and
offering only the PEX channel, sends a PEX Request and records the addresses
of the Response. Every address is visited in turn (breadth-first).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from peerwire import __version__, tm2
from peerwire._clock import SYSTEM_CLOCK, Clock
from peerwire.crawl._config import CrawlConfig
from peerwire.crawl._store import Store
from peerwire.errors import PeerwireError

__all__ = ["Tm2Engine"]

PEX_CHANNEL = tm2.discovery.CHANNEL
#: Seconds to wait for a PEX Response after our Request.
PEX_RESPONSE_TIMEOUT = 5.0
_FAILURES = (PeerwireError, OSError, TimeoutError)


class _PexCollector:
    """Reactor + PeerBehavior for one crawl connection: keeps the first PEX Response."""

    def __init__(self) -> None:
        self.response: asyncio.Future[tuple[str, ...]] = asyncio.get_running_loop().create_future()

    def reactor_ch_descriptors(self) -> Sequence[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(id=PEX_CHANNEL, priority=1)]

    def reactors(self) -> Mapping[int, Any]:
        return {PEX_CHANNEL: self}

    async def receive(self, ch_id: int, peer: Any, msg: bytes) -> None:
        with contextlib.suppress(PeerwireError):
            m = tm2.discovery.decode(msg)
            if isinstance(m, tm2.discovery.Response) and not self.response.done():
                self.response.set_result(m.peers)

    def handle_peer_error(self, peer: Any, err: BaseException) -> None:
        if not self.response.done():
            self.response.set_exception(PeerwireError(f"peer failed: {err}"))

    def is_persistent_peer(self, peer_id: tm2.ID) -> bool:
        return False

    def is_private_peer(self, peer_id: tm2.ID) -> bool:
        return False

    def node_budget(self) -> None:
        return None


def describe(info: tm2.NodeInfo) -> dict[str, Any]:
    return {
        "moniker": info.moniker,
        "version": info.version,
        "network": info.network,
        "channels": info.channels.hex(),
        "software": info.software,
        "net_address": str(info.net_address),
        "version_set": [
            {"name": v.name, "version": v.version, "optional": v.optional} for v in info.version_set
        ],
        "rpc_address": info.other.rpc_address,
        "tx_index": info.other.tx_index,
    }


class Tm2Engine:
    def __init__(
        self, config: CrawlConfig, store: Store, on_change: Callable[[], None], clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.key = tm2.NodeKey.generate()
        self._on_change = on_change
        self._sem = asyncio.Semaphore(config.dial_parallel)
        self._visited: set[str] = set()
        self._busy = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.queries = 0
        self.query_failures = 0
        self.inbound = 0
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            for b in self.config.bootnodes:
                self.found(b, via="bootnode")
            due = {t.id for t in self.store.due_for_dial("tm2")}
            for row in self.store.rows("WHERE stack='tm2' AND ip IS NOT NULL"):
                if row["id"] in due:
                    self.found(f"{row['id']}@{row['ip']}:{row['tcp']}", via="resume")
            self.ready.set()
            await stop.wait()
        finally:
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def idle(self) -> bool:
        return self._busy == 0

    def found(self, addr: str, *, via: str) -> None:
        try:
            na = tm2.NetAddress.parse(addr)  # never resolves: a name is resolved when dialed
        except (PeerwireError, ValueError):
            return
        if na.id == self.key.id:
            return
        nid = str(na.id)
        self.store.seen(nid, "tm2", ip=str(na.ip), tcp=na.port, via=via)
        if nid in self._visited:
            return
        self._visited.add(nid)
        self._busy += 1
        task = asyncio.ensure_future(self._visit(na))
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            self._busy -= 1
            self._on_change()

        task.add_done_callback(done)

    async def _visit(self, na: tm2.NetAddress) -> None:
        nid = str(na.id)
        async with self._sem:
            try:
                async with self.clock.timeout(self.config.dial_timeout):
                    info = await self._read_node_info(na)
            except _FAILURES as e:
                self.store.record_dial(nid, False, f"{type(e).__name__}: {e}")
                return
            self.store.record_info(nid, describe(info), client=f"{info.software or 'tm2'}/{info.version}")
            self.store.record_dial(nid, True)
            self.queries += 1
            try:
                peers = await self._pex(na, info)
            except _FAILURES:
                self.query_failures += 1
                return
        for p in peers:
            self.found(p, via="pex")

    async def _read_node_info(self, na: tm2.NetAddress) -> tm2.NodeInfo:
        ours = self._our_info(self.config.network or "peerwire-crawl", [], b"")
        reader, writer = await asyncio.open_connection(str(na.ip), na.port)
        sc: tm2.SecretConnection | None = None
        try:
            sc = await tm2.SecretConnection.make(reader, writer, self.key, clock=self.clock)
            await sc.write(ours.encode())
            info = tm2.NodeInfo.decode(await sc.read_sized(tm2.MAX_NODE_INFO_SIZE))
        finally:
            if sc is not None:
                with contextlib.suppress(*_FAILURES):
                    await sc.close()
            else:
                writer.close()
        if str(sc.remote_id) != str(na.id) or str(info.id) != str(na.id):
            raise PeerwireError(f"the peer at {na.ip}:{na.port} is not {na.id}")
        return info

    def _our_info(self, network: str, version_set: list[tm2.VersionInfo], channels: bytes) -> tm2.NodeInfo:
        return tm2.NodeInfo(
            net_address=tm2.NetAddress(str(self.key.id), "127.0.0.1", 1),
            network=network,
            version_set=version_set,
            version="v1.0.0",
            software="peerwire-crawler",
            channels=channels,
            moniker=f"peerwire-crawler-{__version__}",
        )

    async def _pex(self, na: tm2.NetAddress, info: tm2.NodeInfo) -> tuple[str, ...]:
        if PEX_CHANNEL not in info.channels:
            return ()
        ours = self._our_info(self.config.network or info.network, info.version_set, bytes([PEX_CHANNEL]))
        transport = tm2.MultiplexTransport(ours, self.key)
        collector = _PexCollector()
        peer = None
        try:
            async with self.clock.timeout(self.config.dial_timeout + PEX_RESPONSE_TIMEOUT):
                peer = await transport.dial(na, collector)
                peer.start()
                await peer.send(PEX_CHANNEL, tm2.discovery.encode_request())
                return await collector.response
        finally:
            if peer is not None:
                with contextlib.suppress(*_FAILURES):
                    await peer.stop()
            with contextlib.suppress(*_FAILURES):
                await transport.close()
