"""The main pages, checked by axe-core in a real Chromium: nothing a screen reader, a keyboard
or weak eyes would find seriously wrong (axe's impact "serious" or "critical").

axe comes from npm and is bundled by static/src/build.mjs to static/dist/testing/axe.js,
outside the manifest, so no page links it; the test adds it to the page it checks, from the
same origin, which the page's CSP (`script-src 'self'`) allows as it is.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT
from tests.helpers.browser import open_editor, screenshot, sign_in
from tests.helpers.permissions import build_cast

pytestmark = pytest.mark.browser

AXE = ROOT / "static" / "dist" / "testing" / "axe.js"
#: What fails the test; "moderate" and "minor" findings are for a person to weigh.
SERIOUS = {"serious", "critical"}

# Every rule axe has for WCAG 2.x A and AA, and its best practices (landmarks, headings).
RUN_AXE = """async () => {
    const result = await window.axe.run(document, {
        runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                        "best-practice"]},
        resultTypes: ["violations"],
    });
    return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({impact: n.impact, target: n.target.join(" "),
                                    summary: n.failureSummary})),
    }));
}"""


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe's serious and critical findings on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: build the front end first (npm run build)",
                    pytrace=False)
    page.add_script_tag(url="/static/dist/testing/axe.js")
    return [violation for violation in page.evaluate(RUN_AXE) if violation["impact"] in SERIOUS]


def test_the_main_pages_have_no_serious_accessibility_problems(factories, person, page, tmp_path):
    cast, ids = build_cast(factories)
    found: dict[str, list[dict[str, Any]]] = {}

    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    found["sign-in"] = serious_violations(page)

    sign_in(page, cast.chair)
    found["dashboard"] = serious_violations(page)

    page.goto(f"/groups/{ids['group']}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    found["group"] = serious_violations(page)

    # The live editor, once it has replaced the rendered clauses.
    open_editor(page, ids["recommendation"])
    found["recommendation"] = serious_violations(page)
    screenshot(page, tmp_path, "a11y-recommendation")

    page.goto(f"/votes/{ids['open_vote']}")
    expect(page.locator("[data-vote]")).to_be_visible()
    found["vote"] = serious_violations(page)
    screenshot(page, tmp_path, "a11y-vote")

    _context, secretariat = person(cast.secretariat)
    secretariat.goto(f"/conferences/{ids['conference']}/export")
    expect(secretariat.get_by_role("heading", level=1)).to_have_text(re.compile("Outcome document"))
    found["export"] = serious_violations(secretariat)
    screenshot(secretariat, tmp_path, "a11y-export")

    assert {name: violations for name, violations in found.items() if violations} == {}
