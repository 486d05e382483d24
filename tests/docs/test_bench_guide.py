"""docs/guide/benchmarks.md: its pytest example runs under the installed plugin, its snippets run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "benchmarks.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def _blocks() -> list[str]:
    blocks = BLOCK.findall(PAGE.read_text())
    assert len(blocks) == 2, "benchmarks.md: one pytest example, one record() snippet"
    return blocks


def test_pytest_example_runs_with_the_plugin_fixtures(tmp_path: Path) -> None:
    example = tmp_path / "bench_rlpx_vs_memory.py"
    example.write_text(_blocks()[0])
    res = subprocess.run(
        [sys.executable, "-m", "pytest", str(example), "-q", "-p", "no:cacheprovider", "--benchmark-disable"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "2 passed" in res.stdout


def test_record_snippet_runs() -> None:
    res = subprocess.run([sys.executable, "-c", _blocks()[1]], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
