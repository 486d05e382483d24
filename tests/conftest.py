"""Shared fixtures: vector loading and the Go interop harness."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"
HARNESS_SRC = ROOT / "tests" / "interop" / "go"
HARNESS_BIN = ROOT / ".cache" / "peerwire-interop"


def load_vector(name: str) -> Any:
    """Parse ``tests/vectors/<name>`` (JSON)."""
    return json.loads((VECTORS / name).read_text())


@pytest.fixture(scope="session")
def vectors() -> Callable[[str], Any]:
    return load_vector


def _harness_stale() -> bool:
    if not HARNESS_BIN.exists():
        return True
    built = HARNESS_BIN.stat().st_mtime
    return any(p.stat().st_mtime > built for p in HARNESS_SRC.iterdir() if p.is_file())


def build_go_harness(go: str | None) -> Path:
    """Build the Go interop binary into ``.cache/`` if its sources changed.

    Fails (never skips) when Go is missing: interop is proven, not assumed.
    """
    if go is None:
        pytest.fail(
            "the Go toolchain (>= 1.24) is required for the interop tests: install Go and "
            "make sure `go` is on PATH (tests/interop/go builds go-ethereum and gno peers)",
            pytrace=False,
        )
    if _harness_stale():
        HARNESS_BIN.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [go, "build", "-o", str(HARNESS_BIN), "."],
            cwd=HARNESS_SRC,
            capture_output=True,
            text=True,
            env={**os.environ, "CGO_ENABLED": os.environ.get("CGO_ENABLED", "1")},
            check=False,
        )
        if proc.returncode != 0:
            pytest.fail(f"building the Go interop harness failed:\n{proc.stderr}", pytrace=False)
    return HARNESS_BIN


@pytest.fixture(scope="session")
def go_harness() -> Path:
    """Path of the Go interop binary, built once per session."""
    return build_go_harness(shutil.which("go"))


def run_harness(binary: Path, *args: str, stdin: str | None = None, timeout: float = 60.0) -> str:
    """Run a one-shot harness subcommand and return its stdout (raises on failure)."""
    proc = subprocess.run(
        [str(binary), *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"harness {args[0]} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout
