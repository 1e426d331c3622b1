"""Square brackets mark unagreed text; a clause can be agreed ad referendum.

The one rule (drafting/brackets.py) on every path; the same passages marked wherever the
text is shown (pages, API, exports); nothing bracketed put to a decision, through the API
and the chair's console; the chair's mark "agreed ad referendum", through the API and the
page, beside the clause in every export. Refused requests change no row.
"""
from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

import docx
import pytest
from flask import Flask
from sqlalchemy import func, select

from drafting.brackets import unagreed_passages
from drafting.export import render_docx, render_html, render_json, render_md, render_pdf
from drafting.export.outline import compile_outline
from drafting.markup import render_markdown
from models import (
    Amendment,
    AmendmentStatus,
    Clause,
    ClauseKind,
    ClauseStatus,
    ClauseUpdate,
    Conference,
    Recommendation,
    RecommendationStatus,
    Vote,
    db,
)
from tests import rows
from tests.helpers.html import assert_inert
from tests.helpers.pages import client_as, elements, fetch, read

BRACKETED = "Calls on States to protect migrants [and migrant workers] and [their families];"
AGREED = "Invites the ILO to assist;"
ROLES = ("secretariat", "chair", "member", "observer", "other_chair", "outsider")


def passages(text: str) -> list[str]:
    return [p.text for p in unagreed_passages(text)]


def marked(text: str) -> list[str]:
    """What the rendered Markdown wraps in <mark>, tags inside taken out."""
    html = str(render_markdown(text))
    return [re.sub(r"<[^>]+>", "", inner) for inner in re.findall(r"<mark>(.*?)</mark>", html, re.S)]


# --- the rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("", []),
    ("Calls on States to protect migrant workers;", []),
    ("Protect migrants [and migrant workers];", ["[and migrant workers]"]),
    ("[Calls on] States to [protect] migrants [and workers];",
     ["[Calls on]", "[protect]", "[and workers]"]),
    # Nested: the outermost passage, once.
    ("Protect [[all] migrant workers] now;", ["[[all] migrant workers]"]),
    ("[a [b [c]] d] and [e]", ["[a [b [c]] d]", "[e]"]),
    # A link is not a passage; its text may hold one; its address never.
    ("See [the ILO report](https://www.ilo.org/) on migration;", []),
    ("See [the [2009] report](https://www.ilo.org/);", ["[2009]"]),
    ("See [the report](https://example.org/[x]);", []),
    ("[see [the report](https://www.ilo.org/)]", ["[see [the report](https://www.ilo.org/)]"]),
    ("An image ![chart](https://example.org/c.png) stays out;", []),
    # A bracket written as such.
    ("Article 3 \\[as amended\\] applies;", []),
    ("Article \\[3] applies;", []),
    ("[an escaped \\] inside]", ["[an escaped \\] inside]"]),
    # Code spans show brackets as code.
    ("Use `[x]` literally and [y];", ["[y]"]),
    ("Use ``a ` [x]`` literally;", []),
    # Across lines of one paragraph, but not across a blank line; a stray bracket is text.
    ("Protect [migrant\nworkers] now;", ["[migrant\nworkers]"]),
    ("Protect [migrant\n\nworkers] now;", []),
    ("A stray [ bracket that nothing closes;", []),
    ("A stray ] bracket;", []),
    ("Unbalanced [[a] b", ["[a]"]),
    # Cyrillic and other scripts.
    ("рекомендуют [и трудящимся-мигрантам] обеспечить;", ["[и трудящимся-мигрантам]"]),
    ("«[женщин-мигрантов]» и [家族] 🌍", ["[женщин-мигрантов]", "[家族]"]),
])
def test_passages(text, expected):
    assert passages(text) == expected
    for passage in unagreed_passages(text):
        assert text[passage.start:passage.end] == passage.text


@pytest.mark.parametrize(("text", "shown"), [
    ("Protect migrants [and migrant workers];", ["[and migrant workers]"]),
    ("[a] [b] [c]", ["[a]", "[b]", "[c]"]),
    ("Protect [[all] migrant workers] now;", ["[[all] migrant workers]"]),
    ("See [the [2009] report](https://www.ilo.org/);", ["[2009]"]),
    ("[see [the report](https://www.ilo.org/)]", ["[see the report]"]),
    ("Article 3 \\[as amended\\] applies;", []),
    ("Use `[x]` literally and [y];", ["[y]"]),
    ("Protect [migrant\nworkers] now;", ["[migrant\nworkers]"]),
    ("Protect [migrant\n\nworkers] now;", []),
    ("рекомендуют [и *трудящимся*-мигрантам] обеспечить;", ["[и трудящимся-мигрантам]"]),
    ("- [first item]\n- second [item]", ["[first item]", "[item]"]),
    ("> [quoted]", ["[quoted]"]),
])
def test_the_markup_marks_the_same_passages(text, shown):
    assert marked(text) == shown
    assert len(passages(text)) == len(shown)


def test_a_mark_keeps_its_brackets_and_the_formatting_inside():
    html = str(render_markdown("Protect [*all* migrant workers];"))
    assert "<mark>[<em>all</em> migrant workers]</mark>" in html


def test_the_corpus_stays_inert_in_brackets_and_found_passages_are_the_text(xss_payloads):
    for payload in xss_payloads:
        for text in (payload, f"[{payload}]", f"Protect [and {payload} workers];",
                     f"[[{payload}] b]"):
            for passage in unagreed_passages(text):
                assert text[passage.start:passage.end] == passage.text
            assert_inert(str(render_markdown(text)))


def test_mark_carries_no_attribute():
    html = str(render_markdown('<mark class="x" onclick="alert(1)">[y]</mark>'))
    assert "onclick" not in html and "class" not in html


# --- the API and the pages: nothing bracketed is put to a decision -----------------------------


@pytest.fixture
def world(factories):
    cast = factories.cast()
    draft = factories.recommendation(cast.group, title="Protecting migrant workers")
    bracketed = factories.clause(draft, text=BRACKETED)
    agreed = factories.clause(draft, text=AGREED, position=2)
    tokens = {role: factories.api_token(getattr(cast, role)) for role in ROLES}
    return {"cast": cast, "recommendation": draft.id, "bracketed": bracketed.id,
            "agreed": agreed.id, "tokens": tokens}


@pytest.fixture
def unchanged(app) -> Callable[[], Any]:
    return lambda: rows.unchanged(app, (Vote, Clause, Amendment, Recommendation, ClauseUpdate))


def call(client, world, role: str, method: str, path: str, body: Any = None) -> Any:
    return client.api(method, "/api/v1" + path, body, token=world["tokens"][role])


def refusal(response: Any, status: int, field: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    error = response.get_json()["error"]
    assert error["code"] == ("invalid" if status == 400 else error["code"])
    assert error["fields"][field]
    return str(error["message"])


def open_vote(client, world, body: dict[str, Any]) -> Any:
    return call(client, world, "chair", "POST", f"/recommendations/{world['recommendation']}/votes",
                {**body})


def test_a_clause_in_brackets_is_not_put_to_the_vote(client, world, unchanged):
    with unchanged():
        message = refusal(open_vote(client, world, {"subject": "clause",
                                                    "clause_id": world["bracketed"]}),
                          400, "clause_id")
    assert message == ("The clause still has text in square brackets: “[and migrant workers]”, "
                       "“[their families]”. Agree on it first.")
    # The agreed clause next to it is.
    assert open_vote(client, world, {"subject": "clause", "clause_id": world["agreed"]}).status_code == 201


def test_once_the_brackets_are_gone_the_clause_is_voted(client, world):
    agreed = BRACKETED.replace("[", "").replace("]", "")
    assert call(client, world, "member", "PATCH", f"/clauses/{world['bracketed']}",
                {"text": agreed}).status_code == 200
    response = open_vote(client, world, {"subject": "clause", "clause_id": world["bracketed"]})
    assert response.status_code == 201, response.get_data(as_text=True)
    # Brackets a writer means literally are no obstacle.
    assert call(client, world, "member", "PATCH", f"/clauses/{world['agreed']}",
                {"text": "Invites the ILO \\[as agreed\\] to assist;"}).status_code == 200
    assert open_vote(client, world, {"subject": "clause",
                                     "clause_id": world["agreed"]}).status_code == 201


def test_no_wording_in_brackets_is_offered(app, client, factories, world, unchanged):
    with app.app_context():
        clause = db.session.get(Clause, world["agreed"])
    amendment = factories.amendment(clause, world["cast"].member, text="Invites [the IOM and] the ILO;",
                                    status=AmendmentStatus.TO_BE_VOTED)
    with unchanged():
        message = refusal(open_vote(client, world, {"subject": "wordings",
                                                    "clause_id": world["agreed"]}),
                          400, "clause_id")
    assert message == (f"Amendment {amendment.id} still has text in square brackets: "
                       "“[the IOM and]”. Agree on it first.")


def test_an_amendment_may_still_be_voted_on_a_clause_in_brackets(client, factories, app, world):
    """Adopting an amendment changes the text; it adopts nothing."""
    with app.app_context():
        clause = db.session.get(Clause, world["bracketed"])
    amendment = factories.amendment(clause, world["cast"].member,
                                    text="Calls on States to protect migrants and [their families];",
                                    status=AmendmentStatus.TO_BE_VOTED)
    response = open_vote(client, world, {"subject": "amendment", "amendment_id": amendment.id})
    assert response.status_code == 201, response.get_data(as_text=True)


def test_the_whole_recommendation_is_refused_while_a_clause_is_in_brackets(app, client, world,
                                                                        unchanged):
    # As a clause adopted before the rule existed would be.
    with app.app_context():
        for clause in db.session.scalars(select(Clause).where(
                Clause.recommendation_id == world["recommendation"])):
            clause.status = ClauseStatus.ADOPTED
        db.session.commit()
    with unchanged():
        message = refusal(open_vote(client, world, {"subject": "recommendation"}), 400, "subject")
    assert message.startswith("Clause 1 still has text in square brackets: “[and migrant workers]”")


def test_the_console_shows_the_refusal(app, world):
    chair = client_as(app, world["cast"], "chair")
    response = chair.submit(f"/recommendations/{world['recommendation']}/votes", {
        "subject": "clause", "clause_id": str(world["bracketed"]),
        "ballot": "roll_call"})
    assert response.status_code == 400
    page = read(response)
    text = " ".join(page.text_of("main").split())
    assert ("The clause still has text in square brackets: “[and migrant workers]”, "
            "“[their families]”. Agree on it first.") in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_pages_and_api_mark_the_passages(app, client, world):
    body = call(client, world, "member", "GET", f"/recommendations/{world['recommendation']}").get_json()
    bracketed = next(c for c in body["clauses"] if c["id"] == world["bracketed"])
    assert "<mark>[and migrant workers]</mark>" in bracketed["text_html"]
    page = client_as(app, world["cast"], "member").get(f"/recommendations/{world['recommendation']}")
    assert "<mark>[and migrant workers]</mark>" in page.get_data(as_text=True)


# --- agreed ad referendum ------------------------------------------------------------------


def test_the_chair_marks_and_unmarks_a_clause_ad_referendum(app, client, world):
    path = f"/clauses/{world['agreed']}/ad-referendum"
    marked_clause = call(client, world, "chair", "POST", path).get_json()
    assert marked_clause["ad_referendum"] is True
    recommendation = call(client, world, "member", "GET",
                          f"/recommendations/{world['recommendation']}").get_json()
    assert [c["ad_referendum"] for c in recommendation["clauses"]] == [False, True]
    # Twice is harmless.
    assert call(client, world, "chair", "POST", path).get_json()["ad_referendum"] is True
    assert call(client, world, "chair", "DELETE", path).get_json()["ad_referendum"] is False
    assert fetch(app, Clause, world["agreed"]).ad_referendum is False
    # The text's history is untouched: only the text the clause started with (stored when
    # its document is first read), and nothing more for marking it again.
    history_path = f"/clauses/{world['agreed']}/history"
    history = call(client, world, "member", "GET", history_path).get_json()
    assert [session["author"] for session in history["sessions"]] in ([], [None])
    call(client, world, "chair", "POST", path)
    call(client, world, "chair", "DELETE", path)
    assert call(client, world, "member", "GET", history_path).get_json() == history


@pytest.mark.parametrize("role", ["secretariat", "member", "observer"])
def test_only_the_chair_marks_ad_referendum(client, world, role, unchanged):
    with unchanged():
        response = call(client, world, role, "POST", f"/clauses/{world['agreed']}/ad-referendum")
    assert response.status_code == 403


def test_a_clause_in_brackets_is_not_agreed_ad_referendum(client, world, unchanged):
    with unchanged():
        message = refusal(call(client, world, "chair", "POST",
                               f"/clauses/{world['bracketed']}/ad-referendum"), 400, "ad_referendum")
    assert "“[and migrant workers]”" in message


def test_adopted_and_deleted_clauses_keep_their_mark(app, client, world, unchanged):
    with app.app_context():
        db.session.get(Clause, world["agreed"]).status = ClauseStatus.ADOPTED
        db.session.commit()
    with unchanged():
        assert call(client, world, "chair", "POST",
                    f"/clauses/{world['agreed']}/ad-referendum").status_code == 409
    assert call(client, world, "member", "DELETE", f"/clauses/{world['bracketed']}").status_code == 204
    with unchanged():
        assert call(client, world, "chair", "POST",
                    f"/clauses/{world['bracketed']}/ad-referendum").status_code == 404


def test_open_editors_are_told(app, world, monkeypatch):
    from drafting.recommendations import services

    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr("drafting.editing.services.queue_event",
                        lambda name, payload, **_kw: sent.append((name, payload)))
    with app.test_request_context():
        clause = db.session.get(Clause, world["agreed"])
        chair = db.session.merge(world["cast"].chair)
        services.set_ad_referendum(chair, clause, True)
        db.session.commit()
    (name, payload), = sent
    assert name == "clauses_changed"
    assert {c["id"]: c["ad_referendum"] for c in payload["clauses"]} == {
        world["bracketed"]: False, world["agreed"]: True}


def test_the_page_shows_and_the_chair_toggles_the_mark(app, world):
    chair = client_as(app, world["cast"], "chair")
    response = chair.submit(f"/clauses/{world['agreed']}/ad-referendum")
    assert response.status_code == 302
    page = read(chair.get(f"/recommendations/{world['recommendation']}"))
    assert "Agreed ad referendum" in page.text_of(f"clause-{world['agreed']}")
    assert "Agreed ad referendum" in page.text_of(f"vote-clause-{world['agreed']}")
    assert "Agreed ad referendum" not in page.text_of(f"clause-{world['bracketed']}")
    assert elements(page, "form", action=f"/clauses/{world['agreed']}/ad-referendum/clear")
    member = read(client_as(app, world["cast"], "member").get(
        f"/recommendations/{world['recommendation']}"))
    assert not elements(member, "form", action=f"/clauses/{world['agreed']}/ad-referendum/clear")
    assert chair.submit(f"/clauses/{world['agreed']}/ad-referendum/clear").status_code == 302
    assert fetch(app, Clause, world["agreed"]).ad_referendum is False


def test_the_mark_and_the_labels_in_russian(app, world):
    chair = client_as(app, world["cast"], "chair")
    chair.submit(f"/clauses/{world['agreed']}/ad-referendum")
    page = read(chair.get(f"/recommendations/{world['recommendation']}",
                          headers={"Accept-Language": "ru"}))
    assert "Согласовано ad referendum" in page.text_of(f"clause-{world['agreed']}")


# --- exports ---------------------------------------------------------------------------------


@pytest.fixture
def adopted(app, factories) -> int:
    """An adopted recommendation whose first clause has a passage in brackets (as one adopted
    before the rule would), the second agreed ad referendum. The conference's id."""
    cast = factories.cast()
    recommendation = factories.recommendation(
        cast.group, title="Protecting migrant workers", status=RecommendationStatus.ADOPTED,
        clauses=[(ClauseKind.PREAMBULAR, "*Recognising* [the role of] migrants,"),
                 (ClauseKind.OPERATIVE, BRACKETED), (ClauseKind.OPERATIVE, AGREED)])
    with app.app_context():
        clauses = db.session.scalars(select(Clause).where(
            Clause.recommendation_id == recommendation.id).order_by(Clause.kind, Clause.position)).all()
        for clause in clauses:
            clause.status = ClauseStatus.ADOPTED
            clause.ad_referendum = clause.text == AGREED
        db.session.commit()
    return cast.conference.id


def outline_of(app: Flask, conference_id: int) -> Any:
    with app.test_request_context():
        return compile_outline(db.session.get(Conference, conference_id))


def test_html_marks_the_passages_and_the_mark(app, adopted):
    outline = outline_of(app, adopted)
    with app.test_request_context():
        html = render_html.render(outline).decode("utf-8")
    assert "<mark>[and migrant workers]</mark>" in html
    assert "<mark>[the role of]</mark>" in html
    assert ".user mark" in html
    assert html.count("(agreed ad referendum)") == 1
    agreed_clause = re.search(r'<li class="clause clause--operative user"[^>]*>(?:(?!</li>).)*'
                              + re.escape(AGREED) + r"(?:(?!</li>).)*</li>", html, re.S)
    assert agreed_clause and "(agreed ad referendum)" in agreed_clause.group(0)


def test_pdf_highlights_the_passages_and_notes_the_mark(app, adopted):
    """As the HTML does: each passage still in brackets on a highlight (Typst's own, drawn
    behind the text), the ad referendum note once, after its clause."""
    from pypdf import PdfReader

    outline = outline_of(app, adopted)
    with app.test_request_context():
        source = render_pdf.document_source(outline)
        pdf = render_pdf.render(outline)
    for passage in ("[the role of]", "[and migrant workers]", "[their families]"):
        assert f'#highlight(fill: rgb("#fdf0d5"))[#"{passage}";]' in source
    flat = " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "[and migrant workers]" in flat and "[the role of]" in flat
    assert flat.count("(agreed ad referendum)") == 1
    assert flat.index("(agreed ad referendum)") > flat.index(AGREED.rstrip(";."))


def test_docx_highlights_the_passages_and_notes_the_mark(app, adopted):
    outline = outline_of(app, adopted)
    with app.test_request_context():
        document = docx.Document(io.BytesIO(render_docx.render(outline)))
    highlighted = [run.text for p in document.paragraphs for run in p.runs
                   if run.font.highlight_color is not None]
    assert highlighted == ["[the role of]", "[and migrant workers]", "[their families]"]
    texts = [p.text for p in document.paragraphs]
    assert texts[texts.index(AGREED) + 1] == "(agreed ad referendum)"


def test_markdown_keeps_the_brackets_and_json_the_flag(app, adopted):
    outline = outline_of(app, adopted)
    with app.test_request_context():
        markdown = render_md.render(outline).decode("utf-8")
        document = json.loads(render_json.render(outline))
    assert "[and migrant workers] and [their families];" in markdown
    assert f"{AGREED} \\(agreed ad referendum\\)" in markdown
    # Read back, the passages are unagreed again.
    assert "<mark>[and migrant workers]</mark>" in str(render_markdown(markdown))
    clauses = [c for s in document["sections"] for r in s["recommendations"]
               for c in r["preambular"] + r["operative"]]
    assert [(c["text"]["markdown"], c["ad_referendum"]) for c in clauses][-1] == (AGREED, True)
    assert [c["ad_referendum"] for c in clauses].count(True) == 1


def test_the_russian_exports_say_ad_referendum(app, adopted):
    outline = outline_of(app, adopted)
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        html = render_html.render(outline).decode("utf-8")
    assert "(согласовано ad referendum)" in html
