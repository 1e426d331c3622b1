"""What a person sees and does in a real Chromium: signing in, reading a group and its
recommendations, user text that stays text, the language switch, the CSP, the keyboard.

The pages come from ``live_server`` (tests/conftest.py) and the browser from pytest-playwright,
launched on Debian's /usr/bin/chromium. Nothing here waits for a fixed time: ``expect`` waits
until the page shows what it should.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Locator, Page, expect

from models import ClauseKind, GroupRole, RecommendationStatus, StakeholderCategory
from tests.factories import PASSWORD
from tests.helpers.browser import CLEAN, LEFTOVERS, packed, screenshot, sign_in

pytestmark = pytest.mark.browser

# --- a chair reads their group and a recommendation -----------------------------------------

def test_chair_reads_group_members_and_numbered_clauses(page, factories, tmp_path):
    cast = factories.cast()
    factories.member_of(cast.group, GroupRole.MEMBER, name="Aigerim Member",
                        category=StakeholderCategory.PARLIAMENTARIAN, affiliation="Mazhilis")
    draft = factories.recommendation(cast.group, title="Protect the rights of labour migrants", clauses=[
        (ClauseKind.PREAMBULAR, "*Recognising* the contribution of labour migrants,"),
        (ClauseKind.PREAMBULAR, "Noting the 2009 economic crisis,"),
        (ClauseKind.OPERATIVE, "**Calls upon** the participating States to simplify registration;"),
        (ClauseKind.OPERATIVE, "Recommends bilateral agreements on social security."),
    ])
    factories.recommendation(cast.group, title="Regional labour market information",
                             status=RecommendationStatus.ADOPTED)
    factories.recommendation(cast.other_group, title="Another group's draft")

    sign_in(page, cast.chair)
    expect(page).to_have_url(re.compile(r"/$"))
    my_groups = page.get_by_role("region", name="My working groups")
    expect(my_groups.get_by_role("link")).to_have_text(["Labour migration"])
    screenshot(page, tmp_path, "1-dashboard")

    my_groups.get_by_role("link", name="Labour migration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Labour migration")
    for role, names in [("Chair", ["Chair Person"]),
                        ("Members", ["Aigerim Member", "Member Person"]),
                        ("Observers", ["Observer Person"])]:
        expect(page.get_by_role("heading", name=role, exact=True, level=3)).to_be_visible()
        table = page.get_by_role("table", name=role, exact=True)
        expect(table.get_by_role("rowheader")).to_have_text(names)
    expect(page.get_by_role("table", name="Members", exact=True)).to_contain_text("Mazhilis")
    expect(page.get_by_role("table", name="Members", exact=True)).to_contain_text("Parliamentarian")
    recommendations = page.get_by_role("table", name="Recommendations")
    expect(recommendations.get_by_role("rowheader")).to_have_text(
        ["Protect the rights of labour migrants", "Regional labour market information"])
    expect(recommendations.locator(".badge")).to_have_text(["Drafting", "Adopted"])
    screenshot(page, tmp_path, "2-group")

    recommendations.get_by_role("link", name=draft.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(draft.title)
    preamble = page.get_by_role("region", name="Preamble")
    operative = page.get_by_role("region", name="Operative part")
    expect(preamble.locator(".clause__number")).to_have_text(["PP1", "PP2"])
    expect(operative.locator(".clause__number")).to_have_text(["1.", "2."])
    expect(preamble.locator(".clause__text")).to_have_text(
        ["Recognising the contribution of labour migrants,", "Noting the 2009 economic crisis,"])
    expect(operative.locator(".clause__text").first).to_have_text(
        "Calls upon the participating States to simplify registration;")
    # Markdown became emphasis, not asterisks.
    # The opening participle in italics, marked or not (DOMAIN.md section 1).
    expect(preamble.locator("em")).to_have_text(["Recognising", "Noting"])
    expect(operative.locator("strong")).to_have_text("Calls upon")
    screenshot(page, tmp_path, "3-recommendation")


# --- user text stays text --------------------------------------------------------------------

# Run in the page after it has loaded: what a payload would leave behind had it got through.
def test_user_text_never_runs_in_the_browser(new_context, factories, xss_payloads):
    """Every payload of tests/data/xss-payloads.txt, in every field a person sees, on every
    page that shows it, leaves no script, handler, dangerous link or dialog behind.

    The CSP is switched off in this browser: escaping and the sanitiser must hold on their
    own (test_csp_refuses_inline_scripts shows the CSP as the second line)."""
    every_payload = "\n\n".join(xss_payloads)
    chair = factories.participant(name=xss_payloads[-3], affiliation=xss_payloads[-4])
    secretariat = factories.secretariat(name=xss_payloads[-2], affiliation=xss_payloads[-1])
    # (path, the h1 it must show as typed: escaped, neither stripped nor evaluated)
    chair_pages: list[tuple[str, str | None]] = [("/", None)]
    groups, recommendations = [], []
    # The shortest one-line field holds 200 characters (a group's name); the same chunks
    # serve as conference titles and venues and as recommendation titles.
    for chunk in packed(xss_payloads, 200):
        conference = factories.conference(title=chunk, venue=chunk, description=every_payload,
                                          preamble=every_payload)
        group = factories.group(conference, name=chunk, mandate=every_payload)
        factories.membership(group, chair, GroupRole.CHAIR)
        recommendation = factories.recommendation(group, title=chunk)
        # Its edit page shows every payload in the textarea, and the title in the heading.
        clause = factories.clause(recommendation, kind=ClauseKind.PREAMBULAR, text=every_payload)
        chair_pages += [(f"/conferences/{conference.id}", chunk), (f"/groups/{group.id}", chunk),
                        (f"/recommendations/{recommendation.id}", chunk),
                        (f"/clauses/{clause.id}/edit", None)]
        groups.append(group)
        recommendations.append(recommendation)
    # One clause per payload, of both kinds, in the first recommendation (visited above).
    for i, payload in enumerate(xss_payloads, start=2):
        factories.clause(recommendations[0], kind=ClauseKind.OPERATIVE if i % 2 else ClauseKind.PREAMBULAR,
                         text=payload, position=i)
    for i, payload in enumerate(xss_payloads):
        factories.member_of(groups[0], GroupRole.OBSERVER if i % 3 == 2 else GroupRole.MEMBER,
                            name=payload, affiliation=payload)
    # The payload people in the first group's tables, and as candidates in the "add a
    # participant" list of another group.
    chair_pages += [(f"/groups/{groups[0].id}/members", None),
                    (f"/groups/{groups[1].id}/members", None)]

    for person, paths in [(chair, chair_pages), (secretariat, [("/admin/participants/", None)])]:
        page = new_context(bypass_csp=True).new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog, dialogs=dialogs: (dialogs.append(dialog.message), dialog.dismiss()))
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        sign_in(page, person)
        for path, heading in paths:
            page.goto(path)
            if heading is not None:
                expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            assert page.evaluate(LEFTOVERS) == CLEAN, path
            assert dialogs == [], path
            assert errors == [], path
    # The secretariat's list shows every name as typed.
    names = page.get_by_role("table").get_by_role("rowheader").get_by_role("link").all_text_contents()
    assert set(xss_payloads) <= {name.strip() for name in names}


# --- the language switch -----------------------------------------------------------------------

def test_choosing_russian_switches_the_page_and_its_dates(page, factories, tmp_path):
    group = factories.group(factories.conference(starts_on=date(2009, 6, 24), ends_on=date(2009, 6, 25)))
    chair = factories.member_of(group, GroupRole.CHAIR)
    sign_in(page, chair)
    page.goto(f"/conferences/{group.conference_id}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".meta")).to_contain_text("24–25 June 2009")

    # No button press: main.js submits the form when the choice changes.
    page.locator("#locale-select").select_option(label="Русский")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page).to_have_url(re.compile(rf"/conferences/{group.conference_id}\??$"))
    expect(page.locator(".meta")).to_contain_text("24–25 июня 2009 года")
    expect(page.get_by_label("Язык")).to_have_value("ru")
    screenshot(page, tmp_path, "4-conference-ru")


# --- the Content Security Policy ---------------------------------------------------------------

# Three ways a script might sneak in once something is in the page: HTML with a <script>
# (never run by insertAdjacentHTML anyway), a script element built by code, an inline handler.
# Resolves when the image has failed to load, after its onerror attribute had its chance.
INLINE_SCRIPT_ATTEMPTS = """() => new Promise((resolve) => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation",
                              (event) => window.__violations.push(event.effectiveDirective));
    document.body.insertAdjacentHTML("beforeend", "<script>window.__inline = 'insertAdjacentHTML'</script>");
    const script = document.createElement("script");
    script.textContent = "window.__inline = 'script element'";
    document.body.appendChild(script);
    document.body.insertAdjacentHTML(
        "beforeend", `<img id="probe" src="/no-such-image" onerror="window.__handler = 'onerror'">`);
    document.getElementById("probe").addEventListener(
        "error", () => resolve([window.__inline ?? null, window.__handler ?? null]));
})"""


def test_csp_refuses_inline_scripts(page, new_context):
    page.goto("/login")
    assert page.evaluate(INLINE_SCRIPT_ATTEMPTS) == [None, None]
    assert page.evaluate("typeof window.__inline") == "undefined"
    # Refused by the CSP, not for some other reason: the browser says which rule it applied.
    page.wait_for_function("window.__violations.includes('script-src-elem')")
    page.wait_for_function("window.__violations.includes('script-src-attr')")

    # The control: the same attempts run when the CSP is ignored, so the check above is real.
    without_csp = new_context(bypass_csp=True).new_page()
    without_csp.goto("/login")
    assert without_csp.evaluate(INLINE_SCRIPT_ATTEMPTS) == ["script element", "onerror"]


# --- the keyboard -------------------------------------------------------------------------------

def settle(page: Page) -> None:
    """Let the browser finish what it does right after load (autofocus happens at the next
    rendering update), as it has by the time a person presses a key. Two frames, no clock."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def tab_to(page: Page, target: Locator, presses: int = 30) -> None:
    """Press Tab until ``target`` has focus, as a keyboard user would."""
    for _ in range(presses):
        if target.evaluate("(element) => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{presses} presses of Tab never reached {target}")


def test_sign_in_with_the_keyboard_alone_then_skip_to_main(page, factories):
    person = factories.participant(name="Keyboard Person")
    page.goto("/login")
    settle(page)
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(person.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Keyboard Person")

    settle(page)
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_skip_link_is_the_first_tab_stop_of_the_sign_in_page(page):
    page.goto("/login")
    settle(page)
    page.keyboard.press("Tab")
    # Focus moves while the key is handled: no need to wait (expect() would, for 5 s, in vain).
    assert page.evaluate("document.activeElement.outerHTML").startswith('<a class="skip-link"')
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


# --- layout: what looking at the pages found ---------------------------------------------------

def test_clause_numbers_stay_on_one_line(page, factories):
    group = factories.group()
    chair = factories.member_of(group, GroupRole.CHAIR)
    recommendation = factories.recommendation(group, clauses=[
        *[(ClauseKind.PREAMBULAR, f"Recalling commitment {n},") for n in range(1, 13)],
        *[(ClauseKind.OPERATIVE, f"Recommends measure {n};") for n in range(1, 13)],
    ])
    sign_in(page, chair)
    page.goto(f"/recommendations/{recommendation.id}")
    numbers = page.locator(".clause__number")
    expect(numbers).to_have_count(24)
    lines = numbers.evaluate_all("""(numbers) => Object.fromEntries(numbers.map((number) => {
        const range = document.createRange();
        range.selectNodeContents(number);
        return [number.textContent.trim(), range.getClientRects().length];
    }))""")
    assert {number: count for number, count in lines.items() if count != 1} == {}


def test_members_page_fits_a_phone_screen(new_context, factories):
    group = factories.group(name="Labour migration")
    chair = factories.member_of(group, GroupRole.CHAIR)
    factories.member_of(group, name="Jean-Baptiste de La Rochefoucauld-Montbel",
                        affiliation="Ministry of Labour and Social Protection of the Population")
    page = new_context(viewport={"width": 375, "height": 800}).new_page()
    sign_in(page, chair)
    page.goto(f"/groups/{group.id}/members")
    expect(page.get_by_role("table", name="Current members")).to_be_visible()
    # The table may scroll inside its own box; the page itself must not.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
