"""A vote in the room, in a real Chromium: the chair opens it from the console on the
recommendation page, members vote from their own browsers, the projector's turnout moves
as they do, the chair closes, and the result reaches every open page without a reload.

Each person is a browser context of their own, signed in through the form, on the session's
live server; a person may have several tabs (their editor and the vote page). The projector
and the vote page follow the vote with static/src/votes/votes.js, the editor's console with
static/src/editor/votes.js; a clause's read-only state comes from `clauses_changed`.
Nothing waits for a fixed time: ``expect`` waits until the page shows what it should.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from models import ClauseKind, GroupRole, Participant, Recommendation, Vote, db
from tests.factories import Cast
from tests.helpers.browser import editor, open_editor
from tests.helpers.browser import editor_screenshot as screenshot

pytestmark = pytest.mark.browser

OP1 = "Calls upon the participating States to simplify registration;"
OP2 = "Recommends bilateral agreements on social security."

# Read in the page: set once, still there later only if the page was never reloaded.
MARK = "() => { window.plenaryNotReloaded = true; }"
STILL_MARKED = "() => window.plenaryNotReloaded === true"


@dataclass
class Room:
    cast: Cast
    recommendation: Recommendation
    op1: int
    op2: int
    #: The three members who vote (the chair votes too: four eligible voters).
    voters: list[Participant]


@pytest.fixture
def room(factories) -> Room:
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, title="Protect the rights of labour migrants",
                                              clauses=[(ClauseKind.OPERATIVE, OP1),
                                                       (ClauseKind.OPERATIVE, OP2)])
    voters = [cast.member,
              factories.member_of(cast.group, GroupRole.MEMBER, name="Second Member"),
              factories.member_of(cast.group, GroupRole.MEMBER, name="Third Member")]
    with factories.app.app_context():
        ids = [c.id for c in db.session.get(Recommendation, recommendation.id).live_clauses]
    return Room(cast, recommendation, *ids, voters=voters)


def console(page: Page):
    return page.locator("[data-vote-console]")


def vote_now(page: Page):
    """The editor's "Vote now" notice at the top of the page."""
    return page.locator("[data-vote-now-banner]").get_by_role("link", name=re.compile("^Vote now"))


def clause_item(page: Page, clause_id: int):
    return page.locator(f"[data-editor-live] #clause-{clause_id}")


def turnout(page: Page):
    """The turnout as people read it: "2 of 4"."""
    return page.locator("[data-vote] [data-vote-turnout]").locator("xpath=..")


def expect_turnout(page: Page, cast: int, eligible: int) -> None:
    expect(page.locator("[data-vote] [data-vote-turnout]")).to_have_text(str(cast))
    expect(page.locator("[data-vote] [data-vote-eligible]")).to_have_text(str(eligible))
    expect(turnout(page)).to_contain_text(re.compile(rf"\b{cast}\s+of\s+{eligible}\b"))


def open_clause_vote(chair: Page, clause_id: int, *, secret: bool = False,
                     tally: bool = False, minutes: int | None = None) -> int:
    """Through the chair's console on the recommendation page (the fixtures' rules of
    procedure: a vote by simple majority); ends on the vote's page."""
    row = console(chair).locator(f"[data-clause-id='{clause_id}']")
    row.locator("summary").click()
    form = row.locator(f"form[data-vote-open-form='clause-{clause_id}']")
    expect(form.get_by_label("The clause’s wording: yes, no or abstain")).to_be_checked()
    expect(form.get_by_label("Vote by ballot")).to_be_checked()
    if tally:
        form.get_by_label("Show the running tally").check()
    if minutes is not None:
        form.get_by_label("Deadline (minutes)").fill(str(minutes))
    if secret:
        form.get_by_label("Secret: who voted is known, not how").check()
    form.get_by_role("button", name="Put the question").click()
    expect(chair).to_have_url(re.compile(r"/votes/\d+$"))
    return int(chair.url.rsplit("/", 1)[1])


def cast_ballot(page: Page, vote_id: int, choice: str) -> None:
    """On the vote page, as a voter does: choose, send, see it counted."""
    if not page.url.endswith(f"/votes/{vote_id}"):
        page.goto(f"/votes/{vote_id}")
    ballot = page.locator("form[data-vote-ballot]")
    ballot.get_by_label(choice, exact=True).check()
    ballot.locator("button[type=submit]").click()
    expect(page.locator(".flash").filter(has_text=re.compile("ballot is (counted|changed)"))).to_be_visible()


def vote_in_database(factories, vote_id: int) -> Vote:
    with factories.app.app_context():
        vote = db.session.get(Vote, vote_id)
        db.session.expunge(vote)
        return vote


# --- the whole story ---------------------------------------------------------------------------

def test_a_clause_is_voted_in_the_room_and_adopted_everywhere(person, room, factories, tmp_path):
    members: list[tuple[BrowserContext, Page]] = []
    for voter in room.voters:
        context, page = person(voter)
        open_editor(page, room.recommendation.id)
        expect(editor(page, room.op1)).to_have_attribute("contenteditable", "true")
        page.evaluate(MARK)
        members.append((context, page))
    chair_context, chair = person(room.cast.chair)
    open_editor(chair, room.recommendation.id)

    # The chair puts clause 1's wording to the group from the console.
    vote_id = open_clause_vote(chair, room.op1)
    # Under the members' hands, without a reload: the clause is locked, the console says a
    # vote is open and links to it.
    for _, page in members:
        expect(clause_item(page, room.op1).locator(".badge--locked")).to_be_visible()
        expect(editor(page, room.op1)).to_have_attribute("contenteditable", "false")
        expect(editor(page, room.op2)).to_have_attribute("contenteditable", "true")
        expect(console(page).locator(f"a[href$='/votes/{vote_id}']").first).to_be_visible()
        expect(vote_now(page)).to_have_attribute("href", re.compile(rf"/votes/{vote_id}#ballot$"))
        assert page.evaluate(STILL_MARKED)

    screenshot(members[0][1], tmp_path, "votes-0-editor-vote-open")

    # The room's display: the chair's second tab.
    projector = chair_context.new_page()
    projector.goto(f"/votes/{vote_id}/projector")
    expect_turnout(projector, 0, 4)
    projector.evaluate(MARK)
    screenshot(projector, tmp_path, "votes-1-projector-open")

    # Three members vote, each from the vote page in a tab of their own browser; the
    # projector counts them as they do.
    for n, (context, _) in enumerate(members, start=1):
        cast_ballot(context.new_page(), vote_id, "Yes")
        expect_turnout(projector, n, 4)
        expect(projector.locator("meter[data-vote-turnout-bar]")).to_have_attribute("value", str(n))
    # The console on the members' editor pages follows: 3 of 4, and nobody is asked to vote
    # again.
    for _, page in members:
        expect(console(page)).to_contain_text(re.compile(r"\b3\s+of\s+4\b"))
        expect(vote_now(page)).to_be_hidden()
    assert projector.evaluate(STILL_MARKED)

    # The chair closes, from the vote page.
    chair.once("dialog", lambda dialog: dialog.accept())
    chair.get_by_role("button", name="Close the vote").click()
    expect(chair.locator("[data-vote]")).to_have_attribute("data-status", "closed")

    # The projector shows the result by itself, without a reload.
    expect(projector.locator("[data-vote]")).to_have_attribute("data-status", "closed")
    expect(projector.locator("[data-vote-result]")).to_contain_text(re.compile("adopted", re.I))
    assert projector.evaluate(STILL_MARKED)
    screenshot(projector, tmp_path, "votes-2-projector-closed")

    # In every member's open editor the clause is adopted and read-only, without a reload.
    for _, page in members:
        item = clause_item(page, room.op1)
        expect(item.locator(".badge--adopted")).to_have_text("Adopted")
        expect(item).to_have_attribute("data-status", "adopted")
        expect(editor(page, room.op1)).to_have_attribute("contenteditable", "false")
        expect(editor(page, room.op1)).to_have_attribute("aria-readonly", "true")
        expect(editor(page, room.op2)).to_have_attribute("contenteditable", "true")
        assert page.evaluate(STILL_MARKED)
    screenshot(members[0][1], tmp_path, "votes-3-editor-adopted")

    vote = vote_in_database(factories, vote_id)
    assert (vote.status.value, vote.outcome.value, vote.turnout) == ("closed", "adopted", 3)


# --- a secret vote: the receipt stays in the browser -------------------------------------------

def test_a_secret_ballot_is_changed_from_the_same_browser(person, room, factories, tmp_path):
    _, chair = person(room.cast.chair)
    open_editor(chair, room.recommendation.id)
    vote_id = open_clause_vote(chair, room.op1, secret=True)
    _, member = person(room.cast.member)

    cast_ballot(member, vote_id, "Yes")
    shown = member.locator("[data-vote-receipt]")
    expect(shown).to_be_visible()
    receipt = (shown.get_attribute("data-vote-receipt") or shown.inner_text()).strip()
    member.wait_for_function(
        "([id, shown]) => { const kept = Object.keys(localStorage)"
        ".filter((k) => k.includes(`vote:${id}:`)).map((k) => localStorage.getItem(k));"
        " return kept.length === 1 && kept[0] === shown; }", arg=[vote_id, receipt])

    # Later, on a fresh load of the page: the receipt is no longer shown, but the form has it.
    member.goto(f"/votes/{vote_id}")
    expect(member.locator("[data-vote-receipt]")).to_have_count(0)
    expect(member.locator("form[data-vote-ballot]").get_by_label("Your receipt")).to_have_value(receipt)
    cast_ballot(member, vote_id, "No")
    expect(member.locator(".flash")).to_have_text("Your secret ballot is changed.")
    # The new receipt replaces the spent one (the page's script keeps it once it has loaded,
    # which may be a moment after the flash is shown).
    member.wait_for_function(
        "([id, spent]) => { const kept = Object.keys(localStorage)"
        ".filter((k) => k.includes(`vote:${id}:`)).map((k) => localStorage.getItem(k));"
        " return kept.length === 1 && kept[0] !== spent; }", arg=[vote_id, receipt])

    chair.goto(f"/votes/{vote_id}")
    chair.once("dialog", lambda dialog: dialog.accept())
    chair.get_by_role("button", name="Close the vote").click()
    expect(chair.locator("[data-vote]")).to_have_attribute("data-status", "closed")
    # One ballot, moved from yes to no: the vote is rejected, and the clause open again.
    with factories.app.app_context():
        vote = db.session.get(Vote, vote_id)
        tally = {option.kind.value: option.secret_count for option in vote.options}
        assert (vote.turnout, vote.outcome.value) == (1, "rejected")
    assert tally["yes"] == 0 and tally["no"] == 1
    # The vote page, still open in the member's browser, shows the result and forgets the
    # receipt, which could now only say how this browser voted.
    expect(member.locator("[data-vote]")).to_have_attribute("data-status", "closed")
    member.wait_for_function(
        "(id) => !Object.keys(localStorage).some((k) => k.includes(`vote:${id}:`))", arg=vote_id)
    screenshot(member, tmp_path, "votes-4-secret-closed")


# --- a roll-call vote that shows its tally --------------------------------------------------------

def test_a_running_tally_moves_on_the_vote_page_and_the_roll_call_follows(person, room, factories, tmp_path):
    _, chair = person(room.cast.chair)
    open_editor(chair, room.recommendation.id)
    vote_id = open_clause_vote(chair, room.op1, tally=True)
    chair.evaluate(MARK)
    with factories.app.app_context():
        options = {o.kind.value: o.id for o in db.session.get(Vote, vote_id).options}
    count = chair.locator(f"[data-vote] [data-vote-tally='{options['yes']}']")
    expect(count).to_have_text("0 votes")

    _, member = person(room.cast.member)
    cast_ballot(member, vote_id, "Yes")
    expect(count).to_have_text("1 vote")
    expect_turnout(chair, 1, 4)
    _, second = person(room.voters[1])
    cast_ballot(second, vote_id, "No")
    expect(chair.locator(f"[data-vote] [data-vote-tally='{options['no']}']")).to_have_text("1 vote")
    expect_turnout(chair, 2, 4)
    assert chair.evaluate(STILL_MARKED)

    chair.once("dialog", lambda dialog: dialog.accept())
    chair.get_by_role("button", name="Close the vote").click()
    expect(chair.locator("[data-vote]")).to_have_attribute("data-status", "closed")
    # The member's page, open all along, shows the roll call: who chose what.
    result = member.locator("[data-vote-result]")
    expect(result).to_contain_text("Not adopted")
    expect(result).to_contain_text(room.cast.member.name)
    expect(result).to_contain_text("Second Member")


# --- the console keeps what the chair is typing ---------------------------------------------------

def test_the_console_refreshes_without_losing_the_chairs_typing(person, room, factories):
    token = factories.api_token(room.cast.chair)
    _, chair = person(room.cast.chair)
    open_editor(chair, room.recommendation.id)
    row = console(chair).locator(f"[data-clause-id='{room.op2}']")
    row.locator("summary").click()
    question = row.get_by_label("Question")
    question.fill("Adopt clause 2 as drafted?")
    question.press("Home")

    # Meanwhile a vote on clause 1 opens (from the API, as a script would) and a member votes.
    response = chair.request.post(f"/api/v1/recommendations/{room.recommendation.id}/votes",
                                  headers={"Authorization": f"Bearer {token}"},
                                  data={"subject": "clause", "clause_id": room.op1})
    assert response.ok, response.text()
    vote_id = response.json()["id"]
    expect(console(chair).locator(f"#vote-item-{vote_id}")).to_contain_text(re.compile(r"\b0\s+of\s+4\b"))
    _, member = person(room.cast.member)
    cast_ballot(member, vote_id, "Yes")
    expect(console(chair).locator(f"#vote-item-{vote_id}")).to_contain_text(re.compile(r"\b1\s+of\s+4\b"))

    # The console was replaced twice; the form is still open, with the words and the caret.
    row = console(chair).locator(f"[data-clause-id='{room.op2}']")
    expect(row.locator("details")).to_have_attribute("open", "")
    expect(row.get_by_label("Question")).to_have_value("Adopt clause 2 as drafted?")
    expect(row.get_by_label("Question")).to_be_focused()
    assert chair.evaluate("() => document.activeElement.selectionStart") == 0
    # Clause 1 is locked in the console and in the editor.
    expect(console(chair).locator(f"[data-clause-id='{room.op1}']")).to_have_attribute(
        "data-clause-state", "locked-for-vote")
    expect(editor(chair, room.op1)).to_have_attribute("contenteditable", "false")


# --- the countdown -----------------------------------------------------------------------------

def test_the_countdown_ticks_then_says_closing_until_the_vote_is_closed(person, room, factories, tmp_path):
    context, chair = person(room.cast.chair)
    open_editor(chair, room.recommendation.id)
    vote_id = open_clause_vote(chair, room.op1, minutes=2)
    projector = context.new_page()
    projector.goto(f"/votes/{vote_id}/projector")
    countdown = projector.locator("[data-vote-countdown]")
    expect(countdown).to_have_text(re.compile(r"^(2:00|1:5\d)$"))
    first = countdown.inner_text()
    # It ticks by itself, every second.
    expect(countdown).not_to_have_text(first)
    expect(countdown).to_have_attribute("role", "timer")
    projector.evaluate(MARK)

    # The browser's clock jumps (timers keep running): a minute to go, then past the deadline.
    projector.clock.set_fixed_time(datetime.now() + timedelta(seconds=61))
    expect(countdown).to_have_text(re.compile(r"^0:5\d$"))
    expect(countdown).to_have_attribute("data-state", "ending")
    projector.clock.set_fixed_time(datetime.now() + timedelta(minutes=3))
    expect(countdown).to_have_text("Closing…")
    expect(countdown).to_have_attribute("data-state", "closing")
    screenshot(projector, tmp_path, "votes-5-projector-closing")

    # The server has not seen the deadline pass (its deadline worker is off in tests): the
    # chair closes, and the result replaces "Closing…" without a reload.
    chair.once("dialog", lambda dialog: dialog.accept())
    chair.get_by_role("button", name="Close the vote").click()
    expect(projector.locator("[data-vote]")).to_have_attribute("data-status", "closed")
    expect(projector.locator("[data-vote-countdown]")).to_have_count(0)
    # (Nobody voted: nothing is decided by no one.)
    expect(projector.locator("[data-vote-result]")).to_contain_text("No quorum: nothing decided")
    assert projector.evaluate(STILL_MARKED)
