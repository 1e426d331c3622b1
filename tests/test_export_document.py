"""The outcome document's front matter and body as a secretariat publishes it (issue 18),
read back from every format (the PDF's text and fonts, the DOCX's styles, the HTML, the
Markdown, the JSON), in English and in Russian: preambular paragraphs whose opening
participle alone is italic; the body's name as the subject of each recommendation; the
document's identification (symbol with its issue, distribution, date and place, original
language) with dates as practice writes them; DRAFT on every unfinalised export and a final
that says so with its canonical text's SHA-256, recomputable from the JSON; and what was
not adopted, listed as such."""
from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import docx
import jsonschema
import pytest
from docx.text.paragraph import Paragraph
from flask_babel import force_locale
from sqlalchemy import select

from drafting.export import render_docx, render_html, render_json, render_md, render_pdf
from drafting.export.outline import Outline, compile_outline
from drafting.typography import date_range, mark_opening, one_date
from drafting.votes import ballots
from drafting.votes.schemas import BallotIn
from models import (
    ClauseKind,
    Conference,
    Distribution,
    GroupRole,
    OptionKind,
    Participant,
    Recommendation,
    RecommendationStatus,
    db,
)
from tests.export_fixture import (
    MEMBER,
    decide,
    export_conference,  # noqa: F401 - the conference fixture
    hostile_outline,
)
from tests.factories import Factories
from tests.helpers.exports import (  # noqa: F401 - export_world and final_quickly are fixtures
    export_world,
    final_quickly,
    finalise_on_the_page,
    signed_in,
    stored,
)
from tests.helpers.exports import settle as settle_world
from tests.helpers.procedure import put_question, settle

SYMBOL = "CONF.MIGR/1/09/Rev.1"
#: Where the PDF's pages are saved as pictures, to be looked at.
SCREENS = Path(tempfile.gettempdir()) / "plenary-screens" / "document"
#: As each language prints the parts of the document checked here.
WORDS = {
    "en": {"dates": "24–25 June 2009", "body": "The participants in the Conference “Migration and security",
           "distribution": "Distr.: Limited", "original": "Original: ENGLISH",
           "not_adopted": "Not adopted: rejected by a vote of 1–2–0", "draft": "DRAFT",
           "final": "Final text", "hash": "SHA-256 of the canonical text:"},
    "ru": {"dates": "24–25 июня 2009 года", "body": "Участники Конференции «Migration and security",
           "distribution": "Распространение: ограниченное", "original": "Язык оригинала: АНГЛИЙСКИЙ",
           "not_adopted": "Не принята: отклонена голосованием 1–2–0", "draft": "ПРОЕКТ",
           "final": "Окончательный текст", "hash": "SHA-256 канонического текста:"},
}
LANGUAGES = ["en", "ru"]


# --- one function for dates, one for the opening participle --------------------------------

@pytest.mark.database_independent
@pytest.mark.parametrize(("locale", "start", "end", "expected"), [
    ("en", date(2009, 6, 24), date(2009, 6, 24), "24 June 2009"),
    ("en", date(2009, 6, 24), date(2009, 6, 25), "24–25 June 2009"),
    ("en", date(2009, 6, 30), date(2009, 7, 1), "30 June – 1 July 2009"),
    ("en", date(2009, 6, 24), date(2010, 7, 2), "24 June 2009 – 2 July 2010"),
    ("ru", date(2009, 6, 24), date(2009, 6, 24), "24 июня 2009 года"),
    ("ru", date(2009, 6, 24), date(2009, 6, 25), "24–25 июня 2009 года"),
    ("ru", date(2009, 6, 30), date(2009, 7, 1), "30 июня – 1 июля 2009 года"),
    ("ru", date(2009, 6, 24), date(2010, 7, 2), "24 июня 2009 года – 2 июля 2010 года"),
])
def test_dates_as_practice_writes_them(ctx, locale, start, end, expected):
    with force_locale(locale):
        assert date_range(start, end) == expected
        if start == end:
            assert one_date(start) == expected


@pytest.mark.database_independent
@pytest.mark.parametrize(("written", "expected"), [
    ("*Recognising* that the crisis,", "*Recognising* that the crisis,"),  # as the drafter marked it
    ("_Bearing in mind_ the Charter,", "_Bearing in mind_ the Charter,"),
    ("**Deeply concerned** by it,", "**Deeply concerned** by it,"),
    ("Recalling the *Astana* declaration,", "*Recalling* the *Astana* declaration,"),
    ("  Noting, further,", "  *Noting*, further,"),
    ("признавая вклад трудовых мигрантов,", "*признавая* вклад трудовых мигрантов,"),
    ("Well-being of migrants,", "*Well-being* of migrants,"),
    ("[Recalling] its decision,", "[Recalling] its decision,"),  # unagreed: as written
    ("1. a list", "1. a list"),
    ("# a heading", "# a heading"),
    ("", ""),
])
def test_the_opening_participle_is_marked_where_the_drafter_did_not(written, expected):
    assert mark_opening(written) == expected


# --- the conference ----------------------------------------------------------------------

def _person(name: str) -> Participant:
    found = db.session.scalar(select(Participant).where(Participant.name == name))
    assert found is not None
    return found


@pytest.fixture
def published(conference: Conference, factories: Factories) -> Conference:
    """The fixture conference identified by its secretariat, with a recommendation rejected
    by a vote of 1–2–0 and a group that adopted nothing; nothing pending."""
    conference.document_symbol, conference.symbol_suffix = "CONF.MIGR/1/09", "Rev.1"
    conference.distribution = Distribution.LIMITED
    db.session.commit()
    labour = conference.groups[0]
    chair, member, hidden = _person("Chair Person"), _person(MEMBER), _person("Hidden Person")
    rejected = factories.recommendation(labour, title="Seasonal quotas", clauses=[
        (ClauseKind.OPERATIVE, "Abolishes quotas;")])
    decide(chair, rejected, [chair, member, hidden], subject="clause",
           clause_id=rejected.live_clauses[0].id, rule="simple_majority")
    vote = put_question(chair, rejected, "simple_majority", subject="recommendation")
    yes = next(o for o in vote.options if o.kind is OptionKind.YES)
    ballots.cast_ballot(chair, vote, BallotIn(option_id=yes.id))
    db.session.commit()
    settle(chair, vote, [member, hidden], "no")
    assert rejected.status is RecommendationStatus.REJECTED
    factories.group(conference, name="Group that adopted nothing", position=3)
    db.session.commit()
    return conference


def _outline(conference: Conference, locale: str, *, final: bool = False) -> Outline:
    with force_locale(locale):
        outline = compile_outline(conference)
    assert not outline.pending
    return replace(outline, draft=False, final=True) if final else outline


def _canonical_sha256_of_json(data: bytes) -> str:
    """The SHA-256 a reader recomputes from the JSON form alone (docs/outcome-json.md)."""
    document = json.loads(data)
    members = {name: document[name] for name in ("conference", "identification", "sections", "adoption")}
    members["identification"] = {k: v for k, v in members["identification"].items() if k != "canonical_sha256"}
    text = json.dumps(members, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def flat(text: str) -> str:
    return " ".join(text.split())


# --- HTML --------------------------------------------------------------------------------

def _articles(html: str) -> list[str]:
    return re.findall(r'<article class="recommendation".*?</article>', html, re.S)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_html_front_matter_and_body(published, locale):
    words = WORDS[locale]
    outline = _outline(published, locale)
    with force_locale(locale):
        html = render_html.render(outline).decode("utf-8")
    head = flat(re.sub(r"<[^>]+>", " ", html.split('<header class="title-block"')[0].split("<body>")[1]))
    # Identification, before the title.
    for expected in (SYMBOL, words["distribution"], words["dates"] + ", Astana, Kazakhstan", words["original"]):
        assert expected in head
    assert words["dates"] in html.split('<p class="dates">')[1].split("</p>")[0]
    # Not final: marked as a draft (on every page: the page's margin box), though nothing is pending.
    assert words["draft"] in html and "@top-center" in html and 'id="pending"' not in html
    assert words["final"] not in html
    # Each recommendation: the heading, the body's name, the preamble, the operative part.
    articles = _articles(html)
    assert len(articles) == 3
    for article in articles:
        name = article.index('<p class="body-name">')
        assert article.index("</h3>") < name
        assert words["body"] in article[name:]
        assert all(name < m.start() for m in re.finditer('clause--preambular', article))
    # The opening participle alone in italics: marked where the drafter did not, and CSS that
    # italicises only the emphasis.
    assert '<p><em>Recalling</em> the <em>Astana</em> declaration,</p>' in articles[0]
    assert "<p><em>Noting</em> " in articles[0]
    style = html.split("<style>")[1].split("</style>")[0]
    rule = re.search(r"\.clause--preambular \{([^}]*)\}", style)
    assert rule and "italic" not in rule.group(1)
    assert re.search(r"\.clause--preambular em, \.clause--preambular i \{ font-style: italic; \}", style)
    # What was not adopted, in its group's place; no line for a group that adopted nothing.
    labour = html.split('id="group-1"')[1].split('id="group-2"')[0]
    assert "Seasonal quotas" in labour and words["not_adopted"] in labour
    assert "Abolishes quotas" not in html.split('id="annex-a"')[0]
    assert "No recommendation of this group has been adopted" not in html
    assert "Не принято ни одной рекомендации" not in html


# --- Markdown ----------------------------------------------------------------------------

@pytest.mark.parametrize("locale", LANGUAGES)
def test_markdown_front_matter_and_body(published, locale):
    words = WORDS[locale]
    outline = _outline(published, locale)
    with force_locale(locale):
        text = render_md.render(outline).decode("utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("> **") and words["draft"] in lines[0]  # at the top, nothing pending
    top = "\n".join(lines[:12])
    assert "CONF.MIGR/1/09/Rev.1" in top.replace("\\", "")
    for expected in (words["distribution"], words["dates"] + ", Astana, Kazakhstan", words["original"]):
        assert expected in top.replace("\\", "")
    heading = next(i for i, line in enumerate(lines) if line.startswith("### ") and "1.1" in line)
    body = [line for line in lines[heading + 1:] if line]
    assert words["body"] in body[0].replace("\\", "")
    assert body[1] == "*Recalling* the *Astana* declaration,"
    assert body[2].startswith("*Noting* ")
    assert "_*Recalling*" not in text and "_*Noting*" not in text
    assert "No recommendation adopted" not in text and "Не принято ни одной рекомендации" not in text
    labour = text.split("\n## ")[1]
    assert "#### Seasonal quotas" in labour and words["not_adopted"] in labour


# --- DOCX --------------------------------------------------------------------------------

def _docx(outline: Outline, locale: str) -> Any:
    with force_locale(locale):
        return docx.Document(io.BytesIO(render_docx.render(outline)))


@pytest.mark.parametrize("locale", LANGUAGES)
def test_docx_front_matter_and_body(published, locale):
    words = WORDS[locale]
    document = _docx(_outline(published, locale), locale)
    paragraphs: list[Paragraph] = document.paragraphs
    styles = [(p.style.name, p.text) for p in paragraphs]
    # Identification in its own style, before the title.
    title = next(i for i, (style, _text) in enumerate(styles) if style == "Title")
    identification = [text for style, text in styles[:title] if style == "Document Identification"]
    assert identification == [SYMBOL, words["distribution"], words["dates"] + ", Astana, Kazakhstan",
                              words["original"]]
    assert styles[title + 1] == ("Subtitle", "Astana, Kazakhstan, " + words["dates"])
    # DRAFT in the header: on every page.
    header = " ".join(p.text for p in document.sections[0].header.paragraphs)
    assert words["draft"] in header
    # The preambular style is roman; the opening participle alone is an italic run.
    preambular_style = document.styles["Preambular Clause"]
    assert preambular_style.font.italic is not True
    preambular = [p for p in paragraphs if p.style.name == "Preambular Clause"]
    first = preambular[0]
    assert first.text == "Recalling the Astana declaration,"
    italic = {run.text.strip(): bool(run.italic) for run in first.runs if run.text.strip()}
    assert italic == {"Recalling": True, "the": False, "Astana": True, "declaration,": False}
    # The body's name between each recommendation's heading and its preamble.
    for index, (style, _text) in enumerate(styles):
        if style == "Heading 2" and _text.startswith(("Recommendation", "Рекомендация")):
            assert styles[index + 1][0] == "Body Name" and words["body"] in styles[index + 1][1]
            assert styles[index + 2][0] in ("Preambular Clause", "List Number")
    # Not adopted, as such; no line for a group that adopted nothing.
    not_adopted = [text for style, text in styles if style == "Not Adopted"]
    assert len(not_adopted) == 1 and words["not_adopted"] in not_adopted[0]
    assert ("Heading 3", "Seasonal quotas") in styles
    texts = " ".join(text for _style, text in styles)
    assert "No recommendation adopted" not in texts and "Не принято ни одной рекомендации" not in texts
    assert words["final"] not in texts


# --- PDF ---------------------------------------------------------------------------------

def _pdf_text_and_fonts(pdf: bytes) -> tuple[list[str], list[tuple[str, str]]]:
    """Each page's text, and each piece of text drawn with the font it was drawn in."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    runs: list[tuple[str, str]] = []

    def visit(text: str, _cm: Any, _tm: Any, font: Any, _size: Any) -> None:
        if text.strip() and font:
            runs.append((text, str(font.get("/BaseFont", ""))))

    pages = [page.extract_text(visitor_text=visit) or "" for page in reader.pages]
    return pages, runs


def _font_of(runs: list[tuple[str, str]], word: str) -> str:
    return next(font for text, font in runs if word in text)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_pdf_front_matter_and_body(published, locale):
    words = WORDS[locale]
    outline = _outline(published, locale)
    with force_locale(locale):
        pdf = render_pdf.render(outline)
    pages, runs = _pdf_text_and_fonts(pdf)
    for page in pages:
        assert words["draft"] in page
    first = flat(pages[0])
    for expected in (SYMBOL, words["distribution"], words["dates"] + ", Astana, Kazakhstan", words["original"]):
        assert expected in first
    text = flat("\n".join(pages))
    assert words["body"] in text
    assert text.index(words["body"]) < text.index("Recalling the Astana declaration,")
    assert words["not_adopted"] in text and "Seasonal quotas" in text
    assert "No recommendation of this group" not in text
    # The participle in the italic face, the rest of the paragraph in the roman one.
    assert "Italic" in _font_of(runs, "Recalling")
    roman = _font_of(runs, "declaration")
    assert "Serif" in roman and "Italic" not in roman
    # For a person to look at: the heading and the first recommendation.
    import pypdfium2

    SCREENS.mkdir(parents=True, exist_ok=True)
    rendered = pypdfium2.PdfDocument(pdf)
    wanted = next(n for n, page in enumerate(pages) if "Recalling" in page)
    for number in (0, wanted):
        rendered[number].render(scale=1.5).to_pil().save(SCREENS / f"document-{locale}-page{number + 1}.png")


# --- the final ---------------------------------------------------------------------------

@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_final_says_so_with_its_symbol_and_canonical_hash(published, locale):
    words = WORDS[locale]
    outline = _outline(published, locale, final=True)
    with force_locale(locale):
        data = render_json.render(outline)
        html = render_html.render(outline).decode("utf-8")
        markdown = render_md.render(outline).decode("utf-8")
        pdf = render_pdf.render(outline)
        document = docx.Document(io.BytesIO(render_docx.render(outline)))
    found = json.loads(data)
    jsonschema.validate(found, render_json.load_schema(),
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    digest = found["identification"]["canonical_sha256"]
    assert found["identification"]["final"] is True and found["draft"] is False
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and digest == _canonical_sha256_of_json(data)
    assert digest == render_json.canonical_sha256(outline)
    pages, _runs = _pdf_text_and_fonts(pdf)
    docx_text = " ".join(p.text for p in document.paragraphs)
    docx_header = " ".join(p.text for p in document.sections[0].header.paragraphs)
    read_back = (re.sub(r"<[^>]+>", " ", html), markdown.replace("\\", "").replace("*", ""),
                 flat("\n".join(pages)), docx_text)
    for text in read_back:
        assert words["final"] in text and f"{words['final']} — {SYMBOL}" in flat(text)
        assert words["hash"] in text and digest in text.replace(" ", "").replace("\n", "")
        assert words["draft"] not in text
    assert words["draft"] not in docx_header and "@top-center" not in html
    # A changed word changes the hash.
    section = outline.sections[0]
    changed = replace(outline, sections=[replace(section, name=section.name + "."), *outline.sections[1:]])
    with force_locale(locale):
        assert render_json.canonical_sha256(changed) != digest


@pytest.mark.database_independent
def test_the_json_carries_identification_and_what_was_not_adopted(ctx):
    outline = hostile_outline("<b>x</b>")
    found = json.loads(render_json.render(outline))
    jsonschema.validate(found, render_json.load_schema())
    assert found["draft"] is True and found["identification"]["canonical_sha256"] is None
    assert found["sections"][0]["not_adopted"] == [
        {"id": 9, "title": "<b>x</b>", "outcome": "rejected", "votes": {"yes": 1, "no": 2, "abstain": 3},
         "how": "<b>x</b>"}]
    final = json.loads(render_json.render(replace(outline, draft=False, final=True, pending=[])))
    jsonschema.validate(final, render_json.load_schema())
    # The schema holds the two together: a final that still says draft does not validate.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**final, "draft": True}, render_json.load_schema())


# --- the secretariat's settings ------------------------------------------------------------

def test_the_secretariat_sets_the_identification_and_the_body_name(client, factories):
    secretariat = factories.secretariat()
    conference = factories.conference(title="Migration")
    member = factories.member_of(factories.group(conference))
    client.sign_in(secretariat)
    url = f"/api/v1/conferences/{conference.id}"
    assert client.api("GET", url).get_json()["distribution"] == "general"
    patched = client.api("PATCH", url, {
        "document_symbol": "CONF.MIGR/1/09", "symbol_suffix": "Rev.2", "original_language": "ru",
        "distribution": "limited", "body_name": "  The Conference\n on Migration,  "}).get_json()
    assert (patched["document_symbol"], patched["symbol_suffix"], patched["original_language"],
            patched["distribution"], patched["body_name"]) == (
        "CONF.MIGR/1/09", "Rev.2", "ru", "limited", "The Conference on Migration,")
    assert patched["title"] == "Migration"  # the rest kept
    exported = client.get(f"/conferences/{conference.id}/export/download?format=json")
    identification = json.loads(exported.get_data())["identification"]
    assert identification["symbol"] == "CONF.MIGR/1/09/Rev.2"
    assert identification["original_label"] == "Original: RUSSIAN"
    assert identification["distribution_label"] == "Distr.: Limited"
    assert identification["body_name"] == "The Conference on Migration,"
    # Each bad value named, nothing written.
    for field, value in (("document_symbol", "CONF MIGR"), ("document_symbol", "<b>"),
                         ("symbol_suffix", "Rev.0"), ("symbol_suffix", "Revision 1"),
                         ("original_language", "english"), ("original_language", "xx"),
                         ("distribution", "secret"), ("body_name", "x" * 501)):
        response = client.api("PATCH", url, {field: value})
        assert response.status_code == 400, (field, value)
        assert field in response.get_json()["error"]["fields"]
    assert client.api("GET", url).get_json()["symbol_suffix"] == "Rev.2"
    # Only the secretariat.
    client.sign_out()
    client.sign_in(member)
    assert client.api("PATCH", url, {"symbol_suffix": "Rev.3"}).status_code == 403
    client.sign_out()
    # The conference's form.
    client.sign_in(secretariat)
    page = client.get(f"/conferences/{conference.id}/edit").get_data(as_text=True)
    assert 'name="document_symbol"' in page and 'value="CONF.MIGR/1/09"' in page
    response = client.submit(f"/conferences/{conference.id}/edit", {
        "title": "Migration", "venue": "Astana", "starts_on": "2009-06-24", "ends_on": "2009-06-25",
        "organisers": "", "description": "", "preamble": "", "body_name": "",
        "document_symbol": "CONF.MIGR/1/09", "symbol_suffix": "", "original_language": "en",
        "distribution": "general"})
    assert response.status_code == 302
    saved = client.api("GET", url).get_json()
    assert (saved["symbol_suffix"], saved["distribution"], saved["body_name"]) == ("", "general", "")
    response = client.submit(f"/conferences/{conference.id}/edit", {
        "title": "Migration", "starts_on": "2009-06-24", "ends_on": "2009-06-25",
        "symbol_suffix": "Rev 1", "original_language": "en", "distribution": "general"})
    assert response.status_code == 400 and "Rev.1" in response.get_data(as_text=True)
    # A language set through the API that the form's list does not offer stays choosable.
    assert client.api("PATCH", url, {"original_language": "de"}).status_code == 200
    page = client.get(f"/conferences/{conference.id}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="de">|<option value="de" selected>', page), page
    response = client.submit(f"/conferences/{conference.id}/edit", {
        "title": "Migration", "starts_on": "2009-06-24", "ends_on": "2009-06-25",
        "original_language": "de", "distribution": "limited"})
    assert response.status_code == 302
    assert client.api("GET", url).get_json()["distribution"] == "limited"


# --- the app's own pages ----------------------------------------------------------------

def test_the_pages_print_the_opening_participle_alone_in_italics(client, factories):
    group = factories.group()
    member = factories.member_of(group)
    recommendation = factories.recommendation(group, clauses=[
        (ClauseKind.PREAMBULAR, "Recognising the contribution of migrants,"),
        (ClauseKind.PREAMBULAR, "*Bearing in mind* the Charter,"),
        (ClauseKind.OPERATIVE, "Recommend that States *act*;")])
    client.sign_in(member)
    page = client.get(f"/recommendations/{recommendation.id}").get_data(as_text=True)
    assert "<p><em>Recognising</em> the contribution of migrants,</p>" in page
    assert "<p><em>Bearing in mind</em> the Charter,</p>" in page
    assert "<p>Recommend that States <em>act</em>;</p>" in page  # operative: as written
    # The editor's preview (the API's rendering) says the same.
    clauses = client.api("GET", f"/api/v1/recommendations/{recommendation.id}").get_json()["clauses"]
    assert clauses[0]["text_html"] == "<p><em>Recognising</em> the contribution of migrants,</p>"
    # No stylesheet of the app italicises a whole preambular clause any more.
    sources = "".join(p.read_text(encoding="utf-8") for p in Path("static/src").rglob("*.css"))
    for rule in re.finditer(r"([^{}]*\.clause--preambular[^{}]*)\{([^}]*)\}", sources):
        assert "italic" not in rule.group(2) or "em" in rule.group(1).split(), rule.group(0)


# --- finalising ------------------------------------------------------------------------------

def test_finalising_stores_a_final_that_carries_its_canonical_hash(app, world, quick_final):
    """Through the secretariat's page, as it is done: the stored files say they are final and
    print the hash a reader recomputes from the stored JSON; the export page shows it beside
    the files' own hashes. Before, a draft with nothing pending still says DRAFT."""
    settle_world(app, world)
    client = signed_in(app, world.cast.secretariat)
    draft = client.get(f"/conferences/{world.conference}/export/download?format=md").get_data(as_text=True)
    assert draft.startswith("> **DRAFT — adopted, not yet final**")
    assert finalise_on_the_page(client, world)["status"] == "finished"
    documents = stored(app, world.conference)
    digest = _canonical_sha256_of_json(documents["json"].data)
    assert json.loads(documents["json"].data)["identification"]["canonical_sha256"] == digest
    for fmt in ("html", "md"):
        text = documents[fmt].data.decode("utf-8")
        assert digest in text and "Final text" in text and "DRAFT" not in text
    page = client.get(f"/conferences/{world.conference}/export").get_data(as_text=True)
    assert f"<code data-canonical-sha256>{digest}</code>" in page
    for document in documents.values():
        assert f"<code data-sha256>{document.sha256}</code>" in page


def test_the_projector_shows_a_preambular_clause_as_it_will_print(app, client, factories):
    group = factories.group()
    chair = factories.member_of(group, GroupRole.CHAIR)
    recommendation = factories.recommendation(group, clauses=[
        (ClauseKind.PREAMBULAR, "Welcoming the co-operation of IOM and ILO,"),
        (ClauseKind.OPERATIVE, "Recommend that States act;")])
    with app.test_request_context():
        found = db.session.get(Recommendation, recommendation.id)
        assert found is not None
        vote_id = put_question(db.session.get(Participant, chair.id), found, None, subject="clause",
                               clause_id=found.live_clauses[0].id).id
    client.sign_in(chair)
    for path in (f"/votes/{vote_id}/projector", f"/votes/{vote_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<p><em>Welcoming</em> the co-operation of IOM and ILO,</p>" in page, path


@pytest.mark.database_independent
def test_what_the_secretariat_writes_in_the_heading_stays_text(ctx, xss_payloads):
    """The identification, the body's name and a not-adopted title are plain text the
    secretariat and the drafters typed: in the HTML (and so the PDF) they are escaped, the
    template's own elements the only ones around them."""
    for payload in xss_payloads:
        html = render_html.render(replace(hostile_outline(payload), pending=[])).decode("utf-8")
        for pattern in (r'<div class="identification" id="identification">(.*?)\n</div>',
                        r'<p class="body-name">(.*?)</p>', r'<section class="not-adopted">(.*?)</section>'):
            region = re.search(pattern, html, re.S)
            assert region is not None, pattern
            tags = set(re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", region.group(1)))
            assert tags <= {"div", "p", "h4"}, (payload, tags)
