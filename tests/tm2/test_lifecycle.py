"""The switch's typed lifecycle feed (peerwire.events) and errors with a direction."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from peerwire import errors, events, tm2
from peerwire._clock import FakeClock
from peerwire.testing.tm2 import MemoryNetwork, MemoryTransport

CH = 0x77


class Echo(tm2.BaseReactor):
    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(id=CH)]


async def _until(cond: Callable[[], bool], rounds: int = 5000) -> None:
    for _ in range(rounds):
        if cond():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def _drain(sub: tm2.Subscription[events.Event]) -> list[events.Event]:
    out = []
    while (ev := sub.get_nowait()) is not None:
        out.append(ev)
    return out


def events_id(node_id: str) -> str:
    return node_id  # the shared feed names TM2 peers by their bech32 ID


def test_lifecycle_feed_has_typed_facts_with_direction_and_reason() -> None:
    async def main() -> None:
        net = MemoryNetwork(FakeClock())
        keys = {n: tm2.NodeKey.from_secret(n.encode()) for n in ("srv", "c1", "c2")}
        ts = {n: MemoryTransport(net, k, channels=bytes([CH])) for n, k in keys.items()}
        for t in ts.values():
            await t.listen()
        srv = tm2.MultiplexSwitch(
            ts["srv"], reactors={"e": Echo()}, config=tm2.SwitchConfig(max_inbound_peers=1)
        )
        c1 = tm2.MultiplexSwitch(ts["c1"], reactors={"e": Echo()})
        c2 = tm2.MultiplexSwitch(ts["c2"], reactors={"e": Echo()})
        async with srv, c1, c2:
            on_srv, on_c1, on_c2 = (
                srv.subscribe_lifecycle(),
                c1.subscribe_lifecycle(),
                c2.subscribe_lifecycle(),
            )
            nobody = tm2.NodeKey.from_secret(b"nobody").id
            c1.dial_peers(str(ts["srv"].net_address()), f"{nobody}@127.0.0.9:1")
            await _until(lambda: srv.peers().has(keys["c1"].id) and c1.peers().has(keys["srv"].id))
            on_srv_peer = srv.peers().get(keys["c1"].id)
            # The transport's duplicate-guard key lives in the transport, not in the user's store.
            assert on_srv_peer is not None and on_srv_peer.get("_transport_key") is None
            c2.dial_peers(str(ts["srv"].net_address()))
            await _until(lambda: srv.stats.rejected_inbound_full == 1)
            await _until(lambda: not c2.peers().has(keys["srv"].id) and c2.stats.dials == 1)
            srv.stop_peer_for_error(srv.peers().list()[0], None)
            got_c1: list[events.Event] = []
            got_srv: list[events.Event] = []
            got_c2: list[events.Event] = []

            def drained() -> bool:
                got_c1.extend(_drain(on_c1))
                got_srv.extend(_drain(on_srv))
                got_c2.extend(_drain(on_c2))
                return any(isinstance(e, events.PeerDropped) for e in got_srv) and any(
                    isinstance(e, events.PeerDropped) for e in got_c2
                )

            await _until(drained)
        srv_hex, c1_hex = events_id(keys["srv"].id), events_id(keys["c1"].id)
        srv_addr = ts["srv"].net_address().dial_string()
        assert events.DialStarted(srv_hex, srv_addr) in got_c1
        failed = [e for e in got_c1 if isinstance(e, events.DialFailed)]
        assert [(f.peer_id, f.address, f.reason) for f in failed] == [
            (events_id(nobody), "127.0.0.9:1", events.DialFailureReason.CONNECT_REFUSED)
        ]
        assert events.PeerAdded(srv_hex, srv_addr, events.Direction.OUTBOUND) in got_c1
        added_srv = [e for e in got_srv if isinstance(e, events.PeerAdded)]
        assert [(a.peer_id, a.direction) for a in added_srv] == [(c1_hex, events.Direction.INBOUND)]
        refused = [e for e in got_srv if isinstance(e, events.HandshakeFailed)]
        assert [(r.peer_id, r.direction, r.reason) for r in refused] == [
            (events_id(keys["c2"].id), events.Direction.INBOUND, events.HandshakeFailureReason.TOO_MANY_PEERS)
        ]
        assert refused[0].reason.is_policy_refusal
        dropped = [e for e in got_srv if isinstance(e, events.PeerDropped)]
        assert [(d.peer_id, d.reason) for d in dropped] == [(c1_hex, events.DropReason.REQUESTED)]
        # c2 got through its handshake, then the server closed it: it sees its peer dropped.
        assert any(isinstance(e, events.PeerDropped) and e.peer_id == srv_hex for e in got_c2)
        for t in ts.values():
            await t.close()

    asyncio.run(main())


def test_errors_have_a_direction_and_no_devp2p_code() -> None:
    refused = tm2.PeerRefusedError(tm2.RefusalReason.INBOUND_FULL)
    assert not isinstance(refused, errors.ProtocolError) and refused.reason is tm2.RefusalReason.INBOUND_FULL
    for err in (
        tm2.NodeInfoError("x"),
        tm2.PacketDecodeError("x"),
        tm2.SecretFrameError("x"),
        tm2.SecretHandshakeError("x"),
        tm2.PongTimeoutError("x"),
        tm2.WriteTimeoutError("x"),
    ):
        assert isinstance(err, errors.RemoteProtocolError) and err.disconnect_reason is None
    with pytest.raises(ValueError, match="expected") as raised:
        tm2.NetAddress.parse("not-an-address")
    assert isinstance(raised.value, tm2.AddressError) and not isinstance(raised.value, errors.DecodeError)


def test_parse_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*a: object, **k: object) -> object:
        raise AssertionError("getaddrinfo called")

    monkeypatch.setattr(socket, "getaddrinfo", forbidden)
    addr = tm2.NetAddress.parse("g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@seed.example.org:26656")
    assert addr.host == "seed.example.org" and addr.ip is None and not addr.is_resolved

    async def resolve() -> tm2.NetAddress:
        async def fake(host: str) -> str:
            return "10.1.2.3"

        return await addr.resolve(fake)

    assert str(asyncio.run(resolve())) == "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@10.1.2.3:26656"
