"""The discussion of clauses in the live editor, in a real Chromium: a comment anchored to a
phrase that others keep editing around, an amendment proposed, seen as a redline and
accepted while everyone watches, and user text that stays text in the panel.

Each person is a browser context of their own, signed in through the form, on the session's
live server. The panel is the server's (``/clauses/<id>/discussion?partial=1``), moved into
the editor by static/src/editor/discussion.js; the highlighted words are CodeMirror marks
(``.cm-discussion-anchor``) computed from the thread's Yjs relative positions
(static/src/editor/anchors.js). Nothing waits for a fixed time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from models import AmendmentKind, Clause, ClauseKind, GroupRole, Recommendation, db
from tests.factories import Cast
from tests.helpers.browser import CLEAN, LEFTOVERS, editor, expect_saved, expect_text, open_editor, packed, sign_in
from tests.helpers.browser import editor_screenshot as screenshot

pytestmark = pytest.mark.browser

OP1 = "Calls upon the participating States to simplify registration;"
OP2 = "Recommends bilateral agreements on social security."
PHRASE = "participating States"

# The words a thread's marks cover in a page, as drawn: the text of its mark elements, in
# order, without the carets and name labels of other people that may sit inside them.
HIGHLIGHTED = """([clause, thread]) => [...document.querySelectorAll(
        `[data-editor-live] #clause-${clause} .cm-discussion-anchor[data-thread-id="${thread}"]`)]
    .filter((mark) => !mark.parentElement.closest(`.cm-discussion-anchor[data-thread-id="${thread}"]`))
    .map((mark) => {
        const copy = mark.cloneNode(true);
        for (const caret of copy.querySelectorAll(".cm-ySelectionCaret")) caret.remove();
        return copy.textContent.replace(/\\u2060/g, "");
    }).join("")"""


@dataclass
class Room:
    cast: Cast
    recommendation: Recommendation
    op1: int
    op2: int


@pytest.fixture
def room(factories) -> Room:
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, title="Protect the rights of labour migrants",
                                              clauses=[(ClauseKind.OPERATIVE, OP1),
                                                       (ClauseKind.OPERATIVE, OP2)])
    with factories.app.app_context():
        ids = [c.id for c in db.session.get(Recommendation, recommendation.id).live_clauses]
    return Room(cast, recommendation, *ids)


def discussion_button(page: Page, clause_id: int):
    return page.locator(f"[data-editor-live] #clause-{clause_id} .clause__discussion")


def panel(page: Page):
    return page.get_by_role("complementary", name=re.compile("^Discussion of clause"))


def open_panel(page: Page, clause_id: int) -> None:
    button = discussion_button(page, clause_id)
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(panel(page).locator(f"[data-discussion][data-clause-id='{clause_id}']")).to_be_visible()
    expect(panel(page).get_by_role("heading", level=2).first).to_be_focused()


def select_words(page: Page, clause_id: int, start: int, length: int) -> None:
    """Select with the keyboard, as a person without a mouse does."""
    editor(page, clause_id).click()
    page.keyboard.press("Control+Home")
    for _ in range(start):
        page.keyboard.press("ArrowRight")
    for _ in range(length):
        page.keyboard.press("Shift+ArrowRight")


def expect_highlight(page: Page, clause_id: int, thread_id: int, words: str) -> None:
    page.wait_for_function(f"(arg) => ({HIGHLIGHTED})(arg) === {words!r}", arg=[clause_id, thread_id])


# --- a comment on a phrase that others keep editing around --------------------------------------

def test_an_anchored_comment_follows_its_words_while_another_member_edits(person, room, factories, tmp_path):
    second = factories.member_of(room.cast.group, GroupRole.MEMBER, name="Second Member")
    _, author = person(room.cast.member)
    _, other = person(second)
    for page in (author, other):
        open_editor(page, room.recommendation.id)
    # The other member has the clause's discussion open already: it must update by itself.
    # (Escape closes the panel and gives the focus back to its button.)
    open_panel(other, room.op1)
    other.keyboard.press("Escape")
    expect(panel(other)).to_be_hidden()
    expect(discussion_button(other, room.op1)).to_be_focused()
    expect(discussion_button(other, room.op1)).to_have_attribute("aria-expanded", "false")
    other.keyboard.press("Enter")
    expect(panel(other).get_by_role("heading", level=2).first).to_be_focused()
    expect(other.locator("[data-discussion] .thread")).to_have_count(0)

    # Selected with the keyboard, "Comment" is the next stop after the text.
    select_words(author, room.op1, OP1.index(PHRASE), len(PHRASE))
    comment = author.get_by_role("button", name="Comment", exact=True)
    expect(comment).to_be_visible()
    author.keyboard.press("Tab")
    expect(comment).to_be_focused()
    author.keyboard.press("Enter")
    new_thread = panel(author).locator("form[data-discussion-new-thread]")
    expect(new_thread.locator("[data-discussion-quote]")).to_have_text(PHRASE)
    body = new_thread.get_by_label("Comment")
    expect(body).to_be_focused()
    expect(other.locator("[data-notifications-badge]")).to_be_hidden()
    body.fill("Which States? Say *all* of them, @**Second Member**.")
    new_thread.get_by_role("button", name="Post comment").click()

    thread = panel(author).locator(".thread")
    expect(thread).to_have_count(1)
    thread_id = int(thread.get_attribute("data-thread-id"))
    expect(thread.locator(".thread__quoted")).to_have_text(PHRASE)
    expect(new_thread.get_by_label("Comment")).to_have_value("")
    # Live in the other member's panel, badge and text, without a reload.
    expect(panel(other).locator(f"#thread-{thread_id} .comment__body")).to_have_text(
        "Which States? Say all of them, @Second Member.")
    # Mentioned: the header's count goes up where they are, without a reload.
    expect(other.locator("[data-notifications-unread]")).to_have_text("1")
    expect(other.locator("[data-notifications-badge]")).to_be_visible()
    expect(discussion_button(other, room.op1).locator(".discussion-count--threads")).to_have_text(
        re.compile(r"^1\b"))
    for page in (author, other):
        expect_highlight(page, room.op1, thread_id, PHRASE)

    # The other member edits before the phrase, right at its start, and right after its end.
    view = f"window.plenaryEditor.views.get({room.op1}).view"
    other.evaluate(f"() => {view}.focus()")
    for at, words in [(0, "Firmly "), ("start", "all "), ("end", " concerned")]:
        text = other.evaluate(f"() => {view}.state.doc.toString()")
        position = at if isinstance(at, int) else text.index(PHRASE) + (0 if at == "start" else len(PHRASE))
        other.evaluate(f"(at) => {view}.dispatch({{selection: {{anchor: at}}}})", position)
        other.keyboard.type(words)
    edited = "Firmly Calls upon the all participating States concerned to simplify registration;"
    for page in (author, other):
        expect_text(page, room.op1, edited)
        expect_highlight(page, room.op1, thread_id, PHRASE)
        expect_saved(page)
    # The server reads the same words between the same positions.
    threads = author.request.get(f"/api/v1/clauses/{room.op1}/threads?state=open").json()
    assert [(t["id"], t["anchor"]["text"], t["anchor"]["detached"]) for t in threads] == [
        (thread_id, PHRASE, False)]
    screenshot(author, tmp_path, "discussion-1-anchored-comment")
    screenshot(other, tmp_path, "discussion-2-other-member-edited-around")

    # Opened afresh, the editor finds the thread's words from the API's list of open threads.
    open_editor(other, room.recommendation.id)
    expect_highlight(other, room.op1, thread_id, PHRASE)
    # A click on the highlighted words shows their thread in the panel.
    other.locator(f"#clause-{room.op1} .cm-discussion-anchor").first.click()
    expect(panel(other).locator(f"#thread-{thread_id}")).to_have_class(re.compile(r"\bthread--current\b"))
    # The filter links load into the panel; the page stays.
    panel(other).get_by_role("link", name="All", exact=True).click()
    expect(panel(other).locator("[data-discussion]")).to_have_attribute("data-state", "all")
    expect(other).to_have_url(re.compile(rf"/recommendations/{room.recommendation.id}$"))
    # Deleting the words detaches the thread: nothing is highlighted any more.
    other.evaluate(f"""() => {{
        const text = {view}.state.doc.toString();
        const from = text.indexOf({PHRASE!r});
        {view}.dispatch({{changes: {{from, to: from + {len(PHRASE)}}}}});
    }}""")
    for page in (author, other):
        expect(page.locator(f"#clause-{room.op1} .cm-discussion-anchor")).to_have_count(0)
    expect(panel(other).locator(f"#thread-{thread_id}")).to_have_attribute("data-detached", "true")


# --- an amendment, its redline and its acceptance -----------------------------------------------

def test_a_proposed_amendment_shows_live_as_a_redline_and_accepting_it_changes_every_editor(
        person, room, tmp_path):
    _, member = person(room.cast.member)
    _, chair = person(room.cast.chair)
    chair.on("dialog", lambda dialog: dialog.accept())
    for page in (member, chair):
        open_editor(page, room.recommendation.id)
    open_panel(chair, room.op1)
    # The chair starts a comment; the panel's live updates must not lose it (nor the focus).
    draft = panel(chair).locator("form[data-discussion-new-thread]").get_by_label("Comment")
    draft.click()
    draft.type("Half-written remark")

    open_panel(member, room.op1)
    proposal = panel(member).locator("form[data-discussion-new-amendment]")
    expect(proposal.get_by_label("A new wording of this clause")).to_be_checked()
    wording = proposal.locator("textarea[name=text]")
    expect(wording).to_have_value(OP1)
    amended = "Calls upon the participating States to speed up registration;"
    wording.fill(amended)
    proposal.locator("textarea[name=rationale]").fill("Delays hurt migrants.")
    proposal.get_by_role("button", name="Propose amendment").click()
    expect(panel(member).locator(".amendment")).to_have_count(1)

    # The chair sees it arrive: the redline, the count; the half-written remark is intact.
    amendment = panel(chair).locator(".amendment")
    expect(amendment).to_have_count(1)
    expect(amendment.locator(".redline ins")).to_have_text([re.compile(r"^\s*speed up\s*$")])
    expect(amendment.locator(".redline del")).to_have_text([re.compile(r"^\s*simplify\s*$")])
    expect(discussion_button(chair, room.op1).locator(".discussion-count--amendments")).to_have_text(
        re.compile(r"^±1\b"))
    expect(draft).to_have_value("Half-written remark")
    expect(draft).to_be_focused()
    amendment.scroll_into_view_if_needed()
    screenshot(chair, tmp_path, "discussion-3-chair-sees-redline")

    amendment.get_by_role("button", name="Accept").click()
    for page in (member, chair):
        expect_text(page, room.op1, amended)
        expect(discussion_button(page, room.op1).locator(".discussion-count--amendments")).to_be_hidden()
    expect(panel(chair).locator(".amendment[data-status='accepted']")).to_have_count(1)
    expect(panel(member).locator(".amendment[data-status='accepted']")).to_have_count(1)
    expect(draft).to_have_value("Half-written remark")
    # Typing goes on in the accepted text as in any other.
    editor(member, room.op1).click()
    member.keyboard.press("Control+End")
    member.keyboard.type(" Now.")
    expect_text(chair, room.op1, amended + " Now.")
    expect_saved(member)
    screenshot(member, tmp_path, "discussion-4-accepted")


# --- user text stays text --------------------------------------------------------------------------

def test_user_text_in_the_discussion_panel_never_runs(new_context, room, factories, xss_payloads):
    every_payload = "\n\n".join(xss_payloads)
    names = packed(xss_payloads, 200)
    authors = [factories.member_of(room.cast.group, GroupRole.MEMBER, name=name) for name in names]
    with factories.app.app_context():
        clause = db.session.get(Clause, room.op1)
        for i, payload in enumerate(xss_payloads):
            factories.thread(clause, authors[i % len(authors)], payload, (room.cast.member, payload))
        for author in authors:
            factories.amendment(clause, author, text=every_payload, rationale=every_payload)
        factories.amendment(clause, authors[0], kind=AmendmentKind.INSERT, text=every_payload,
                            rationale=every_payload)

    page = new_context(bypass_csp=True).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, room.cast.member)
    open_editor(page, room.recommendation.id)
    open_panel(page, room.op1)
    expect(panel(page).locator(".thread")).to_have_count(len(xss_payloads))
    expect(panel(page).locator(".amendment")).to_have_count(len(authors) + 1)
    # Every name as typed, escaped: neither stripped nor evaluated.
    shown = set(panel(page).locator(".comment__author").all_text_contents())
    assert set(names) <= shown
    # A reply through the panel, with every payload again, and a refresh by an event.
    reply = panel(page).locator(".thread").first.locator("form.thread__reply")
    reply.locator("textarea[name=body]").fill(every_payload[:4_000])
    reply.get_by_role("button", name="Reply").click()
    expect(panel(page).locator(".thread").first.locator(".comment")).to_have_count(3)
    assert page.evaluate(LEFTOVERS) == CLEAN
    assert dialogs == []
    assert errors == []
