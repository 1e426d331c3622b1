"""A delegation voting, in a real Chromium: in a conference that votes by delegation, the head
of Kazakhstan's delegation casts its one ballot from the vote page, a colleague of the same
delegation is told who casts it, the chair closes the vote, and the roll call on the pages
names the delegations (and who cast each ballot), alphabetically from the one drawn by lot.
Nothing waits for a fixed time: ``expect`` waits until the page shows what it should."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from drafting.votes.schemas import VoteOpen
from drafting.votes.services import open_vote
from models import (
    ClauseKind,
    Conference,
    GroupRole,
    Participant,
    Recommendation,
    VotingUnit,
    db,
)
from tests.helpers.browser import screenshot

pytestmark = pytest.mark.browser


def test_the_head_casts_the_delegations_ballot_and_the_roll_call_names_the_delegation(
        person, factories, tmp_path):
    cast = factories.cast()
    draft = factories.recommendation(cast.group, title="Registration of migrant workers", clauses=[
        (ClauseKind.OPERATIVE, "Calls on States to simplify registration;")])
    colleague = factories.member_of(cast.group, GroupRole.MEMBER, name="Aigul Bekova")
    russian = factories.member_of(cast.group, GroupRole.MEMBER, name="Elena Sokolova")
    factories.delegation(cast.conference, "Kazakhstan", members=(cast.member, colleague),
                         head=cast.member)
    factories.delegation(cast.conference, "Russian Federation", members=(russian,), head=russian)
    with factories.app.test_request_context():
        db.session.get(Conference, cast.conference.id).voting_unit = VotingUnit.DELEGATION
        recommendation = db.session.get(Recommendation, draft.id)
        vote = open_vote(db.session.get(Participant, cast.chair.id), recommendation, VoteOpen(
            subject="clause", clause_id=recommendation.live_clauses[0].id))
        db.session.commit()
        vote_id = vote.id

    _, head = person(cast.member)
    head.goto(f"/votes/{vote_id}")
    ballot = head.locator("#ballot")
    expect(ballot.get_by_role("heading", level=2)).to_have_text(
        "The ballot of the delegation of Kazakhstan")
    expect(head.locator("[data-vote-unit]")).to_contain_text("Each delegation: one ballot")
    expect(head.locator("[data-vote] [data-vote-eligible]")).to_have_text("2")
    form = head.locator("form[data-vote-ballot]")
    form.get_by_label("Yes", exact=True).check()
    form.locator("button[type=submit]").click()
    expect(head.locator(".flash").filter(has_text=re.compile("ballot is counted"))).to_be_visible()

    _, other = person(colleague)
    other.goto(f"/votes/{vote_id}")
    expect(other.locator("[data-vote-not-caster]")).to_have_text(
        "The ballot of the delegation of Kazakhstan is cast by Member Person.")
    expect(other.locator("[data-vote-voted]")).to_contain_text("Member Person has cast the delegation’s ballot.")
    expect(other.locator("form[data-vote-ballot]")).to_have_count(0)

    _, voter = person(russian)
    voter.goto(f"/votes/{vote_id}")
    form = voter.locator("form[data-vote-ballot]")
    form.get_by_label("No", exact=True).check()
    form.locator("button[type=submit]").click()
    expect(voter.locator(".flash").filter(has_text=re.compile("ballot is counted"))).to_be_visible()

    _, chair = person(cast.chair)
    chair.goto(f"/votes/{vote_id}")
    chair.once("dialog", lambda dialog: dialog.accept())
    chair.get_by_role("button", name="Close the vote").click()
    expect(chair.locator("[data-vote]")).to_have_attribute("data-status", "closed")
    roll_call = chair.locator("table.vote-roll-call")
    expect(roll_call.locator("thead th")).to_have_text(["Delegation", "Cast by", "Choice", "Reason"])
    rows = roll_call.locator("tbody tr")
    expect(rows).to_have_count(2)
    drawn = chair.locator("[data-vote-drawn]").inner_text().removesuffix(", drawn by lot")
    expected = ["Kazakhstan", "Russian Federation"]
    if drawn == "Russian Federation":
        expected.reverse()
    expect(rows.locator("th")).to_have_text(expected)
    kazakhstan = rows.filter(has=chair.locator("th", has_text="Kazakhstan"))
    expect(kazakhstan.locator("td")).to_have_text(["Member Person", "Yes", ""])
    # The head's page, open all along, shows the same roll call once the vote is closed.
    expect(head.locator("[data-vote-result] table.vote-roll-call tbody th")).to_have_text(expected)
    screenshot(chair, tmp_path, "delegation-roll-call", prefix="delegations-")


def test_the_secretariat_sets_up_a_delegation_on_its_pages(person, factories, tmp_path):
    cast = factories.cast()
    _, secretariat = person(cast.secretariat)
    secretariat.goto(f"/conferences/{cast.conference.id}")
    secretariat.get_by_role("link", name="Delegations").click()
    expect(secretariat.get_by_role("heading", level=1)).to_have_text("Delegations")
    form = secretariat.locator("#new-delegation form")
    form.get_by_label("Name").fill("Kazakhstan")
    form.get_by_label("Kind").select_option("state")
    form.get_by_role("button", name="Create the delegation").click()
    expect(secretariat.get_by_role("heading", level=1)).to_have_text("Delegation of Kazakhstan")
    for who in (cast.member, cast.chair):
        seat = secretariat.locator("#seat form")
        seat.get_by_label("Participant").select_option(label=who.name)
        seat.get_by_role("button", name="Seat in this delegation").click()
        expect(secretariat.locator(f"#seat-{who.id}")).to_be_visible()
    edit = secretariat.locator("#edit form")
    edit.get_by_label("Head of delegation").select_option(label=cast.member.name)
    edit.get_by_label("Designated voter").select_option(label=cast.chair.name)
    edit.get_by_role("button", name="Save changes").click()
    expect(secretariat.locator(f"#seat-{cast.member.id}")).to_contain_text("Head of delegation")
    expect(secretariat.locator(f"#seat-{cast.chair.id}")).to_contain_text("Designated voter")
    screenshot(secretariat, tmp_path, "delegation-page", prefix="delegations-")
    secretariat.get_by_role("link", name="Delegations").last.click()
    unit = secretariat.locator("#voting-unit form")
    unit.get_by_label("Who casts the ballots").select_option("delegation")
    unit.get_by_role("button", name="Save").click()
    expect(secretariat.locator("[data-voting-unit]")).to_have_attribute("data-voting-unit", "delegation")
    expect(secretariat.locator("#delegations-heading + .table-wrap tbody tr")).to_contain_text(
        ["Kazakhstan"])
    screenshot(secretariat, tmp_path, "delegations-index", prefix="delegations-")
    # The group's members show their delegation beside their name.
    secretariat.goto(f"/groups/{cast.group.id}")
    expect(secretariat.locator(f"[data-delegation-of='{cast.member.id}']")).to_have_text("Kazakhstan")
