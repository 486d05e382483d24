"""peerwire.kad: distances (scalar and numpy bulk) and the routing table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from peerwire import kad
from peerwire.errors import DecodeError

A = bytes.fromhex("aaaa8419e9f49d0083561b48287df592939a8d19947d8c0ef88f2a4856a69fbb")
B = bytes.fromhex("bbbb9d047f0488c0b5a93c1c3f2d8bafc7c8ff337024a55434a0d0555de64db9")


def py_log_distance(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_length()


def test_log_distance_vector() -> None:
    assert kad.log_distance(A, B) == 253
    assert kad.log_distance(A, A) == 0
    with pytest.raises(DecodeError):
        kad.log_distance(A[:31], B)


@given(st.binary(min_size=32, max_size=32), st.lists(st.binary(min_size=32, max_size=32), max_size=20))
def test_bulk_matches_scalar(target: bytes, ids: list[bytes]) -> None:
    arr = np.frombuffer(b"".join(ids), dtype=np.uint8).reshape(len(ids), 32)
    got = kad.log_distances(target, arr)
    assert got.dtype == np.uint16 and got.shape == (len(ids),)
    assert got.tolist() == [py_log_distance(target, i) for i in ids]


def test_bulk_rejects_wrong_shape() -> None:
    with pytest.raises(ValueError, match="shape"):
        kad.log_distances(A, np.zeros((3, 31), dtype=np.uint8))


def _id_at(me: bytes, d: int, salt: int) -> bytes:
    x = int.from_bytes(me, "big") ^ (1 << (d - 1)) ^ salt
    return x.to_bytes(32, "big")


def test_table_limits_and_closest() -> None:
    me = bytes(32)
    t = kad.Table(me, seed=1)
    assert t.bucket_index(_id_at(me, 256, 0)) == 16 and t.bucket_index(_id_at(me, 200, 0)) == 0
    # 2 per /24 per bucket, LAN exempt
    assert t.add(_id_at(me, 256, 1), "8.8.8.1", 0.0) == kad.AddResult.ADDED
    assert t.add(_id_at(me, 256, 2), "8.8.8.2", 0.0) == kad.AddResult.ADDED
    assert t.add(_id_at(me, 256, 3), "8.8.8.3", 0.0) == kad.AddResult.REJECTED_IP_LIMIT
    assert t.add(_id_at(me, 256, 3), "127.0.0.1", 0.0) == kad.AddResult.ADDED
    # 10 per /24 per table across buckets
    added = sum(
        t.add(_id_at(me, 250 - i // 2, i + 10), "9.9.9.9", 0.0) == kad.AddResult.ADDED for i in range(14)
    )
    assert added == 10
    # 16 per bucket, then 10 replacements
    for i in range(30):
        t.add(_id_at(me, 255, i + 100), f"10.0.{i}.1", 0.0)
    assert len(t.replacements(_id_at(me, 255, 0))) == kad.MAX_REPLACEMENTS
    # inbound contacts wait for the first refresh
    rejected = t.add(_id_at(me, 254, 1), "1.1.1.1", 0.0, inbound=True)
    assert rejected == kad.AddResult.REJECTED_NOT_INITIALISED and not rejected.accepted
    t.refresh_done(0.0)
    assert (added_now := t.add(_id_at(me, 254, 1), "1.1.1.1", 0.0, inbound=True)) == kad.AddResult.ADDED
    assert added_now.accepted and t.add(me, "1.1.1.2", 0.0) == kad.AddResult.REJECTED_OWN_ID
    target = _id_at(me, 255, 7)
    close = t.closest(target, k=16)
    assert len(close) == 16
    d = [int.from_bytes(c, "big") ^ int.from_bytes(target, "big") for c in close]
    assert d == sorted(d)
    assert set(t.random_nodes(5)) <= set(t.nodes())


def test_revalidation_and_refresh_timing() -> None:
    me = bytes(32)
    t = kad.Table(me, seed=2)
    n = _id_at(me, 256, 1)
    t.add(n, "127.0.0.1", 0.0)
    assert t.due_revalidations(0.0) == [n]  # fast list fires first
    assert t.next_revalidation() < 9.0
    t.mark_live(n)
    assert t.liveness(n) == 1
    removed, _ = t.mark_dead(n)
    assert removed and n not in t
    assert t.refresh_due(0.0)
    nxt = t.refresh_done(10.0)
    assert 10.0 + 900 <= nxt < 10.0 + 1800
    assert not t.refresh_due(nxt - 1) and t.refresh_due(nxt)
