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
from sqlalchemy import inspect, text

from drafting.votes.ballots import cast_ballot
from drafting.votes.schemas import BallotIn, VoteOpen
from drafting.votes.services import open_vote
from models import ClauseKind, GroupRole, VotingUnit, db
from tests.conftest import TEST_DATABASE_URL, extensions_restored, make_app, private_postgres_database
from tests.factories import Factories

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
    """Tables with their columns, indexes, unique and foreign keys and check constraints (what
    an enum column may hold), as the database reports them."""
    inspector = inspect(db.engine)
    return {
        table: {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
            "unique": sorted((u["name"] or "", tuple(u["column_names"]))
                             for u in inspector.get_unique_constraints(table)),
            "foreign_keys": sorted((f["name"] or "", f["referred_table"], tuple(f["constrained_columns"]))
                                   for f in inspector.get_foreign_keys(table)),
            "checks": sorted((c["name"] or "", " ".join(c["sqltext"].split()))
                             for c in inspector.get_check_constraints(table)),
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


def test_the_delegations_downgrade_gives_each_delegations_eligibility_to_whoever_cast_its_ballot(empty_app):
    """Votes by delegation become votes of the people who cast the delegations' ballots: each
    ballot keeps its voter among the eligible, and a delegation that did not vote leaves no
    row without a voter behind."""
    upgrade()
    factories = Factories(empty_app)
    cast = factories.cast()
    cast.conference.voting_unit = VotingUnit.DELEGATION
    russian = factories.member_of(cast.group, GroupRole.MEMBER, name="Elena Sokolova")
    factories.delegation(cast.conference, "Kazakhstan", members=(cast.member,), head=cast.member)
    factories.delegation(cast.conference, "Russian Federation", members=(russian,), head=russian)
    draft = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Text;")])
    with empty_app.test_request_context():
        vote = open_vote(cast.chair, draft, VoteOpen(subject="clause", clause_id=draft.live_clauses[0].id))
        cast_ballot(cast.member, vote, BallotIn(option_id=vote.options[0].id))
        db.session.commit()
        vote_id, member_id = vote.id, cast.member.id
    db.session.remove()
    downgrade(revision="d41e7b2c9a10")
    with db.engine.connect() as connection:
        voters = connection.execute(text("SELECT participant_id FROM vote_voter WHERE vote_id = :v"),
                                    {"v": vote_id}).scalars().all()
        ballots = connection.execute(text("SELECT voter_id FROM ballot WHERE vote_id = :v"),
                                     {"v": vote_id}).scalars().all()
    assert voters == [member_id] and ballots == [member_id]
    upgrade()
    assert differences_from_models() == []


def test_rebuilding_a_referenced_table_deletes_nothing(empty_app):
    """SQLite rebuilds a table to add a foreign key (batch mode): copy, drop, rename. With
    foreign keys on, dropping the old `vote` deleted its rows and cascaded to every option,
    voter and ballot; the migrations run with them off (models/migrations/env.py)."""
    upgrade(revision="d41e7b2c9a10")
    rows = {
        "conference": "(id,title,venue,starts_on,ends_on,organisers,description,preamble,created_at) "
                      "VALUES (1,'C','','2009-06-24','2009-06-25','','','','2009-06-24 00:00:00')",
        "participant": "(id,email,name,affiliation,country,category,is_secretariat,is_active_account,"
                       "publish_name,created_at) VALUES (1,'a@example.org','A','','','parliamentarian',"
                       "false,true,true,'2009-06-24 00:00:00')",
        "working_group": "(id,conference_id,name,mandate,position,observers_may_comment,chair_votes,"
                         "default_vote_rule,created_at) VALUES (1,1,'G','',1,true,true,'consensus',"
                         "'2009-06-24 00:00:00')",
        "recommendation": "(id,group_id,title,status,created_at,updated_at,structure_version) VALUES "
                          "(1,1,'R','drafting','2009-06-24 00:00:00','2009-06-24 00:00:00',0)",
        "vote": "(id,recommendation_id,subject,question,rule,secret,show_tally,status,eligible_count,"
                "turnout,secret_reasons,opened_at) VALUES (1,1,'recommendation','Q','consensus',false,"
                "false,'open',1,1,'[]','2009-06-24 00:00:00')",
        "vote_option": "(id,vote_id,position,kind,label,wording,wording_sha256,secret_count) VALUES "
                       "(1,1,0,'yes','Yes','','',0)",
        "vote_voter": "(id,vote_id,participant_id) VALUES (1,1,1)",
        "ballot": "(id,vote_id,voter_id,option_id,reason) VALUES (1,1,1,1,'')",
    }
    with db.engine.begin() as connection:
        for table, values in rows.items():
            connection.execute(text(f"INSERT INTO {table} {values}"))

    def counted() -> dict[str, int]:
        with db.engine.connect() as connection:
            return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
                    for table in rows}

    upgrade()
    assert counted() == dict.fromkeys(rows, 1)
    downgrade(revision="d41e7b2c9a10")
    assert counted() == dict.fromkeys(rows, 1)
