"""The outcome document as HTML and PDF: read back with a parser and with pypdf.

The fixture conference has two groups, adopted recommendations (every clause voted, then the
whole), a secret and a roll-call vote, a clause whose adopted wording came from an amendment
(for the "changes since the first draft" version), statements, a participant who opted out of
publication, and hostile payloads in every piece of user text. The PDF is Typst's
(drafting/export/render_pdf.py); its tests are few and each asserts much.
"""
from __future__ import annotations

import io
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

from drafting.export import render_html, render_pdf
from drafting.export.outline import Outline, compile_outline
from drafting.votes import ballots, services
from drafting.votes.schemas import BallotIn, StatementIn, VoteOpen
from models import AmendmentStatus, ClauseKind, GroupRole, OptionKind, Recommendation, db
from tests.helpers.html import assert_inert

# What is checked here does not depend on the database: run once (tests/conftest.py).
pytestmark = pytest.mark.database_independent

SCREENS = Path(tempfile.gettempdir()) / "plenary-screens"
TITLE = "Efficient migration management — Эффективное управление миграцией"
PREAMBULAR = "Recalling the OSCE commitments on migration;"
FIRST = "Calls on States to protect migrant workers;"
AMENDED = "Calls on States to protect migrant workers and their families;"
SECOND = "Invites the ILO to assist in training;"
OTHER = "Encourages the exchange of data between States;"
HOSTILE = ("<script>window.__xss=1</script> <img src=x onerror=alert(1)> "
           "[passwd](file:///etc/passwd) [metadata](http://169.254.169.254/latest/meta-data/) "
           "<iframe src=\"http://169.254.169.254/\"></iframe>")


@dataclass
class Fixture:
    conference: Any
    labour: Any
    ethnic: Any
    adopted: list[Recommendation]
    hidden_name: str


def _option(vote: Any, kind: OptionKind) -> int:
    return next(o.id for o in vote.options if o.kind is kind)


def _vote(chair: Any, recommendation: Recommendation, voters: list[Any], **data: Any) -> Any:
    vote = services.open_vote(chair, recommendation, VoteOpen.model_validate(data))
    db.session.commit()
    for voter in voters:
        ballots.cast_ballot(voter, vote, BallotIn(option_id=_option(vote, OptionKind.YES)))
        db.session.commit()
    services.close_vote(chair, vote)
    db.session.commit()
    return vote


def _adopt(chair: Any, recommendation: Recommendation, voters: list[Any], *, secret: bool = False,
           skip: frozenset[int] = frozenset()) -> None:
    """Every clause by a vote (those in ``skip`` are adopted already), then the whole."""
    for clause in recommendation.live_clauses:
        if clause.id not in skip:
            _vote(chair, recommendation, voters, subject="clause", clause_id=clause.id,
                  secret=secret)
    _vote(chair, recommendation, voters, subject="recommendation")


@pytest.fixture
def conference(ctx, factories, xss_payloads) -> Fixture:
    payloads = " ".join(xss_payloads[:6]) + " " + HOSTILE
    conference = factories.conference(
        title=TITLE + " <script>alert(1)</script>",
        organisers="OSCE Centre in Astana\nIOM <b onmouseover=alert(1)>",
        preamble="The participants **met** in Astana. " + payloads)
    labour = factories.group(conference, name="Labour migration", mandate="Protect *workers*. " + payloads)
    ethnic = factories.group(conference, name="Ethnic migration <svg onload=alert(1)>",
                             mandate="Ethnic return migration.")
    chair = factories.member_of(labour, GroupRole.CHAIR, name="Aigerim Chair")
    member = factories.member_of(labour, GroupRole.MEMBER, name="Boris Member <img src=x onerror=alert(1)>",
                                 affiliation="Ministry of Labour")
    hidden = factories.member_of(labour, GroupRole.MEMBER, name="Hidden Delegate", publish_name=False)
    other_chair = factories.member_of(ethnic, GroupRole.CHAIR, name="Olga Chair")
    factories.membership(ethnic, member)

    first = factories.recommendation(labour, title="Labour migrants in the crisis", clauses=[
        (ClauseKind.PREAMBULAR, PREAMBULAR), (ClauseKind.OPERATIVE, FIRST),
        (ClauseKind.OPERATIVE, SECOND)])
    # The first operative clause is adopted in an amended wording: its first draft differs.
    clause = first.live_clauses[1]
    amendment = factories.amendment(clause, member, text=AMENDED, status=AmendmentStatus.TO_BE_VOTED)
    vote = services.open_vote(chair, first, VoteOpen(subject="wordings", clause_id=clause.id))
    db.session.commit()
    winner = next(o.id for o in vote.options if o.amendment_id == amendment.id)
    for voter in (chair, member):
        ballots.cast_ballot(voter, vote, BallotIn(option_id=winner))
        db.session.commit()
    services.close_vote(chair, vote)
    db.session.commit()
    # The participant who opted out of publication votes by roll call: named nowhere all the same.
    _adopt(chair, first, [chair, member, hidden], skip=frozenset({clause.id}))
    second = factories.recommendation(labour, title="Hostile " + HOSTILE, clauses=[
        (ClauseKind.OPERATIVE, OTHER), (ClauseKind.OPERATIVE, payloads)])
    _adopt(chair, second, [chair, member], secret=True)
    third = factories.recommendation(ethnic, title="Return migration", clauses=[
        (ClauseKind.OPERATIVE, "Welcomes return programmes;")])
    _adopt(other_chair, third, [other_chair])
    services.add_statement(member, first, StatementIn(kind="reservation", text="We read *workers* narrowly.",
                                           clause_id=first.live_clauses[1].id))
    services.add_statement(member, second, StatementIn(kind="interpretative", text=payloads))
    db.session.commit()
    return Fixture(conference, labour, ethnic, [first, second, third], hidden.name)


def _add_pending(factories, fixture: Fixture) -> None:
    factories.recommendation(fixture.ethnic, title="Still being drafted",
                             clauses=[(ClauseKind.OPERATIVE, "Notes progress;")])


# --- reading HTML back ---------------------------------------------------------------------

class Tree(HTMLParser):
    """Elements with their tag, attributes, ancestors and own text, in document order."""

    VOID: ClassVar[set[str]] = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[dict[str, Any]] = []
        self.elements: list[dict[str, Any]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "attrs": dict(attrs), "classes": set((dict(attrs).get("class") or "").split()),
                   "parents": list(self.stack), "text": ""}
        self.elements.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element["text"] += data

    def find(self, tag: str | None = None, cls: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.elements if (tag is None or e["tag"] == tag)
                and (cls is None or cls in e["classes"])]

    def by_id(self, value: str) -> dict[str, Any]:
        return next(e for e in self.elements if e["attrs"].get("id") == value)


def text_of(element: dict[str, Any]) -> str:
    return " ".join(element["text"].split())


def user_parts(html: str) -> list[str]:
    """The HTML inside every element that holds user text (class "user")."""
    class Cut(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=False)
            self.depth = 0
            self.parts: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            classes = (dict(attrs).get("class") or "").split()
            if self.depth:
                self.depth += 1
                self.parts[-1] += self.get_starttag_text() or ""
            elif "user" in classes:
                self.depth = 1
                self.parts.append("")

        def handle_endtag(self, tag: str) -> None:
            if self.depth:
                self.depth -= 1
                if self.depth:
                    self.parts[-1] += f"</{tag}>"

        def handle_data(self, data: str) -> None:
            if self.depth:
                self.parts[-1] += data

        handle_entityref = handle_charref = lambda self, name: None

    cut = Cut()
    cut.feed(html)
    # What the template itself puts at the head of an operative clause: its number.
    own = re.compile(r'<span class="clause-number">\d+\.</span> |<p class="clause-number-line">.*?</p>')
    return [own.sub("", part) for part in cut.parts]


def html_of(outline: Outline, **options: Any) -> str:
    raw = render_html.render(outline, **options)
    assert isinstance(raw, bytes)
    return raw.decode("utf-8")


def test_html_has_the_document_in_order_with_numbering(conference):
    outline = compile_outline(conference.conference)
    # Nothing pending, and yet a draft until finalised (tests/test_export_document.py).
    assert outline.draft and not outline.pending
    html = html_of(outline)
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    tree = Tree(html)
    assert TITLE in text_of(tree.find("h1")[0]) and "<script>alert(1)</script>" in text_of(tree.find("h1")[0])
    title_block = text_of(tree.by_id("title"))
    assert "Astana, Kazakhstan" in title_block and "24–25 June 2009" in title_block
    assert "OSCE Centre in Astana" in title_block and "IOM <b onmouseover=alert(1)>" in title_block
    assert not tree.find("section", "pending") and "DRAFT — not adopted" in html

    headings = [text_of(e) for e in tree.elements if e["tag"] in {"h2", "h3"}]
    order = [headings.index(h) for h in (
        "Contents", "Working group 1: Labour migration",
        "Recommendation 1.1: Labour migrants in the crisis",
        "Working group 2: Ethnic migration <svg onload=alert(1)>",
        "Recommendation 2.1: Return migration", "Annex A: Record of decisions",
        "Annex B: Interpretative statements and reservations", "Annex C: Participants")]
    assert order == sorted(order)
    assert any(h.startswith("Recommendation 1.2: Hostile <script>") for h in headings)
    contents = tree.by_id("contents")
    toc = [text_of(a) for a in tree.find("a") if contents in a["parents"]]
    assert toc[:3] == ["Working group 1: Labour migration",
                       "Recommendation 1.1: Labour migrants in the crisis",
                       toc[2]] and toc[2].startswith("Recommendation 1.2: Hostile")
    assert toc[-3:] == ["Annex A: Record of decisions", "Annex B: Interpretative statements and reservations",
                        "Annex C: Participants"]
    for a in tree.find("a"):
        if a["attrs"].get("href", "").startswith("#"):
            assert tree.by_id(a["attrs"]["href"][1:])  # every entry points at its section

    recommendation = tree.by_id("recommendation-1-1")
    clauses = [e for e in tree.find(cls="clause") if recommendation in e["parents"]]
    assert [text_of(c) for c in clauses] == [PREAMBULAR, f"1. {AMENDED}", f"2. {SECOND}"]
    preambular, operative = clauses[0], clauses[1:]
    assert "clause--preambular" in preambular["classes"] and preambular["tag"] == "div"
    assert all("clause--operative" in c["classes"] and c["tag"] == "li" for c in operative)
    # Only the opening participle (an <em>) italic, not the paragraph.
    assert not re.search(r"\.clause--preambular\s*\{[^}]*font-style:\s*italic", html)
    assert re.search(r"\.clause--preambular em, \.clause--preambular i \{ font-style: italic; \}", html)
    assert [text_of(e) for e in tree.find("span", "clause-number")][:2] == ["1.", "2."]


def test_html_annexes_votes_statements_and_participants(conference):
    tree = Tree(html_of(compile_outline(conference.conference)))
    votes = tree.find("section", "vote")
    secret = [v for v in votes if "vote--secret" in v["classes"]]
    open_ = [v for v in votes if "vote--open" in v["classes"]]
    assert len(secret) == 2 and len(open_) == 7  # the second recommendation's clauses were secret
    # Numbered as in every format, in the order decided.
    numbers = [text_of(e) for e in tree.find("span", "decision-number")]
    assert numbers == [f"A.{n}" for n in range(1, len(votes) + 1)]
    for vote in votes:
        record = text_of(next(p for p in tree.find("p", "record") if vote in p["parents"]))
        rows = dict(fact.split(": ", 1) for fact in record.split(" · "))
        assert list(rows) == ["Working group", "Decision rule", "Quorum", "Eligible voters",
                              "Turnout", "Closed"]
        assert rows["Decision rule"] == "Simple majority of the votes cast" and rows["Closed"]
        decision = text_of(next(p for p in tree.find("p", "decision") if vote in p["parents"]))
        roll_calls = [t for t in tree.find("div", "roll-call") if vote in t["parents"]]
        if vote in secret:
            assert not roll_calls
            assert decision == "Adopted by a secret ballot of 2 in favour, 0 against, 0 abstentions"
        else:
            assert len(roll_calls) == 1
            # A line per option, as recorded votes are published: "Yes (n): names".
            lines = [text_of(p) for p in tree.find("p") if roll_calls[0] in p["parents"]]
            for line in lines:
                named = line.split(": ", 1)[1]
                n = int(line.split(":")[0].rsplit("(", 1)[1].rstrip(")"))
                assert (named == "—") if n == 0 else len(named.split("; ")) == n
    first = open_[0]
    assert text_of(next(h for h in tree.find("h3") if first in h["parents"])) == (
        "A.1 Recommendation 1.1, operative paragraph 1: choice of wordings")
    assert text_of(next(p for p in tree.find("p", "decision") if first in p["parents"])).startswith(
        "Wording adopted by a recorded vote: Amendment ")
    roll = next(t for t in tree.find("div", "roll-call") if first in t["parents"])
    assert "Aigerim Chair" in text_of(roll) and "Amendment" in text_of(roll)
    assert "clause 2" not in text_of(tree.by_id("annex-a"))  # the question's own words are not printed

    statements = tree.find("article", "statement")
    assert text_of(statements[0]).split(" On ")[0] == (
        "Reservation: Boris Member <img src=x onerror=alert(1)> (Ministry of Labour)")
    assert "On Recommendation 1.1, operative paragraph 1" in text_of(statements[0])
    assert "Interpretative statement" in text_of(statements[1]) and "On Recommendation 1.2" in text_of(statements[1])

    annex_c = tree.by_id("annex-c")
    assert conference.hidden_name not in " ".join(text_of(e) for e in tree.elements)
    whole = next(v for v in open_ if text_of(next(h for h in tree.find("h3") if v in h["parents"]))
                 .endswith(" Recommendation 1.1 as a whole"))
    whole_roll = next(t for t in tree.find("div", "roll-call") if whole in t["parents"])
    yes = next(line for line in tree.find("p") if whole_roll in line["parents"]
               and text_of(line).startswith("Yes ("))
    assert "(name withheld at the participant's request)" in text_of(yes)
    names = [text_of(next(td for td in tree.find("td") if row in td["parents"])) for row in tree.find("tr")
             if annex_c in row["parents"] and not any(p["tag"] == "thead" for p in row["parents"])]
    assert "CHAIR, Aigerim" in names and "CHAIR, Olga" in names
    member_row = next(r for r in tree.find("tr") if annex_c in r["parents"] and "Boris" in text_of(r))
    assert "Ethnic migration <svg onload=alert(1)>; Labour migration" in text_of(member_row)


def test_html_user_text_is_inert(conference):
    html = html_of(compile_outline(conference.conference))
    parts = user_parts(html)
    assert len(parts) >= 8  # preamble, mandates, clauses, statements
    for part in parts:
        assert_inert(part)
    tree = Tree(html)
    # Outside user text nothing the delegates wrote is markup: only the template's own tags.
    assert not tree.find("script") and not tree.find("img") and not tree.find("iframe")
    assert not tree.find("svg") and not tree.find("b")
    assert "file:///etc/passwd" not in [e["attrs"].get("href") for e in tree.find("a")]
    assert not [e for e in tree.elements if any(name.startswith("on") for name in e["attrs"])]
    # The one stylesheet is the template's; no element brings a resource in.
    assert len(tree.find("style")) == 1 and not tree.find("link")
    assert not [e for e in tree.elements if "src" in e["attrs"] or "style" in e["attrs"]]


def test_html_changes_version_redlines_amended_clauses(conference):
    outline = compile_outline(conference.conference)
    tree = Tree(html_of(outline, changes=True))
    recommendation = tree.by_id("recommendation-1-1")
    redlines = [e for e in tree.find("p", "redline") if recommendation in e["parents"]]
    assert len(redlines) == 1
    assert [text_of(e) for e in tree.find("del") if redlines[0] in e["parents"]] == ["workers;"]
    assert [text_of(e) for e in tree.find("ins") if redlines[0] in e["parents"]] == [
        "workers and their families;"]
    assert text_of(redlines[0]).startswith("1. Calls on States to protect migrant ")  # its number first
    assert re.search(r"\bins\s*\{[^}]*underline", html_of(outline, changes=True))
    # Unchanged clauses read as adopted.
    clauses = [text_of(e) for e in tree.find(cls="clause") if recommendation in e["parents"]]
    assert clauses[0] == PREAMBULAR and clauses[2] == f"2. {SECOND}"
    assert "Changes since the first draft" in text_of(tree.by_id("title"))


def test_html_draft_is_marked_and_lists_what_is_pending(conference, factories):
    _add_pending(factories, conference)
    outline = compile_outline(conference.conference)
    assert outline.draft
    tree = Tree(html_of(outline))
    assert text_of(tree.find("div", "draft-mark")[0]) == "DRAFT — not adopted"
    pending = [text_of(li) for li in tree.find("li", "pending-item")]
    assert pending == ["Recommendation still being drafted: Still being drafted "
                       "(Ethnic migration <svg onload=alert(1)>)"]


# --- the PDF (Typst) -----------------------------------------------------------------------

def pdf_pages(pdf: bytes) -> tuple[Any, list[str]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return reader, [page.extract_text() or "" for page in reader.pages]


def _words_with_fonts(pdf: bytes, page_number: int) -> list[tuple[str, str]]:
    """The page's text runs as drawn, each with the base font it is drawn in (pypdf's
    visitor: the text operator's font), whitespace-split into words."""
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(pdf)).pages[page_number]
    words: list[tuple[str, str]] = []

    def visit(text: str, _cm: Any, _tm: Any, font: Any, _size: Any) -> None:
        name = str(font.get("/BaseFont", "")) if font else ""
        words.extend((word, name) for word in text.split())

    page.extract_text(visitor_text=visit)
    return words


def test_pdf_of_a_final_document(conference, tmp_path):
    """The final as finalising renders it, typeset by Typst: identification, final mark with
    the canonical SHA-256, content in order, "Page n of N", contents with page numbers,
    running header, bookmarks, embedded fonts, the participle alone in italics, user text as
    inert text."""
    from pypdf import PdfReader

    from drafting.export.render_json import canonical_sha256

    conference.conference.document_symbol = "CONF.MIGR/1/09"
    db.session.commit()
    outline = replace(compile_outline(conference.conference), draft=False, final=True)
    ident = outline.identification
    assert ident is not None and ident.symbol.startswith("CONF.MIGR/1/09")
    pdf = render_pdf.render(outline)
    assert pdf.startswith(b"%PDF-")
    reader, pages = pdf_pages(pdf)
    text = "\n".join(pages)
    flat = " ".join(text.split())

    assert reader.metadata.title.startswith(TITLE)
    assert "OSCE Centre in Astana" in reader.metadata.author and "IOM" in reader.metadata.author
    # The document's own time, to the second: a final's bytes can be reproduced.
    created = reader.metadata.creation_date
    generated = outline.generated_at
    assert created is not None
    assert created.replace(tzinfo=None) == generated.replace(tzinfo=None, microsecond=0)
    assert "DRAFT" not in text

    # Identification and the final's mark on the first page.
    first = " ".join(pages[0].split())
    for expected in (ident.symbol, ident.distribution_label, ident.original_label, ident.dates,
                     "Final text", canonical_sha256(outline)):
        assert expected in first, expected
    assert f"Final text — {ident.symbol}" in first
    # Content and order: the body's name before each preamble.
    position = 0
    for expected in (
        TITLE, "Contents", "Working group 1: Labour migration", "Recommendation 1.1: Labour migrants in the crisis",
        ident.body_name, PREAMBULAR, f"1. {AMENDED}", f"2. {SECOND}", "Recommendation 1.2: Hostile",
        ident.body_name, "Working group 2: Ethnic migration", "Recommendation 2.1: Return migration",
        "Annex A: Record of decisions", "Annex B: Interpretative statements and reservations",
        "Annex C: Participants"):
        found = flat.find(expected, position)
        assert found >= 0, f"{expected!r} missing or out of order"
        position = found + len(expected)
    assert "Эффективное управление миграцией" in flat  # Cyrillic, in an embedded font
    assert conference.hidden_name not in flat
    # Page numbers in the footer of every page, and in the table of contents.
    count = len(pages)
    assert count >= 6
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {count}" in " ".join(page.split())
    contents = next(" ".join(p.split()) for p in pages if "Contents" in p and "Annex C" in p)
    listed = re.search(r"Working group 1: Labour migration[ .]*(\d+)", contents)
    assert listed and int(listed.group(1)) == next(
        n for n, page in enumerate(pages, start=1) if "Mandate" in page and "Labour migration" in page)
    assert re.search(r"Annex C: Participants[ .]*\d+", contents)
    # Running header: the section's title on its pages.
    annex_page = next(p for p in pages if "Annex C: Participants" in p and "Name" in p)
    assert " ".join(annex_page.split()).count("Annex C: Participants") >= 2

    # Bookmarks from the headings; fonts embedded; no link to anything outside the document.
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Working group 1: Labour migration" in titles and "Annex A: Record of decisions" in titles
    fonts: set[str] = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor") or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            descriptor = descriptor.get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts.add(str(font["/BaseFont"]))
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            uri = str(action.get_object().get("/URI", "")) if action else ""
            assert not uri
    assert any("DejaVuSerif-Italic" in f for f in fonts), fonts
    assert any("DejaVuSans" in f for f in fonts)
    assert "169.254.169.254" in flat  # printed as inert text after the link text
    for payload in ("<script>", "onerror=alert(1)", "file:///etc/passwd"):
        # As text where the sanitiser kept it as text, never as anything the PDF acts on.
        assert payload.encode() not in pdf or payload in flat

    # The preambular paragraph: its participle in italics, the rest roman.
    page = next(n for n, p in enumerate(pages) if PREAMBULAR in " ".join(p.split()))
    words = _words_with_fonts(pdf, page)
    at = next((i for i, (word, _font) in enumerate(words) if word == "Recalling"), None)
    assert at is not None, words
    assert "Italic" in words[at][1]
    rest = [font for word, font in words[at + 1:at + 5]]
    assert rest and all("Italic" not in font and "Serif" in font for font in rest), words[at:at + 5]

    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=1.5).to_pil()
    png = tmp_path / "outcome-page1.png"
    image.save(png)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, SCREENS / "outcome-page1.png")
    assert image.size[0] > 800 and PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    document[page].render(scale=1.5).to_pil().save(SCREENS / "outcome-group-page.png")
    document[1].render(scale=1.5).to_pil().save(SCREENS / "outcome-contents.png")


def test_a_final_pdf_can_be_reproduced(conference):
    """The same outline renders to the same bytes, however much later (its creation time is
    the document's own), so a final's published hash can be checked by rendering again; a
    document of another moment differs."""
    outline = replace(compile_outline(conference.conference), draft=False, final=True)
    first = render_pdf.render(outline)
    began = int(time.time())
    while int(time.time()) == began:  # until a clock that reached the PDF writes another second
        time.sleep(0.05)
    assert render_pdf.render(outline) == first
    later = replace(outline, generated_at=outline.generated_at + timedelta(days=1))
    assert render_pdf.render(later) != first


def test_pdf_of_a_draft_is_marked_on_every_page(conference, factories, tmp_path):
    _add_pending(factories, conference)
    outline = compile_outline(conference.conference)
    seen: list[float] = []
    pdf = render_pdf.render(outline, changes=True, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    _reader, pages = pdf_pages(pdf)
    assert len(pages) >= 6
    for page in pages:
        assert "DRAFT — not adopted" in " ".join(page.split())
    flat = " ".join(" ".join(pages).split())
    assert "Pending items" in flat and "Still being drafted" in flat
    assert "families" in flat and "Changes since the first draft" in flat
    assert "Final text" not in flat
    import pypdfium2

    image = pypdfium2.PdfDocument(pdf)[0].render(scale=1.5).to_pil()
    image.save(tmp_path / "draft-page1.png")
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "draft-page1.png", SCREENS / "outcome-draft-page1.png")


def test_clauses_are_cited_as_the_printed_document_numbers_them(conference, ctx):
    """Preambular clauses carry no printed number: annexes cite "preambular paragraph n";
    operative ones "operative paragraph n"; a clause deleted since is said to be removed."""
    from drafting.export.outline import _where_in
    from models import utcnow

    recommendation = conference.adopted[0]
    preambular, first, second = recommendation.live_clauses
    assert _where_in("Recommendation 1.1", preambular) == "Recommendation 1.1, preambular paragraph 1"
    assert _where_in("Recommendation 1.1", second) == "Recommendation 1.1, operative paragraph 2"
    assert _where_in("Recommendation 1.1", None) == "Recommendation 1.1"
    first.deleted_at = utcnow()
    assert _where_in("Recommendation 1.1", first) == "Recommendation 1.1, a clause since removed"
    assert _where_in("Recommendation 1.1", second) == "Recommendation 1.1, operative paragraph 1"
    db.session.rollback()
