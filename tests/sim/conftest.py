"""Long simulations run only with PEERWIRE_SIM_LONG=1 (``make sim-long``); the rest stays under a minute."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sim_long: a simulation longer than a few seconds (PEERWIRE_SIM_LONG=1)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PEERWIRE_SIM_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="long simulation: set PEERWIRE_SIM_LONG=1 (make sim-long)")
    for item in items:
        if "sim_long" in item.keywords:
            item.add_marker(skip)
