"""Unagreed text in a real Chromium: a member types a passage in square brackets and sees it
highlighted as it is typed; the chair's attempt to put that clause to a vote is refused with
the passage named; the chair marks the other clause agreed ad referendum and the member's
editor shows it without a reload."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from models import ClauseKind, Recommendation, db
from tests.helpers.browser import editor, expect_saved, open_editor, server_text

pytestmark = pytest.mark.browser

OP1 = "Calls upon the participating States to protect migrants"
OP2 = "Recommends bilateral agreements on social security."
REFUSAL = ("The clause still has text in square brackets: “[and migrant workers]”. "
           "Agree on it first.")


def test_brackets_are_highlighted_as_typed_and_keep_the_clause_from_a_vote(person, factories):
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, title="Protect labour migrants",
                                              clauses=[(ClauseKind.OPERATIVE, OP1),
                                                       (ClauseKind.OPERATIVE, OP2)])
    with factories.app.app_context():
        op1, op2 = [c.id for c in db.session.get(Recommendation, recommendation.id).live_clauses]

    _, member = person(cast.member)
    open_editor(member, recommendation.id)
    text = editor(member, op1)
    text.click()
    member.keyboard.press("Control+End")
    member.keyboard.type(" [and migrant workers];")
    highlighted = text.locator(".cm-unagreed")
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_have_text("[and migrant workers]")
    # Visible: it is drawn with a background of its own.
    assert highlighted.evaluate("(el) => getComputedStyle(el).backgroundColor") not in (
        "rgba(0, 0, 0, 0)", "transparent")
    # Not a link: only the brackets' own passage is marked.
    expect_saved(member)
    assert server_text(member, recommendation.id, op1) == f"{OP1} [and migrant workers];"

    _, chair = person(cast.chair)
    open_editor(chair, recommendation.id)
    console = chair.locator("[data-vote-console]")
    row = console.locator(f"[data-clause-id='{op1}']")
    row.locator("summary").click()
    form = row.locator(f"form[data-vote-open-form='clause-{op1}']")
    form.get_by_role("button", name="Put the question").click()
    expect(chair.locator("[data-vote-console]")).to_contain_text(REFUSAL)
    expect(chair).not_to_have_url(re.compile(r"/votes/\d+$"))

    # The other clause is agreed ad referendum: the member's editor says so, live.
    open_editor(chair, recommendation.id)
    chair.locator("[data-vote-console]").get_by_role(
        "button", name="Mark clause 2 agreed ad referendum").click()
    badge = member.locator(f"[data-editor-live] #clause-{op2} .badge--ad-referendum")
    expect(badge).to_have_text("Agreed ad referendum")
    expect(member.locator(f"[data-editor-live] #clause-{op1} .badge--ad-referendum")).to_have_count(0)
