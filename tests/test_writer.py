"""The live editor's writer: an update relayed at once and acknowledged only once durable,
what arrives together written together, and nothing lost when the database does not answer
for a while (its senders are told, and the writer keeps trying).

Clients are tests/yclient.py against the real server; the database is held by a second,
real connection, as a long transaction elsewhere would hold it.
"""
from __future__ import annotations

import pytest

from drafting.realtime import protocol
from models import ClauseKind
from tests.helpers.live import database_write_locked, log_size, reloaded_text, stored_text
from tests.yclient import eventually


@pytest.fixture
def room(factories):
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;"),
    ])
    return recommendation, factories.api_token(cast.chair), factories.api_token(cast.member), cast.group


def two_editors(connect, room):
    recommendation, chair_token, member_token, _group = room
    chair, member = connect(chair_token), connect(member_token)
    doc = chair.join(recommendation.id)["clauses"][0]["doc"]
    member.join(recommendation.id)
    chair.open(doc)
    member.open(doc)
    return chair, member, doc, int(doc.split(":")[1])


def test_edits_are_relayed_at_once_and_acknowledged_when_durable(app, connect, factories, room):
    """What several people type while a commit cannot be made reaches everyone else at once;
    none of them is acknowledged before it is in the log, and what waited together is
    written together."""
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
    with database_write_locked(app):
        for n, typist in enumerate(typists):
            typist.insert(doc, 0, f"[{n}]")
        eventually(lambda: all(f"[{n}]" in reader.text(doc) for n in range(6)), message="relayed at once")
        # Each typist has the others' words too, and nobody is told "saved" yet.
        eventually(lambda: {typist.text(doc) for typist in typists} == {reader.text(doc)},
                   message="every typist has every edit")
        assert [typist.acks for typist in typists] == [[]] * 6
        assert log_size(app, clause_id) == logged
    eventually(lambda: all(typist.acks for typist in typists), message="acknowledgements")
    assert [typist.acks for typist in typists] == [[{"ok": True}]] * 6
    # Each edit is its own row in the log, written together in one commit.
    assert log_size(app, clause_id) == logged + 6
    assert stored_text(app, clause_id) == reloaded_text(app, clause_id) == reader.text(doc)


def test_a_database_that_does_not_answer_delays_the_edit_and_loses_nothing(app, connect, room,
                                                                           monkeypatch):
    """The writer cannot commit: the sender is told its edit is not saved yet (in the one
    error shape), the others have it already, nothing half-written is in the log; once the
    database answers, the writer's next try writes it without anyone sending it again, and
    the sender's own resend is acknowledged."""
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
        assert member.text(doc) == "Strongly " + before  # relayed, not yet durable
        assert stored_text(app, clause_id) == reloaded_text(app, clause_id) == before
        assert log_size(app, clause_id) == logged
    eventually(lambda: stored_text(app, clause_id) == "Strongly " + before, message="written on a retry")
    assert reloaded_text(app, clause_id) == "Strongly " + before
    assert log_size(app, clause_id) == logged + 1
    # The browser's provider sends what was not acknowledged again: it is answered "saved",
    # and stored once.
    assert chair.send(doc, protocol.sync_update(chair.docs[doc].get_update())) == {"ok": True}
    assert log_size(app, clause_id) == logged + 1
    assert member.text(doc) == chair.text(doc) == "Strongly " + before


def test_the_clause_row_takes_in_rows_another_process_wrote_between_two_batches(app, factories):
    """Two updates are accepted here; before the writer writes them, another process writes
    its own. The first batch reads that row, and with the second still on its way leaves the
    clause's text to it; the second's text was taken when it was accepted, before that row
    was read. The clause's row (what pages, the API and exports read) must still end with
    every written word, not the text as this process had it when it accepted the update."""
    from pycrdt import Doc, Text
    from sqlalchemy import insert

    from drafting.editing import services
    from drafting.editing.docs import TEXT_NAME
    from models import ClauseUpdate, db

    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to protect migrant workers;"),
    ])
    with app.app_context():
        clause = db.session.get(type(recommendation), recommendation.id).clauses[0]
        clause_id, doc_name = clause.id, clause.doc_name
        state, _vector = services.answer_sync_step1(clause, b"\x00")  # as an editor syncs
        db.session.commit()
        here, there = Doc(), Doc()
        for editor in (here, there):
            editor.apply_update(state)
        member = db.session.get(type(cast.member), cast.member.id)
        grant = services.Grant(member.id, {recommendation.id: True})

        def typed(editor: Doc, at: int | None, words: str) -> bytes:
            before = editor.get_state()
            text = editor.get(TEXT_NAME, type=Text)
            text.insert(len(str(text)) if at is None else at, words)
            return editor.get_update(before)

        first, _ = services.accept_update(grant, doc_name, typed(here, 0, "First, "), lambda a: a)
        second, _ = services.accept_update(grant, doc_name, typed(here, 0, "second, "), lambda a: a)
        with db.engine.begin() as connection:  # another process's writer
            connection.execute(insert(ClauseUpdate).values(
                clause_id=clause_id, author_id=cast.chair.id, data=typed(there, None, " There.")))
        for accepted in (first, second):
            services.write_accepted([services.Written(accepted, member)])
            db.session.commit()
    assert reloaded_text(app, clause_id) == \
        "second, First, Calls on States to protect migrant workers; There."
    assert stored_text(app, clause_id) == reloaded_text(app, clause_id)
