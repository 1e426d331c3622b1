"""The live editor's writer: every update durable before anyone hears of it, what arrives
together written together, and a clean refusal when the database does not answer.

Clients are tests/yclient.py against the real server; the database is held by a second,
real connection, as a long transaction elsewhere would hold it.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from models import ClauseKind, ClauseUpdate, db
from tests.test_editing import reloaded_text, stored_text
from tests.yclient import eventually


@pytest.fixture
def room(factories):
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;"),
    ])
    return recommendation, factories.api_token(cast.chair), factories.api_token(cast.member), cast.group


@contextmanager
def database_write_locked(app) -> Iterator[None]:
    """Another connection holds the lock that writing to the update log needs."""
    with app.app_context():
        engine = db.engine
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("LOCK TABLE clause_update IN EXCLUSIVE MODE")
        yield
    finally:
        raw.rollback()
        raw.close()


def log_size(app, clause_id: int) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(ClauseUpdate)
                                 .where(ClauseUpdate.clause_id == clause_id))


def two_editors(connect, room):
    recommendation, chair_token, member_token, _group = room
    chair, member = connect(chair_token), connect(member_token)
    doc = chair.join(recommendation.id)["clauses"][0]["doc"]
    member.join(recommendation.id)
    chair.open(doc)
    member.open(doc)
    return chair, member, doc, int(doc.split(":")[1])


def test_edits_wait_for_the_log_and_then_go_out_together(app, connect, factories, room):
    """Each connection's messages are handled in order, one at a time; what several
    connections send while a commit is under way is written by the next commit, together."""
    recommendation, _chair_token, member_token, group = room
    reader = connect(member_token)
    doc = reader.join(recommendation.id)["clauses"][0]["doc"]
    reader.open(doc)
    clause_id = int(doc.split(":")[1])
    typists = [connect(factories.api_token(factories.member_of(group))) for _ in range(6)]
    for n, typist in enumerate(typists):
        typist.join(recommendation.id)
        typist.open(doc)
        # Answered in order, so only after the typist's reply to the server's sync step 1:
        # nothing of the sync is still on its way to the writer.
        assert typist.set_presence(doc, 1000 + n, {"cursor": None}) == {"ok": True}
    logged = log_size(app, clause_id)
    reader.updates.clear()
    with database_write_locked(app):
        for n, typist in enumerate(typists):
            typist.insert(doc, 0, f"[{n}]")
        time.sleep(0.5)  # room for a wrong early answer: none may come while nothing is durable
        assert [typist.acks for typist in typists] == [[]] * 6
        assert reader.updates == []
    eventually(lambda: all(typist.acks for typist in typists), message="acknowledgements")
    assert [typist.acks for typist in typists] == [[{"ok": True}]] * 6
    eventually(lambda: all(f"[{n}]" in reader.text(doc) for n in range(6)), message="delivery")
    # Each edit is its own row in the log, but the ones that waited together were committed
    # and sent together: the first batch, then everything that queued behind it.
    assert log_size(app, clause_id) == logged + 6
    assert len(reader.updates) <= 2
    assert stored_text(app, clause_id) == reloaded_text(app, clause_id) == reader.text(doc)
    eventually(lambda: {typist.text(doc) for typist in typists} == {reader.text(doc)},
               message="every typist has every edit")


def test_a_database_that_does_not_answer_refuses_the_edit_and_keeps_nothing(app, connect, room,
                                                                              monkeypatch):
    monkeypatch.setitem(app.config, "YJS_WRITE_TIMEOUT_MS", 200)
    chair, member, doc, clause_id = two_editors(connect, room)
    before, logged = stored_text(app, clause_id), log_size(app, clause_id)
    with database_write_locked(app):
        chair.insert(doc, 0, "Strongly ")
        eventually(lambda: chair.acks, message="an answer")
    assert chair.acks[0]["ok"] is False
    assert chair.acks[0]["error"]["code"] == "unavailable"
    eventually(lambda: chair.errors, message="an error event")
    assert chair.errors[0]["code"] == "unavailable" and chair.errors[0]["doc"] == doc
    # Nothing half-written, nothing held in memory that the database does not have, and
    # nobody else heard of it.
    assert stored_text(app, clause_id) == reloaded_text(app, clause_id) == before
    assert log_size(app, clause_id) == logged
    assert member.text(doc) == before
    # The edit is still on the sender's device: the next exchange carries it, as the
    # browser's provider does after such a refusal.
    chair.open(doc)
    eventually(lambda: member.text(doc) == chair.text(doc) == "Strongly " + before, message="resent")
    eventually(lambda: stored_text(app, clause_id) == "Strongly " + before, message="durable")
    assert reloaded_text(app, clause_id) == "Strongly " + before
