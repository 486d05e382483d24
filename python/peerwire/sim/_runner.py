"""Run a scenario: real peerwire nodes on the virtual loop and the simulated network."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from peerwire import devp2p, tm2
from peerwire.devp2p import ENR, Node, PrivateKey
from peerwire.devp2p.discover import Discovery, NodeDB, UDPv4, UDPv5, listen, listen_v4, listen_v5
from peerwire.sim._gossip import Gossip, GossipState
from peerwire.sim._loop import SimClock, VirtualLoop
from peerwire.sim._network import LinkModel, Network
from peerwire.sim._result import Result
from peerwire.sim._scenario import Fault, Scenario
from peerwire.sim._tm2node import TM2Node

__all__ = ["run"]

DISCOVERY_PORT = 30303
LISTEN_PORT = 30303
#: TM2 nodes listen on gno's default port (beside devp2p's in stack "both").
TM2_PORT = 26656
#: secp256k1 order: a key drawn from the RNG must be below it.
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

Progress = Callable[[float, float], None]
#: A node's discovery: v4, v5, or both on one socket (``discovery = ["v4", "v5"]``).
DiscoveryService = UDPv4 | UDPv5 | Discovery

#: The traffic generator stops this long before the end: every message judged for
#: coverage and delay had time to cross the network.
PROPAGATION_GRACE = 10.0

#: Discovery's own drop counters, summed over nodes into the result: a simulation whose
#: honest nodes trip the flood limiter or the bond budget measures the limits, not the network.
DISCOVERY_COUNTERS = ("dropped_flood", "over_bond_budget", "dropped_unbonded", "dropped_invalid")


def honest_ip(i: int) -> str:
    """Node ``i``'s address: one public-looking /24 per node, so the table's IP limits
    (which exempt LAN addresses) apply as they would on the internet."""
    return f"{20 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}.1"


def attacker_ip(i: int, subnets: int) -> str:
    """Attacker ``i``'s address: attackers share ``subnets`` /24s (at most 254 hosts each)."""
    return f"30.0.{i % subnets}.{1 + i // subnets}"


def _key(rng: random.Random) -> PrivateKey:
    while True:
        raw = rng.randbytes(32)
        if 0 < int.from_bytes(raw, "big") < _SECP256K1_N:
            return PrivateKey(raw)


@dataclass
class SimNode:
    index: int
    ip: str
    key: PrivateKey
    attacker: bool = False
    bootnode: bool = False
    #: runs a devp2p Server (Scenario.full) besides discovery
    full: bool = False
    #: its discovery service (v4, v5 or both, as the scenario says)
    udp: DiscoveryService | None = None
    server: devp2p.Server | None = None
    gossip: Gossip | None = None
    #: the TM2 node (stacks "tm2" and "both") and the secret its key is made from
    tm2: TM2Node | None = None
    tm2_secret: bytes = b""
    #: its services are up (discovery, server or switch)
    running: bool = False
    task: asyncio.Task[None] | None = None
    started_at: float = 0.0
    stopped_at: float | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def node(self) -> Node:
        key = self.key.public_key
        return Node(public_key=key, host=self.ip, udp_port=DISCOVERY_PORT, tcp_port=self.tcp_port)

    def node_with_record(self) -> Node:
        """As :attr:`node`, with a signed record (discovery v5 bootnodes need one)."""
        tcp = self.tcp_port or None
        record = ENR.build(self.key, 1, ip=self.ip, udp=DISCOVERY_PORT, tcp=tcp)
        return Node(
            public_key=self.key.public_key,
            host=self.ip,
            udp_port=DISCOVERY_PORT,
            tcp_port=self.tcp_port,
            record=record,
        )

    @property
    def tcp_port(self) -> int:
        return LISTEN_PORT if self.full else 0

    @property
    def live(self) -> bool:
        return self.running and self.stopped_at is None

    def gossip_state(self, stack: str) -> GossipState | None:
        if stack == "tm2":
            return self.tm2.gossip.state if self.tm2 is not None else None
        return self.gossip

    def peer_count(self, stack: str) -> int | None:
        """Connected peers on ``stack``, or None where the node runs no server or switch there."""
        if stack == "tm2":
            return self.tm2.peer_count() if self.tm2 is not None else None
        return self.server.peer_count() if self.server is not None else None

    async def publish(self, stack: str, msg_id: int, size: int) -> None:
        if stack == "tm2":
            if self.tm2 is not None:
                await self.tm2.gossip.publish(msg_id, size)
        elif self.gossip is not None:
            await self.gossip.publish(msg_id, size)


class _Sim:
    def __init__(self, scenario: Scenario, seed: int, progress: Progress | None) -> None:
        self.sc = scenario
        self.seed = seed
        root = random.Random(seed)
        # One RNG per concern, all drawn from the seed, so adding draws in one does not shift another.
        self.rng_net = random.Random(root.getrandbits(64))
        self.rng_keys = random.Random(root.getrandbits(64))
        self.rng_nodes = random.Random(root.getrandbits(64))
        self.rng_faults = random.Random(root.getrandbits(64))
        self.rng_traffic = random.Random(root.getrandbits(64))
        #: gossip messages sent by the traffic generator: (message id, origin node index, time, stack)
        self.messages: list[tuple[int, int, float, str]] = []
        self.loop = VirtualLoop()
        link = LinkModel(latency=scenario.latency, loss=scenario.loss, bandwidth=scenario.bandwidth)
        self.net = Network(self.loop, self.rng_net, link)
        self.loop.network = self.net
        self.clock = SimClock(self.loop)
        self.progress = progress
        self.nodes: list[SimNode] = []
        self.boot: list[Node] = []
        self.tm2_seeds: list[str] = []
        self.result = Result(scenario=scenario.name, seed=seed)
        #: DISCOVERY_COUNTERS of nodes that have stopped, keyed by the receiving node's side.
        self._stopped_counts: dict[str, int] = {}
        self._next_index = 0
        self._attackers = 0

    def _new_node(self, *, attacker: bool = False) -> SimNode:
        i = self._next_index
        self._next_index += 1
        ip = attacker_ip(self._attackers, self.sc.attacker_subnets) if attacker else honest_ip(i)
        self._attackers += attacker
        n = SimNode(i, ip, _key(self.rng_keys), attacker=attacker, full=self.sc.full and not attacker)
        if self.sc.runs_tm2 and not attacker:
            n.tm2_secret = self.rng_keys.randbytes(32)
        self.net.add_host(ip, nat=not attacker and self.rng_nodes.random() < self.sc.nat)
        self.nodes.append(n)
        return n

    def _start(self, n: SimNode, delay: float) -> None:
        host = self.net.hosts[n.ip]
        n.task = self.loop.create_task(self._node_main(n, delay), context=host.context)

    async def _node_main(self, n: SimNode, delay: float) -> None:
        await asyncio.sleep(delay)
        n.started_at = self.loop.time()
        self.net.trace("start", n.index, n.ip)
        if self.sc.stack == "tm2":
            await self._serve_tm2(n, marks_running=True)
            return
        # Stack "both": the host runs a TM2 node beside its devp2p services (the same
        # address and links, another port); it ends with them when the node stops.
        tm2_side = self.loop.create_task(self._serve_tm2(n)) if self.sc.runs_tm2 and not n.attacker else None
        try:
            await self._serve_devp2p(n)
        finally:
            if tm2_side is not None:
                n.stop.set()  # the devp2p side ended early (a crash): stop the TM2 side too
                await tm2_side

    async def _serve_devp2p(self, n: SimNode) -> None:
        """Discovery (v4, v5 or both), and a devp2p Server on a full node."""
        boots = [] if n.bootnode else self.boot
        service: contextlib.AbstractAsyncContextManager[DiscoveryService] = (
            listen(
                n.key,
                f"{n.ip}:{DISCOVERY_PORT}",
                v4=True,
                v5=True,
                bootnodes=boots,
                node_database=NodeDB(None),
                clock=self.clock,
                seed=self.rng_nodes.getrandbits(63),
                tcp_port=n.tcp_port,
            )
            if self.sc.discovery == ("v4", "v5")
            else listen_v5(
                n.key,
                f"{n.ip}:{DISCOVERY_PORT}",
                bootnodes=boots,
                node_database=NodeDB(None),
                clock=self.clock,
                seed=self.rng_nodes.getrandbits(63),
            )
            if self.sc.discovery == ("v5",)
            else listen_v4(
                n.key,
                f"{n.ip}:{DISCOVERY_PORT}",
                bootnodes=boots,
                node_database=NodeDB(None),
                clock=self.clock,
                seed=self.rng_nodes.getrandbits(63),
                tcp_port=n.tcp_port,
            )
        )
        async with service as udp:
            if isinstance(udp, UDPv5) and n.tcp_port:  # listen_v5 has no tcp_port: dialers need it
                udp.local.update(tcp=n.tcp_port)
            n.udp = udp
            n.running = True
            lookups = self.loop.create_task(self._lookups(udp)) if self.sc.lookup_interval > 0 else None
            if n.full:
                await self._serve(n, udp)
            else:
                await n.stop.wait()
            if lookups is not None:
                lookups.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lookups
        _add_counts(self._stopped_counts, _discovery_counts(n))
        n.udp = None
        n.running = False

    async def _serve_tm2(self, n: SimNode, *, marks_running: bool = False) -> None:
        """A TM2 node: the real transport and switch, PEX from the seeds, the gossip reactor.

        ``marks_running``: the node is up once the switch is (stack "tm2"; in "both" the
        devp2p side says so)."""
        node = TM2Node(
            n.tm2_secret,
            n.ip,
            TM2_PORT,
            seeds=[] if n.bootnode else self.tm2_seeds,
            max_peers=self.sc.max_peers,
            seed_inbound=len(self.nodes) if n.bootnode else 0,
            persistent_seeds=self.sc.persistent_seeds,
            clock=self.clock,
            rng=self.rng_nodes,
            now=self.loop.time,
        )
        await node.start()
        n.tm2 = node
        n.running = n.running or marks_running
        try:
            await n.stop.wait()
        finally:
            if marks_running:
                n.running = False
            n.tm2 = None
            await node.stop()

    async def _serve(self, n: SimNode, udp: DiscoveryService) -> None:
        """A full node: the real devp2p Server, dialing what discovery finds, with the gossip protocol."""
        n.gossip = Gossip(self.loop.time)
        config = devp2p.Config(
            private_key=n.key,
            name=f"sim{n.index}",
            listen_addr=f"{n.ip}:{LISTEN_PORT}",
            max_peers=self.sc.max_peers,
            protocols=[n.gossip.protocol],
            no_discovery=True,  # discovery is the seeded UDPv4 above, fed in as dial candidates
            dial_candidates=[udp.random_nodes()],
            clock=self.clock,
        )
        server = devp2p.Server(config)
        server.dialer.rand = random.Random(self.rng_nodes.getrandbits(63))
        await server.start()
        n.server = server
        try:
            await n.stop.wait()
        finally:
            n.server = None
            await server.stop()

    async def _traffic(self) -> None:
        """The traffic generator: every interval, a gossip message from a random live full
        node on each stack that has them."""
        await asyncio.sleep(max(0.0, self.sc.traffic_start - self.loop.time()))
        while self.loop.time() <= self.sc.duration - PROPAGATION_GRACE:
            for stack in self.sc.gossip_stacks:
                live = [n for n in self.nodes if n.live and n.peer_count(stack) is not None]
                if not live:
                    continue
                origin = self.rng_traffic.choice(live)
                msg_id = len(self.messages) + 1
                self.messages.append((msg_id, origin.index, self.loop.time(), stack))
                self.net.trace("publish", msg_id, origin.index)
                host = self.net.hosts[origin.ip]
                publish = origin.publish(stack, msg_id, self.sc.traffic_size)
                self.loop.create_task(publish, context=host.context)
            await asyncio.sleep(self.sc.traffic_interval)

    async def _lookups(self, udp: DiscoveryService) -> None:
        """What a server's dialer does with discovery: random lookups, one every interval
        (on each protocol when both run)."""
        while True:
            await asyncio.sleep(self.sc.lookup_interval)
            for protocol in _protocols(udp):
                with contextlib.suppress(Exception):
                    await protocol.lookup()

    async def _kill(self, n: SimNode) -> None:
        if n.stopped_at is not None:
            return
        n.stopped_at = self.loop.time()
        self.net.trace("stop", n.index)
        self.net.set_up(n.ip, False)
        n.stop.set()
        if n.task is not None:
            with contextlib.suppress(Exception):
                await n.task
        self.result.counters["nodes_stopped"] = self.result.counters.get("nodes_stopped", 0) + 1

    async def _fault(self, f: Fault) -> None:
        self.result.events.append({"t": self.loop.time(), "fault": f.kind})
        honest = [n for n in self.nodes if not n.attacker and n.stopped_at is None]
        if f.kind == "partition":
            size = -(-len(honest) // f.groups)
            self.net.partition([[n.ip for n in honest[g * size : (g + 1) * size]] for g in range(f.groups)])
        elif f.kind == "heal":
            self.net.heal()
        elif f.kind == "kill_bootnodes":
            for n in [n for n in honest if n.bootnode]:
                await self._kill(n)
        elif f.kind == "kill":
            victims = self.rng_faults.sample(honest, int(len(honest) * f.fraction))
            for n in sorted(victims, key=lambda n: n.index):
                await self._kill(n)
        elif f.kind == "churn":
            while self.loop.time() < f.until:
                await asyncio.sleep(f.interval)
                live = [n for n in self.nodes if not n.attacker and n.live and not n.bootnode]
                if live:
                    await self._kill(self.rng_faults.choice(live))
                fresh = self._new_node()
                self._start(fresh, 0.0)

    async def _faults(self) -> None:
        for f in self.sc.faults:
            await asyncio.sleep(max(0.0, f.at - self.loop.time()))
            if f.kind == "churn":
                self.loop.create_task(self._fault(f))
            else:
                await self._fault(f)

    def discovery_counts(self) -> dict[str, int]:
        """DISCOVERY_COUNTERS summed over every node so far, ``honest_`` or ``attacker_`` prefixed."""
        total = dict(self._stopped_counts)
        for n in self.nodes:
            if n.live:
                _add_counts(total, _discovery_counts(n))
        return total

    def _record_propagation(self) -> None:
        """Per message: which nodes live at the end (and up when it was sent) got it, and how late."""
        for msg_id, origin, sent, stack in self.messages:
            live = [n for n in self.nodes if n.live and n.gossip_state(stack) is not None]
            # Nodes up when it was sent; one that joined a moment before may not have peers yet
            # (start traffic after the mesh forms, as the shipped scenarios do).
            eligible = [n for n in live if n.started_at <= sent and n.index != origin]
            delays = []
            for n in eligible:
                state = n.gossip_state(stack)
                assert state is not None
                seen = state.first_seen.get(msg_id)
                if seen is not None:
                    delays.append(seen[0] - sent)
            self.result.add_message(msg_id, sent, len(eligible), delays, stack=stack)

    def _sample(self) -> None:
        t = self.loop.time()
        live = [n for n in self.nodes if n.live and not n.attacker]
        ids = {n.key.public_key.node_id: n for n in self.nodes}
        only_tm2 = self.sc.stack == "tm2"
        sizes, dead, attack = [], [], []
        for n in live:
            if only_tm2:  # the PEX address book is TM2's table
                assert n.tm2 is not None
                sizes.append(n.tm2.known_addresses())
                dead.append(0)
                attack.append(0)
                continue
            assert n.udp is not None
            entries = _table_ids(n.udp)
            sizes.append(len(entries))
            dead.append(sum(1 for e in entries if e in ids and ids[e].stopped_at is not None))
            attack.append(sum(1 for e in entries if e in ids and ids[e].attacker))
        main = "tm2" if only_tm2 else "devp2p"
        # Stack "both": the TM2 side of each host, recorded beside the devp2p figures.
        beside = [n.tm2 for n in live if n.tm2 is not None]
        self.result.add_sample(
            t,
            live=len(live),
            table_sizes=sizes,
            dead_entries=dead,
            attacker_entries=attack,
            counters=dict(self.net.counters),
            peer_counts=[c for n in live if (c := n.peer_count(main)) is not None]
            if self.sc.full or only_tm2
            else None,
            tm2_books=[x.known_addresses() for x in beside] if self.sc.stack == "both" else None,
            tm2_peer_counts=[x.peer_count() for x in beside] if self.sc.stack == "both" else None,
            protocol_tables=self._protocol_tables(live) if len(self.sc.discovery) > 1 else None,
        )

    @staticmethod
    def _protocol_tables(live: list[SimNode]) -> dict[str, list[int]]:
        """Discovery v4 and v5 together: each protocol's table size per live node."""
        out: dict[str, list[int]] = {"v4": [], "v5": []}
        for n in live:
            if isinstance(n.udp, Discovery):
                for name, p in (("v4", n.udp.v4), ("v5", n.udp.v5)):
                    if p is not None:
                        out[name].append(len(p.table.nodes()))
        return out

    async def main(self) -> None:
        for _ in range(self.sc.nodes):
            self._new_node()
        for n in self.nodes[: self.sc.bootnodes]:
            n.bootnode = True
            self.boot.append(n.node_with_record() if "v5" in self.sc.discovery else n.node)
            if self.sc.runs_tm2:
                self.tm2_seeds.append(f"{tm2.NodeKey.from_secret(n.tm2_secret).id}@{n.ip}:{TM2_PORT}")
        for _ in range(self.sc.attackers):
            self._new_node(attacker=True)
        for n in self.nodes:
            delay = 0.0 if n.bootnode else self.rng_nodes.uniform(0.0, self.sc.join_over)
            self._start(n, delay)
        faults = self.loop.create_task(self._faults())
        traffic = self.loop.create_task(self._traffic()) if self.sc.traffic_interval > 0 else None
        t = 0.0
        while t < self.sc.duration:
            t = min(self.sc.duration, t + self.sc.sample_interval)
            await asyncio.sleep(t - self.loop.time())
            gc.collect()  # at a fixed simulated time: finalizers run at the same point every run
            self._sample()
            if self.progress is not None:
                self.progress(t, self.sc.duration)
        for background in (faults, traffic):
            if background is not None:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
        self._record_propagation()
        for n in list(self.nodes):
            if n.stopped_at is None:
                n.stop.set()
        ended = await asyncio.gather(
            *(n.task for n in self.nodes if n.task is not None), return_exceptions=True
        )
        crashed = [e for e in ended if isinstance(e, Exception)]
        if crashed:  # a node that died of a bug would otherwise just look like a quiet node
            raise RuntimeError(
                f"{len(crashed)} simulated node(s) failed; the first: {crashed[0]!r}"
            ) from crashed[0]
        self.result.trace_hash = self.net.trace_hash()
        self.result.counters.update(self.net.counters)
        self.result.counters.update(self.discovery_counts())
        self.result.simulated_seconds = self.sc.duration


def _discovery_counts(n: SimNode) -> dict[str, int]:
    if n.udp is None:
        return {}
    who = "attacker" if n.attacker else "honest"
    # v5 has no flood limiter or bond budget (those counters stay 0 there)
    return {
        f"{who}_{name}": sum(int(getattr(p.stats, name, 0)) for p in _protocols(n.udp))
        for name in DISCOVERY_COUNTERS
    }


def _protocols(udp: DiscoveryService) -> list[UDPv4 | UDPv5]:
    if isinstance(udp, Discovery):
        return [p for p in (udp.v4, udp.v5) if p is not None]
    return [udp]


def _table_ids(udp: DiscoveryService) -> list[bytes]:
    """The IDs in the node's tables (each once: v4 and v5 may both hold a node)."""
    if not isinstance(udp, Discovery):
        return list(udp.table.nodes())
    seen: dict[bytes, None] = {}
    for p in _protocols(udp):
        seen.update(dict.fromkeys(p.table.nodes()))
    return list(seen)


def _add_counts(into: dict[str, int], counts: dict[str, int]) -> None:
    for k, v in counts.items():
        into[k] = into.get(k, 0) + v


def run(scenario: Scenario, seed: int = 1, *, progress: Progress | None = None) -> Result:
    """Simulate ``scenario`` with ``seed``; the same pair always gives the same ``trace_hash``.

    The simulated nodes' own log lines (a dial refused with "too many peers", say) are
    events of the simulation, not news for whoever runs it: below ERROR they are muted for
    the run unless the ``peerwire`` logger has a level of its own.
    """
    sim = _Sim(scenario, seed, progress)
    loop = sim.loop
    library_log = logging.getLogger("peerwire")
    muted = library_log.level == logging.NOTSET
    if muted:
        library_log.setLevel(logging.ERROR)
    # The cyclic GC runs when allocation counts say so, which differs between
    # processes; collecting frees async generators and futures whose finalizers
    # schedule callbacks. Off during the run and collected at sample times instead,
    # the schedule is the same in every process.
    gc_was_on = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        loop.run_until_complete(sim.main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        if gc_was_on:
            gc.enable()
        if muted:
            library_log.setLevel(logging.NOTSET)
    return sim.result
