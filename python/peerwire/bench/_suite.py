"""The comparisons ``peerwire bench`` runs from an installed wheel, each against a baseline here.

Every entry measures peerwire and its peer in the same run and returns
:class:`~peerwire.bench.Comparison` s. An entry whose baseline is not available on this
machine (no AES/ChaCha backend, no Go) is skipped with a note, not failed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from peerwire import kad
from peerwire._core import keccak as core_keccak
from peerwire._core import rlpx as core_rlpx
from peerwire.bench import _latency, _pyrlpx, _rlpx, _tm2
from peerwire.bench._crypto import chacha20poly1305_roundtrip, crypto_backend, keccak_baselines
from peerwire.bench._harness import Harness, HarnessUnavailable, locate
from peerwire.bench._report import Comparison

__all__ = ["ENTRIES", "Context", "Entry", "Skipped", "run_entries", "select"]

MB = 1e6


class Skipped(Exception):
    """The baseline of an entry is not available here; the message says why."""


@dataclass
class Context:
    quick: bool = False
    notes: list[str] = field(default_factory=list)
    _harness: Harness | None = None
    _harness_error: str | None = None
    _geth: dict[str, object] | None = None

    @property
    def repeat(self) -> int:
        return 3 if self.quick else 5

    def harness(self) -> Harness:
        if self._harness is None and self._harness_error is None:
            try:
                self._harness = locate()
            except HarnessUnavailable as e:
                self._harness_error = str(e)
        if self._harness is None:
            raise Skipped(self._harness_error or "Go harness unavailable")
        return self._harness


def best_times(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Best time of each function; runs interleave so a busy spell hits all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def _note_backend(ctx: Context) -> None:
    note = f"raw crypto bounds measured with {crypto_backend()}"
    if note not in ctx.notes:
        ctx.notes.append(note)


def _crypto_missing(what: str) -> Skipped:
    return Skipped(f"{what} bound skipped: install `cryptography` or `pycryptodome` to measure it")


def rlpx_codec(ctx: Context) -> list[Comparison]:
    bound = _rlpx.make_bound()
    if bound is None:
        raise _crypto_missing("keccak+AES-256-CTR")
    _note_backend(ctx)
    total = (1 << 20) if ctx.quick else _rlpx.BATCH_BYTES
    data = os.urandom(total)
    out = []
    for name, size in _rlpx.SIZES.items():
        a, b = _rlpx.codec_pair()
        batch = _rlpx.make_batch(size, total)
        if b.feed(a.seal_batch(batch[:3])) != batch[:3]:
            raise AssertionError("rlpx codec round trip changed the messages")
        nbytes = len(batch) * size

        def codec(
            a: core_rlpx.Session = a, b: core_rlpx.Session = b, batch: list[tuple[int, bytes]] = batch
        ) -> None:
            assert _rlpx.seal_open(a, b, batch) == len(batch)

        def raw(chunk: bytes = data[:nbytes]) -> None:
            bound(chunk)

        t_codec, t_bound = best_times([codec, raw], ctx.repeat)
        out.append(
            Comparison(
                f"rlpx codec seal+open {name}",
                "MB/s",
                nbytes / t_codec / MB,
                nbytes / t_bound / MB,
                "keccak+AES-CTR bound",
            )
        )
    return out


def rlpx_python(ctx: Context) -> list[Comparison]:
    missing = _pyrlpx.available()
    if missing is not None:
        raise Skipped(f"pure-Python RLPx writer skipped: {missing}")
    total = (1 << 20) if ctx.quick else _rlpx.BATCH_BYTES
    out = []
    for name, size in (("1KiB", 1024), ("16KiB", 16 * 1024)):
        batch = _rlpx.make_batch(size, total)
        a, b = _rlpx.codec_pair()
        py = _pyrlpx.PyFrameWriter(b"\x11" * 32, b"\x22" * 32, b"a")
        if b.feed(b"".join(py.seal(c, p) for c, p in batch[:3])) != batch[:3]:
            raise AssertionError("peerwire cannot open the pure-Python writer's frames")

        def ours(a: core_rlpx.Session = a, batch: list[tuple[int, bytes]] = batch) -> None:
            a.seal_batch(batch)

        def theirs(py: _pyrlpx.PyFrameWriter = py, batch: list[tuple[int, bytes]] = batch) -> None:
            for c, p in batch:
                py.seal(c, p)

        t_ours, t_py = best_times([ours, theirs], ctx.repeat)
        nbytes = len(batch) * size
        out.append(
            Comparison(
                f"rlpx frame seal {name}", "MB/s", nbytes / t_ours / MB, nbytes / t_py / MB, "pure Python"
            )
        )
    return out


def tm2_codec(ctx: Context) -> list[Comparison]:
    aead = chacha20poly1305_roundtrip(b"\x07" * 32)
    if aead is None:
        raise _crypto_missing("ChaCha20-Poly1305")
    _note_backend(ctx)
    out = []
    for name, size, reps in (("1KiB", 1024, 256), ("1MiB", _tm2.MIB, 1)):
        sa, sb = _tm2.codec_sessions()
        data = bytes(range(256)) * (size // 256)
        if sb.open(sa.seal(data)) != data or aead(data) != data:
            raise AssertionError("seal+open round trip changed the data")

        def codec(sa: object = sa, sb: object = sb, data: bytes = data, reps: int = reps) -> None:
            for _ in range(reps):
                sb.open(sa.seal(data))  # type: ignore[attr-defined]

        def raw(data: bytes = data, reps: int = reps) -> None:
            for _ in range(reps):
                aead(data)

        t_codec, t_raw = best_times([codec, raw], ctx.repeat * (3 if ctx.quick else 10))
        out.append(
            Comparison(
                f"tm2 frame codec seal+open {name}",
                "MB/s",
                size * reps / t_codec / MB,
                size * reps / t_raw / MB,
                "ChaCha20-Poly1305 bound",
            )
        )
    return out


def keccak(ctx: Context) -> list[Comparison]:
    others = keccak_baselines()
    if not others:
        raise Skipped("no Python keccak installed (safe-pysha3 or pycryptodome): keccak256 baseline skipped")
    out = []
    for name, size, reps in (("64B", 64, 2000), ("1KiB", 1024, 500), ("1MiB", 1 << 20, 2)):
        data = bytes(range(256)) * (size // 256) if size >= 256 else b"\x5a" * size
        want = core_keccak.keccak256(data)
        fns: list[Callable[[], object]] = []
        for fn in [core_keccak.keccak256, *others.values()]:
            if fn(data) != want:
                raise AssertionError(f"keccak256 implementations disagree on {name}")
            fns.append(partial(_repeat, fn, data, reps))
        times = best_times(fns, ctx.repeat)
        for peer, t in zip(others, times[1:], strict=True):
            out.append(
                Comparison(
                    f"keccak256 {name}", "MB/s", size * reps / times[0] / MB, size * reps / t / MB, peer
                )
            )
    return out


def _repeat(fn: Callable[[bytes], bytes], data: bytes, reps: int) -> None:
    for _ in range(reps):
        fn(data)


def _python_log_distances(target: bytes, ids: np.ndarray) -> list[int]:
    t = int.from_bytes(target, "big")
    return [(t ^ int.from_bytes(row.tobytes(), "big")).bit_length() for row in ids]


def log_distances(ctx: Context) -> list[Comparison]:
    n = 20_000 if ctx.quick else 200_000
    rng = np.random.default_rng(7)
    ids = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    target = bytes(rng.integers(0, 256, size=32, dtype=np.uint8))
    ours = kad.log_distances(target, ids)
    if list(ours[:500]) != _python_log_distances(target, ids[:500]):
        raise AssertionError("kad.log_distances disagrees with the pure-Python definition")
    t_ours, t_py = best_times(
        [lambda: kad.log_distances(target, ids), lambda: _python_log_distances(target, ids)],
        1 if ctx.quick else 3,
    )
    return [Comparison("kad log_distances", "ids/s", n / t_ours, n / t_py, "pure Python")]


def latency(ctx: Context) -> list[Comparison]:
    n = 200 if ctx.quick else 5000

    async def measure() -> tuple[float, float, float]:
        best = [float("inf")] * 3
        for _ in range(1 if ctx.quick else 3):  # interleaved rounds, best of each
            for i, fn in enumerate(
                (_latency.asyncio_round_trips, _latency.rlpx_round_trips, _latency.secret_round_trips)
            ):
                best[i] = min(best[i], await fn(n))
        return best[0], best[1], best[2]

    floor, rlpx_rt, secret_rt = asyncio.run(measure())
    peer = "asyncio streams (no framing, no crypto)"
    return [
        Comparison("rlpx round trip 64 B", "µs", rlpx_rt * 1e6, floor * 1e6, peer),
        Comparison("tm2 secret connection round trip 64 B", "µs", secret_rt * 1e6, floor * 1e6, peer),
    ]


def _geth(ctx: Context) -> dict[str, object]:
    if ctx._geth is None:
        ctx._geth = _rlpx.geth_figures(ctx.harness().run, ctx.quick)
    return ctx._geth


def rlpx_e2e(ctx: Context) -> list[Comparison]:
    geth = _geth(ctx)
    by_size = {int(s["size"]): s for s in geth["sizes"]}  # type: ignore[attr-defined]
    out = []
    for name, size in _rlpx.SIZES.items():
        n = _rlpx.e2e_count(size, ctx.quick)
        el = asyncio.run(_rlpx.e2e_python(size, n))
        out.append(
            Comparison(
                f"rlpx e2e {name}",
                "MB/s",
                n * size / el / MB,
                float(by_size[size]["mb_per_s"]),
                "go-ethereum",
            )
        )
    return out


def rlpx_handshakes(ctx: Context) -> list[Comparison]:
    geth = _geth(ctx)
    ours = asyncio.run(_rlpx.handshakes_python(5 if ctx.quick else 300))
    theirs = float(geth["handshakes_per_s"])  # type: ignore[arg-type]
    return [Comparison("rlpx handshakes", "handshakes/s", ours, theirs, "go-ethereum")]


def tm2_secret_connection(ctx: Context) -> list[Comparison]:
    h = ctx.harness()
    out = []
    for name, size in _tm2.SIZES.items():
        total = 2 * _tm2.MIB if ctx.quick else (64 if size == 1024 else 256) * _tm2.MIB
        gno = _tm2.gno_secret_connection(h.run, size, total)
        ours = asyncio.run(_tm2.secret_connection_throughput(size, total))
        out.append(Comparison(f"tm2 secret connection {name}", "MB/s", ours["mb_per_s"], gno, "gno"))
    return out


def tm2_mconnection(ctx: Context) -> list[Comparison]:
    h = ctx.harness()
    out = []
    for name, size, unit, key in (
        ("1KiB", 1024, "msgs/s", "msgs_per_s"),
        ("64KiB", 64 * 1024, "MB/s", "mb_per_s"),
    ):
        total = 2 * _tm2.MIB if ctx.quick else (16 if size == 1024 else 64) * _tm2.MIB
        gno = _tm2.gno_mconnection(h.run, size, total)
        ours = asyncio.run(_tm2.mconnection_throughput(size, total))
        out.append(Comparison(f"tm2 mconnection {name}", unit, ours[key], float(gno[key]), "gno"))
    return out


def tm2_handshakes(ctx: Context) -> list[Comparison]:
    h = ctx.harness()
    count = 20 if ctx.quick else 500
    gno = _tm2.gno_handshakes(h.run, count)
    one = asyncio.run(_tm2.handshakes_one_process(count))
    two = asyncio.run(_tm2.handshakes_two_processes(count))
    return [
        Comparison("tm2 handshakes, one process", "handshakes/s", one, gno, "gno"),
        Comparison("tm2 handshakes, listener in its own process", "handshakes/s", two, gno, "gno"),
    ]


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    baseline: str
    run: Callable[[Context], list[Comparison]]


ENTRIES = [
    Entry("rlpx-codec", "keccak+AES-256-CTR bound (cryptography or pycryptodome)", rlpx_codec),
    Entry("rlpx-python", "pure-Python RLPx frame writer (safe-pysha3 or pycryptodome + AES)", rlpx_python),
    Entry("tm2-codec", "ChaCha20-Poly1305 bound (cryptography or pycryptodome)", tm2_codec),
    Entry("keccak", "Python keccak-256 (safe-pysha3, pycryptodome)", keccak),
    Entry("kad", "pure Python", log_distances),
    Entry("latency", "plain asyncio TCP streams on the same loopback", latency),
    Entry("rlpx-e2e", "go-ethereum (Go harness)", rlpx_e2e),
    Entry("rlpx-handshakes", "go-ethereum (Go harness)", rlpx_handshakes),
    Entry("tm2-secret-connection", "gno (Go harness)", tm2_secret_connection),
    Entry("tm2-mconnection", "gno (Go harness)", tm2_mconnection),
    Entry("tm2-handshakes", "gno (Go harness)", tm2_handshakes),
]


def select(pattern: str | None) -> list[Entry]:
    """Entries whose name contains any comma-separated part of ``pattern`` (all when ``None``)."""
    if not pattern:
        return list(ENTRIES)
    parts = [p.strip() for p in pattern.split(",") if p.strip()]
    return [e for e in ENTRIES if any(p in e.name for p in parts)]


def run_entries(
    entries: list[Entry], ctx: Context, progress: Callable[[str], None] | None = None
) -> list[Comparison]:
    out: list[Comparison] = []
    for e in entries:
        if progress is not None:
            progress(e.name)
        try:
            out += e.run(ctx)
        except Skipped as s:
            ctx.notes.append(f"{e.name}: skipped — {s}")
    return out
