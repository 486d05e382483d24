"""Find (and build if needed) the Go harness that runs go-ethereum and gno as benchmark peers.

The harness is the project's interop harness (``tests/interop/go``): its ``rlpx-bench``,
``tm2-sc-bench``, ``tm2-mconn-bench`` and ``tm2-handshake-bench`` subcommands measure the Go
side of each comparison. Sources are looked up, in order, in ``$PEERWIRE_HARNESS_SRC``, in a
peerwire source checkout around the installed package or the current directory, and in the
package itself (``peerwire/bench/harness_src``, copied there by ``make wheel``). The binary
is built with ``go build`` into the user cache (``$XDG_CACHE_HOME/peerwire/harness-<hash of
the sources>``) and reused while the sources do not change. ``$PEERWIRE_HARNESS`` names a
ready binary and skips all of that.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Harness", "HarnessUnavailable", "cache_dir", "find_sources", "locate"]

PACKAGE_SOURCES = Path(__file__).resolve().parent / "harness_src"
CHECKOUT_SUFFIX = Path("tests") / "interop" / "go"
# A cold build downloads go-ethereum and gno through the Go module proxy and compiles both.
BUILD_TIMEOUT = 1800.0


class HarnessUnavailable(RuntimeError):
    """The Go peers cannot run here; the message says why (shown as a skip note)."""


@dataclass(frozen=True, slots=True)
class Harness:
    binary: Path

    def run(self, *args: str, timeout: float = 600.0) -> str:
        proc = subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"harness {args[0]} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        return proc.stdout


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "peerwire"


def _is_sources(d: Path) -> bool:
    return (d / "go.mod").is_file() and (d / "main.go").is_file()


def find_sources() -> Path | None:
    env = os.environ.get("PEERWIRE_HARNESS_SRC")
    candidates = [Path(env)] if env else []
    # A checkout's own sources first: the packaged copy may be older than the tree it came from.
    here = Path(__file__).resolve()
    candidates += [p / CHECKOUT_SUFFIX for p in here.parents]
    candidates += [p / CHECKOUT_SUFFIX for p in [Path.cwd(), *Path.cwd().parents]]
    candidates.append(PACKAGE_SOURCES)
    return next((c for c in candidates if _is_sources(c)), None)


def _digest(src: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in src.iterdir() if p.is_file() and p.suffix in (".go", ".mod", ".sum")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def locate(build: bool = True) -> Harness:
    """The harness binary, built into the user cache on first use.

    Raises :class:`HarnessUnavailable` with the reason when Go or the sources are missing.
    """
    ready = os.environ.get("PEERWIRE_HARNESS")
    if ready:
        if not os.access(ready, os.X_OK):
            raise HarnessUnavailable(f"$PEERWIRE_HARNESS={ready} is not an executable")
        return Harness(Path(ready))
    go = shutil.which("go")
    if go is None:
        raise HarnessUnavailable("Go is not installed (`go` not on PATH): go-ethereum and gno peers skipped")
    src = find_sources()
    if src is None:
        raise HarnessUnavailable(
            "the Go harness sources were not found: set PEERWIRE_HARNESS_SRC to a peerwire "
            "checkout's tests/interop/go (or PEERWIRE_HARNESS to a built harness)"
        )
    binary = cache_dir() / f"harness-{_digest(src)}"
    if binary.exists():
        return Harness(binary)
    if not build:
        raise HarnessUnavailable(f"the Go harness is not built yet ({binary})")
    binary.parent.mkdir(parents=True, exist_ok=True)
    tmp = binary.with_name(binary.name + f".{os.getpid()}.tmp")
    proc = subprocess.run(
        [go, "build", "-o", str(tmp), "."],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise HarnessUnavailable(f"building the Go harness in {src} failed:\n{proc.stderr[-2000:]}")
    tmp.replace(binary)  # atomic: a concurrent run sees no half-written binary
    return Harness(binary)
