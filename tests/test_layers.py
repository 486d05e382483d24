"""The import-layer contract of python/peerwire (issue 11, item 6).

Three rules, checked on the source (``tools/code_figures.py`` builds the graph, so
the figures in the issue's closing note are counted the same way):

1. **No import circle anywhere**, type-only (``if TYPE_CHECKING:``) and lazy
   (function-level) imports included: a circle hidden from the interpreter is
   still two modules that cannot be understood one without the other.
2. **Layers**: a module imports only from its own layer or the layers it is
   allowed to build on (:data:`MAY_IMPORT`). devp2p and tm2 are siblings: neither
   imports the other. The shared runtime is at the bottom and imports no stack.
3. **No private reach**: no ``from x import _y`` where ``_y`` is a name (not a
   submodule) of another module, and no ``mod._y`` on an imported module.

Known violations on main when this test was written are listed in
``KNOWN_*`` tuples below; they are the work of the branches named beside them.
The checks fail on any violation not listed AND on a listed one that is gone
(remove it from its tuple), so the tuples can only shrink.
``test_no_known_violations_left`` is a strict xfail until they are empty: once
they are, it passes, strict xfail turns that into a failure, and its marker is
removed: the contract then holds with no exception.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tools import code_figures

# -- known violations (must shrink to empty) ---------------------------------------------------------

# runtime-tm2 (issue 11 item 6): the two tm2 contract circles are gone (tm2._contracts imports
# only value types; reactors see the switch through the SwitchView protocol).
KNOWN_TM2_CIRCLES: tuple[tuple[str, ...], ...] = ()

# runtime-devp2p (issue 11 item 5): done, _rlpxnet uses only rlpx's public gate.
KNOWN_DEVP2P_PRIVATE: tuple[str, ...] = ()

KNOWN_CIRCLES = KNOWN_TM2_CIRCLES
KNOWN_PRIVATE = KNOWN_DEVP2P_PRIVATE
KNOWN_LAYER_VIOLATIONS: tuple[str, ...] = ()

# -- the layers --------------------------------------------------------------------------------------

# Bottom: the exception hierarchy, the typed events, then the runtime built on them.
BASE_ORDER = (
    ("errors", ("peerwire", "peerwire.errors", "peerwire.events")),
    (
        "clock",
        (
            "peerwire._budget",
            "peerwire._clock",
            "peerwire._pubsub",
            "peerwire._tasks",
            "peerwire._lifecycle",
            "peerwire.diagnostics",
        ),
    ),
    ("net", ("peerwire._net",)),
)

# layer -> the layers it may import (besides itself). "base" is the whole BASE_ORDER.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "base": frozenset(),
    "kad": frozenset({"base"}),
    "devp2p": frozenset({"base", "kad"}),
    "tm2": frozenset({"base", "kad"}),
    "eth": frozenset({"base", "kad", "devp2p"}),
    "metrics": frozenset({"base"}),
    "testing": frozenset({"base", "kad", "devp2p", "tm2"}),
    "crawl": frozenset({"base", "kad", "devp2p", "tm2", "eth"}),
    "bench": frozenset({"base", "kad", "devp2p", "tm2", "testing"}),
    "sim": frozenset({"base", "kad", "devp2p", "tm2", "eth", "testing"}),
    "cli": frozenset({"base", "kad", "devp2p", "tm2", "eth", "metrics", "testing", "crawl", "bench", "sim"}),
}

# First matching prefix wins (a prefix matches the module itself and everything below it).
LAYER_OF_PREFIX = (
    ("peerwire.kad", "kad"),
    ("peerwire.devp2p", "devp2p"),
    ("peerwire.tm2", "tm2"),
    ("peerwire.eth", "eth"),
    ("peerwire._metrics", "metrics"),
    ("peerwire.testing", "testing"),
    ("peerwire.crawl", "crawl"),
    ("peerwire.bench", "bench"),
    ("peerwire.sim", "sim"),
    ("peerwire.cli", "cli"),
)


def layer_of(module: str) -> str | None:
    for _, members in BASE_ORDER:
        if module in members:
            return "base"
    for prefix, layer in LAYER_OF_PREFIX:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def base_rank(module: str) -> int:
    for rank, (_, members) in enumerate(BASE_ORDER):
        if module in members:
            return rank
    raise KeyError(module)


@pytest.fixture(scope="module")
def modules() -> dict[str, code_figures.Module]:
    return code_figures.discover()


def _check_known(found: set[str], known: tuple[str, ...], what: str) -> None:
    new = sorted(found - set(known))
    gone = sorted(set(known) - found)
    assert not new, f"new {what} (fix them; do not add them to the KNOWN tuples): {new}"
    assert not gone, f"fixed {what}, remove them from the KNOWN tuple in tests/test_layers.py: {gone}"


def test_the_graph_is_real(modules: dict[str, code_figures.Module]) -> None:
    # Guards the checks below against passing on an empty or wrong graph.
    assert len(modules) > 50
    assert "peerwire.errors" in modules["peerwire.devp2p._server"].imports
    assert "peerwire.tm2._keys" in modules["peerwire.tm2._addr"].imports


def test_every_module_has_a_layer(modules: dict[str, code_figures.Module]) -> None:
    orphans = sorted(m for m in modules if layer_of(m) is None)
    assert not orphans, f"give these modules a layer in tests/test_layers.py: {orphans}"


def test_no_import_circles(modules: dict[str, code_figures.Module]) -> None:
    circles = {" <-> ".join(c) for c in code_figures.import_circles(modules)}
    _check_known(circles, tuple(" <-> ".join(c) for c in KNOWN_CIRCLES), "import circles")


def test_layers_import_only_downwards(modules: dict[str, code_figures.Module]) -> None:
    bad: set[str] = set()
    for name, mod in modules.items():
        mine = layer_of(name)
        assert mine is not None
        for dep in mod.imports:
            theirs = layer_of(dep)
            assert theirs is not None
            if mine == "base" and theirs == "base":
                if base_rank(dep) > base_rank(name):
                    bad.add(f"{name} -> {dep}")
            elif theirs != mine and theirs not in MAY_IMPORT[mine]:
                bad.add(f"{name} ({mine}) -> {dep} ({theirs})")
    _check_known(bad, KNOWN_LAYER_VIOLATIONS, "layer violations")


def test_no_private_reach_across_modules(modules: dict[str, code_figures.Module]) -> None:
    _check_known(set(code_figures.private_imports(modules)), KNOWN_PRIVATE, "private cross-module uses")


def test_the_checks_catch_a_circle_and_a_private_reach(tmp_path: Path) -> None:
    pkg = tmp_path / "python" / "peerwire"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import b\n"
    )
    (pkg / "sub" / "b.py").write_text("def f():\n    from peerwire.sub.a import _hidden\n")
    (pkg / "c.py").write_text("import peerwire.sub.a as a\nx = a._secret\n")
    mods = code_figures.discover(tmp_path)
    assert code_figures.import_circles(mods) == [["peerwire.sub.a", "peerwire.sub.b"]]
    assert code_figures.import_circles(code_figures.discover(tmp_path, type_checking=False)) == []
    assert code_figures.private_imports(mods) == [
        "peerwire.c: peerwire.sub.a._secret",
        "peerwire.sub.b: from peerwire.sub.a import _hidden",
    ]


def test_no_known_violations_left() -> None:
    assert not KNOWN_CIRCLES and not KNOWN_PRIVATE and not KNOWN_LAYER_VIOLATIONS
