"""netns tests need root and iproute2; CI (root) runs them with ``-m netns`` enabled by default."""

from __future__ import annotations

import os
import shutil

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "netns" in item.keywords and (os.geteuid() != 0 or shutil.which("ip") is None):
            item.add_marker(pytest.mark.skip(reason="netns tests need root and iproute2"))
