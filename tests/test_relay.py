"""Relay at once, acknowledge when durable, authority in memory (ARCHITECTURE.md, "Real-time
editing"): what a keystroke is checked against without the database, how a change committed
here reaches that memory before the next keystroke, and what becomes of an update that
slipped through because another process's commit had not reached this one yet.

Clients are tests/yclient.py against the real server. "Another process" is a second, real
database connection that commits a change without the push that Plenary's own services send
with it: exactly what this process sees in the moment before that push arrives.
"""
from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy import text

from drafting.realtime import protocol
from models import ClauseKind, db
from tests.helpers.live import database_write_locked, log_size, reloaded_text, stored_text
from tests.yclient import EditorClient, eventually

ORIGINAL = "Calls on States to protect migrant workers;"


def committed_elsewhere(app, statement: str, **params: Any) -> None:
    """Commit a change on a connection of its own, as another server process would, without
    telling this one."""
    with app.app_context():
        engine = db.engine
    with engine.begin() as connection:
        connection.execute(text(statement), params)


def room(factories, connect):
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, ORIGINAL)])
    chair_token = factories.api_token(cast.chair)
    chair, member = connect(chair_token), connect(factories.api_token(cast.member))
    doc = chair.join(recommendation.id)["clauses"][0]["doc"]
    member.join(recommendation.id)
    chair.open(doc)
    member.open(doc)
    return chair, member, doc, int(doc.split(":")[1]), cast, chair_token


def test_a_lock_committed_elsewhere_is_refused_by_the_writer_and_reset_on_every_editor(app, connect, factories):
    """The clause is locked by a commit this process has not heard of: the member's words are
    accepted from memory and relayed, then the writer's re-check under the row lock refuses
    them. They are not stored, the member is told why, and every editor drops its copy and
    shows the stored text again."""
    chair, member, doc, clause_id, _cast, _token = room(factories, connect)
    logged = log_size(app, clause_id)
    committed_elsewhere(app, "UPDATE clause SET status = 'locked' WHERE id = :id", id=clause_id)
    member.insert(doc, 0, "Sneaky ")
    eventually(lambda: member.acks, message="the member's answer")
    assert member.acks == [{"ok": False, "error": member.acks[0]["error"]}]
    assert member.acks[0]["error"]["code"] == "forbidden"
    assert "locked" in member.acks[0]["error"]["message"]
    eventually(lambda: chair.resets and member.resets, message="a reset on every editor")
    assert chair.resets[0]["doc"] == doc and chair.resets[0]["code"] == "forbidden"
    eventually(lambda: chair.text(doc) == member.text(doc) == ORIGINAL, message="the stored text again")
    assert stored_text(app, clause_id) == reloaded_text(app, clause_id) == ORIGINAL
    assert log_size(app, clause_id) == logged


def test_a_membership_ended_elsewhere_is_refused_by_the_writer_and_reset(app, connect, factories):
    chair, member, doc, clause_id, cast, _token = room(factories, connect)
    logged = log_size(app, clause_id)
    committed_elsewhere(app, "DELETE FROM membership WHERE participant_id = :id", id=cast.member.id)
    member.insert(doc, len(ORIGINAL), " and their families")
    eventually(lambda: member.acks, message="the member's answer")
    assert member.acks[0]["ok"] is False and member.acks[0]["error"]["code"] == "forbidden"
    eventually(lambda: chair.resets, message="a reset")
    eventually(lambda: chair.text(doc) == ORIGINAL, message="the stored text again")
    assert stored_text(app, clause_id) == reloaded_text(app, clause_id) == ORIGINAL
    assert log_size(app, clause_id) == logged


def test_a_lock_committed_here_refuses_the_next_keystroke_from_memory(app, client, connect, factories):
    """Plenary's own lock pushes the change at its commit: the next keystroke is refused
    before it touches the document or anyone else, so nothing is relayed and nobody is reset."""
    chair, member, doc, clause_id, _cast, chair_token = room(factories, connect)
    locked = client.api("POST", f"/api/v1/clauses/{clause_id}/lock", token=chair_token)
    assert locked.status_code == 200, locked.get_json()
    heard = len(chair.updates)
    answer = member.send(doc, protocol.sync_update(_insertion(member, doc, "Sneaky ")))
    assert answer["ok"] is False and answer["error"]["code"] == "forbidden"
    assert "locked" in answer["error"]["message"]
    # Answered in order: a presence message after it comes back only once it was handled.
    assert chair.set_presence(doc, 4242, {"cursor": None}) == {"ok": True}
    assert len(chair.updates) == heard and chair.resets == []
    assert chair.text(doc) == ORIGINAL
    assert stored_text(app, clause_id) == reloaded_text(app, clause_id) == ORIGINAL


def _insertion(editor: EditorClient, doc: str, words: str) -> bytes:
    """An update inserting ``words`` at the start, made on a copy (the editor's own document
    stays as the server has it)."""
    from pycrdt import Doc, Text

    copy: Doc = Doc()
    copy.get("text", type=Text)
    copy.apply_update(editor.docs[doc].get_update())
    before = copy.get_state()
    copy.get("text", type=Text).insert(0, words)
    return copy.get_update(before)


def test_a_lock_waits_for_the_words_typed_before_it(app, client, connect, factories):
    """Words relayed but not yet written when the chair locks the clause are written first,
    and the lock freezes the text with them: nothing relayed is reset, nothing lost."""
    chair, member, doc, clause_id, _cast, chair_token = room(factories, connect)
    answers: list[Any] = []
    with database_write_locked(app):
        member.insert(doc, 0, "Strongly ")
        eventually(lambda: chair.text(doc) == "Strongly " + ORIGINAL, message="relayed")
        lock = threading.Thread(target=lambda: answers.append(
            client.application.test_client().open(
                f"/api/v1/clauses/{clause_id}/lock", method="POST",
                headers={"Authorization": f"Bearer {chair_token}"})))
        lock.start()
    lock.join(30)
    assert answers and answers[0].status_code == 200, answers and answers[0].get_json()
    assert answers[0].get_json()["text"] == "Strongly " + ORIGINAL
    eventually(lambda: member.acks, message="the member's answer")
    assert member.acks == [{"ok": True}]
    assert chair.resets == member.resets == []
    assert stored_text(app, clause_id) == reloaded_text(app, clause_id) == "Strongly " + ORIGINAL


def test_a_login_session_that_expires_while_connected_types_no_more(app, live_server, factories,
                                                                  monkeypatch):
    """Sessions also end by time: a socket that came with a login session is refused once the
    session is older than PERMANENT_SESSION_LIFETIME, from memory, without a database check,
    and what it sent then is not stored."""
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(seconds=3))
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, ORIGINAL)])
    browser = requests.Session()
    page = browser.get(live_server + "/login", timeout=5).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    signed_in = browser.post(live_server + "/login", data={
        "email": cast.member.email, "password": "correct horse battery", "csrf_token": token,
    }, allow_redirects=False, timeout=10)
    assert signed_in.status_code == 302
    editor = EditorClient(live_server, http_session=browser).connect()
    try:
        doc = editor.join(recommendation.id)["clauses"][0]["doc"]
        editor.open(doc)
        clause_id = int(doc.split(":")[1])

        typed = [0]

        def refused() -> bool:
            """Type a full stop, wait for its answer, and again, until one is refused."""
            if len(editor.acks) < typed[0]:
                return False
            if editor.acks and editor.acks[-1] != {"ok": True}:
                return True
            editor.insert(doc, len(editor.text(doc)), ".")
            typed[0] += 1
            return False

        eventually(refused, timeout=15, message="a refusal once the session expired")
        assert editor.acks[-1]["error"]["code"] == "unauthenticated"
        eventually(lambda: not editor.sio.connected, message="the socket closed")
        stored = stored_text(app, clause_id)
        assert stored == reloaded_text(app, clause_id)
        assert stored.count(".") == len(editor.acks) - 1 + ORIGINAL.count(".")
    finally:
        editor.disconnect()
