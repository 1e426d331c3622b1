"""Schema migrations: `flask db upgrade` builds exactly the models from nothing, and every
revision can be taken back.

Each test gets a database of its own (a SQLite file, or a temporary PostgreSQL database next
to the test one), so the shared test schema is never touched.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from models import db
from tests.conftest import TEST_DATABASE_URL, extensions_restored, make_app, private_postgres_database

VERSIONS = Path(__file__).parent.parent / "models" / "migrations" / "versions"
MIGRATION_FILES = sorted(VERSIONS.glob("*.py"))


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    with private_postgres_database(TEST_DATABASE_URL) as url:
        yield url


@pytest.fixture
def empty_app(tmp_path: Path, empty_database_url: str) -> Iterator[Flask]:
    with extensions_restored():  # process-wide, see app_variant in conftest
        application = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url)
        with application.app_context():
            yield application
            db.session.remove()
            db.engine.dispose()


def differences_from_models() -> list[Any]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def schema() -> dict[str, Any]:
    """Tables with their columns, indexes, unique and foreign keys, as the database reports them."""
    inspector = inspect(db.engine)
    return {
        table: {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
            "unique": sorted((u["name"] or "", tuple(u["column_names"]))
                             for u in inspector.get_unique_constraints(table)),
            "foreign_keys": sorted((f["name"] or "", f["referred_table"], tuple(f["constrained_columns"]))
                                   for f in inspector.get_foreign_keys(table)),
        }
        for table in sorted(inspector.get_table_names()) if table != "alembic_version"
    }


def revisions_oldest_first() -> list[Any]:
    from drafting.extensions import migrate

    return list(reversed(list(ScriptDirectory.from_config(migrate.get_config()).walk_revisions())))


def test_upgrade_of_an_empty_database_gives_exactly_the_models(empty_app):
    assert table_names() == set()
    upgrade()
    assert table_names() == set(db.metadata.tables) | {"alembic_version"}
    assert differences_from_models() == []


def test_downgrade_to_base_leaves_no_tables_and_upgrade_works_again(empty_app):
    upgrade()
    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}
    upgrade()
    assert differences_from_models() == []


def test_each_downgrade_restores_the_schema_its_upgrade_started_from(empty_app):
    before = schema()
    for revision in revisions_oldest_first():
        upgrade(revision=revision.revision)
        after = schema()
        assert after != before, f"{revision.revision} changes nothing"
        downgrade(revision=revision.down_revision or "base")
        assert schema() == before, f"downgrade of {revision.revision} does not undo its upgrade"
        upgrade(revision=revision.revision)
        before = after


def test_migrations_form_a_single_line(empty_app):
    from drafting.extensions import migrate

    assert len(ScriptDirectory.from_config(migrate.get_config()).get_heads()) == 1


def test_there_are_migrations():
    assert MIGRATION_FILES


@pytest.mark.parametrize("path", MIGRATION_FILES, ids=lambda path: path.name)
def test_migration_file_is_named_by_date(path):
    match = re.match(r"(\d{4})_(\d{2})_(\d{2})_\w+\.py$", path.name)
    assert match, f"{path.name} does not start with YYYY_MM_DD_"
    date(*map(int, match.groups()))  # a real calendar date, not 2026_13_45


@pytest.mark.parametrize("path", MIGRATION_FILES, ids=lambda path: path.name)
def test_migration_has_a_downgrade_that_does_something(path):
    module = ast.parse(path.read_text(encoding="utf-8"))
    functions = {node.name: node for node in module.body if isinstance(node, ast.FunctionDef)}
    assert "downgrade" in functions, f"{path.name} has no downgrade()"
    statements = [node for node in functions["downgrade"].body
                  if not isinstance(node, ast.Pass)
                  and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    assert statements, f"{path.name}: downgrade() only passes"
