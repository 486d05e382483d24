"""Structure figures of the tree, counted the same way before and after a refactor (issue 11).

    python tools/code_figures.py [--root DIR] [--json] [--no-duplicates]

Figures:

- ``import_circles``: strongly connected components (size > 1) of the import graph
  of ``python/peerwire``. Every ``import`` counts, at module level, inside a
  function or under ``if TYPE_CHECKING:`` (a lazy or type-only import that dodges
  a circle at run time is still a circle in the design); ``runtime_import_circles``
  leaves the ``TYPE_CHECKING`` ones out. ``from pkg import name`` is an edge to
  ``pkg.name`` when that is a module, else to ``pkg``.
- ``private_imports``: a module reaching into another module's private name:
  ``from x import _y`` where ``x._y`` is not a module, or ``mod._y`` attribute use
  where ``mod`` is an imported peerwire module. Dunders do not count.
- ``any_in_public``: ``Any`` in the annotations of public signatures (functions,
  methods, class attributes whose names, and whose classes' names, have no
  leading underscore), per module.
- ``largest_modules``: lines of every ``.py`` under ``python/peerwire`` and ``.rs``
  under ``rust/``, largest first, and how many exceed 700 lines.
- ``duplicate_pairs``: the pair count printed by the ``duplicates`` tool for
  ``--repo python`` and ``--repo rust`` (``--most 200``), if that tool is on PATH.

The functions are importable: ``tests/test_layers.py`` uses the same graph.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "peerwire"
MAX_MODULE_LINES = 700


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    tree: ast.Module
    imports: set[str] = field(default_factory=set)
    private_reaches: list[str] = field(default_factory=list)


def discover(root: Path = ROOT, *, type_checking: bool = True) -> dict[str, Module]:
    """Every module of python/peerwire, parsed, with its import edges filled in."""
    src = root / "python"
    mods: dict[str, Module] = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        rel = path.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        name = ".".join(parts)
        mods[name] = Module(name, path, is_pkg, ast.parse(path.read_text(), str(path)))
    for mod in mods.values():
        _fill_imports(mod, mods, type_checking=type_checking)
    return mods


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = (
                test.id
                if isinstance(test, ast.Name)
                else test.attr
                if isinstance(test, ast.Attribute)
                else ""
            )
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skip.update(id(n) for n in ast.walk(child))
    return skip


def _resolve_from(mod: Module, node: ast.ImportFrom) -> str | None:
    if node.level == 0:
        return node.module
    base = mod.name.split(".")
    if not mod.is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _fill_imports(mod: Module, mods: dict[str, Module], *, type_checking: bool) -> None:
    skip = set() if type_checking else _type_checking_nodes(mod.tree)
    aliases: dict[str, str] = {}  # local name -> peerwire module it is bound to
    for node in ast.walk(mod.tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == PACKAGE:
                    target = a.name if a.name in mods else None
                    if target and target != mod.name:
                        mod.imports.add(target)
                        aliases[a.asname or a.name] = target
        elif isinstance(node, ast.ImportFrom):
            src = _resolve_from(mod, node)
            if not src or src.split(".")[0] != PACKAGE:
                continue
            for a in node.names:
                sub = f"{src}.{a.name}"
                if sub in mods:
                    target = sub
                    aliases[a.asname or a.name] = sub
                else:
                    target = src
                    if a.name.startswith("_") and not a.name.startswith("__") and src != mod.name:
                        mod.private_reaches.append(f"from {src} import {a.name}")
                if target in mods and target != mod.name:
                    mod.imports.add(target)
    for node in ast.walk(mod.tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            target = aliases[node.value.id]
            if f"{target}.{node.attr}" not in mods:
                mod.private_reaches.append(f"{target}.{node.attr}")


def import_circles(mods: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of size > 1 (Tarjan), each sorted, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(mods[v].imports):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(mods):
        if v not in index:
            visit(v)
    return sorted(out, key=lambda c: (-len(c), c))


def private_imports(mods: dict[str, Module]) -> list[str]:
    return sorted(f"{m.name}: {r}" for m in mods.values() for r in dict.fromkeys(m.private_reaches))


def _count_any(node: ast.AST | None) -> int:
    if node is None:
        return 0
    n = 0
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Name) and sub.id == "Any") or (
            isinstance(sub, ast.Attribute) and sub.attr == "Any"
        ):
            n += 1
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            n += len(re.findall(r"\bAny\b", sub.value))
    return n


def _signature_any(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = fn.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return sum(_count_any(a.annotation) for a in every) + _count_any(fn.returns)


def any_in_public(mods: dict[str, Module]) -> dict[str, int]:
    """``Any`` count in public signatures, per module (modules with none left out)."""
    out: dict[str, int] = {}
    for mod in mods.values():
        n = 0
        for node in mod.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                n += _signature_any(node)
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        if not item.name.startswith("_") or (
                            item.name.startswith("__") and item.name.endswith("__")
                        ):
                            n += _signature_any(item)
                    elif (
                        isinstance(item, ast.AnnAssign)
                        and isinstance(item.target, ast.Name)
                        and not item.target.id.startswith("_")
                    ):
                        n += _count_any(item.annotation)
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and not node.target.id.startswith("_")
            ):
                n += _count_any(node.annotation)
        if n:
            out[mod.name] = n
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def module_sizes(root: Path = ROOT) -> list[tuple[str, int]]:
    files = list((root / "python" / PACKAGE).rglob("*.py"))
    files += [p for p in (root / "rust").rglob("*.rs") if "target" not in p.parts]
    sizes = [(str(p.relative_to(root)), len(p.read_text().splitlines())) for p in files]
    return sorted(sizes, key=lambda s: (-s[1], s[0]))


def duplicate_pairs(root: Path = ROOT) -> dict[str, int | None]:
    tool = shutil.which("duplicates")
    out: dict[str, int | None] = {}
    for repo in ("python", "rust"):
        if tool is None:
            out[repo] = None
            continue
        res = subprocess.run(
            [tool, "--repo", repo, "--most", "200", "--seconds", "120"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        m = re.search(r"(\d+) pairs?", res.stdout)
        out[repo] = int(m.group(1)) if m else (0 if "no duplicates" in res.stdout else None)
    return out


def figures(root: Path = ROOT, *, with_duplicates: bool = True) -> dict[str, object]:
    mods = discover(root)
    circles = import_circles(mods)
    sizes = module_sizes(root)
    anys = any_in_public(mods)
    reaches = private_imports(mods)
    runtime_circles = import_circles(discover(root, type_checking=False))
    return {
        "import_circles": len(circles),
        "runtime_import_circles": len(runtime_circles),
        "import_circle_members": circles,
        "private_imports": len(reaches),
        "private_import_list": reaches,
        "any_in_public": sum(anys.values()),
        "any_in_public_by_module": anys,
        "largest_module": sizes[0] if sizes else None,
        "modules_over_700": [s for s in sizes if s[1] > MAX_MODULE_LINES],
        "duplicate_pairs": duplicate_pairs(root) if with_duplicates else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--no-duplicates", action="store_true", help="skip the duplicates tool")
    args = ap.parse_args()
    figs = figures(args.root, with_duplicates=not args.no_duplicates)
    if args.json:
        print(json.dumps(figs, indent=2))
        return 0
    print(f"import circles:            {figs['import_circles']}")
    for comp in figs["import_circle_members"]:  # type: ignore[attr-defined]
        print(f"    {' <-> '.join(comp)}")
    print(f"  (at run time, TYPE_CHECKING imports left out: {figs['runtime_import_circles']})")
    print(f"private cross-module uses: {figs['private_imports']}")
    for r in figs["private_import_list"]:  # type: ignore[attr-defined]
        print(f"    {r}")
    print(f"Any in public signatures:  {figs['any_in_public']}")
    for m, n in figs["any_in_public_by_module"].items():  # type: ignore[attr-defined]
        print(f"    {n:3d}  {m}")
    print(f"largest module:            {figs['largest_module']}")
    print(f"modules over {MAX_MODULE_LINES} lines:     {figs['modules_over_700']}")
    print(f"repeated-code pairs:       {figs['duplicate_pairs']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
