"""Consensus in the room, in a real Chromium, under the practice's rules of procedure
(consensus first, a neutral chair, a majority quorum): the chair seeks consensus from the
console, the question reaches the members as their pages show it, the chair declares it
adopted once it has reached a quorum; a silence procedure is broken by a member's objection,
and the chair's page says so without a reload."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from models import ClauseKind, GroupRole, Recommendation, db
from tests.factories import PRACTICE
from tests.helpers.browser import open_editor, screenshot

pytestmark = pytest.mark.browser

OP1 = "Calls upon the participating States to simplify registration;"
OP2 = "Recommends bilateral agreements on social security."


@pytest.fixture
def room(factories):
    conference = factories.conference(**PRACTICE)
    group = factories.group(conference)
    chair = factories.member_of(group, GroupRole.CHAIR, name="Chair Person")
    members = [factories.member_of(group, GroupRole.MEMBER, name=f"Member {n}") for n in (1, 2, 3)]
    recommendation = factories.recommendation(group, title="Labour migrants",
                                              clauses=[(ClauseKind.OPERATIVE, OP1),
                                                       (ClauseKind.OPERATIVE, OP2)])
    with factories.app.app_context():
        ids = [c.id for c in db.session.get(Recommendation, recommendation.id).live_clauses]
    return chair, members, recommendation.id, ids


def put(chair: Page, clause_id: int, method: str, minutes: int | None = None) -> int:
    """Through the chair's console; ends on the question's page."""
    row = chair.locator(f"[data-vote-console] [data-clause-id='{clause_id}']")
    row.locator("summary").click()
    form = row.locator(f"form[data-vote-open-form='clause-{clause_id}']")
    # The rules of procedure seek consensus first, and say so.
    expect(form.get_by_label(re.compile("^Seek consensus"))).to_be_checked()
    expect(form).to_contain_text("a vote (Two thirds) only after consensus failed on the same text")
    form.get_by_label(re.compile(method)).check()
    if minutes is not None:
        form.get_by_label("Deadline (minutes)").fill(str(minutes))
    form.get_by_role("button", name="Put the question").click()
    expect(chair).to_have_url(re.compile(r"/votes/\d+$"))
    return int(chair.url.rsplit("/", 1)[1])


def test_the_chair_declares_consensus_once_the_question_reached_a_quorum(person, room, tmp_path):
    chair_person, members, recommendation, (op1, _op2) = room
    _context, chair = person(chair_person)
    open_editor(chair, recommendation)
    vote_id = put(chair, op1, "^Seek consensus")
    reached = chair.locator("[data-vote-present-count]")
    expect(reached).to_contain_text("has reached 0 of the 3 members; the quorum is 2")
    # Declaring now is refused, in words.
    chair.once("dialog", lambda dialog: dialog.accept())
    chair.get_by_role("button", name="Declare consensus: adopted").click()
    expect(chair.locator("main")).to_contain_text("The question has reached 0 of the 3 members so far")

    # Two members open the recommendation: the question is before them; their editors say so.
    pages = []
    for member in members[:2]:
        _member_context, page = person(member)
        open_editor(page, recommendation)
        expect(page.locator("[data-vote-console]").get_by_role("link", name=re.compile("^Object"))).to_be_visible()
        pages.append(page)
    chair.goto(f"/votes/{vote_id}")
    expect(chair.locator("[data-vote-present-count]")).to_contain_text("has reached 2 of the 3 members")
    expect(chair.locator("[data-vote-no-objection]")).to_be_visible()
    screenshot(chair, tmp_path, "consensus-1-chair-before-declaring")
    chair.once("dialog", lambda dialog: dialog.accept())
    chair.get_by_role("button", name="Declare consensus: adopted").click()
    expect(chair.locator("[data-vote-result]")).to_contain_text("Adopted")
    expect(chair.locator("[data-vote-result]")).to_contain_text("Declared by Chair Person")
    # The members' consoles show the clause adopted without a reload.
    for page in pages:
        expect(page.locator(f"[data-vote-console] [data-clause-id='{op1}']")).to_have_attribute(
            "data-clause-state", "adopted")
    screenshot(pages[0], tmp_path, "consensus-2-member-console-adopted")


def test_an_objection_breaks_a_silence_procedure(person, room, tmp_path):
    chair_person, members, recommendation, (_op1, op2) = room
    _context, chair = person(chair_person)
    open_editor(chair, recommendation)
    vote_id = put(chair, op2, "^Silence procedure", minutes=60)
    expect(chair.locator("[data-vote-objections]")).to_contain_text("Silence procedure")
    expect(chair.get_by_role("button", name="Declare consensus: adopted")).to_have_count(0)

    _member_context, member = person(members[2])
    member.goto(f"/votes/{vote_id}")
    objection = member.locator("form[data-vote-objection]")
    objection.get_by_label("Reason for the objection (optional)").fill("The bilateral route excludes transit States.")
    screenshot(member, tmp_path, "consensus-3-member-objecting")
    objection.get_by_role("button", name="Object, breaking the silence").click()
    expect(member.locator(".flash")).to_contain_text("Your objection is recorded")
    expect(member.locator("[data-vote-result]")).to_contain_text("No consensus")

    # The chair's page learns it without a reload: the silence is broken, by whom, and why.
    result = chair.locator("[data-vote-result]")
    expect(result).to_contain_text("No consensus")
    expect(result).to_contain_text("Silence broken by Member 3")
    expect(chair.locator("[data-vote-objections]")).to_contain_text("The bilateral route excludes transit States.")
    screenshot(chair, tmp_path, "consensus-4-chair-silence-broken")
