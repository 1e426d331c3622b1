"""The outcome document as Word: read back with python-docx, it is built of real Word styles
(Title, Heading 1 and 2, an italic "Preambular Clause" style, "List Number" lists that restart
at 1 for each recommendation, styled annex tables), carries the voting record (secret votes
as counts only), leaves out who opted out, says DRAFT on every page until everything is
decided, and turns nothing a person wrote into a link, a field or an embedded object."""
from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date
from typing import Any

import docx
import pytest
from docx.document import Document
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from drafting.export import render_docx
from drafting.export.outline import (
    ClauseBlock,
    GroupSection,
    Identification,
    Outline,
    RecommendationBlock,
    Text,
    compile_outline,
)
from drafting.votes import services
from drafting.votes.schemas import VoteOpen
from models import (
    ClauseKind,
    Conference,
    GroupRole,
    Recommendation,
    RecommendationStatus,
    Vote,
    db,
)
from tests.export_fixture import (
    ADOPTED,
    FIRST,
    LOCAL_FILE,
    MEMBER,
    METADATA,
    SCRIPT_LINK,
    XSS,
    export_conference,  # noqa: F401 - the conference fixture
    hostile_outline,
)

# What is checked here does not depend on the database: run once (tests/conftest.py).
pytestmark = pytest.mark.database_independent

DRAFT = "DRAFT — not adopted"


def _docx(conference: Conference, **options: Any) -> tuple[bytes, Document]:
    data = render_docx.render(compile_outline(conference), **options)
    return data, docx.Document(io.BytesIO(data))


def _body(document: Document) -> list[Paragraph | Table]:
    return list(document.iter_inner_content())


def _paragraphs(document: Document) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs]  # type: ignore[union-attr]


def _after(blocks: list[Paragraph | Table], heading: str) -> list[Paragraph | Table]:
    """The blocks after the paragraph whose text is ``heading``, up to the next heading."""
    start = next(i for i, b in enumerate(blocks) if isinstance(b, Paragraph) and b.text == heading)
    found = []
    for block in blocks[start + 1:]:
        if isinstance(block, Paragraph) and block.style.name.startswith("Heading"):  # type: ignore[union-attr]
            break
        found.append(block)
    return found


def _rows(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def _num_id(paragraph: Paragraph) -> int:
    return int(paragraph._p.pPr.numPr.numId.val)  # type: ignore[union-attr]


def _xml_parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name).decode("utf-8", "replace") for name in package.namelist()
                if name.endswith((".xml", ".rels"))}


# --- structure, styles and numbering -------------------------------------------------------

def test_the_document_is_built_of_word_styles_in_order(conference):
    _data, document = _docx(conference)
    paragraphs = _paragraphs(document)
    # Not final: the draft mark, then the identification (tests/test_export_document.py).
    assert paragraphs.pop(0) == ("Draft Mark", DRAFT)
    while paragraphs[0][0] == "Document Identification":
        paragraphs.pop(0)
    assert paragraphs[0] == ("Title", f"Migration and security {XSS}")
    assert paragraphs[1] == ("Subtitle", "Astana, Kazakhstan, 24–25 June 2009")
    assert paragraphs[2] == ("Normal", f"Organised by OSCE Centre in Astana in co-operation with IOM {SCRIPT_LINK}")
    headings = [(style, text) for style, text in paragraphs if style.startswith("Heading")
                and not text.startswith("A.")]
    assert headings == [
        ("Heading 1", "Working group 1: Labour migration"),
        ("Heading 2", f"Recommendation 1.1: Labour rights {XSS}"),
        ("Heading 2", "Recommendation 1.2: Recognition of skills"),
        ("Heading 1", f"Working group 2: Ethnic migration {XSS}"),
        ("Heading 2", "Recommendation 2.1: Minorities"),
        ("Heading 1", "Annex A: Record of decisions"),
        ("Heading 1", "Annex B: Interpretative statements and reservations"),
        ("Heading 1", "Annex C: Participants"),
        ("Heading 2", f"Kazakhstan {XSS}"),
        ("Heading 2", "Parliamentarians"),
        ("Heading 2", "Non-governmental organisations"),
        ("Heading 2", "International experts"),
    ]
    # Recommendation 1.1: the body's name, its two preambular clauses, then its three
    # operative clauses.
    start = paragraphs.index(("Heading 2", f"Recommendation 1.1: Labour rights {XSS}")) + 1
    assert paragraphs[start] == ("Body Name", f"The participants in the Conference “Migration and security {XSS}”,")
    assert paragraphs[start + 1:start + 6] == [
        ("Preambular Clause", "Recalling the Astana declaration,"),
        # Markup in a text goes through the sanitiser: the image is gone, not shown.
        ("Preambular Clause", "Noting and ,"),
        ("List Number", ADOPTED),
        ("List Number", f"Invites the IOM to assist (see site ({METADATA}), {LOCAL_FILE});"),
        ("List Number", "Adopts the table:"),
    ]
    mandate = next(text for _style, text in paragraphs if text.startswith("Mandate: "))
    assert mandate == "Mandate: Recommend practical measures."


def test_preambular_clauses_open_in_italics_and_keep_their_emphasis(conference):
    _data, document = _docx(conference)
    style = document.styles["Preambular Clause"]
    assert style.font.italic is not True and style.base_style.name == "Normal"  # type: ignore[union-attr]
    recalling = next(p for p in document.paragraphs if p.text.startswith("Recalling"))
    assert recalling.style.name == "Preambular Clause"  # type: ignore[union-attr]
    # The opening participle is italic (marked where the writer did not), and the writer's
    # own emphasis; the rest is roman.
    assert [run.text for run in recalling.runs if run.italic] == ["Recalling", "Astana"]


def test_operative_clauses_are_a_word_list_restarting_at_one_per_recommendation(conference):
    _data, document = _docx(conference)
    blocks = _body(document)
    by_recommendation = {}
    for heading in (f"Recommendation 1.1: Labour rights {XSS}", "Recommendation 1.2: Recognition of skills",
                    "Recommendation 2.1: Minorities"):
        operative = [b for b in _after(blocks, heading) if isinstance(b, Paragraph)
                     and b.style.name == "List Number"]  # type: ignore[union-attr]
        by_recommendation[heading] = operative
    assert [len(p) for p in by_recommendation.values()] == [3, 2, 1]
    # One Word list per recommendation: its clauses share a numId, no two recommendations do.
    num_ids = [{_num_id(p) for p in clauses} for clauses in by_recommendation.values()]
    assert all(len(ids) == 1 for ids in num_ids)
    assert len(set.union(*num_ids)) == 3
    numbering = document.part.numbering_part.element
    list_style_num = document.styles["List Number"].element.pPr.numPr.numId.val  # type: ignore[union-attr]
    list_abstract = numbering.num_having_numId(list_style_num).abstractNumId.val
    for (num_id,) in num_ids:
        num = numbering.num_having_numId(num_id)
        assert num.abstractNumId.val == list_abstract
        override = num.findall(qn("w:lvlOverride"))
        assert [(o.get(qn("w:ilvl")), o.find(qn("w:startOverride")).get(qn("w:val"))) for o in override] \
            == [("0", "1")]
    abstract = numbering.find(f"{qn('w:abstractNum')}[@{qn('w:abstractNumId')}='{list_abstract}']")
    level = abstract.find(qn("w:lvl"))
    assert level.find(qn("w:numFmt")).get(qn("w:val")) == "decimal"
    assert level.find(qn("w:lvlText")).get(qn("w:val")) == "%1."
    # The clause numbers come from Word's numbering, not from typed-in text.
    assert not any(re.match(r"\d+\.", p.text) for clauses in by_recommendation.values() for p in clauses)


def test_a_list_in_user_text_is_a_word_list_of_its_own(conference):
    _data, document = _docx(conference)
    aims = [p for p in document.paragraphs if p.text in ("first aim", "second aim")]
    assert [p.style.name for p in aims] == ["List Number", "List Number"]  # type: ignore[union-attr]
    assert _num_id(aims[0]) == _num_id(aims[1])
    operative = {_num_id(p) for p in document.paragraphs if p.style.name == "List Number"  # type: ignore[union-attr]
                 and p.text not in ("first aim", "second aim")}
    assert _num_id(aims[0]) not in operative


def test_a_table_in_a_clause_stays_a_table(conference):
    _data, document = _docx(conference)
    blocks = _after(_body(document), f"Recommendation 1.1: Labour rights {XSS}")
    tables = [b for b in blocks if isinstance(b, Table)]
    assert [_rows(t) for t in tables] == [[["body", "role"], ["IOM", "a | b"]]]


def test_the_changes_version_redlines_each_reworded_clause(conference):
    _data, document = _docx(conference, changes=True)
    clause = next(p for p in document.paragraphs if p.style.name == "List Number"  # type: ignore[union-attr]
                  and p.text.startswith("Calls on"))
    inserted = "".join(r.text for r in clause.runs if r.underline)
    deleted = "".join(r.text for r in clause.runs if r.font.strike)
    assert inserted and deleted
    assert "".join(r.text for r in clause.runs if not r.font.strike) == ADOPTED
    assert "".join(r.text for r in clause.runs if not r.underline) == FIRST
    assert "all" in inserted
    # Clauses never reworded read as adopted, without marks.
    skills = next(p for p in document.paragraphs if p.text.startswith("Encourages"))
    assert not any(r.underline or r.font.strike for r in skills.runs)
    legend = next(p.text for p in document.paragraphs if p.text.startswith("Changes since"))
    assert "underlined" in legend and "struck through" in legend
    # Without changes=True the same clause has no marks at all.
    _data, plain = _docx(conference)
    adopted = next(p for p in plain.paragraphs if p.text == ADOPTED)
    assert not any(r.underline or r.font.strike for r in adopted.runs)


# --- annexes -------------------------------------------------------------------------------

def test_the_record_of_decisions_numbers_each_and_prints_recorded_votes_in_full(conference):
    _data, document = _docx(conference)
    blocks = _body(document)
    votes = list(db.session.scalars(db.select(Vote).order_by(Vote.closed_at, Vote.id)))
    assert len(votes) == 13
    headings = [b for b in blocks if isinstance(b, Paragraph) and b.style.name == "Heading 2"  # type: ignore[union-attr]
                and b.text.startswith("A.")]
    assert [h.text.split(" ")[0] for h in headings] == [f"A.{n}" for n in range(1, 14)]
    assert headings[0].text == "A.1 Recommendation 1.1, operative paragraph 1"
    assert headings[-1].text == "A.13 Recommendation 2.1 as a whole"
    for vote, heading in zip(votes, headings, strict=True):
        after = _after(blocks, heading.text)
        decision = after[0]
        assert isinstance(decision, Paragraph) and all(r.bold for r in decision.runs)
        tables = [b for b in after if isinstance(b, Table)]
        assert all(t.style.name == "Table Grid" for t in tables)  # type: ignore[union-attr]
        details = dict((row[0], row[1]) for row in _rows(tables[0]))
        assert details["Eligible voters"] == str(vote.eligible_count)
        if vote.by_consensus:  # how many it reached, not the objections
            assert details["Present"] == str(json.loads(vote.record)["turnout"]) and "Turnout" not in details
        else:
            assert details["Turnout"] == str(vote.turnout)
        assert details["Record (SHA-256)"] == vote.record_sha256
        # Rows of the annex never split across pages.
        assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in tables[0].rows)
        text = " ".join(b.text if isinstance(b, Paragraph) else str(_rows(b)) for b in after)
        if vote.secret:
            assert decision.text == "Adopted by a secret ballot of 3 in favour, 0 against, 0 abstentions"
            assert len(tables) == 1, "a secret vote publishes counts only"
            assert not any(name in text for name in ("Chair Person", "Member", "Hidden Person"))
        elif vote.by_consensus:
            assert decision.text == "Adopted by consensus"
            assert len(tables) == 1, "a consensus is no roll call"
        else:
            assert decision.text.startswith(("Adopted by a recorded vote of ",
                                             "Rejected by a recorded vote of "))
            roll = _rows(tables[1])
            assert roll[0] == ["Name", "Choice"]
            assert len(roll) - 1 == vote.turnout
            assert tables[1].rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert details["Decision rule"] == "Consensus (adopted unless someone objects)"  # the last


def test_statements_and_participants_annexes(conference):
    _data, document = _docx(conference)
    blocks = _body(document)
    (statements,) = [b for b in _after(blocks, "Annex B: Interpretative statements and reservations")
                     if isinstance(b, Table)]
    rows = _rows(statements)
    assert rows[0] == ["On", "Kind", "By", "Statement"]
    # Made on behalf of the member's delegation: its heading says so.
    assert rows[1][:3] == ["Recommendation 1.1", f"Reservation by the delegation of Kazakhstan {XSS}",
                           f"{MEMBER} ([Ministry]({LOCAL_FILE}))"]
    assert rows[1][3] == "We do not accept x."
    assert rows[2][:2] == ["Recommendation 1.1, operative paragraph 1", "Interpretative statement"]
    assert rows[2][2].startswith("Chair Person (Ministry ")
    assert rows[2][3] == "Families means immediate families."
    parliament = [b for b in _after(blocks, "Parliamentarians") if isinstance(b, Table)]
    assert [r[0] for r in _rows(parliament[0])] == ["Name", "PERSON, Chair"]
    # The member sits in a delegation: listed under it.
    delegation = [b for b in _after(blocks, f"Kazakhstan {XSS}") if isinstance(b, Table)]
    names = [r[0] for r in _rows(delegation[0])]
    assert names == ["Name", 'ONERROR="WINDOW.__XSS=1">, Member <img src=x']
    assert _rows(delegation[0])[1][3] == f"Ethnic migration {XSS}, Labour migration"
    # Opted out of publication: named nowhere in the document, roll calls included.
    assert not any("Hidden Person" in (b.text if isinstance(b, Paragraph) else str(_rows(b)))
                   for b in blocks)
    assert any("(name withheld at the participant's request)" in str(_rows(b))
               for b in blocks if isinstance(b, Table))


def test_header_footer_and_properties(conference):
    _data, document = _docx(conference)
    section = document.sections[0]
    # Not final: the draft mark in the header, on every page.
    assert [p.text for p in section.header.paragraphs] == [f"Migration and security {XSS}", DRAFT]
    assert section.footer.paragraphs[0].text.startswith("Page ")
    footer = section.footer._element.xml
    assert re.search(r"<w:instrText[^>]*> PAGE </w:instrText>", footer)
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297  # type: ignore[union-attr]
    properties = document.core_properties
    assert properties.title == f"Migration and security {XSS}"
    assert properties.author == f"OSCE Centre in Astana; IOM {SCRIPT_LINK}"
    assert properties.created is not None and properties.created.year >= 2026
    assert DRAFT not in footer


def test_a_draft_says_so_on_every_page_and_lists_what_is_pending(conference, factories):
    labour = conference.groups[0]
    chair = next(m.participant for m in labour.memberships if m.role is GroupRole.CHAIR)
    factories.recommendation(labour, title="Still drafting", clauses=[(ClauseKind.OPERATIVE, "Text;")])
    pending = factories.recommendation(labour, title="Being voted", clauses=[
        (ClauseKind.OPERATIVE, "Voted text;")])
    services.open_vote(chair, pending, VoteOpen(subject="clause", clause_id=pending.live_clauses[0].id,
                                        question="Adopt the voted text?"))
    db.session.commit()
    _data, document = _docx(conference)
    paragraphs = _paragraphs(document)
    assert paragraphs[0] == ("Draft Mark", DRAFT)
    # No symbol set: distribution, date and place, original language.
    assert [style for style, _text in paragraphs[1:5]] == ["Document Identification"] * 3 + ["Title"]
    bullets = [text for style, text in paragraphs if style == "List Bullet"]
    assert any("Still drafting" in text for text in bullets)
    assert any("Being voted" in text for text in bullets)
    assert any("Adopt the voted text?" in text for text in bullets)
    header = [p.text for p in document.sections[0].header.paragraphs]
    assert DRAFT in header
    # One section, no different first page: the header is on every page.
    assert len(document.sections) == 1
    assert document.sections[0].different_first_page_header_footer is False
    assert document.core_properties.keywords == "draft"


def test_a_chairs_export_of_one_group(conference):
    ethnic = conference.groups[1]
    document = docx.Document(io.BytesIO(render_docx.render(compile_outline(conference, ethnic))))
    headings = [p.text for p in document.paragraphs if p.style.name in ("Heading 1", "Heading 2")  # type: ignore[union-attr]
                and not p.text.startswith("Vote ")]
    assert headings[:2] == [f"Working group 1: Ethnic migration {XSS}", "Recommendation 1.1: Minorities"]
    assert "Labour migration" not in " ".join(headings[:2])


# --- user text stays text ----------------------------------------------------------------------

FORBIDDEN = re.compile(r"<w:(hyperlink|fldSimple|instrText|fldChar|object|drawing|pict|altChunk"
                       r"|subDoc|embed)\b|<o:OLEObject|<v:|r:id=|r:embed=|r:link=")


def _assert_inert(data: bytes) -> None:
    parts = _xml_parts(data)
    for name, xml in parts.items():
        if name.endswith(".rels"):
            assert 'TargetMode="External"' not in xml, name
            assert "file:" not in xml and "169.254" not in xml, name
    # The section properties name the header and footer parts (python-docx's, not user text).
    body = re.sub(r"<w:sectPr\b.*?</w:sectPr>", "", parts["word/document.xml"], flags=re.S)
    assert not FORBIDDEN.search(body), FORBIDDEN.search(body)
    # The only relationships are the package's own parts.
    rels = parts["word/_rels/document.xml.rels"]
    targets = re.findall(r'Target="([^"]+)"', rels)
    assert all(re.fullmatch(r"[\w./-]+\.xml", t) for t in targets), targets


def test_hostile_text_in_the_fixture_is_plain_text(conference):
    data, document = _docx(conference)
    _assert_inert(data)
    _assert_inert(render_docx.render(compile_outline(conference), changes=True))
    text = "\n".join(p.text for p in document.paragraphs)
    assert LOCAL_FILE in text and METADATA in text and XSS in text
    # The relationships in the body are only the header and footer ones python-docx makes.
    body = _xml_parts(data)["word/document.xml"]
    ids = set(re.findall(r'r:id="([^"]+)"', body))
    rels = _xml_parts(data)["word/_rels/document.xml.rels"]
    for rel_id in ids:
        target = re.search(rf'Id="{rel_id}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rel_id}"', rels)
        assert target and re.fullmatch(r"(header|footer)\d+\.xml", target.group(1) or target.group(2))


def test_every_payload_stays_inert_in_every_place(ctx, xss_payloads):
    payloads = [*xss_payloads, f"<{LOCAL_FILE}>", f"<{METADATA}>", f"[a]({LOCAL_FILE})",
                f"[b]({METADATA})", '{ HYPERLINK "http://169.254.169.254/" }',
                "{ INCLUDETEXT \"c:\\\\windows\\\\win.ini\" }", "bell\x07 and \x00null \ufffe"]
    for payload in payloads:
        for changes in (False, True):
            data = render_docx.render(hostile_outline(payload), changes=changes)
            _assert_inert(data)
            document = docx.Document(io.BytesIO(data))
            styles = [p.style.name for p in document.paragraphs[:7]]  # type: ignore[union-attr]
            assert styles[:6] == ["Draft Mark"] + ["Document Identification"] * 4 + ["Title"]


def test_links_show_their_address_only_when_it_is_a_web_or_mail_address():
    blocks = render_docx.html_blocks(
        '<p>See <a href="https://example.org/a">the site</a>, <a href="/recommendations/1">this</a>, '
        '<a href="mailto:x@example.org">mail</a> and <a href="https://example.org">https://example.org</a>.'
        '<br>Next <strong>bold</strong> <em>it</em> <u>u</u> <del>gone</del> <code>x = 1</code>'
        'H<sub>2</sub>O</p><ul><li>one<ol><li>inner</li></ol></li></ul><pre>a\n  b</pre>')
    first = blocks[0]
    text = "".join("\n" if r.line_break else r.text for r in first.runs)
    assert text == ("See the site (https://example.org/a), this, mail (mailto:x@example.org) and "
                    "https://example.org.\nNext bold it u gone x = 1H2O")
    marks = {r.text: r.marks for r in first.runs if r.text.strip()}
    assert marks["bold"] == {"b"} and marks["it"] == {"i"} and marks["u"] == {"u"}
    assert marks["gone"] == {"s"} and marks["x = 1"] == {"code"} and marks["2"] == {"sub"}
    assert [(b.kind, b.depth, b.ordered, "".join(r.text for r in b.runs)) for b in blocks[1:3]] == [
        ("li", 1, False, "one"), ("li", 2, True, "inner")]
    pre = blocks[3]
    assert pre.kind == "pre"
    assert [("\n" if r.line_break else r.text) for r in pre.runs] == ["a", "\n", "  b"]


def test_a_large_conference_renders(ctx):
    """Not the benchmark: a guard that the writer stays linear (200 recommendations)."""
    sections = []
    for g in range(1, 5):
        recommendations = [RecommendationBlock(
            g * 100 + r, f"{g}.{r}", f"Title {g}.{r}", [],
            [ClauseBlock(g * 1000 + r * 10 + c, "operative", f"{c}.", Text.of(f"Clause *{c}*;"), None, [])
             for c in range(1, 16)]) for r in range(1, 51)]
        sections.append(GroupSection(g, g, f"Group {g}", Text.of("Mandate"), recommendations))
    outline = Outline(1, "Large", "Astana", date(2009, 6, 24), date(2009, 6, 25), ["OSCE"],
                      Text.of(""), None, False, [], sections, [], [], [],
                      identification=Identification("", "general", "Distr.: General", "en",
                                                    "Original: ENGLISH", "24–25 June 2009",
                                                    "Astana", "The participants,"))
    document = docx.Document(io.BytesIO(render_docx.render(outline)))
    clauses = [p for p in document.paragraphs if p.style.name == "List Number"]  # type: ignore[union-attr]
    assert len(clauses) == 3000
    assert len({_num_id(p) for p in clauses}) == 200


def test_recommendation_fixture_sanity(conference):
    """The fixture is what the tests above assume: three adopted recommendations."""
    adopted = db.session.scalars(db.select(Recommendation).where(
        Recommendation.status == RecommendationStatus.ADOPTED)).all()
    assert len(adopted) == 3


def test_tables_in_user_text_are_word_tables_wherever_they_stand(ctx):
    """In a clause, the preamble and a statement's cell: well-formed WordprocessingML, every
    attribute in its namespace (Word refuses a file with stray attributes)."""
    data = render_docx.render(hostile_outline("Before:\n\n| a | b |\n|---|---|\n| 1 | 2 |"))
    document = docx.Document(io.BytesIO(data))
    nested = [t for t in document.tables if any(c.tables for r in t.rows for c in r.cells)]
    assert len(nested) == 1  # annex B: the statement's own table, in its cell
    (inner,) = [t for r in nested[0].rows for c in r.cells for t in c.tables]
    assert _rows(inner) == [["a", "b"], ["1", "2"]]
    assert inner._tbl.getparent().getchildren()[-1].tag == qn("w:p")  # a cell ends with a paragraph
    top = [_rows(t) for t in document.tables if _rows(t) == [["a", "b"], ["1", "2"]]]
    assert len(top) == 4  # the preamble, the mandate, the preambular and the operative clause
    for element in document.element.iter():
        assert all(name.startswith("{") for name in element.attrib), (element.tag, element.attrib)
