"""The Go harness fixture itself: it fails loudly without Go and lists its subcommands."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.conftest import build_go_harness


def test_missing_go_fails_not_skips() -> None:
    with pytest.raises(pytest.fail.Exception, match="Go toolchain"):
        build_go_harness(None)


@pytest.mark.interop
def test_harness_lists_subcommands(go_harness: Path) -> None:
    proc = subprocess.run([str(go_harness)], capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2
    assert "identity" in proc.stderr
