"""How the code's parts may import each other. Tests share through tests/helpers/ and
conftest.py, never by importing another test module: ruff's banned-API rule (TID251) refuses
such an import at lint time, and this keeps that rule on and its list of test modules whole."""
from __future__ import annotations

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
