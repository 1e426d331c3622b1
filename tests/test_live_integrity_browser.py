"""Never lose a word, in the browser: a refused change never leaves the editor looping on
"Saving…", a paste past the clause limit is refused before it is sent, and a clause deleted
while someone types in it leaves their words in front of them (issue 15)."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.helpers.browser import (
    EDITOR_TEXT,
    OP1,
    OP2,
    PART_ORDER,
    Room,
    editor,
    editor_room,
    expect_saved,
    expect_text,
    open_editor,
    server_text,
)
from tests.helpers.browser import editor_screenshot as screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def room(factories) -> Room:
    return editor_room(factories)


def test_a_paste_longer_than_a_clause_may_be_is_refused_before_it_is_sent(app, person, room, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "CLAUSE_MAX_LENGTH", 120)
    _, member = person(room.cast.member)
    open_editor(member, room.recommendation.id)
    editor(member, room.op2).click()
    member.keyboard.press("Control+End")
    member.keyboard.insert_text(" " + "ж" * 100)
    message = member.locator(f"#clause-{room.op2} .editor-message")
    expect(message).to_contain_text("at most 120 characters")
    expect(message).to_contain_text(str(len(OP2) + 101))
    assert member.evaluate(EDITOR_TEXT, room.op2) == OP2
    # What fits is typed as ever.
    member.keyboard.insert_text(" ok")
    expect_saved(member)
    assert server_text(member, room.recommendation.id, room.op2) == OP2 + " ok"
    screenshot(member, tmp_path, "paste-too-long")


def test_a_change_the_server_refuses_is_dropped_and_the_page_does_not_loop(app, person, room, tmp_path, monkeypatch):
    """A 1 MB paste was never saved and the page stayed on "Saving…/Reconnecting…" for ever,
    even after a reload: the browser kept sending the refused change."""
    _, member = person(room.cast.member)
    open_editor(member, room.recommendation.id)
    # The server's limit is lower than the one this page was given: the server refuses.
    monkeypatch.setitem(app.config, "CLAUSE_MAX_LENGTH", len(OP2) + 5)
    editor(member, room.op2).click()
    member.keyboard.press("Control+End")
    member.keyboard.insert_text(" and their families")
    message = member.locator(f"#clause-{room.op2} .editor-message")
    expect(message).to_contain_text("shows the saved text again")
    expect_text(member, room.op2, OP2)
    expect_saved(member)
    screenshot(member, tmp_path, "refused-and-reset")
    member.reload()
    open_editor(member, room.recommendation.id)
    assert member.evaluate(EDITOR_TEXT, room.op2) == OP2
    assert server_text(member, room.recommendation.id, room.op2) == OP2


# Swallow this page's `y` messages until RELEASE_Y, as a network that lost them would: what
# is typed stays unacknowledged ("Saving…").
HOLD_Y = """() => {
    const socket = window.plenaryEditor.provider.socket;
    const emit = socket.emit;
    socket.emit = (name, ...args) => (name === "y" ? socket : emit.call(socket, name, ...args));
    window.releaseY = () => { socket.emit = emit; };
}"""
RELEASE_Y = "() => window.releaseY()"


def test_a_clause_deleted_while_someone_types_leaves_their_words_in_front_of_them(
        person, room, factories, live_server, tmp_path):
    _, member = person(room.cast.member)
    open_editor(member, room.recommendation.id)
    editor(member, room.op1).click()
    member.keyboard.press("Control+End")
    member.keyboard.type(" Temporary clause")
    expect_saved(member)
    member.evaluate(HOLD_Y)
    member.keyboard.type(" and more")
    headers = {"Authorization": f"Bearer {factories.api_token(room.cast.chair)}"}
    base = f"{live_server}/api/v1/clauses/{room.op1}"
    assert requests.delete(base, headers=headers, timeout=10).status_code == 204
    notice = member.locator("[data-editor-messages] .editor-message")
    expect(notice).to_contain_text("was deleted while you were typing in it")
    expect(notice.locator("textarea")).to_have_value(OP1 + " Temporary clause and more")
    expect(member.locator(f"[data-editor-live] #clause-{room.op1}")).to_have_count(0)
    expect(member.get_by_text("Unknown document.")).to_have_count(0)
    screenshot(member, tmp_path, "deleted-while-typing")
    # Undo brings back every word the server took, in its place; the notice stays to copy from.
    member.evaluate(RELEASE_Y)
    assert requests.post(f"{base}/restore", headers=headers, timeout=10).status_code == 200
    expect(member.locator(f"[data-editor-live] #clause-{room.op1}")).to_have_count(1)
    expect_text(member, room.op1, OP1 + " Temporary clause")
    assert member.evaluate(PART_ORDER, "operative") == [room.op1, room.op2]
    expect(notice).to_be_visible()


def test_words_refused_after_they_were_relayed_are_reset_on_every_editor(
        app, person, room, tmp_path):
    """The clause is locked by a commit on another server process that this one has not heard
    of yet: the member's words are relayed, then refused by the writer. Every editor goes
    back to the stored text; the member keeps the words in front of them, to copy; nobody's
    page loops on "Saving…"."""
    from sqlalchemy import text

    from models import db

    _, chair = person(room.cast.chair)
    _, member = person(room.cast.member)
    open_editor(chair, room.recommendation.id)
    open_editor(member, room.recommendation.id)
    with app.app_context():
        engine = db.engine
    with engine.begin() as connection:
        connection.execute(text("UPDATE clause SET status = 'locked' WHERE id = :id"), {"id": room.op2})
    editor(member, room.op2).click()
    member.keyboard.press("Control+End")
    member.keyboard.insert_text(" and their families")
    notice = member.locator("[data-editor-messages] .editor-message")
    expect(notice).to_contain_text("could not be saved")
    expect(notice.locator("textarea")).to_have_value(OP2 + " and their families")
    expect_text(member, room.op2, OP2)
    expect_text(chair, room.op2, OP2)
    expect(chair.locator(f"#clause-{room.op2} .editor-message")).to_contain_text("were not accepted")
    expect_saved(member)
    expect_saved(chair)
    assert server_text(member, room.recommendation.id, room.op2) == OP2
    screenshot(member, tmp_path, "reset-member")
    screenshot(chair, tmp_path, "reset-chair")
