"""One deadline primitive (issue 11, item 1): library code bounds waits with ``clock.timeout``.

Only the clocks themselves may call asyncio's deadline functions: ``peerwire/_clock.py``
(the system and fake clocks) and ``peerwire/sim/_loop.py`` (the simulator's virtual time).
Everything else takes a :class:`peerwire._clock.Clock` (``SYSTEM_CLOCK`` by default), so a
test can drive its timeouts on a fake clock.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "python" / "peerwire"
CLOCKS = {PKG / "_clock.py", PKG / "sim" / "_loop.py"}
FORBIDDEN = {"timeout", "timeout_at", "wait_for"}


def bare_deadlines(path: Path, root: Path = PKG.parent) -> list[str]:
    """``asyncio.timeout(...)``-style calls in ``path`` (``asyncio.x`` and ``from asyncio import x``)."""
    tree = ast.parse(path.read_text(), str(path))
    imported = {
        a.asname or a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "asyncio"
        for a in n.names
        if a.name in FORBIDDEN
    }
    found = []
    for n in ast.walk(tree):
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "asyncio":
            hit = f.attr in FORBIDDEN
        else:
            hit = isinstance(f, ast.Name) and f.id in imported
        if hit:
            found.append(f"{path.relative_to(root)}:{n.lineno}")
    return found


def test_no_bare_asyncio_deadlines_outside_the_clocks() -> None:
    found = [hit for p in sorted(PKG.rglob("*.py")) if p not in CLOCKS for hit in bare_deadlines(p)]
    assert found == []


def test_the_check_sees_both_spellings(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "import asyncio\nfrom asyncio import wait_for as wf\n"
        "async def f(x):\n    async with asyncio.timeout(1):\n        await wf(x, 2)\n"
    )
    assert bare_deadlines(src, tmp_path) == ["m.py:4", "m.py:5"]
