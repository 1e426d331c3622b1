"""The outcome document as Markdown and as JSON: read back, the Markdown has the document's
headings, numbering, italics and tables, and nothing a person wrote turns into a link, an
image or HTML in any Markdown engine; the JSON validates against its published schema and
names every row by its stable id."""
from __future__ import annotations

import itertools
import json
import re
from html.parser import HTMLParser
from typing import Any

import jsonschema
import markdown
import pytest
from sqlalchemy import select

from drafting.export import render_json, render_md
from drafting.export.outline import Text, compile_outline
from drafting.markup import render_markdown
from drafting.votes import services
from drafting.votes.schemas import VoteOpen
from models import ClauseKind, Conference, GroupRole, Vote, WorkingGroup, db
from tests.export_fixture import (
    ADOPTED,
    FIRST,
    LOCAL_FILE,
    MEMBER,
    METADATA,
    XSS,
    export_conference,  # noqa: F401 - the conference fixture
    hostile_outline,
)

# What is checked here does not depend on the database: run once (tests/conftest.py).
pytestmark = pytest.mark.database_independent


def _markdown(conference: Conference, **options: Any) -> str:
    return render_md.render(compile_outline(conference), **options).decode("utf-8")


def _json(conference: Conference, **options: Any) -> dict[str, Any]:
    return json.loads(render_json.render(compile_outline(conference), **options))


# --- reading HTML back --------------------------------------------------------------------

class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _read(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


#: What the document's own Markdown may become: structure and emphasis, no link, no image,
#: no attribute but alignment and list start; ``mark``: the document keeps a passage's square
#: brackets as brackets, which Plenary's own Markdown marks again.
DOCUMENT_TAGS = {"h1", "h2", "h3", "h4", "p", "em", "strong", "ol", "ul", "li", "table", "thead",
                 "tbody", "tr", "th", "td", "blockquote", "hr", "code", "pre", "br", "del",
                 "mark"}


def assert_inert(html: str) -> str:
    """No element or attribute in ``html`` that user text could have brought; its text."""
    read = _read(html)
    for tag, attrs in read.tags:
        assert tag in DOCUMENT_TAGS, (tag, attrs, html)
        for name, _value in attrs:
            assert name in {"align", "start"}, (tag, name, html)
    return "".join(read.text)


def rendered_both_ways(text: str) -> list[str]:
    """The Markdown as the project renders it and as plain Python-Markdown (which lets raw
    HTML through: only the escaping protects it)."""
    return [str(render_markdown(text)),
            markdown.markdown(text, extensions=["tables"]),
            markdown.markdown(text)]


# --- Markdown: structure -------------------------------------------------------------------

def test_markdown_headings_numbering_italics_and_tables(conference):
    text = _markdown(conference)
    lines = text.splitlines()
    headings = [line for line in lines if line.startswith("#")]
    assert headings[0] == "# Migration and security &lt;img src=x onerror=\"window.\\_\\_xss=1\"\\>"
    structure = [h.split(":")[0] for h in headings if h.startswith(("## ", "### Rec"))]
    assert structure == [
        "## Working group 1", "### Recommendation 1.1", "### Recommendation 1.2",
        "## Working group 2", "### Recommendation 2.1",
        "## Annex A", "## Annex B", "## Annex C"]
    assert "### Recommendation 1.2: Recognition of skills" in headings
    assert "## Working group 1: Labour migration" in headings
    # Not final: a draft, though nothing is pending.
    assert lines[0] == "> **DRAFT — not adopted**"
    assert not any("Pending items" in line for line in lines)
    # Recommendation 1.1: the body's name, two preambular paragraphs whose opening
    # participle is in italics, then the operative list.
    start = lines.index(next(h for h in headings if h.startswith("### Recommendation 1.1")))
    end = lines.index("### Recommendation 1.2: Recognition of skills")
    body = [line for line in lines[start + 1:end] if line]
    assert body.pop(0).startswith("The participants in the Conference “Migration and security")
    assert body[0] == "*Recalling* the *Astana* declaration,"
    # Raw HTML in a clause is gone already: the sanitiser's HTML is what is converted.
    assert body[1] == "*Noting* and ,"
    assert body[2] == f"1. {ADOPTED}"
    # A link keeps its words and its address, as text; the parentheses around the address
    # are the document's own.
    assert body[3] == ("2. Invites the IOM to assist \\(see site (http&#58;//169.254.169.254/), "
                       "file&#58;///etc/passwd\\);")
    assert body[4] == "3. Adopts the table:"
    assert body[5:8] == ["    | body | role |", "    | --- | --- |", "    | IOM | a \\| b |"]
    # The venue and organisers under the title, the preamble after them.
    assert "Astana, Kazakhstan  " in lines
    assert any(line.startswith("Organised by OSCE Centre in Astana in co-operation with IOM \\[x\\]") for line in lines)


def test_markdown_renders_as_the_document(conference):
    html = str(render_markdown(_markdown(conference)))
    read = _read(html)
    h2 = re.findall(r"<h2>(.*?)</h2>", html)
    assert [h.split(":")[0] for h in h2] == ["Working group 1", "Working group 2", "Annex A",
                                             "Annex B", "Annex C"]
    assert re.findall(r"<h3>(Recommendation [\d.]+):", html) == [
        "Recommendation 1.1", "Recommendation 1.2", "Recommendation 2.1"]
    assert "<p><em>Recalling</em> the <em>Astana</em> declaration,</p>" in html
    assert "<p><em>Mindful</em> of diversity,</p>" in html
    first_list = html.split("<h3>Recommendation 1.1")[1].split("<h3>")[0]
    items = re.findall(r"<li>\s*(?:<p>)?(.*?)(?:</p>|</li>|\n)", first_list)
    assert items[0] == ADOPTED
    assert items[1].startswith("Invites the IOM")
    assert first_list.count("<li>") == 3 and "<ol>" in first_list
    # The clause's table and the annex tables are tables.
    assert "<td>a | b</td>" in html
    assert sum(1 for tag, _ in read.tags if tag == "table") >= 5


def test_annexes_votes_statements_participants(conference):
    text = _markdown(conference)
    annex_a = text.split("## Annex A")[1].split("## Annex B")[0]
    headings = [line for line in annex_a.splitlines() if line.startswith("### ")]
    votes = db.session.scalars(select(Vote).order_by(Vote.closed_at, Vote.id)).all()
    assert [h.split(" ")[1] for h in headings] == [f"A.{n}" for n in range(1, 14)] and len(votes) == 13
    # One line per decision, the paragraph named as everywhere else.
    assert headings[0] == "### A.1 Recommendation 1.1, operative paragraph 1"
    first = annex_a.split(headings[0])[1]
    assert "**Rejected by a recorded vote of 0 in favour, 3 against, 0 abstentions**" in first
    assert annex_a.count("**Adopted by a secret ballot of 3 in favour, 0 against, 0 abstentions**") == 1
    assert annex_a.count("**Adopted by consensus**") == 3
    assert "### A.13 Recommendation 2.1 as a whole" in annex_a
    # A roll call in full for the recorded votes only: not the secret one, not the consensus.
    assert annex_a.count("| Participant | Choice |") == 9
    assert "clause PP" not in annex_a and "Vote " not in annex_a
    annex_b = text.split("## Annex B")[1].split("## Annex C")[0]
    # The member's reservation is made on behalf of their delegation.
    heading = render_md.escape(f"Reservation by the delegation of Kazakhstan {XSS}")
    assert f"### {heading}: Recommendation 1.1\n" in annex_b
    assert "### Interpretative statement: Recommendation 1.1, operative paragraph 1\n" in annex_b
    assert "Families means *immediate* families." in annex_b
    annex_c = text.split("## Annex C")[1]
    assert "Hidden Person" not in annex_c
    # The member sits in a delegation: listed under it, first; the others by category.
    assert [h for h in annex_c.splitlines() if h.startswith("### ")] == [
        "### " + render_md.escape(f"Kazakhstan {XSS}"), "### Parliamentarians",
        "### Non-governmental organisations", "### International experts"]
    assert "| Name | Affiliation | Country | Working groups |" in annex_c
    assert "Ethnic migration &lt;img" in annex_c and "Labour migration" in annex_c


def test_an_opted_out_participant_is_named_nowhere(conference):
    assert "Hidden Person" not in _markdown(conference)
    assert "Hidden Person" not in json.dumps(_json(conference), ensure_ascii=False)


def test_changes_version_is_a_redline(conference):
    text = _markdown(conference, changes=True)
    # "Calls on States to protect migrant workers;" -> ADOPTED, word by word.
    line = next(line for line in text.splitlines() if line.startswith("1. Calls on"))
    assert line == ("1. Calls on **all** States to protect migrant ~~workers;~~ "
                    "**workers and their families;**")
    html = str(render_markdown(text))
    assert "Calls on <strong>all</strong> States" in html
    assert "Changes since the first draft" in text
    # Clauses never reworded read as adopted.
    assert "1. Encourages recognition of qualifications;" in text


def test_draft_carries_the_mark_and_the_pending_items(conference, factories):
    labour = db.session.scalars(select(WorkingGroup).order_by(WorkingGroup.position)).first()
    chair = next(m.participant for m in labour.memberships if m.role is GroupRole.CHAIR)
    pending = factories.recommendation(labour, title=f"Return {XSS}", clauses=[
        (ClauseKind.OPERATIVE, "Calls for safe return;")])
    vote = services.open_vote(chair, pending, VoteOpen(subject="clause",
                                               clause_id=pending.live_clauses[0].id))
    db.session.commit()
    text = _markdown(conference)
    lines = text.splitlines()
    assert lines[0] == "> **DRAFT — not adopted**"
    quoted = list(itertools.takewhile(lambda line: not line or line.startswith(">"), lines))
    assert all(line.startswith(">") for line in quoted if line)
    assert "> **Pending items**" in quoted
    assert "> - Recommendation still being drafted: Return &lt;img src=x onerror=\"window.\\_\\_xss=1\"\\> " \
           "(Labour migration)" in quoted
    assert any(line.startswith("> - Open vote: Adopt the wording of clause 1?") for line in quoted)
    html = str(render_markdown(text))
    assert "<blockquote>\n<p><strong>DRAFT — not adopted</strong></p>" in html
    document = _json(conference)
    assert document["draft"] is True
    assert {(p["kind"], p["id"]) for p in document["pending"]} == {
        ("recommendation", pending.id), ("vote", vote.id)}
    jsonschema.validate(document, render_json.load_schema())


# --- Markdown: nothing from a person comes alive -----------------------------------------

def test_fixture_markdown_is_inert_in_every_engine(conference):
    for version in (False, True):
        text = _markdown(conference, changes=version)
        for html in rendered_both_ways(text):
            words = assert_inert(html)
            assert LOCAL_FILE in words and METADATA in words
            assert "<img src=x onerror=" in words and "window.__xss=1" in words  # as text


EXTRA = [LOCAL_FILE, METADATA, f"[a]({LOCAL_FILE})", f"![a]({METADATA})", f"<{METADATA}>",
         f"<a href=\"{METADATA}\">x</a>", "www.example.org", "| a | b |\n|---|---|\n| c | d |",
         "# heading\n\n- item\n\n1. one\n\n> quote\n\n    code <b>\n\n===", "```\n<script>x</script>\n```",
         "`<script>x</script>`", "a ~~b~~ *c* _d_ **e** [f]: http://x.org", "1) x\n+ y\n\\<b>",
         "&lt;script&gt; &#60;script&#62; &amp;lt;", "<em>**x**</em> <code>`a`|</code>",
         # Code blocks where indentation is easily misread: first in a list item, after a
         # nested list, in a quote.
         "1. \n\n        <script>x</script>", "- a\n    - b\n\n        <img src=x onerror=alert(1)>",
         "> <b>x</b>\n>\n>     <script>y</script>", "| a |\n|---|\n| `<script>` \\| x |"]


def test_plain_text_is_escaped():
    assert render_md.escape("<>[]()!*_`\\~ &amp; #x") == (
        "&lt;\\>\\[\\]\\(\\)\\!\\*\\_\\`\\\\&#126; &amp;amp; #x")
    assert render_md.escape(f"{LOCAL_FILE} {METADATA} www.example.org") == (
        "file&#58;///etc/passwd http&#58;//169.254.169.254/ www&#46;example.org")
    assert render_md.escape("two\nlines") == "two lines"


def test_hostile_text_is_inert_in_every_engine(ctx, xss_payloads):
    for payload in [*xss_payloads, *EXTRA]:
        outline = hostile_outline(payload)
        for version in (False, True):
            text = render_md.render(outline, changes=version).decode("utf-8")
            for html in rendered_both_ways(text):
                assert_inert(html)
        document = json.loads(render_json.render(outline))
        jsonschema.validate(document, render_json.load_schema())
        assert document["conference"]["title"] == payload


def test_user_formatting_survives_as_markdown(ctx):
    source = ("Intro *em* **strong** <del>gone</del> `co*de` and [IOM](https://www.iom.int/a_b).\n\n"
              "- one\n- two\n    1. nested\n\n> quoted\n\n#### Small heading\n\n"
              "| a | b |\n|:--|--:|\n| 1 | x \\| y |")
    lines = render_md.markdown_of(Text.of(source))
    assert lines[0] == ("Intro *em* **strong** ~~gone~~ `co*de` and IOM "
                        "(https&#58;//www&#46;iom.int/a\\_b).")
    assert lines[2:5] == ["- one", "- two", "    1. nested"]
    assert "> quoted" in lines and "**Small heading**" in lines
    # (Alignment does not survive the sanitiser: Python-Markdown writes it as a style.)
    assert lines[-3:] == ["| a | b |", "| --- | --- |", "| 1 | x \\| y |"]
    html = str(render_markdown("\n".join(lines)))
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert "<code>co*de</code>" in html and "<ol>\n<li>nested</li>" in html
    code = render_md.markdown_of(Text.of("x\n\n    if a < b:\n        go()\n\ny"))
    # A code block: one code span per line, indentation kept as no-break spaces.
    assert code == ["x", "", "`if a < b:`  ", "`\u00a0\u00a0\u00a0\u00a0go()`", "", "y"]
    assert "<code>if a &lt; b:</code><br>\n<code>" in str(render_markdown("\n".join(code)))
    assert "<td>x | y</td>" in html
    assert "IOM (https://www.iom.int/a_b)" in html.replace("&#58;", ":").replace("&#46;", ".")
    assert "<a " not in html


# --- JSON ---------------------------------------------------------------------------------

def test_json_validates_and_reads_back(conference):
    raw = render_json.render(compile_outline(conference))
    document = json.loads(raw)
    jsonschema.validate(document, render_json.load_schema(),
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    jsonschema.Draft202012Validator.check_schema(render_json.load_schema())
    assert raw.decode("utf-8") == json.dumps(document, ensure_ascii=False, sort_keys=True,
                                             indent=2) + "\n"
    assert "Ministère du Travail" in raw.decode("utf-8")  # UTF-8, not \\u escapes
    assert document["format_version"] == 1 and document["draft"] is True
    assert document["pending"] == [] and document["group_id"] is None
    assert document["conference"]["id"] == conference.id
    assert document["conference"]["organisers"][0] == "OSCE Centre in Astana"
    assert document["conference"]["starts_on"] == "2009-06-24"
    groups = db.session.scalars(select(WorkingGroup).order_by(WorkingGroup.position)).all()
    assert [s["id"] for s in document["sections"]] == [g.id for g in groups]
    assert [[r["number"] for r in s["recommendations"]] for s in document["sections"]] == [
        ["1.1", "1.2"], ["2.1"]]
    first = document["sections"][0]["recommendations"][0]
    assert [c["number"] for c in first["operative"]] == ["1.", "2.", "3."]
    assert [c["number"] for c in first["preambular"]] == ["", ""]
    reworded = first["operative"][0]
    assert reworded["text"]["markdown"] == ADOPTED and reworded["first_draft"] == FIRST
    assert {"op": "insert", "text": " all"} in reworded["changes"]
    # User text twice: as written and as the sanitiser's HTML.
    noting = first["preambular"][1]["text"]
    assert "<script>" in noting["markdown"]
    assert "<script" not in noting["html"] and "<img" not in noting["html"]
    # Secret votes: counts, no roll call; the others name each voter.
    secret = [v for v in document["votes"] if v["secret"]]
    assert len(secret) == 1 and secret[0]["roll_call"] is None
    assert sum(c["count"] for c in secret[0]["counts"]) == secret[0]["turnout"] == 3
    open_ballot = next(v for v in document["votes"] if not v["secret"] and v["turnout"] == 3)
    assert {r["name"] for r in open_ballot["roll_call"]} == {
        "Chair Person", MEMBER, "(name withheld at the participant's request)"}
    names = [p["name"] for c in document["participants"] for p in c["participants"]]
    # Surname first, by surname: the member's "surname" is the last word of their name.
    assert not any("Hidden" in n or "HIDDEN" in n for n in names)
    assert names == ['ONERROR="WINDOW.__XSS=1">, Member <img src=x', "PERSON, Chair",
                     "CHAIR, Other", "MEMBER, Other"]
    assert [s["kind"] for s in document["statements"]] == ["reservation", "interpretative"]


def _ids(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "conference": document["conference"]["id"],
        "groups": {s["id"]: s["name"] for s in document["sections"]},
        "recommendations": {r["id"]: r["title"] for s in document["sections"]
                            for r in s["recommendations"]},
        "clauses": {c["id"]: c["text"]["markdown"] for s in document["sections"]
                    for r in s["recommendations"] for c in r["preambular"] + r["operative"]},
        "votes": {v["id"]: v["question"] for v in document["votes"]},
        "statements": {s["id"]: s["text"]["markdown"] for s in document["statements"]},
    }


def test_ids_are_stable(conference, factories):
    before = _json(conference)
    assert _ids(_json(conference)) == _ids(before)
    assert render_json.render(outline := compile_outline(conference)) == render_json.render(outline)
    # Unrelated changes: the groups change places, the preamble is rewritten, a draft appears
    # elsewhere. Numbers move; ids and what they name do not.
    labour, ethnic = db.session.scalars(select(WorkingGroup).order_by(WorkingGroup.position)).all()
    labour.position, ethnic.position = 2, 1
    conference.preamble = "Rewritten."
    db.session.commit()
    factories.recommendation(ethnic, title="Not yet", clauses=[(ClauseKind.OPERATIVE, "Later;")])
    after = _json(conference)
    assert _ids(after) == _ids(before)
    assert [s["id"] for s in after["sections"]] == [ethnic.id, labour.id]
    assert [r["number"] for s in after["sections"] for r in s["recommendations"]] == [
        "1.1", "2.1", "2.2"]
    assert after["draft"] is True


def test_json_changes_flag_and_secret_vote_in_schema(conference):
    changed = _json(conference, changes=True)
    assert changed["changes_since_first_draft"] is True
    jsonschema.validate(changed, render_json.load_schema())
    # The schema itself refuses a secret vote with a roll call.
    changed["votes"][0]["secret"] = True
    changed["votes"][0]["roll_call"] = [{"name": "x", "choice": "Yes"}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(changed, render_json.load_schema())
