"""Benchmarks reuse the test fixtures (the Go harness builds once per session)."""

from __future__ import annotations

from tests.conftest import go_harness, vectors

__all__ = ["go_harness", "vectors"]
