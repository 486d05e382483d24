"""SwitchConfig: frozen, validated with clear errors, visible in repr; the with_* options are shims."""

from __future__ import annotations

import dataclasses
import random

import pytest

from peerwire import tm2
from peerwire._clock import FakeClock
from peerwire.testing.tm2 import MemoryNetwork, MemoryTransport

ADDR = "g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5@127.0.0.1:26656"


class Echo(tm2.BaseReactor):
    def get_channels(self) -> list[tm2.ChannelDescriptor]:
        return [tm2.ChannelDescriptor(id=0x77)]


def _transport() -> MemoryTransport:
    return MemoryTransport(MemoryNetwork(FakeClock()), tm2.NodeKey.from_secret(b"cfg"), channels=b"\x77")


def test_config_is_frozen_and_normalised() -> None:
    cfg = tm2.SwitchConfig(
        max_inbound_peers=3,
        persistent_peers=[ADDR],
        private_peers=["g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5"],
    )
    assert cfg.persistent_peers == cfg.persistent_addresses == (tm2.NetAddress.parse(ADDR),)
    assert cfg.private_peers == frozenset({"g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.max_inbound_peers = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"max_inbound_peers": -1}, "max_inbound_peers"),
        ({"max_outbound_peers": 1.5}, "max_outbound_peers"),
        ({"max_concurrent_dials": 0}, "max_concurrent_dials"),
        ({"dispatch_queue_size": 0}, "dispatch_queue_size"),
        ({"broadcast_queue_bytes": 0}, "broadcast_queue_bytes"),
        ({"dial_timeout": 0}, "dial_timeout"),
        ({"redial_interval": -5.0}, "redial_interval"),
        ({"persistent_peers": ["not an address"]}, "persistent_peers"),
        ({"private_peers": ["g1xxxx"]}, "private_peers"),
    ],
)
def test_bad_values_raise_a_clear_value_error_nothing_is_clamped(kw: dict[str, object], match: str) -> None:
    with pytest.raises(tm2.ConfigError, match=match) as err:
        tm2.SwitchConfig(**kw)  # type: ignore[arg-type]
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    "option",
    [tm2.with_max_inbound_peers(-1), tm2.with_max_concurrent_dials(0), tm2.with_dispatch_queue_size(0)],
)
def test_shims_validate_too_they_used_to_clamp_silently(option: tm2.SwitchOption) -> None:
    with pytest.raises(tm2.ConfigError):
        tm2.MultiplexSwitch(_transport(), option)


def test_with_shims_build_the_same_config_in_any_order() -> None:
    clock = FakeClock()
    rng = random.Random(1)
    cfg = tm2.SwitchConfig(
        max_inbound_peers=5,
        max_outbound_peers=2,
        persistent_peers=(tm2.NetAddress.parse(ADDR),),
        private_peers=frozenset({tm2.ID("g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5")}),
        dial_timeout=1.0,
        redial_interval=2.0,
        max_concurrent_dials=3,
        broadcast_queue_size=7,
        dispatch_queue_size=9,
    )
    echo = Echo()
    by_kw = tm2.MultiplexSwitch(_transport(), reactors={"echo": echo}, config=cfg, clock=clock, rng=rng)
    opts = [
        tm2.with_clock(clock),  # first: the switch is built after every option ran
        tm2.with_max_inbound_peers(5),
        tm2.with_max_outbound_peers(2),
        tm2.with_persistent_peers([ADDR]),
        tm2.with_private_peers(["g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5"]),
        tm2.with_dial_timeout(1.0),
        tm2.with_redial_interval(2.0),
        tm2.with_max_concurrent_dials(3),
        tm2.with_broadcast_queue_size(7),
        tm2.with_dispatch_queue_size(9),
        tm2.with_rng(rng),
    ]
    by_opts = tm2.MultiplexSwitch(_transport(), tm2.with_reactor("echo", Echo()), *reversed(opts))
    assert by_opts.config == by_kw.config == cfg
    assert by_opts.clock is clock and by_opts.dial_queue()._clock is clock
    assert "max_inbound_peers=5" in repr(by_kw) and "dispatch_queue_size=9" in repr(by_kw)
    assert by_kw.reactor("echo") is echo and by_kw.is_private_peer("g1uvwz22t0l2fv9az93wutmlusrjv5zdwx2n32d5")


def test_reactor_name_or_channel_used_twice_is_a_config_error() -> None:
    with pytest.raises(tm2.ConfigError, match="already used"):
        tm2.MultiplexSwitch(_transport(), tm2.with_reactor("a", Echo()), tm2.with_reactor("a", Echo()))
    with pytest.raises(tm2.ConfigError, match="already claimed"):
        tm2.MultiplexSwitch(_transport(), reactors={"a": Echo(), "b": Echo()})
