"""Sweeps: one scenario over many seeds or parameter values, in parallel.

A local process pool by default; a Dask cluster (``dask.distributed``, the
``sim`` extra) when a scheduler address or client is given. Each run is a
pure function of (scenario, seed), so where it runs does not change its result.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import time
from collections.abc import Callable
from typing import Any

from peerwire.sim._result import Result
from peerwire.sim._runner import run
from peerwire.sim._scenario import Scenario

__all__ = ["parse_sweep", "run_one", "sweep"]

_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """``seed=1..32`` or ``loss=0,0.01,0.05`` into the parameter name and its values."""
    name, sep, spec = text.partition("=")
    if not sep or not name or not spec:
        raise ValueError(f"sweep must look like name=1..32 or name=a,b,c; got {text!r}")
    m = _RANGE.match(spec.strip())
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        if hi < lo:
            raise ValueError(f"empty range {spec!r}")
        return name.strip(), list(range(lo, hi + 1))
    values: list[Any] = []
    for v in spec.split(","):
        v = v.strip()
        try:
            values.append(int(v))
        except ValueError:
            try:
                values.append(float(v))
            except ValueError:
                values.append(v)
    return name.strip(), values


def run_one(scenario: Scenario, seed: int) -> Result:
    """One timed run (the unit of work a pool or Dask worker executes)."""
    started = time.perf_counter()  # real time of the whole run, outside the simulation
    result = run(scenario, seed)
    result.real_seconds = time.perf_counter() - started
    return result


def _jobs(scenario: Scenario, param: str, values: list[Any], seed: int) -> list[tuple[Scenario, int]]:
    if param == "seed":
        return [(scenario, int(v)) for v in values]
    return [(scenario.with_param(param, v), seed) for v in values]


def sweep(
    scenario: Scenario,
    param: str,
    values: list[Any],
    *,
    seed: int = 1,
    dask: Any = None,
    workers: int | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """Run ``scenario`` once per value of ``param`` (results in the order of ``values``).

    ``dask`` is a scheduler address ("tcp://host:8786") or a ``distributed.Client``.
    """
    jobs = _jobs(scenario, param, values, seed)
    results: list[Result | None] = [None] * len(jobs)
    if dask is not None:
        from distributed import Client, as_completed  # the sim extra; untyped

        client = dask if isinstance(dask, Client) else Client(dask)  # type: ignore[no-untyped-call]
        try:
            futs = [client.submit(run_one, sc, sd, pure=False) for sc, sd in jobs]
            index = {f.key: i for i, f in enumerate(futs)}
            for n, fut in enumerate(as_completed(futs), 1):  # type: ignore[no-untyped-call]
                results[index[fut.key]] = fut.result()
                if on_done:
                    on_done(n, len(jobs))
        finally:
            if client is not dask:
                client.close()  # type: ignore[no-untyped-call]
    else:
        n_workers = workers or min(len(jobs), os.cpu_count() or 1)
        with concurrent.futures.ProcessPoolExecutor(max_workers=n_workers) as pool:
            futmap = {pool.submit(run_one, sc, sd): i for i, (sc, sd) in enumerate(jobs)}
            for n, fut in enumerate(concurrent.futures.as_completed(futmap), 1):
                results[futmap[fut]] = fut.result()
                if on_done:
                    on_done(n, len(jobs))
    return [r for r in results if r is not None]
