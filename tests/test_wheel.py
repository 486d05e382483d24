"""The release wheel is self-contained: build it, install it in a fresh venv, import _core."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_release_wheel_installs_and_imports(tmp_path: Path) -> None:
    maturin = shutil.which("maturin", path=str(Path(sys.executable).parent))
    assert maturin, "maturin must be installed in the test environment (make install does it)"
    out = tmp_path / "dist"
    subprocess.run(
        [maturin, "build", "--release", "--locked", "--out", str(out), "-q"],
        cwd=ROOT,
        check=True,
        timeout=900,
    )
    wheels = list(out.glob("peerwire-*.whl"))
    assert len(wheels) == 1, wheels
    assert "abi3" in wheels[0].name, f"expected an abi3 wheel, got {wheels[0].name}"
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", str(wheels[0])], check=True, timeout=600)
    probe = (
        "import peerwire, peerwire._core as c; from peerwire import devp2p, tm2;"
        "assert c.identity.keccak256(b'').hex().startswith('c5d246');"
        "print(peerwire.__file__)"
    )
    res = subprocess.run([py, "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path)
    # Imported from the fresh venv, not from this source tree.
    assert str(env_dir) in res.stdout
