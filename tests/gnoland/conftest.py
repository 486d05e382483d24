"""Fixtures: a real gnoland chain (gno v1.7.1) on 127.0.0.1, one per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.gnoland._gnoland import Gnoland, build_gnoland


@pytest.fixture(scope="session")
def gnoland_bin() -> Path:
    """The gnoland binary (``make gnoland``); built here if missing, a failure without Go."""
    return build_gnoland()


@pytest.fixture
def gnoland(gnoland_bin: Path, tmp_path: Path) -> Iterator[Gnoland]:
    """A started one-validator chain ``dev`` that has committed block 1; stopped afterwards."""
    node = Gnoland(gnoland_bin, tmp_path / "gnoland")
    node.start()
    try:
        node.wait_height(1)
        yield node
    finally:
        node.stop()


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p
