"""The plenary adopts the whole document; the Chair's summary.

After the groups, the conference adopts the outcome document in plenary, by its rule
(``drafting.conferences.plenary``: consensus by default; a vote needs two thirds of those
present and voting). The secretariat records the decision, which gives the adoption line that
every format of the document prints ("Adopted at the closing plenary meeting, Astana, 25 June
2009"), and finalising needs it. Text a group could not agree can go into a Chair's summary,
printed apart after the adopted text and saying it was not adopted.
"""
from __future__ import annotations

import io
import json
import re
from typing import Any

import docx
import jsonschema
import pytest
from flask_babel import force_locale

from drafting.conferences.plenary import Counts, PlenaryDecision, Refusal, plenary_decision
from drafting.export import render_docx, render_html, render_json, render_md, render_pdf
from drafting.export.outline import compile_outline
from models import AdoptionMethod, Conference, PlenaryAdoption, RulesOfProcedure, VoteRule, WorkingGroup, db
from tests import rows
from tests.helpers.exports import export_world, final_quickly, settle, stored, wait_for  # noqa: F401 - fixtures
from tests.helpers.html import assert_inert
from tests.helpers.pages import read

LINE = "Adopted at the closing plenary meeting, Astana, 25 June 2009"
LINE_RU = "Принят на заключительном пленарном заседании, Астана, 25 июня 2009 года"
SUMMARY = "The chair notes that the group could not agree on *remittances*."
NOTE = ("Issued under the Chair’s own responsibility. It was not adopted by the conference "
        "and is not part of the adopted text above.")

CONSENSUS, VOTE = AdoptionMethod.CONSENSUS, AdoptionMethod.VOTE


# --- the rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "counts", "expected"), [
    # By consensus: nobody objected, nothing is counted.
    (CONSENSUS, None, PlenaryDecision(True)),
    (CONSENSUS, Counts(10, 0, 0), PlenaryDecision(False, Refusal.COUNTS_WITH_CONSENSUS)),
    # A vote has its counts, none below zero, and someone voting yes or no.
    (VOTE, None, PlenaryDecision(False, Refusal.COUNTS_MISSING)),
    (VOTE, Counts(-1, 0, 0), PlenaryDecision(False, Refusal.NEGATIVE)),
    (VOTE, Counts(3, 1, -2), PlenaryDecision(False, Refusal.NEGATIVE)),
    (VOTE, Counts(0, 0, 12), PlenaryDecision(False, Refusal.NOBODY_VOTED)),
    # Two thirds of those present and voting: exactly two thirds carries, a vote less does not.
    (VOTE, Counts(2, 1, 0), PlenaryDecision(True)),
    (VOTE, Counts(20, 10, 0), PlenaryDecision(True)),
    (VOTE, Counts(19, 10, 0), PlenaryDecision(False, Refusal.NOT_CARRIED)),
    (VOTE, Counts(1, 1, 0), PlenaryDecision(False, Refusal.NOT_CARRIED)),
    (VOTE, Counts(0, 5, 0), PlenaryDecision(False, Refusal.NOT_CARRIED)),
    # Abstentions are not among those voting, however many.
    (VOTE, Counts(2, 1, 100), PlenaryDecision(True)),
    (VOTE, Counts(1, 0, 40), PlenaryDecision(True)),
    (VOTE, Counts(45, 0, 0), PlenaryDecision(True)),
])
def test_the_plenary_s_rule(method, counts, expected):
    assert plenary_decision(method, counts) == expected


MAJORITY = RulesOfProcedure(decision_rule=VoteRule.SIMPLE_MAJORITY)
ABSOLUTE = RulesOfProcedure(fallback_rule=VoteRule.ABSOLUTE_MAJORITY)
CONSENSUS_ONLY = RulesOfProcedure(fallback_rule=None)


@pytest.mark.parametrize(("rules", "counts", "expected"), [
    # The conference votes by simple majority: more yes than no.
    (MAJORITY, Counts(3, 2, 10), PlenaryDecision(True)),
    (MAJORITY, Counts(2, 2, 0), PlenaryDecision(False, Refusal.NOT_CARRIED)),
    # After a failed consensus, by an absolute majority of those present.
    (ABSOLUTE, Counts(6, 0, 5), PlenaryDecision(True)),
    (ABSOLUTE, Counts(5, 0, 5), PlenaryDecision(False, Refusal.NOT_CARRIED)),
    # Consensus only: no vote adopts it, whatever the counts.
    (CONSENSUS_ONLY, Counts(45, 0, 0), PlenaryDecision(False, Refusal.NO_VOTING)),
])
def test_the_plenary_votes_by_the_conference_s_rules_of_procedure(rules, counts, expected):
    assert plenary_decision(VOTE, counts, rules) == expected
    assert plenary_decision(CONSENSUS, None, rules) == PlenaryDecision(True)


# --- recording the plenary's adoption -----------------------------------------------------------


class Closing:
    """The export world, with tokens: the secretariat records, the chair may not."""

    def __init__(self, app, world, factories) -> None:
        self.app, self.world = app, world
        self.client = app.test_client()
        self.tokens = {role: factories.api_token(getattr(world.cast, role))
                       for role in ("secretariat", "chair", "member")}
        self.base = f"/api/v1/conferences/{world.conference}"

    def call(self, method: str, path: str, body: Any = None, role: str = "secretariat") -> Any:
        return self.client.api(method, self.base + path, body, token=self.tokens[role])

    def ok(self, method: str, path: str, body: Any = None, status: int = 200, **kw: Any) -> Any:
        response = self.call(method, path, body, **kw)
        assert response.status_code == status, response.get_data(as_text=True)[:1500]
        return response.get_json()


@pytest.fixture
def closing(app, world, factories) -> Closing:
    with app.app_context():
        db.session.get(Conference, world.conference).venue = "Astana"
        db.session.commit()
    return Closing(app, world, factories)


def refused(response: Any, status: int, words: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    error = response.get_json()["error"]
    assert words in error["message"], error
    return error


def unchanged(app):
    return rows.unchanged(app, (Conference, PlenaryAdoption))


def test_the_plenary_adopts_once_nothing_is_pending(app, closing):
    adoption = {"adopted_on": "2009-06-25", "method": "consensus"}
    with unchanged(app):
        error = refused(closing.call("PUT", "/plenary-adoption", adoption), 409,
                        "The plenary cannot adopt the outcome document while anything is pending")
        assert "Still being drafted" in error["message"]  # it names what is pending
        refused(closing.call("GET", "/plenary-adoption"), 404, "has not been recorded")
    settle(app, closing.world, adopt=False)
    recorded = closing.ok("PUT", "/plenary-adoption", adoption)
    assert recorded["line"] == LINE and recorded["how"] == "Adopted by consensus."
    assert recorded["place"] == "Astana" and recorded["meeting"] == ""  # the defaults
    assert recorded["method"] == "consensus" and recorded["votes_yes"] is None
    assert recorded["recorded_by"]["id"] == closing.world.cast.secretariat.id
    # Every participant of the conference may read it; only the secretariat records it.
    assert closing.ok("GET", "/plenary-adoption", role="member") == recorded
    with unchanged(app):
        refused(closing.call("PUT", "/plenary-adoption", adoption, role="chair"), 403,
                "Only the secretariat records")
        refused(closing.call("DELETE", "/plenary-adoption", role="chair"), 403,
                "Only the secretariat records")


def test_the_record_says_when_where_and_how(app, closing):
    settle(app, closing.world, adopt=False)
    cases = [
        # Within the conference's dates.
        ({"adopted_on": "2009-06-26"}, 400, "The plenary meets during the conference", "adopted_on"),
        ({"adopted_on": "2009-06-23"}, 400, "The plenary meets during the conference", "adopted_on"),
        ({"adopted_on": "25 June"}, 400, "", "adopted_on"),
        # Consensus counts nothing; a vote has its counts.
        ({"votes_yes": 3}, 400, "Consensus counts nothing", "votes_yes"),
        ({"method": "vote"}, 400, "A vote is recorded with its counts", "votes_yes"),
        ({"method": "vote", "votes_yes": -1, "votes_no": 0, "votes_abstain": 0}, 400, "", "votes_yes"),
        # A vote that did not carry adopts nothing.
        ({"method": "vote", "votes_yes": 19, "votes_no": 10, "votes_abstain": 4}, 409,
         "The vote does not carry: 19 in favour is not two thirds of the 29 present and voting",
         "votes_yes"),
        ({"method": "show of hands"}, 400, "", "method"),
        ({"place": "x" * 301}, 400, "", "place"),
    ]
    for fields, status, words, field in cases:
        with unchanged(app):
            error = refused(closing.call("PUT", "/plenary-adoption",
                                         {"adopted_on": "2009-06-25", **fields}), status, words)
            assert field in error.get("fields", {}), error
    recorded = closing.ok("PUT", "/plenary-adoption", {
        "adopted_on": "2009-06-24", "place": "Almaty", "meeting": "the 3rd plenary meeting",
        "method": "vote", "votes_yes": 20, "votes_no": 10, "votes_abstain": 2})
    assert recorded["line"] == "Adopted at the 3rd plenary meeting, Almaty, 24 June 2009"
    assert recorded["how"] == "Adopted by a vote of 20 in favour and 10 against, with 2 abstentions."
    # Corrected: one record per conference, the last one stands.
    again = closing.ok("PUT", "/plenary-adoption", {"adopted_on": "2009-06-25"})
    assert again["line"] == LINE and again["votes_yes"] is None
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PlenaryAdoption)) == 1
    # Withdrawn (made in error): finalising needs it again.
    assert closing.call("DELETE", "/plenary-adoption").status_code == 204
    refused(closing.call("DELETE", "/plenary-adoption"), 404, "has not been recorded")


def test_finalising_needs_the_plenary_s_adoption_of_this_very_text(app, closing, quick_final):
    settle(app, closing.world, adopt=False)
    with unchanged(app):
        refused(closing.call("POST", "/finalise"), 409,
                "cannot be finalised before the plenary has adopted it")
    closing.ok("PUT", "/plenary-adoption", {"adopted_on": "2009-06-25"})
    # The adopted text changes afterwards (a group's mandate heads its section).
    with app.app_context():
        db.session.get(WorkingGroup, closing.world.group).mandate = "A new mandate."
        db.session.commit()
    with unchanged(app):
        refused(closing.call("POST", "/finalise"), 409,
                "The adopted text changed after the plenary's adoption was recorded (25 June 2009)")
    browser = app.test_client()
    browser.sign_in(closing.world.cast.secretariat)
    page = read(browser.get(f"/conferences/{closing.world.conference}/export"))
    assert "record the plenary’s adoption again" in page.text_of("plenary")
    closing.ok("PUT", "/plenary-adoption", {"adopted_on": "2009-06-25"})
    job = closing.ok("POST", "/finalise", status=202)
    assert wait_for(closing.client, job["id"], api_token=closing.tokens["secretariat"])[-1][
        "status"] == "finished"
    # The final files carry the line; the record can no longer change.
    assert LINE in stored(app, closing.world.conference)["md"].data.decode()
    for method, path, body in (("PUT", "/plenary-adoption", {"adopted_on": "2009-06-24"}),
                               ("DELETE", "/plenary-adoption", None),
                               ("PUT", "/chairs-summary", {"text": "Late."})):
        refused(closing.call(method, path, body), 409, "This conference is closed")


# --- the Chair's summary -----------------------------------------------------------------------


def test_the_chair_s_summary_is_written_by_the_secretariat(app, closing, xss_payloads):
    assert closing.ok("GET", "/chairs-summary", role="member") == {
        "conference_id": closing.world.conference, "text": "", "text_html": ""}
    written = closing.ok("PUT", "/chairs-summary", {"text": f"  {SUMMARY}  "})
    assert written["text"] == SUMMARY and "<em>remittances</em>" in written["text_html"]
    with unchanged(app):
        refused(closing.call("PUT", "/chairs-summary", {"text": "Mine."}, role="chair"), 403,
                "Only the secretariat records")
        refused(closing.call("PUT", "/chairs-summary", {"text": "x" * 50001}), 400, "too long")
        refused(closing.call("PUT", "/chairs-summary", {"body": "x"}), 400, "")
    for payload in xss_payloads:
        assert_inert(closing.ok("PUT", "/chairs-summary", {"text": payload})["text_html"])
    # Every format of the document shows it sanitised (one payload after another, all at once).
    closing.ok("PUT", "/chairs-summary", {"text": "\n\n".join(xss_payloads)})
    with app.test_request_context():
        outline = compile_outline(db.session.get(Conference, closing.world.conference))
        assert_inert(outline.chairs_summary.html)
        html = render_html.render(outline).decode()
    # The sanitiser's HTML, as it is, and only there.
    assert html.count(outline.chairs_summary.html) == 1
    assert outline.chairs_summary.html in html[html.index('id="chairs-summary"'):]
    assert closing.ok("PUT", "/chairs-summary", {"text": ""})["text"] == ""


# --- in every format -----------------------------------------------------------------------------


def _outline(app, world, locale: str = "en") -> Any:
    with app.test_request_context(), force_locale(locale):
        return compile_outline(db.session.get(Conference, world.conference))


@pytest.fixture
def adopted(app, closing) -> Any:
    """Settled, adopted in plenary by consensus at Astana on 25 June 2009, with a summary."""
    settle(app, closing.world, adopt=False)
    closing.ok("PUT", "/plenary-adoption", {"adopted_on": "2009-06-25"})
    closing.ok("PUT", "/chairs-summary", {"text": SUMMARY})
    return closing.world


def _in_order(text: str, *words: str) -> None:
    """Each of ``words`` in ``text`` after the one before it (a table of contents may name
    them earlier)."""
    at = 0
    for word in words:
        found = text.find(word, at)
        assert found >= 0, f"{word!r} after {text[max(0, at - 80):at]!r}"
        at = found + len(word)


def test_html_prints_the_line_after_the_adopted_text_and_the_summary_apart(app, adopted):
    with app.test_request_context():
        html = render_html.render(_outline(app, adopted)).decode()
    flat = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    _in_order(flat, "On ethnic migration", LINE, "Adopted by consensus.", "Chair’s summary",
              NOTE, "The chair notes that the group could not agree on remittances",
              "Annex A: Record of decisions")
    assert '<a href="#chairs-summary">Chair’s summary (not adopted)</a>' in html
    assert html.count(LINE) == 1


def test_markdown_and_json_print_them_too(app, adopted):
    outline = _outline(app, adopted)
    with app.test_request_context():
        markdown = render_md.render(outline).decode()
        document = json.loads(render_json.render(outline))
    _in_order(markdown, "On ethnic migration", f"*{LINE}*", "## Chair’s summary", NOTE,
              "*remittances*", "## Annex A")
    jsonschema.validate(document, render_json.load_schema())
    assert document["adoption"] == {
        "adopted_on": "2009-06-25", "place": "Astana", "meeting": "", "method": "consensus",
        "votes": None, "line": LINE, "how": "Adopted by consensus."}
    assert document["chairs_summary"]["markdown"] == SUMMARY
    # A group's section (a chair's draft) has neither; nor a document before them.
    with app.test_request_context():
        section = json.loads(render_json.render(compile_outline(
            db.session.get(Conference, adopted.conference),
            db.session.get(WorkingGroup, adopted.group))))
    assert section["adoption"] is None and section["chairs_summary"] is None
    jsonschema.validate(section, render_json.load_schema())


def test_a_vote_s_counts_are_printed_in_json(app, closing):
    settle(app, closing.world, adopt=False)
    closing.ok("PUT", "/plenary-adoption", {"adopted_on": "2009-06-25", "method": "vote",
                                            "votes_yes": 40, "votes_no": 2, "votes_abstain": 1})
    with app.test_request_context():
        document = json.loads(render_json.render(_outline(app, closing.world)))
    jsonschema.validate(document, render_json.load_schema())
    assert document["adoption"]["votes"] == {"yes": 40, "no": 2, "abstain": 1}
    assert document["adoption"]["how"] == ("Adopted by a vote of 40 in favour and 2 against, "
                                           "with 1 abstention.")
    assert document["chairs_summary"] is None  # none written: none printed


def test_docx_prints_them(app, adopted):
    with app.test_request_context():
        document = docx.Document(io.BytesIO(render_docx.render(_outline(app, adopted))))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    texts = [text for _style, text in paragraphs]
    _in_order("\n".join(texts), LINE, "Adopted by consensus.", "Chair’s summary", NOTE,
              "remittances", "Annex A: Record of decisions")
    assert ("Heading 1", "Chair’s summary") in paragraphs
    assert all(run.italic for p in document.paragraphs if p.text == LINE for run in p.runs)


def test_pdf_prints_them(app, adopted):
    from pypdf import PdfReader

    outline = _outline(app, adopted)
    with app.test_request_context():
        pdf = render_pdf.render(outline)
    reader = PdfReader(io.BytesIO(pdf))
    flat = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
    _in_order(flat, LINE, "Adopted by consensus.", "Chair’s summary", "Issued under the Chair’s own",
              "Annex A: Record of decisions")
    assert "chairs-summary" in reader.named_destinations


def test_the_line_is_in_the_document_s_language(app, adopted, closing):
    """The line's words are the document's language; the place is as the secretariat wrote it
    (here, for a document in Russian, in Russian)."""
    closing.ok("PUT", "/plenary-adoption", {"adopted_on": "2009-06-25", "place": "Астана"})
    outline = _outline(app, adopted, "ru")
    with app.test_request_context(), force_locale("ru"):
        markdown = render_md.render(outline).decode()
        html = render_html.render(outline).decode()
        document = json.loads(render_json.render(outline))
    for text in (markdown, html, document["adoption"]["line"]):
        assert LINE_RU in text
    assert "Принят консенсусом." in markdown
    assert "Резюме Председателя" in markdown


def test_the_export_page_shows_the_closing_plenary_to_the_secretariat(app, adopted):
    client = app.test_client()
    client.sign_in(adopted.cast.secretariat)
    page = read(client.get(f"/conferences/{adopted.conference}/export"))
    assert LINE in page.text_of("plenary")
    assert "remittances" in page.text_of("chairs-summary")
    # The chair's page of the group's section has none of it.
    chair = app.test_client()
    chair.sign_in(adopted.cast.chair)
    section = chair.get(f"/groups/{adopted.group}/export").get_data(as_text=True)
    assert "data-plenary" not in section and "data-chairs-summary" not in section


def test_the_forms_on_the_export_page(app, world, quick_final):
    """Without scripts: a refused form comes back with what was typed and why; a good one is
    recorded."""
    settle(app, world, adopt=False)
    client = app.test_client()
    client.sign_in(world.cast.secretariat)
    path = f"/conferences/{world.conference}"
    late = client.submit(f"{path}/plenary-adoption", {"adopted_on": "2009-07-01",
                                                      "method": "consensus"})
    assert late.status_code == 400
    page = read(late)
    assert "The plenary meets during the conference" in page.text_of("adopted_on-errors")
    assert page.attributes_of("adopted_on")["value"] == "2009-07-01"
    short = client.submit(f"{path}/plenary-adoption", {
        "adopted_on": "2009-06-25", "method": "vote", "votes_yes": "1", "votes_no": "1",
        "votes_abstain": "0"})
    assert short.status_code == 409 and "The vote does not carry" in read(short).text_of("plenary")
    done = client.submit(f"{path}/plenary-adoption", {"adopted_on": "2009-06-25",
                                                      "method": "consensus", "place": ""})
    assert done.status_code == 302 and done.headers["Location"].endswith("/export#plenary")
    saved = client.submit(f"{path}/chairs-summary", {"text": SUMMARY})
    assert saved.status_code == 302
    page = read(client.get(f"{path}/export"))
    assert "Adopted at the closing plenary meeting, Astana, Kazakhstan, 25 June 2009" in page.text_of("plenary")
    assert "Record the plenary’s adoption of this text first" not in page.text_of("final")
    withdrawn = client.submit(f"{path}/plenary-adoption/withdraw")
    assert withdrawn.status_code == 302
    page = read(client.get(f"{path}/export"))
    assert "Record the plenary’s adoption of this text first" in page.text_of("final")
    with app.app_context():
        assert db.session.get(Conference, world.conference).plenary_adoption is None
        assert db.session.get(Conference, world.conference).chairs_summary == SUMMARY



def test_the_plenary_adopts_by_the_conference_s_rules_of_procedure(app, closing):
    settle(app, closing.world, adopt=False)
    rules = closing.ok("GET", "/rules")
    closing.ok("PUT", "/rules", {**rules, "decision_rule": "consensus", "fallback_rule": None})
    vote = {"adopted_on": "2009-06-25", "method": "vote", "votes_yes": 30, "votes_no": 0,
            "votes_abstain": 0}
    with unchanged(app):
        refused(closing.call("PUT", "/plenary-adoption", vote), 409, "by consensus, not by a vote")
    closing.ok("PUT", "/rules", {**rules, "decision_rule": "simple_majority"})
    recorded = closing.ok("PUT", "/plenary-adoption", {**vote, "votes_yes": 16, "votes_no": 15})
    assert (recorded["method"], recorded["votes_yes"]) == ("vote", 16)
