"""TM2 nodes in the simulation: the real MultiplexTransport (secret connection) and
MultiplexSwitch, PEX discovery through the seeds, and the gossip demo as a reactor."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence

from peerwire import tm2
from peerwire._clock import Clock
from peerwire.errors import PeerwireError
from peerwire.sim._gossip import MAX_MESSAGE, GossipState
from peerwire.tm2 import discovery

__all__ = ["GOSSIP_CHANNEL", "NETWORK", "TM2Gossip", "TM2Node"]

#: The demo reactor's channel (unused by gno's reactors).
GOSSIP_CHANNEL = 0x70
NETWORK = "peerwire-sim"
#: Gossip messages queued per peer before ``send`` waits: a burst of traffic is absorbed.
SEND_QUEUE = 64
#: Inbound peers of a non-seed node: gno's default (config.DefaultP2PConfig).
GNO_MAX_INBOUND = 40
#: PEX rounds this often (gno's default is 30 s; a short simulation wants a faster mesh).
PEX_INTERVAL = 10.0


class TM2Gossip(tm2.BaseReactor):
    """Flood gossip on :data:`GOSSIP_CHANNEL`: forward each new message to every other peer."""

    def __init__(self, now: Callable[[], float]) -> None:
        super().__init__("simgossip")
        self.state = GossipState(now)

    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [
            tm2.ChannelDescriptor(
                GOSSIP_CHANNEL,
                priority=1,
                send_queue_capacity=SEND_QUEUE,
                recv_message_capacity=MAX_MESSAGE + 16,
            )
        ]

    async def _send(self, payload: bytes, skip: str | None) -> None:
        for peer in self.switch.peers().list():  # in connection order: the same every run
            if peer.id != skip:
                with contextlib.suppress(PeerwireError):
                    await peer.send(GOSSIP_CHANNEL, payload)

    async def publish(self, msg_id: int, size: int) -> None:
        await self._send(self.state.originate(msg_id, size), None)

    async def receive(self, ch_id: int, peer: tm2.PeerConn, msg: bytes) -> None:
        try:
            fresh = self.state.fresh(msg)
        except ValueError as e:
            self.switch.stop_peer_for_error(peer, e)
            return
        if fresh:
            await self._send(msg, peer.id)


class TM2Node:
    """One simulated TM2 node on ``ip:port``, seeded from ``rng``; ``seed_inbound``: a seed's inbound cap."""

    def __init__(
        self,
        secret: bytes,
        ip: str,
        port: int,
        *,
        seeds: Sequence[str],
        max_peers: int,
        seed_inbound: int = 0,
        persistent_seeds: bool = False,
        clock: Clock,
        rng: random.Random,
        now: Callable[[], float],
    ) -> None:
        self.key = tm2.NodeKey.from_secret(secret)
        self.address = tm2.NetAddress(self.key.id, ip, port)
        self.gossip = TM2Gossip(now)
        self.pex = discovery.Reactor(
            None,
            seeds=[s for s in seeds if s != str(self.address)],
            interval=PEX_INTERVAL,
            clock=clock,
            rng=random.Random(rng.getrandbits(63)),
        )
        info = tm2.NodeInfo(
            net_address=self.address,
            network=NETWORK,
            version="v1.0.0-rc.0",
            channels=bytes([GOSSIP_CHANNEL, discovery.CHANNEL]),
            moniker=f"sim-{ip}",
        )
        self.transport = tm2.MultiplexTransport(info, self.key, clock=clock)
        # gno's shape: ``max_peers`` outbound, inbound at gno's default (40); a seed takes
        # everyone, as gno's seed nodes (which hand out addresses and move on) do.
        persistent = [tm2.with_persistent_peers(self.pex.seeds)] if persistent_seeds else []
        self.switch = tm2.MultiplexSwitch(
            self.transport,
            *persistent,
            tm2.with_reactor("simgossip", self.gossip),
            tm2.with_reactor("discovery", self.pex),
            tm2.with_max_outbound_peers(max_peers),
            tm2.with_max_inbound_peers(seed_inbound or GNO_MAX_INBOUND),
            clock=clock,
            rng=random.Random(rng.getrandbits(63)),
        )

    def peer_count(self) -> int:
        return len(self.switch.peers())

    def known_addresses(self) -> int:
        return len(self.pex.book)

    async def start(self) -> None:
        await self.transport.listen(self.address)
        await self.switch.start()

    async def stop(self) -> None:
        await self.transport.close()
        await self.switch.stop()
