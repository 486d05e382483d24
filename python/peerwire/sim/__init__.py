"""Deterministic network simulation: real peerwire nodes on virtual time.

``sim.run(sim.Scenario.load("scenario.toml"), seed=1)`` runs the library's own
discovery (and, as they are wired in, servers and switches) on a
:class:`VirtualLoop` whose time jumps to the next timer, over a simulated
:class:`Network` with latency, loss, partitions, NAT and churn. Everything
random comes from the seed: the same scenario and seed give the same
``trace_hash``.
"""

from __future__ import annotations

from peerwire.sim._dist import Distribution, parse_duration
from peerwire.sim._loop import SimClock, SimulationStalled, VirtualLoop
from peerwire.sim._network import LinkModel, Network
from peerwire.sim._result import Result, aggregate
from peerwire.sim._runner import run
from peerwire.sim._scenario import Fault, Scenario, shipped_scenarios
from peerwire.sim._sweep import parse_sweep, sweep

__all__ = [
    "Distribution",
    "Fault",
    "LinkModel",
    "Network",
    "Result",
    "Scenario",
    "SimClock",
    "SimulationStalled",
    "VirtualLoop",
    "aggregate",
    "parse_duration",
    "parse_sweep",
    "run",
    "shipped_scenarios",
    "sweep",
]
