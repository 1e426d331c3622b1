"""The closing plenary in a real Chromium: the secretariat records the plenary's adoption of the
outcome document by consensus on the export page, sees the adoption line the document will
print, finds it in the HTML outcome document, and finalises: a member's page of an adopted
recommendation, open all along, then says that the conference is closed (the
`conference_closed` event) and no longer offers its statement form, without a reload.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from models import Conference, db
from tests.helpers.exports import export_world, final_quickly, settle  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

SCREENS = Path("/tmp/plenary-screens/closing")  # noqa: S108 - a fixed place to look
LINE = "Adopted at the closing plenary meeting, Astana, 25 June 2009"


def test_the_secretariat_records_the_plenary_s_adoption_and_finalises(app, world, person,
                                                                      quick_final):
    settle(app, world, adopt=False)
    _context, page = person(world.cast.secretariat)
    page.goto(f"/conferences/{world.conference}/export")
    plenary = page.locator("#plenary")
    expect(plenary.get_by_role("button", name="Record the adoption")).to_be_visible()
    expect(page.get_by_role("button", name="Finalise", exact=True)).to_be_disabled()
    expect(page.get_by_label("Date of the meeting")).to_have_value("2009-06-25")
    page.get_by_label("Place").fill("Astana")
    expect(page.get_by_label("By consensus: nobody objected")).to_be_checked()
    plenary.get_by_role("button", name="Record the adoption").click()

    expect(page.locator("[data-adoption-line]")).to_have_text(LINE)
    expect(page.locator("[data-adoption-how]")).to_have_text("Adopted by consensus.")
    expect(page.locator(".flash--success")).to_have_text("The plenary's adoption is recorded.")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENS / "plenary-recorded.png", full_page=True)

    # The HTML outcome document prints it after the adopted text.
    preview = page.context.new_page()
    preview.goto(f"/conferences/{world.conference}/export/preview")
    expect(preview.locator("#adoption .adoption-line")).to_have_text(LINE)
    expect(preview.locator("#adoption")).to_contain_text("Adopted by consensus.")
    preview.screenshot(path=SCREENS / "outcome-document.png", full_page=True)
    preview.close()

    # A member reads an adopted recommendation, where they may still make a statement.
    _member_context, member = person(world.cast.member)
    member.goto(f"/recommendations/{world.adopted}")
    expect(member.locator("[data-closed-notice]")).to_be_hidden()
    statement_form = member.locator("[data-statement-form]")
    expect(statement_form).to_be_attached()
    expect(member.locator("[data-editor-status]")).to_be_visible()  # the editor has joined
    member.evaluate("() => { window.plenaryNotReloaded = true; }")

    # Finalising closes the conference.
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_label("I confirm that the outcome document is final.").check()
    page.get_by_role("button", name="Finalise", exact=True).click()
    expect(page.locator("[data-export-documents]")).to_be_visible(timeout=60_000)
    expect(page.locator("[data-closed-notice]")).to_contain_text(
        "This conference is closed: its outcome document was finalised on")
    expect(page.locator("[data-summary-form]")).to_have_count(0)
    with app.app_context():
        assert db.session.get(Conference, world.conference).is_closed

    # The member's page, open all along, says so and offers no statement any more.
    notice = member.locator("[data-closed-notice]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("This conference is closed: its outcome document was finalised on")
    expect(statement_form).to_be_hidden()
    assert member.evaluate("() => window.plenaryNotReloaded === true"), "the page was reloaded"
    member.screenshot(path=SCREENS / "closed-live.png", full_page=True)
    member.reload()
    expect(member.locator("[data-closed-notice]")).to_be_visible()
    expect(member.locator("[data-statement-form]")).to_have_count(0)
