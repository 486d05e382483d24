"""The release wheel is self-contained: build it, install it in a fresh venv, import, `peerwire bench`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HARNESS_SRC = ROOT / "tests" / "interop" / "go"
PACKAGED_HARNESS = ROOT / "python" / "peerwire" / "bench" / "harness_src"


def _copy_harness_sources() -> None:
    """What `make harness-src` does before `make wheel`: the Go harness ships in the wheel."""
    shutil.rmtree(PACKAGED_HARNESS, ignore_errors=True)
    PACKAGED_HARNESS.mkdir(parents=True)
    for f in HARNESS_SRC.iterdir():
        if f.suffix == ".go" or f.name in ("go.mod", "go.sum"):
            shutil.copy2(f, PACKAGED_HARNESS / f.name)


@pytest.mark.slow
@pytest.mark.timeout(1500)  # a release build, a venv, and a first Go harness build on a busy CI box
def test_release_wheel_installs_and_imports(tmp_path: Path) -> None:
    maturin = shutil.which("maturin", path=str(Path(sys.executable).parent))
    assert maturin, "maturin must be installed in the test environment (make install does it)"
    out = tmp_path / "dist"
    _copy_harness_sources()
    subprocess.run(
        [maturin, "build", "--release", "--locked", "--out", str(out), "-q"],
        cwd=ROOT,
        check=True,
        timeout=900,
    )
    wheels = list(out.glob("peerwire-*.whl"))
    assert len(wheels) == 1, wheels
    assert "abi3" in wheels[0].name, f"expected an abi3 wheel, got {wheels[0].name}"
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "peerwire/bench/harness_src/main.go" in names and "peerwire/bench/harness_src/go.mod" in names
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", str(wheels[0])], check=True, timeout=600)
    probe = (
        "import peerwire, peerwire._core as c; from peerwire import devp2p, tm2;"
        "assert c.keccak.keccak256(b'').hex().startswith('c5d246');"
        "print(peerwire.__file__)"
    )
    res = subprocess.run([py, "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path)
    # Imported from the fresh venv, not from this source tree.
    assert str(env_dir) in res.stdout

    # `pip install peerwire; peerwire bench` works from the wheel alone (cwd outside the checkout).
    peerwire = env_dir / "bin" / "peerwire"
    res = subprocess.run(
        [peerwire, "bench", "--list"], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert "rlpx-codec" in res.stdout and "tm2-handshakes" in res.stdout
    # A fresh venv has neither `cryptography` nor pycryptodome: the crypto bounds are skipped
    # with a note, the rest runs; go-ethereum is built from the shipped harness into the cache.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERWIRE_HARNESS")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    res = subprocess.run(
        [peerwire, "bench", "--quick", "--json", "-k", "rlpx-codec,kad,rlpx-handshakes"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=900,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    got = {c["peer_name"]: c for c in json.loads(res.stdout)["comparisons"]}
    assert set(got) == {"pure Python", "go-ethereum"}, res.stdout
    assert all(c["ratio"] > 0 for c in got.values())
    assert "install `cryptography` or `pycryptodome`" in res.stderr
    assert list((tmp_path / "cache" / "peerwire").glob("harness-*")), "harness not built into the cache"
