"""How the code's parts may import each other.

- Tests share through tests/helpers/ and conftest.py, never by importing another test module:
  ruff's banned-API rule (TID251) refuses such an import at lint time, and this keeps that
  rule on and its list of test modules whole.
- A package of drafting/ (or models/) uses another's public names only: what two capabilities
  share has a public home (as ``drafting.recommendations.structure``).
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
