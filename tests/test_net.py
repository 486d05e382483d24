"""Shared networking helpers (mirrors python/peerwire/_net.py)."""

from __future__ import annotations

import asyncio
import socket
import stat
from pathlib import Path

import pytest

from peerwire._clock import FakeClock
from peerwire._net import (
    NetRestrict,
    TokenBucket,
    join_host_port,
    parse_ip,
    resolve,
    split_host_port,
    write_private_file,
)
from peerwire.errors import DialError
from peerwire.events import DialFailureReason


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("127.0.0.1:30303", ("127.0.0.1", 30303)),
        ("[::1]:26656", ("::1", 26656)),
        ("[fe80::1%eth0]:1", ("fe80::1%eth0", 1)),
        ("example.org:0", ("example.org", 0)),
        ("localhost:65535", ("localhost", 65535)),
    ],
)
def test_split_host_port(text: str, want: tuple[str, int]) -> None:
    assert split_host_port(text) == want
    host, port = want
    assert split_host_port(join_host_port(host, port)) == want


@pytest.mark.parametrize(
    "text",
    [
        *("", "127.0.0.1", "::1:30303", "[::1]30303", "[::1", "host:65536", "host:-1", "host:", "[]:1"),
        *("h:1x", "h:\u0663"),  # an Arabic-Indic digit is a digit to str.isdigit, not a port
    ],
)
def test_split_host_port_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        split_host_port(text)


def test_split_host_port_default_host() -> None:
    assert split_host_port(":30303", default_host="0.0.0.0") == ("0.0.0.0", 30303)
    with pytest.raises(ValueError):
        split_host_port(":30303")
    with pytest.raises(ValueError):
        split_host_port("a" * 400 + ":1")


def test_parse_ip_unmaps_v4_and_refuses_names_and_zones() -> None:
    assert str(parse_ip("::ffff:10.0.0.1")) == "10.0.0.1"
    assert parse_ip("localhost") is None and parse_ip("fe80::1%eth0") is None


def test_resolve_literal_never_touches_the_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()

        async def boom(*a: object, **k: object) -> object:
            raise AssertionError("getaddrinfo called for a literal")

        monkeypatch.setattr(loop, "getaddrinfo", boom)
        return await resolve("::ffff:127.0.0.1") + await resolve("::1")

    assert asyncio.run(main()) == ["127.0.0.1", "::1"]


def test_resolve_orders_v4_first_dedups_and_maps_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def fake(host: str, port: object, *, type: int = 0) -> list[tuple[object, ...]]:
            if host == "nowhere.invalid":
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [
                (socket.AF_INET6, type, 0, "", ("::1", 0, 0, 0)),
                (socket.AF_INET, type, 0, "", ("127.0.0.1", 0)),
                (socket.AF_INET, type, 0, "", ("127.0.0.1", 0)),
            ]

        monkeypatch.setattr(loop, "getaddrinfo", fake)
        assert await resolve("node.example") == ["127.0.0.1", "::1"]
        with pytest.raises(DialError) as info:
            await resolve("nowhere.invalid")
        assert info.value.reason is DialFailureReason.RESOLVE_FAILED

    asyncio.run(main())


def test_resolve_is_bounded_by_the_callers_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    from peerwire.errors import TimeoutError as PeerwireTimeout

    async def main() -> None:
        loop = asyncio.get_running_loop()
        clock = FakeClock()

        async def hang(*a: object, **k: object) -> object:
            await asyncio.Event().wait()
            raise AssertionError

        monkeypatch.setattr(loop, "getaddrinfo", hang)

        async def dial() -> list[str]:
            async with clock.timeout(5.0):
                return await resolve("slow.example")

        t = asyncio.create_task(dial())
        await asyncio.sleep(0)
        await clock.advance(5.0)
        with pytest.raises(PeerwireTimeout):
            await t

    asyncio.run(main())


def test_net_restrict() -> None:
    nr = NetRestrict.parse("127.0.0.0/8, 10.1.0.0/16,::1/128")
    assert nr.contains("127.3.4.5") and "10.1.2.3" in nr and nr.contains("::1")
    assert nr.contains("::ffff:127.0.0.1")  # v4-mapped is the v4 address
    assert not nr.contains("10.2.0.1") and not nr.contains(None) and not nr.contains("localhost")
    assert 5 not in nr
    assert "127.0.0.0/8" in repr(nr)
    with pytest.raises(ValueError, match="invalid CIDR"):
        NetRestrict(["10.0.0.0/33"])


def test_token_bucket_on_the_fake_clock() -> None:
    async def main() -> None:
        clock = FakeClock()
        bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
        assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
        await clock.advance(0.5)  # one token back
        assert bucket.try_take() and not bucket.try_take()
        await clock.advance(100)  # capped at burst
        assert bucket.tokens == 3.0
        with pytest.raises(ValueError):
            TokenBucket(rate=0, burst=1, clock=clock)

    asyncio.run(main())


def test_write_private_file_is_0600_atomic_and_respects_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "node_key.json"
    write_private_file(target, b"one", overwrite=False)
    assert target.read_bytes() == b"one"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    with pytest.raises(FileExistsError):
        write_private_file(target, b"two", overwrite=False)
    write_private_file(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["node_key.json"]  # no temp left behind
