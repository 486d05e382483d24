"""Every ```python block of the guide pages that promise it runs as-is, in a fresh interpreter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide"
PAGES = ["devp2p.md", "discovery.md", "tm2.md", "tuning.md", "simulation.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def _snippets() -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        blocks = BLOCK.findall((GUIDE / page).read_text())
        assert blocks, f"{page} has no python snippet"
        out += [(f"{page}#{i}", code) for i, code in enumerate(blocks)]
    return out


@pytest.mark.parametrize(("where", "code"), _snippets(), ids=[w for w, _ in _snippets()])
def test_snippet_runs(where: str, code: str) -> None:
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert res.returncode == 0, f"{where}:\n{res.stderr}"
