"""The live editor in a real Chromium: people typing in the same clause at once, each other's
cursors and names, an observer watching, a member going offline, a clause locked under
someone's hands, clauses added and moved while others look.

Each person is a browser context of their own (cookies, IndexedDB), signed in through the
real form, on the session's live server (tests/conftest.py). The text of clause N in a page is
``plenaryEditor.views.get(N).view.state.doc.toString()`` (static/src/editor/editor.js). Nothing
waits for a fixed time: ``expect`` and ``eventually`` (polling in the page) wait, up to a bound,
until the page shows what it should. "Saved" is read from the provider itself: the status line
only says "Saving…" when saving takes longer than 400 ms, so it may read "Saved" while edits are
still on their way.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import (
    EDITOR_TEXT,
    OP1,
    OP2,
    PART_ORDER,
    PP1,
    STATUS_LIVE,
    STATUS_OFFLINE,
    STATUS_SAVED,
    Room,
    editor,
    editor_room,
    eventually,
    expect_saved,
    expect_text,
    open_editor,
    server_clauses,
    server_text,
)
from tests.helpers.browser import editor_screenshot as screenshot
from tests.helpers.live import misattributed

pytestmark = pytest.mark.browser

@pytest.fixture
def room(factories) -> Room:
    return editor_room(factories)


def caret_at(page: Page, clause_id: int, where: str) -> None:
    """Click into a clause and put the caret at its start or end, with the keyboard."""
    editor(page, clause_id).click()
    page.keyboard.press("Control+Home" if where == "start" else "Control+End")


# --- two members type in the same clause at once -----------------------------------------------

def test_two_members_typing_at_once_end_with_the_same_text(app, person, room, tmp_path):
    _, chair = person(room.cast.chair)
    _, member = person(room.cast.member)
    for page in (chair, member):
        open_editor(page, room.recommendation.id)
    caret_at(chair, room.op1, "start")
    caret_at(member, room.op1, "end")

    # Short strings, alternately, without waiting for the other side: the updates cross.
    for chair_piece, member_piece in [("Firmly ", " It"), ("and urgently ", " also"), ("", " asks for data.")]:
        if chair_piece:
            chair.keyboard.type(chair_piece)
        member.keyboard.type(member_piece)
    expected = "Firmly and urgently " + OP1 + " It also asks for data."

    for page in (chair, member):
        expect_text(page, room.op1, expected)
        expect_saved(page)
    # Acknowledged means committed: the server has it now, not eventually.
    assert server_text(chair, room.recommendation.id, room.op1) == expected
    # The other clauses are untouched.
    assert server_text(member, room.recommendation.id, room.op2) == OP2
    # Each typed under the Yjs client id the server gave them: their words are theirs in the
    # log whoever hands them in (drafting/editing/attribution.py).
    assert misattributed(app, room.op1) == []

    # b. Each sees the other's caret, labelled with their name, where the other's caret is.
    for page, other, name in [(chair, member, "Member Person"), (member, chair, "Chair Person")]:
        label = page.locator(f"#clause-{room.op1} .cm-ySelectionInfo")
        expect(label).to_have_text(name)
        expect(label).to_be_visible()
        drawn_at = label.evaluate(
            """(info, id) => window.plenaryEditor.views.get(id).view.posAtDOM(info.closest('.cm-ySelectionCaret'))""",
            room.op1)
        other_head = other.evaluate("(id) => window.plenaryEditor.views.get(id).view.state.selection.main.head",
                                    room.op1)
        assert drawn_at == other_head, name
        # No caret of anyone in the clauses nobody is in.
        expect(page.locator(f"#clause-{room.op2} .cm-ySelectionCaret")).to_have_count(0)
        people = page.get_by_role("complementary", name="People here").locator(".presence__name")
        mine = "Chair Person" if page is chair else "Member Person"
        expect(people).to_have_text([f"{mine} (you)", name])
    # The chair's caret sits right after what the chair typed, the member's at the very end.
    assert chair.evaluate("(id) => window.plenaryEditor.views.get(id).view.state.selection.main.head",
                          room.op1) == len("Firmly and urgently ")
    assert member.evaluate("(id) => window.plenaryEditor.views.get(id).view.state.selection.main.head",
                           room.op1) == len(expected)
    screenshot(chair, tmp_path, "1-chair-sees-member")
    screenshot(member, tmp_path, "2-member-sees-chair")


# --- an observer watches -----------------------------------------------------------------------

def test_an_observer_watches_live_but_cannot_type(person, room, tmp_path):
    _, member = person(room.cast.member)
    _, observer = person(room.cast.observer)
    open_editor(member, room.recommendation.id)
    open_editor(observer, room.recommendation.id, status=STATUS_LIVE)

    contents = observer.locator("[data-editor-live] .cm-content")
    expect(contents).to_have_count(3)
    for content in contents.all():
        expect(content).to_have_attribute("contenteditable", "false")
        expect(content).to_have_attribute("aria-readonly", "true")
    # No structure buttons for an observer, but the history is there to read.
    expect(observer.get_by_role("button", name=re.compile("^Move up"))).to_have_count(0)
    expect(observer.get_by_role("button", name=re.compile("^Delete"))).to_have_count(0)
    expect(observer.get_by_role("link", name=re.compile("^History"))).to_have_count(3)

    # Typing into a read-only editor changes nothing.
    caret_at(observer, room.op1, "end")
    observer.keyboard.type(" (observer was here)")
    observer.keyboard.press("Backspace")
    assert observer.evaluate(EDITOR_TEXT, room.op1) == OP1

    # The member's words appear in the observer's editor as they are typed.
    caret_at(member, room.op1, "end")
    member.keyboard.type(" Within a year.")
    expect_text(observer, room.op1, OP1 + " Within a year.")
    member.keyboard.type(" Or two.")
    expect_text(observer, room.op1, OP1 + " Within a year. Or two.")
    expect_saved(member)
    assert server_text(member, room.recommendation.id, room.op1) == OP1 + " Within a year. Or two."
    # The member sees the observer among the people here (observers are present, silently).
    expect(member.get_by_role("complementary", name="People here").locator(".presence__name")).to_have_text(
        ["Member Person (you)", "Observer Person"])
    screenshot(observer, tmp_path, "3-observer")


# --- offline ------------------------------------------------------------------------------------

def test_offline_edits_are_kept_and_merge_on_reconnect(person, room, tmp_path):
    member_context, member = person(room.cast.member)
    _, chair = person(room.cast.chair)
    open_editor(member, room.recommendation.id)
    open_editor(chair, room.recommendation.id)
    status = member.locator("[data-editor-status]")

    member_context.set_offline(True)
    expect(status).to_have_text(STATUS_OFFLINE)
    caret_at(member, room.op2, "end")
    member.keyboard.type(" Typed on the train.")
    # Meanwhile the chair, online, changes the same clause.
    caret_at(chair, room.op2, "start")
    chair.keyboard.type("Strongly ")
    expect_saved(chair)
    # Offline really is offline: neither side has the other's words yet, nor has the server.
    assert member.evaluate(EDITOR_TEXT, room.op2) == OP2 + " Typed on the train."
    assert chair.evaluate(EDITOR_TEXT, room.op2) == "Strongly " + OP2
    assert server_text(chair, room.recommendation.id, room.op2) == "Strongly " + OP2
    expect(status).to_have_text(STATUS_OFFLINE)
    screenshot(member, tmp_path, "4-offline")

    member_context.set_offline(False)
    expected = "Strongly " + OP2 + " Typed on the train."
    expect(status).to_have_text(STATUS_SAVED)
    for page in (member, chair):
        expect_text(page, room.op2, expected)
        expect_saved(page)
    assert server_text(chair, room.recommendation.id, room.op2) == expected
    screenshot(member, tmp_path, "5-back-online")


# A fresh Y.Doc loaded from this device's copy of a clause (y-indexeddb), through the
# page's own classes: what a reload would start from. It changes nothing in the copy (like
# every page load, y-indexeddb stores the new document's empty state first), then closes it.
STORED_TEXT = """async (id) => {
    const view = window.plenaryEditor.views.get(id);
    const doc = new view.doc.constructor();
    const copy = new view.persistence.constructor(view.persistence.name, doc);
    await copy.whenSynced;
    const text = doc.getText("text").toString();
    await copy.destroy();
    doc.destroy();
    return text;
}"""


def test_offline_edits_survive_closing_the_page(app, person, room, tmp_path):
    member_context, member = person(room.cast.member)
    _, chair = person(room.cast.chair)
    open_editor(member, room.recommendation.id)
    open_editor(chair, room.recommendation.id)

    member_context.set_offline(True)
    expect(member.locator("[data-editor-status]")).to_have_text(STATUS_OFFLINE)
    caret_at(member, room.pp1, "end")
    member.keyboard.type(" and of their families,")
    offline_text = PP1 + " and of their families,"
    # The words are on the device before the page goes.
    eventually(member, STORED_TEXT, room.pp1, offline_text)
    # Without a network the page cannot be loaded again at all (there is no service worker).
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        member.reload()
    member.close()

    member_context.set_offline(False)
    assert server_text(chair, room.recommendation.id, room.pp1) == PP1
    # A new page in the same browser: the copy kept in IndexedDB merges and is saved.
    again = member_context.new_page()
    open_editor(again, room.recommendation.id)
    expect_text(again, room.pp1, offline_text)
    expect_saved(again)
    expect_text(chair, room.pp1, offline_text)
    assert server_text(chair, room.recommendation.id, room.pp1) == offline_text
    # Typed under the id of the page that was closed, sent by the new one: the member's.
    assert misattributed(app, room.pp1) == []
    screenshot(again, tmp_path, "6-reopened-after-offline")


# --- a clause is locked under a member's hands -------------------------------------------------

def test_a_locked_clause_turns_read_only_live(person, room, factories, tmp_path):
    token = factories.api_token(room.cast.chair)
    _, member = person(room.cast.member)
    open_editor(member, room.recommendation.id)
    clause = member.locator(f"[data-editor-live] #clause-{room.op1}")
    caret_at(member, room.op1, "end")
    member.keyboard.type(" Now.")
    expect_saved(member)
    expect(editor(member, room.op1)).to_have_attribute("contenteditable", "true")
    expect(clause.locator(".badge--locked")).to_have_count(0)

    response = member.request.post(f"/api/v1/clauses/{room.op1}/lock",
                                   headers={"Authorization": f"Bearer {token}"})
    assert response.ok, response.text()
    assert response.json()["status"] == "locked"

    expect(clause.locator(".badge--locked")).to_have_text("Locked")
    expect(editor(member, room.op1)).to_have_attribute("contenteditable", "false")
    expect(editor(member, room.op1)).to_have_attribute("aria-readonly", "true")
    # Clicking into it and typing does nothing.
    caret_at(member, room.op1, "end")
    member.keyboard.type(" Too late.")
    member.keyboard.press("Backspace")
    assert member.evaluate(EDITOR_TEXT, room.op1) == OP1 + " Now."
    # A locked clause is neither deleted nor re-kinded here; the others stay editable.
    expect(clause.get_by_role("button", name=re.compile("^Delete"))).to_be_hidden()
    expect(editor(member, room.op2)).to_have_attribute("contenteditable", "true")
    expect(member.locator("[data-editor-status]")).to_have_text(STATUS_SAVED)
    assert server_text(member, room.recommendation.id, room.op1) == OP1 + " Now."
    screenshot(member, tmp_path, "7-locked")


# --- structure: add and move, seen by the other --------------------------------------------------

def test_a_clause_added_and_moved_is_seen_by_the_other(person, room, tmp_path):
    _, chair = person(room.cast.chair)
    _, member = person(room.cast.member)
    open_editor(chair, room.recommendation.id)
    open_editor(member, room.recommendation.id)

    chair.get_by_role("button", name="Add operative clause").click()
    expect(chair.get_by_role("region", name="Operative part").locator(".clause__number")).to_have_text(
        ["1.", "2.", "3."])
    *before, new_id = chair.evaluate(PART_ORDER, "operative")
    assert before == [room.op1, room.op2]
    assert new_id not in (room.pp1, room.op1, room.op2)
    # The new clause has the focus: the chair just types.
    expect(editor(chair, new_id)).to_be_focused()
    chair.keyboard.type("Urges the exchange of good practice;")

    # The member's page, never reloaded, shows it, numbered, with its text.
    eventually(member, PART_ORDER, "operative", [room.op1, room.op2, new_id])
    operative = member.get_by_role("region", name="Operative part")
    expect(operative.locator(".clause__number")).to_have_text(["1.", "2.", "3."])
    expect_text(member, new_id, "Urges the exchange of good practice;")

    # The member moves it up with the keyboard: focus on "Move up", Enter.
    move_up = member.get_by_role("button", name="Move up: clause 3")
    move_up.focus()
    member.keyboard.press("Enter")
    eventually(member, PART_ORDER, "operative", [room.op1, new_id, room.op2])
    # The chair's page follows, renumbered.
    eventually(chair, PART_ORDER, "operative", [room.op1, new_id, room.op2])
    expect(chair.get_by_role("region", name="Operative part").locator(".clause__number")).to_have_text(
        ["1.", "2.", "3."])
    expect(chair.get_by_role("button", name="Move up: clause 2")).to_have_count(1)
    assert [c["id"] for c in server_clauses(chair, room.recommendation.id)] == [
        room.pp1, room.op1, new_id, room.op2]
    # The focus stays on the button that moved the clause (now "Move up: clause 2").
    expect(member.get_by_role("button", name="Move up: clause 2")).to_be_focused()
    expect_saved(chair)
    assert server_text(chair, room.recommendation.id, new_id) == "Urges the exchange of good practice;"
    screenshot(chair, tmp_path, "8-chair-after-move")


# --- history links --------------------------------------------------------------------------------

def test_each_clause_links_to_its_history(person, room):
    _, member = person(room.cast.member)
    open_editor(member, room.recommendation.id)
    link = member.get_by_role("link", name="History: clause 2")
    expect(link).to_have_attribute("href", f"/clauses/{room.op2}/history")
    link.click()
    expect(member.get_by_role("heading", level=1)).to_have_text("History of clause 2.")

    # Without scripts, the rendered list has the same links.
    _, plain = person(room.cast.member, java_script_enabled=False)
    plain.goto(f"/recommendations/{room.recommendation.id}")
    # (Chromium names them "History : clause PP1": the visually hidden part is positioned
    # out of the flow, so it is joined with a space, as for Edit and Delete beside them.)
    links = plain.get_by_role("link", name=re.compile(r"^History ?: clause"))
    expect(links).to_have_count(3)
    expect(plain.get_by_role("link", name=re.compile(r"^History ?: clause PP1$"))).to_have_attribute(
        "href", f"/clauses/{room.pp1}/history")
