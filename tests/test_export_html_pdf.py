"""The outcome document as HTML and PDF: read back with a parser and with pypdf.

The fixture conference has two groups, adopted recommendations (every clause voted, then the
whole), a secret and a roll-call vote, a clause whose adopted wording came from an amendment
(for the "changes since the first draft" version), statements, a participant who opted out of
publication, and hostile payloads in every piece of user text. PDF renders cost seconds, so
the PDF tests are few and each asserts much.
"""
from __future__ import annotations

import io
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

from drafting.export import pdf_worker, render_html, render_pdf
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


# --- the PDF -------------------------------------------------------------------------------

@pytest.fixture
def fetched(monkeypatch) -> list[str]:
    """Every URL WeasyPrint asks the renderer's fetcher for (it must refuse them all)."""
    asked: list[str] = []

    class Recording(render_pdf.RefusingFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            asked.append(url)
            return super().fetch(url, headers)

    # The fetcher the layout uses is pdf_worker's (render_pdf names the same class).
    monkeypatch.setattr(pdf_worker, "RefusingFetcher", Recording)
    monkeypatch.setattr(render_pdf, "RefusingFetcher", Recording)
    return asked


def pdf_pages(pdf: bytes) -> tuple[Any, list[str]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return reader, [page.extract_text() or "" for page in reader.pages]


@pytest.mark.parametrize("how", ["in one piece", "in parts"])
def test_pdf_of_an_adopted_document(conference, fetched, tmp_path, how):
    """The same checks whether the document is laid out in one piece (a small conference) or
    in parts and assembled (a large one; here forced, one part after the other in this
    process so that the fetcher is watched)."""
    from pypdf import PdfReader

    # As finalising renders it: no draft mark.
    outline = replace(compile_outline(conference.conference), draft=False, final=True)
    pdf = (render_pdf.render(outline) if how == "in one piece"
           else render_pdf.render_in_parts(outline, workers=1))
    assert pdf.startswith(b"%PDF-")
    reader, pages = pdf_pages(pdf)
    text = "\n".join(pages)
    flat = " ".join(text.split())
    assert fetched == []  # WeasyPrint was never sent after a file or an address

    assert reader.metadata.title.startswith(TITLE)
    assert "OSCE Centre in Astana" in reader.metadata.author and "IOM" in reader.metadata.author
    assert reader.metadata.creation_date is not None
    assert "DRAFT" not in text

    # Content and order.
    position = 0
    for expected in (
        TITLE, "Contents", "Working group 1: Labour migration", "Recommendation 1.1: Labour migrants in the crisis",
        PREAMBULAR, f"1. {AMENDED}", f"2. {SECOND}", "Recommendation 1.2: Hostile",
        "Working group 2: Ethnic migration", "Recommendation 2.1: Return migration",
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
    contents = " ".join(pages[1].split()) if "Contents" in pages[1] else " ".join(pages[0].split())
    listed = re.search(r"Working group 1: Labour migration\s*(\d+)", contents)
    assert listed and int(listed.group(1)) == next(
        n for n, page in enumerate(pages, start=1) if "Mandate" in page and "Labour migration" in page)
    assert re.search(r"Annex C: Participants\s*\d+", contents)
    # Running header: the section's title on its pages.
    annex_page = next(p for p in pages if "Annex C: Participants" in p and "Name" in p)
    assert " ".join(annex_page.split()).count("Annex C: Participants") >= 2

    # Bookmarks from the headings; fonts embedded; links only internal.
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
            assert "file:" not in uri and "169.254" not in uri and not uri
    assert any("DejaVu-Serif-Italic" in f for f in fonts), fonts  # preambular clauses
    assert any("DejaVu-Sans" in f for f in fonts)
    assert "169.254.169.254" in flat  # printed as inert text after the link text

    if how == "in parts":
        return
    # The first page as an image, for a person to look at.
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=1.5).to_pil()
    png = tmp_path / "outcome-page1.png"
    image.save(png)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, SCREENS / "outcome-page1.png")
    assert image.size[0] > 800 and PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    body = next(i for i, page in enumerate(pages) if "Mandate" in page)
    document[body].render(scale=1.5).to_pil().save(SCREENS / "outcome-group-page.png")
    document[1].render(scale=1.5).to_pil().save(SCREENS / "outcome-contents.png")


def _lines(page: str) -> list[str]:
    return sorted(" ".join(line.split()) for line in page.splitlines() if line.strip())


def test_pdf_in_parts_reads_as_in_one_piece(conference, factories):
    """Laid out in parts by two worker processes and assembled, the document has the same
    pages with the same words as laid out in one piece; its contents entries lead to the
    pages they name, and its bookmarks are the same."""
    from pypdf import PdfReader

    _add_pending(factories, conference)
    outline = compile_outline(conference.conference)
    assert len(render_pdf.plan_parts(outline, 2)) >= 3  # groups and annexes apart
    whole = render_pdf.render(outline)
    seen: list[float] = []
    parts = render_pdf.render_in_parts(outline, workers=2, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    _reader, expected = pdf_pages(whole)
    reader, pages = pdf_pages(parts)
    assert [_lines(p) for p in pages] == [_lines(p) for p in expected]
    # As a viewer draws them too (PDFium reads a page as strictly as a browser's viewer: a
    # stamp or stream it cannot draw is missing here, not in pypdf's reading).
    import pypdfium2

    def drawn(pdf: bytes) -> list[list[str]]:
        document = pypdfium2.PdfDocument(pdf)
        return [_lines(document[n].get_textpage().get_text_range()) for n in range(len(document))]

    assert drawn(parts) == drawn(whole)
    assert all("DRAFT — not adopted" in " ".join(p.split()) for p in pages)

    def outline_titles(items: list[Any], depth: int = 0) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        for item in items:
            found += outline_titles(item, depth + 1) if isinstance(item, list) else [(depth, item.title)]
        return found

    assert outline_titles(reader.outline) == outline_titles(PdfReader(io.BytesIO(whole)).outline)
    numbers = {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages)}
    contents = next(n for n, page in enumerate(pages) if "Contents" in page and "Annex C" in page)
    links = [a.get_object() for a in reader.pages[contents].get("/Annots") or []]
    entries = []
    for section in outline.sections:
        entries.append(f"Working group {section.number}: {section.name}")
        entries += [f"Recommendation {r.number}: {r.title}" for r in section.recommendations]
    entries += ["Annex A: Record of decisions", "Annex B: Interpretative statements and reservations",
                "Annex C: Participants"]
    # An entry on two lines is a link on each line.
    places = [(numbers[link["/Dest"][0].idnum], float(link["/Dest"][3])) for link in links]
    targets = [page for n, (page, top) in enumerate(places) if n == 0 or (page, top) != places[n - 1]]
    assert len(targets) == len(entries)  # in the order of the entries
    # Its main sections can be pointed at by name (outcome.pdf#recommendation-1-1).
    named = {name: numbers[d.page.idnum] for name, d in reader.named_destinations.items()}
    assert {"contents", "group-1", "recommendation-1-1", "annex-a", "annex-c"} <= set(named)
    assert "Recommendation 1.1" in pages[named["recommendation-1-1"]]
    # (The printed numbers are WeasyPrint's own: the pages read as the one-piece document's.)
    for target, entry in zip(targets, entries, strict=True):
        assert entry[:40] in " ".join(pages[target].split()), entry  # (long titles wrap oddly)


def test_pdf_of_a_draft_is_marked_on_every_page(conference, factories, fetched, tmp_path):
    _add_pending(factories, conference)
    outline = compile_outline(conference.conference)
    pdf = render_pdf.render(outline, changes=True)
    _reader, pages = pdf_pages(pdf)
    assert fetched == []
    for page in pages:
        assert "DRAFT — not adopted" in " ".join(page.split())
    flat = " ".join(" ".join(pages).split())
    assert "Pending items" in flat and "Still being drafted" in flat
    assert "families" in flat and "Changes since the first draft" in flat
    import pypdfium2

    image = pypdfium2.PdfDocument(pdf)[0].render(scale=1.5).to_pil()
    image.save(tmp_path / "draft-page1.png")
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "draft-page1.png", SCREENS / "outcome-draft-page1.png")


def test_the_pdf_fetcher_refuses_every_url(fetched):
    """Were a reference to a resource ever to reach WeasyPrint, it would be refused, and the
    render would go on without it."""
    from weasyprint import HTML

    fetcher = render_pdf.RefusingFetcher()
    for url in ("file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", "data:text/css,x"):
        with pytest.raises(ValueError, match="fetches no URL"):
            fetcher.fetch(url)
    fetched.clear()
    hostile = ('<link rel="stylesheet" href="http://169.254.169.254/x.css">'
               '<img src="file:///etc/passwd"><p>text</p>')
    pdf = HTML(string=hostile, url_fetcher=render_pdf.RefusingFetcher()).write_pdf()
    assert pdf.startswith(b"%PDF-")
    assert set(fetched) == {"file:///etc/passwd", "http://169.254.169.254/x.css"}


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
