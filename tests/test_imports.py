"""How the code's parts may import each other.

- Tests share through tests/helpers/ and conftest.py, never by importing another test module:
  ruff's banned-API rule (TID251) refuses such an import at lint time, and this keeps that
  rule on and its list of test modules whole.
- A package of drafting/ (or models/) uses another's public names only: what two capabilities
  share has a public home (as ``drafting.recommendations.structure``).
- No two packages import each other, however indirectly (the application factory, which
  wires them all up, aside).
"""
from __future__ import annotations

import ast
import tomllib

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.database_independent


def test_ruff_refuses_imports_of_every_test_module():
    lint = tomllib.loads((ROOT / "ruff.toml").read_text(encoding="utf-8"))["lint"]
    assert "TID251" in lint["select"]
    banned = lint["flake8-tidy-imports"]["banned-api"]
    modules = {f"tests.{path.stem}" for path in (ROOT / "tests").glob("test_*.py")}
    assert sorted(modules - set(banned)) == [], "add them to ruff.toml's banned-api"


def _package(module: str) -> str:
    """The capability a module belongs to: ``drafting.votes`` for drafting.votes.services,
    ``drafting.services`` for drafting/services.py, ``models`` for anything in models/."""
    parts = module.split(".")
    return parts[0] if parts[0] == "models" else ".".join(parts[:2])


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def private_names_reached_across_packages() -> list[str]:
    """Each place in drafting/ and models/ that uses another package's ``_private`` name: by
    importing it, or as an attribute of a module of that package imported whole."""
    found = []
    for path in sorted([*(ROOT / "drafting").rglob("*.py"), *(ROOT / "models").rglob("*.py")]):
        if "migrations" in path.parts:
            continue
        here = _package(".".join(path.relative_to(ROOT).with_suffix("").parts))
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        modules: dict[str, str] = {}  # local name -> module of another package
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("drafting", "models"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if _package(full) == here:
                        continue
                    if alias.name.startswith("_"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {full}")
                    elif _is_module(full):
                        modules[alias.asname or alias.name] = full
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in modules and node.attr.startswith("_") \
                    and not node.attr.startswith("__"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {modules[node.value.id]}.{node.attr}")
    return found


def test_no_package_reaches_into_another_s_private_names():
    assert private_names_reached_across_packages() == []


#: Modules that start a process of their own and so build the application: they may import
#: the application factory (``drafting``), which imports every package to wire it up.
PROCESS_ENTRY_POINTS = {"drafting.export.child"}


def _imported_modules(node: ast.AST) -> list[str]:
    """The drafting/models modules (or packages) an import statement reaches."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        names = [f"{node.module}.{alias.name}" for alias in node.names]
        return [name if _is_module(name) else node.module for name in names]
    return []


def package_imports() -> dict[str, dict[str, list[str]]]:
    """Package -> the packages it imports -> where (every import, at the top of a module or
    inside a function alike: an import inside a function is a dependency all the same)."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted([*(ROOT / "drafting").rglob("*.py"), *(ROOT / "models").rglob("*.py")]):
        if "migrations" in path.parts:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if module == "drafting":  # the application factory: it wires every package up
            continue
        here = _package(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for target in _imported_modules(node):
                if target.split(".")[0] not in ("drafting", "models"):
                    continue
                there = "drafting" if target == "drafting" else _package(target)
                if there == "drafting" and module in PROCESS_ENTRY_POINTS:
                    continue
                if there != here:
                    graph.setdefault(here, {}).setdefault(there, []).append(
                        f"{path.relative_to(ROOT)}:{node.lineno}")
    return graph


def package_cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected groups of more than one package (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(package: str) -> None:
        index[package] = low[package] = len(index)
        stack.append(package)
        on_stack.add(package)
        for other in graph.get(package, {}):
            if other not in index:
                visit(other)
                low[package] = min(low[package], low[other])
            elif other in on_stack:
                low[package] = min(low[package], index[other])
        if low[package] == index[package]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == package:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for package in sorted(graph):
        if package not in index:
            visit(package)
    return cycles


def test_the_cycle_finder_finds_a_cycle_of_three():
    graph = {"a": {"b": ["x"]}, "b": {"c": ["y"]}, "c": {"a": ["z"]}, "d": {"a": ["w"]}}
    assert package_cycles(graph) == [["a", "b", "c"]]
    assert package_cycles({"a": {"b": ["x"]}, "b": {}}) == []


def test_no_two_packages_import_each_other():
    """Each capability builds on those below it and never on one above: a need two of them
    share has a home below both (a model's question, ``recommendations.structure``), and a
    page that shows what several capabilities hold is extended by those above it
    (``recommendations.page``, ``comments.panel``)."""
    graph = package_imports()
    found = [
        f"{' <-> '.join(cycle)}: " + "; ".join(
            f"{a} -> {b} ({', '.join(graph[a][b])})"
            for a in cycle for b in cycle if b in graph.get(a, {}))
        for cycle in package_cycles(graph)
    ]
    assert found == []
