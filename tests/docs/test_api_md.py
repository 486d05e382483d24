"""The public names ``API.md`` promises exist under those names.

``API.md``'s Python blocks are a reference, not programs (``...`` and ``a ; b -> T`` stand for
arguments and results), so they cannot run as written; what a rename or a move would break is
the names. Every ``<module>.<Name>[.<attr>…]`` of a module a block imports with
``from peerwire import …`` must resolve: a module attribute, a submodule, a class attribute or
a dataclass field. The runnable examples are the guide's (``test_guide_snippets``).

``tests/docs/API.md`` is a copy of the project's ``../shared/API.md`` (copied 2026-12-06, as
amended for issues 11-17); a later amendment is copied here as it lands.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
COPY = HERE / "API.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)
IMPORT = re.compile(r"^from peerwire import ([\w, ]+)", re.M)
STRING = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'")


def _blocks() -> list[str]:
    blocks = BLOCK.findall(COPY.read_text())
    assert blocks, "API.md has no python block"
    return blocks


def _modules(blocks: list[str]) -> dict[str, types.ModuleType]:
    names = {n.strip() for b in blocks for m in IMPORT.finditer(b) for n in m.group(1).split(",")}
    return {n: importlib.import_module(f"peerwire.{n}") for n in sorted(names)}


def _references(blocks: list[str], modules: dict[str, types.ModuleType]) -> set[str]:
    alternatives = "|".join(modules)
    ref = re.compile(rf"(?<![\w.])({alternatives})((?:\.[A-Za-z_]\w*)+)")
    out: set[str] = set()
    for b in blocks:
        code = STRING.sub('""', re.sub(r"#.*", "", b))  # comments and strings name nothing
        out |= {m.group(1) + m.group(2) for m in ref.finditer(code)}
    return out


def _resolves(modules: dict[str, types.ModuleType], dotted: str) -> bool:
    first, *rest = dotted.split(".")
    obj: object = modules[first]
    for part in rest:
        if hasattr(obj, part):
            obj = getattr(obj, part)
        elif isinstance(obj, types.ModuleType):
            try:
                obj = importlib.import_module(f"{obj.__name__}.{part}")
            except ImportError:
                return False
        else:
            # an instance field (nothing further to look up on the class), or a missing name
            return isinstance(obj, type) and (
                (dataclasses.is_dataclass(obj) and part in {f.name for f in dataclasses.fields(obj)})
                or part in getattr(obj, "__annotations__", {})
            )
    return True


def test_every_name_api_md_uses_exists() -> None:
    blocks = _blocks()
    modules = _modules(blocks)
    assert {"devp2p", "tm2", "eth", "crawl", "sim", "testing", "kad"} <= set(modules)
    refs = _references(blocks, modules)
    assert len(refs) >= 40  # the blocks name the surface, not a handful of it
    missing = sorted(r for r in refs if not _resolves(modules, r))
    assert not missing, f"API.md names that do not exist: {missing}"


def test_the_check_catches_a_missing_name() -> None:
    modules = _modules(["from peerwire import tm2, devp2p"])
    assert _resolves(modules, "tm2.SwitchConfig")
    assert _resolves(modules, "devp2p.discover.listen_v5")
    assert _resolves(modules, "devp2p.Config.max_peers")  # a dataclass field
    assert not _resolves(modules, "tm2.NoSuchThing")
    assert not _resolves(modules, "devp2p.discover.no_such_module")
    assert _references(['x = tm2.NodeKey.generate("tm2.Hidden")  # tm2.Comment'], modules) == {
        "tm2.NodeKey.generate"
    }
