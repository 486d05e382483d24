"""Reading the JSON lines the netns nodes print, and polling them with a deadline."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path


def last(log: Path, key: str) -> object | None:
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if line.startswith("{") and key in line:
            return json.loads(line)[key]
    return None


def wait(cond: Callable[[], bool], timeout: float, what: str) -> float:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.25)
    return time.monotonic() - t0
