"""What the browser tests share: signing in through the form, screenshots to look at,
reading the live editor's own state in the page, and the check that user text left nothing
that runs."""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from models import ClauseKind, Participant, Recommendation, db
from tests.factories import PASSWORD, Cast, Factories

# Outside the repository, so that a person can look at the pages after a run.
SCREENS = Path(tempfile.gettempdir()) / "plenary-screens"
DATABASE = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"


def screenshot(page: Page, tmp_path: Path, name: str, *, prefix: str = "") -> Path:
    """A full-page PNG in the test's tmp_path, and a copy in /tmp/plenary-screens/ (as
    ``<prefix><database>-<name>.png``), for a person to look at."""
    path = tmp_path / f"{prefix}{name}.png"
    page.screenshot(path=path, full_page=True)
    SCREENS.mkdir(exist_ok=True)
    shutil.copy(path, SCREENS / f"{prefix}{DATABASE}-{name}.png")
    return path


def editor_screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    """``screenshot`` of the live editor's tests (``editor-*.png``)."""
    return screenshot(page, tmp_path, name, prefix="editor-")


def sign_in(page: Page, person: Participant, password: str = PASSWORD) -> None:
    """Through the sign-in form, as a person does; ends on the dashboard."""
    page.goto("/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {person.name}")


# The app's own markup has no inline handlers, styles or embedded content (the CSP forbids
# them), so anything of the kind anywhere in <body> came from user text.
LEFTOVERS = """() => {
    const attributes = (element) => [...element.attributes].map((a) => a.name.toLowerCase());
    const describe = (element) => element.outerHTML.slice(0, 200);
    const all = [...document.body.querySelectorAll("*")];
    return {
        xss: typeof window.__xss,
        handlersInProse: [...document.querySelectorAll(".prose *")]
            .filter((e) => attributes(e).some((name) => name.startsWith("on"))).map(describe),
        handlers: all.filter((e) => attributes(e).some((name) => name.startsWith("on"))).map(describe),
        javascriptLinks: [...document.querySelectorAll('a[href^="javascript:" i]')].map(describe),
        otherSchemes: [...document.querySelectorAll("a[href]")]
            .filter((a) => !["http:", "https:", "mailto:"].includes(a.protocol)).map(describe),
        embedded: [...document.body.querySelectorAll(
            "script, iframe, frame, object, embed, img, svg, math, style, link, meta, base, video, "
            + "audio, source, details, marquee, noscript, x, [style], [srcdoc], [formaction]"
        )].filter((e) => !(e.closest(".cm-editor") && e.matches("[style]")))  // CodeMirror's own layout
          // The app's own disclosures (forms folded away) carry a class, which the sanitiser
          // never lets user text have.
          .filter((e) => !e.matches("details[class]"))
          .map(describe),
    };
}"""
CLEAN = {"xss": "undefined", "handlersInProse": [], "handlers": [], "javascriptLinks": [],
         "otherSchemes": [], "embedded": []}


def packed(payloads: list[str], limit: int) -> list[str]:
    """The payloads joined by spaces into as few strings of at most ``limit`` characters as
    fit: one-line fields (titles, names) are short, and escaping is per character anyway."""
    chunks: list[str] = []
    for payload in payloads:
        if chunks and len(chunks[-1]) + 1 + len(payload) <= limit:
            chunks[-1] += " " + payload
        else:
            chunks.append(payload)
    return chunks


# --- the live editor ---

# How long a change may take to reach another browser before the test calls it lost.
WAIT_MS = 5_000

PP1 = "Recognising the contribution of labour migrants,"
OP1 = "Calls upon the participating States to simplify registration;"
OP2 = "Recommends bilateral agreements on social security."

STATUS_SAVED = "Saved"
STATUS_LIVE = "Live"  # what an observer sees instead of "Saved"
STATUS_OFFLINE = "Offline — your edits are kept on this device"

# Read in the page: the editor's own state, not what the DOM happens to draw.
EDITOR_TEXT = "(id) => window.plenaryEditor.views.get(id).view.state.doc.toString()"
PROVIDER_STATUS = "() => window.plenaryEditor.provider.status"
PART_ORDER = """(kind) => [...document.querySelectorAll(`[data-editor-live] #${kind}-heading ~ ol > li`)]
    .map((li) => Number(li.dataset.clauseId))"""


def eventually(page: Page, js: str, arg: Any, expected: Any, timeout: float = WAIT_MS) -> None:
    """Poll ``js(arg)`` (sync or async) in the page until it equals ``expected``, for at most
    ``timeout`` ms; fail with what it was instead. (``wait_for_function`` would take the
    promise of an async function for a truthy answer.)"""
    value = page.evaluate(f"""async ([arg, expected, timeout]) => {{
        const read = {js};
        const deadline = performance.now() + timeout;
        for (;;) {{
            const value = await read(arg);
            if (JSON.stringify(value) === JSON.stringify(expected) || performance.now() > deadline) return value;
            await new Promise((resolve) => setTimeout(resolve, 20));
        }}
    }}""", [arg, expected, timeout])
    assert value == expected, f"still not so after {timeout} ms"


def expect_text(page: Page, clause_id: int, text: str) -> None:
    eventually(page, EDITOR_TEXT, clause_id, text)


def expect_saved(page: Page) -> None:
    """Everything this page has typed is acknowledged by the server, hence durable
    (docs/protocol.md: an update is committed before it is acknowledged)."""
    eventually(page, PROVIDER_STATUS, None, "saved")


def server_clauses(page: Page, recommendation_id: int) -> list[dict[str, Any]]:
    """The clauses as the JSON API has them, asked with this page's session."""
    response = page.request.get(f"/api/v1/recommendations/{recommendation_id}")
    assert response.ok, response.text()
    return response.json()["clauses"]


def server_text(page: Page, recommendation_id: int, clause_id: int) -> str:
    return next(c["text"] for c in server_clauses(page, recommendation_id) if c["id"] == clause_id)


def editor(page: Page, clause_id: int):
    """The CodeMirror content element of a clause: what a person clicks and types into."""
    return page.locator(f"[data-editor-live] #clause-{clause_id} .cm-content")


def open_editor(page: Page, recommendation_id: int, status: str = STATUS_SAVED) -> None:
    """The recommendation's page, once the live editor has replaced the rendered text and
    every clause is in sync with the server."""
    page.goto(f"/recommendations/{recommendation_id}")
    expect(page.locator("[data-editor-live]")).to_be_visible()
    expect(page.locator("[data-editor-status]")).to_have_text(status)
    if status == STATUS_SAVED:
        expect_saved(page)


@dataclass
class Room:
    cast: Cast
    recommendation: Recommendation
    pp1: int
    op1: int
    op2: int


def editor_room(factories: Factories) -> Room:
    """A group (its cast) and a recommendation of three clauses: PP1, OP1, OP2."""
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, title="Protect the rights of labour migrants",
                                              clauses=[(ClauseKind.PREAMBULAR, PP1),
                                                       (ClauseKind.OPERATIVE, OP1),
                                                       (ClauseKind.OPERATIVE, OP2)])
    with factories.app.app_context():
        ids = [c.id for c in db.session.get(Recommendation, recommendation.id).live_clauses]
    return Room(cast, recommendation, *ids)
