"""The outcome document as Akoma Ntoso 3.0 XML: valid against the official OASIS schema in
English and Russian, draft and adopted; each adopted recommendation a resolution as AKN4UN
models one (preamble, numbered paragraphs, sub-paragraphs as points), with FRBR identity,
stable wIds and the annexes as attachments; nothing a person wrote becomes markup; and the
format is exported, finalised and stored like the others."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from flask_babel import force_locale
from lxml import etree

from drafting.export import render_akn
from drafting.export.labels import adoption_how, adoption_line
from drafting.export.outline import (
    AdoptionBlock,
    ClauseBlock,
    GroupSection,
    Outline,
    RecommendationBlock,
    Text,
    compile_outline,
)
from drafting.export.render_json import canonical_text
from models import Conference, Distribution, db
from tests.export_fixture import (
    ADOPTED,
    FIRST,
    XSS,
    export_conference,  # noqa: F401 - the conference fixture
    hostile_outline,
)
from tests.helpers.akn import NS, text, validated
from tests.helpers.exports import FIRST as WORLD_FIRST
from tests.helpers.exports import (  # noqa: F401 - export_world and final_quickly are fixtures
    disposition_name,
    download,
    export_world,
    final_quickly,
    finalise_on_the_page,
    settle,
    signed_in,
    stored,
    wait_for,
)

renderer_only = pytest.mark.database_independent


def _akn(outline: Outline, locale: str = "en", **options: bool) -> etree._ElementTree:
    with force_locale(locale):
        return validated(render_akn.render(outline, **options))


def _adopted(outline: Outline) -> Outline:
    """The outline once the plenary has adopted it (consensus, Astana, on the last day)."""
    when = outline.ends_on
    return replace(outline, draft=False, pending=[], adoption=AdoptionBlock(
        when, "Astana", "", "consensus", None, adoption_line("", "Astana", when),
        adoption_how("consensus", None, None, None)))


def _one_clause(markdown: str, kind: str = "operative") -> Outline:
    """A document of one recommendation with one clause (and its conference's fields plain)."""
    clause = ClauseBlock(41, kind, "1." if kind == "operative" else "", Text.of(markdown), None, [])
    recommendation = RecommendationBlock(5, "1.1", "Labour migration",
                                         [clause] if kind == "preambular" else [],
                                         [clause] if kind == "operative" else [])
    return replace(hostile_outline("x"), title="Efficient migration management", venue="Astana",
                   organisers=["OSCE Centre in Astana"], preamble=Text.of(""),
                   sections=[GroupSection(4, 1, "Labour", Text.of(""), [recommendation])])


# --- the document ----------------------------------------------------------------------------


@renderer_only
def test_it_is_identified_as_every_format_identifies_the_document(conference):
    """The conference's symbol, distribution and original language, the body's name before
    each preamble, and the draft mark, as the other formats print them."""
    conference.document_symbol, conference.symbol_suffix = "CONF.MIGR/1/09", "Rev.1"
    conference.distribution = Distribution.LIMITED
    conference.body_name = "The participants in the Astana Conference,"
    outline = compile_outline(conference)
    tree = _akn(outline, "en")
    preface = tree.find("a:documentCollection/a:preface", NS)
    assert text(preface.find(".//a:docNumber", NS)) == "CONF.MIGR/1/09/Rev.1"
    assert text(preface.find("a:p[@class='distribution']", NS)) == "Distr.: Limited"
    assert text(preface.find("a:p[@class='original']", NS)) == "Original: ENGLISH"
    assert text(preface.find(".//a:docStatus", NS)) == "DRAFT — not adopted"
    formulas = tree.findall(".//a:statement/a:preamble/a:formula", NS)
    assert formulas and {text(f) for f in formulas} == {"The participants in the Astana Conference,"}


@renderer_only
@pytest.mark.parametrize(("locale", "language"), [("en", "eng"), ("ru", "rus")])
def test_each_adopted_recommendation_is_a_valid_resolution(conference, locale, language):
    outline = compile_outline(conference)
    tree = _akn(outline, locale)
    collection = tree.find("a:documentCollection", NS)
    assert collection.get("name") == "outcomeDocument"
    statements = collection.findall("a:collectionBody/a:component/a:statement", NS)
    blocks = [r for s in outline.sections for r in s.recommendations]
    assert [s.get("name") for s in statements] == ["resolution"] * len(blocks) == ["resolution"] * 3
    for statement, block in zip(statements, blocks, strict=True):
        work = f"/akn/kz/statement/deliberation/conference-{outline.conference_id}/2009-06-25/" \
               + block.number.replace(".", "-")
        identification = statement.find("a:meta/a:identification", NS)
        assert identification.find("a:FRBRWork/a:FRBRuri", NS).get("value") == work
        assert identification.find("a:FRBRExpression/a:FRBRuri", NS).get("value") == f"{work}/{language}@"
        assert identification.find("a:FRBRManifestation/a:FRBRthis", NS).get("value") \
            == f"{work}/{language}@/!main.xml"
        assert identification.find("a:FRBRExpression/a:FRBRlanguage", NS).get("language") == language
        translation = identification.find("a:FRBRExpression/a:FRBRtranslation", NS)
        if language == "eng":
            assert translation is None
        else:  # the Russian is a translation of the English, whose wIds it keeps
            assert translation.get("fromLanguage") == "eng"
            assert identification.find("a:FRBRExpression/a:FRBRmasterExpression", NS).get("href") \
                == f"{work}/eng@"
        assert block.number in text(statement.find("a:preface//a:docNumber", NS))
        # Operative paragraphs: numbered, eId by position, wId the clause's stable id.
        paragraphs = statement.findall("a:mainBody/a:paragraph", NS)
        assert [p.findtext("a:num", namespaces=NS) for p in paragraphs] == \
            [c.number for c in block.operative]
        assert [p.get("wId") for p in paragraphs] == [f"clause_{c.id}" for c in block.operative]
        component = statement.getparent().get("eId")
        assert [p.get("eId") for p in paragraphs] == \
            [f"{component}__para_{n}" for n in range(1, len(paragraphs) + 1)]
        recitals = statement.findall("a:preamble/a:container", NS)
        assert [r.get("wId") for r in recitals] == [f"clause_{c.id}" for c in block.preambular]
        assert statement.find("a:preamble/a:formula", NS) is not None
    first = statements[0]
    assert ADOPTED in text(first.find("a:mainBody", NS))
    # The clause's table is an AKN table, its escaped pipe one cell.
    cells = [text(td) for td in first.iterfind(".//a:table/a:tr/a:td", NS)]
    assert cells == ["IOM", "a | b"]
    # The annexes are attachments, each a doc of its own.
    attachments = collection.findall("a:attachments/a:attachment", NS)
    assert [a.find("a:doc", NS).get("name") for a in attachments] == ["votes", "statements", "participants"]
    assert "MEMBER, Other" in text(attachments[2])
    assert "Hidden Person" not in etree.tostring(tree, encoding="unicode")
    status = text(collection.find("a:preface//a:docStatus", NS))
    assert status == ("DRAFT — not adopted" if locale == "en" else "ПРОЕКТ — не принят")
    # Not adopted in plenary yet: no adoption line.
    assert collection.find(".//a:conclusions", NS) is None


@renderer_only
def test_the_preambular_participle_alone_is_italic(conference):
    tree = _akn(compile_outline(conference))
    recitals = tree.findall(".//a:statement/a:preamble/a:container/a:p", NS)
    openers = [(p[0].text, p.text) for p in recitals]
    # "Recalling the *Astana* declaration": the participle italicised, the rest as written.
    assert openers == [("Recalling", None), ("Noting", None), ("Mindful", None)]
    assert text(recitals[0]) == "Recalling the Astana declaration,"
    assert [i.text for i in recitals[0].iterfind("a:i", NS)] == ["Recalling", "Astana"]
    # Written in italics already: kept, not doubled.
    written = _akn(_one_clause("*Recognizing* the contribution of labour migrants,", "preambular"))
    [p] = written.findall(".//a:preamble/a:container/a:p", NS)
    assert [(i.text, i.tail) for i in p] == [("Recognizing", " the contribution of labour migrants,")]


@renderer_only
@pytest.mark.parametrize(("locale", "labels", "nested"), [
    ("en", ["(a)", "(b)"], ["(i)", "(ii)"]), ("ru", ["a)", "b)"], ["i)", "ii)"])])
def test_sub_paragraphs_are_a_list_of_points(ctx, locale, labels, nested):
    outline = _one_clause("Recommend that the participating States:\n\n"
                          "- Simplify the registration of labour migrants;\n"
                          "- Report within a year on:\n\n"
                          "    - their progress;\n"
                          "    - their difficulties.")
    tree = _akn(outline, locale)
    [paragraph] = tree.findall(".//a:mainBody/a:paragraph", NS)
    assert paragraph.findtext("a:num", namespaces=NS) == "1."
    listed = paragraph.find("a:list", NS)
    assert listed.get("eId") == "cmp_1__para_1__list_1"
    assert text(listed.find("a:intro", NS)) == "Recommend that the participating States:"
    points = listed.findall("a:point", NS)
    assert [p.findtext("a:num", namespaces=NS) for p in points] == labels
    assert text(points[0].find("a:content", NS)) == "Simplify the registration of labour migrants;"
    assert points[0].get("eId") == "cmp_1__para_1__list_1__point_a"
    inner = points[1].find("a:list", NS)
    assert text(inner.find("a:intro", NS)) == "Report within a year on:"
    assert [p.findtext("a:num", namespaces=NS) for p in inner.findall("a:point", NS)] == nested
    assert [text(p) for p in inner.findall("a:point/a:content", NS)] == \
        ["their progress;", "their difficulties."]


@renderer_only
def test_once_adopted_it_carries_the_adoption_line_and_its_hash(conference):
    for locale in ("en", "ru"):
        with force_locale(locale):
            outline = _adopted(compile_outline(conference))
        tree = _akn(outline, locale)
        collection = tree.find("a:documentCollection", NS)
        assert collection.find("a:meta/a:identification/a:FRBRWork/a:FRBRdate", NS).attrib == \
            {"date": "2009-06-25", "name": "adoption"}
        conclusions = collection.find("a:conclusions/a:container", NS)
        assert conclusions.get("name") == "adoption"
        assert conclusions.find(".//a:docDate", NS).get("date") == "2009-06-25"
        # Each resolution ends with it too, as a General Assembly resolution does.
        assert all(s.find("a:conclusions//a:docDate", NS) is not None
                   for s in collection.iterfind(".//a:statement", NS))
        status = text(collection.find("a:preface//a:docStatus", NS))
        assert status == ("Adopted" if locale == "en" else "Принят")
        line = "Adopted at the closing plenary meeting, Astana, 25 June 2009 Adopted by consensus."
        assert text(conclusions) == line if locale == "en" else "25 июня 2009" in text(conclusions)
    plenary = collection.find("a:meta/a:proprietary/{urn:plenary:outcome-document}document", NS)
    assert plenary.get("status") == "adopted"
    assert plenary.get("adoptedTextSha256") == outline.adopted_text_sha256()


@renderer_only
def test_the_changes_version_marks_deleted_and_inserted_words(conference):
    tree = _akn(compile_outline(conference), changes=True)
    [first] = tree.find(".//a:statement/a:mainBody/a:paragraph/a:content", NS)
    assert first.find("a:ins", NS) is not None and first.find("a:del", NS) is not None

    def without(mark: str) -> str:
        kept = [first.text or ""]
        for child in first:
            kept += ([] if child.tag == f"{{{render_akn.NAMESPACE}}}{mark}" else [child.text or ""])
            kept.append(child.tail or "")
        return " ".join("".join(kept).split())

    # Read without the insertions it is the first draft; without the deletions, the adopted text.
    assert (without("ins"), without("del")) == (FIRST, ADOPTED)


@renderer_only
def test_nothing_adopted_is_still_a_valid_collection(ctx):
    outline = replace(_one_clause("Notes progress;"), sections=[])
    tree = _akn(outline)
    [component] = tree.findall(".//a:collectionBody/a:component", NS)
    assert text(component) == "No recommendation adopted."


@renderer_only
def test_hostile_text_is_inert_and_the_document_still_valid(ctx, xss_payloads):
    allowed = ("http://", "https://", "mailto:", "/", "#")
    for payload in [*xss_payloads, f"a\x00b\x1b{XSS}\ufffe"]:
        outline = hostile_outline(payload)
        for changes in (False, True):
            tree = _akn(outline, changes=changes)
            for element in tree.iter():
                if not isinstance(element.tag, str):
                    continue
                namespace = etree.QName(element).namespace
                assert namespace in (render_akn.NAMESPACE, render_akn.PLENARY_NAMESPACE), element.tag
                assert not any(name.lower().startswith("on") for name in element.attrib), payload
                if etree.QName(element).localname == "a":
                    assert element.get("href").strip().lower().startswith(allowed), payload
            # Plain text fields are text, exactly (less what XML cannot hold).
            title = tree.find(".//a:documentCollection/a:preface//a:docTitle", NS)
            assert title.text == render_akn.clean(payload)


# --- exported, finalised, stored -------------------------------------------------------------


def test_the_export_page_and_the_api_offer_akoma_ntoso(app, world):
    client = signed_in(app, world.cast.secretariat)
    page = client.get(f"/conferences/{world.conference}/export").get_data(as_text=True)
    assert 'data-export-format="akn"' in page and "Akoma Ntoso (XML)" in page
    started = client.api("POST", f"/api/v1/conferences/{world.conference}/exports", {"format": "akn"})
    assert started.status_code == 202, started.get_data(as_text=True)
    ended = wait_for(client, started.get_json()["id"])[-1]
    assert ended["status"] == "finished"
    assert ended["filename"] == f"outcome-{world.conference}-draft.xml"
    file = client.get(ended["download_url"])
    assert file.mimetype == "application/akn+xml"
    tree = validated(file.data)
    assert WORLD_FIRST in text(tree.getroot())
    direct = download(client, world, "akn")
    assert direct.status_code == 200 and disposition_name(direct) == f"outcome-{world.conference}-draft.xml"
    validated(direct.data)
    # A chair's section, as a draft, in Russian.
    chair = signed_in(app, world.cast.chair)
    section = download(chair, world, "akn", group=world.group)
    assert disposition_name(section) == f"outcome-{world.conference}-group-{world.group}-draft.xml"
    validated(section.data)


def test_finalising_stores_akoma_ntoso_with_its_hash(app, world, quick_final):
    settle(app, world)
    client = signed_in(app, world.cast.secretariat)
    assert finalise_on_the_page(client, world)["status"] == "finished"
    document = stored(app, world.conference)["akn"]
    assert document.sha256 == hashlib.sha256(document.data).hexdigest()
    served = client.get(f"/conferences/{world.conference}/export/final/akn")
    assert served.status_code == 200 and served.data == document.data
    assert served.mimetype == "application/akn+xml"
    tree = validated(served.data)
    assert tree.find(".//a:documentCollection/a:conclusions", NS) is not None
    with app.app_context():
        adoption = db.session.get(Conference, world.conference).plenary_adoption
        recorded = adoption.text_sha256
        adopted_on = adoption.adopted_on
    plenary = tree.find(".//{urn:plenary:outcome-document}document")
    assert plenary.get("status") == "final" and plenary.get("adoptedTextSha256") == recorded
    # The final's canonical text's SHA-256, as every format prints it: recomputed from the
    # stored JSON form alone (docs/outcome-json.md#canonical-text).
    canonical = hashlib.sha256(canonical_text(json.loads(stored(app, world.conference)["json"].data))).hexdigest()
    assert plenary.get("canonicalSha256") == canonical
    assert tree.find(".//a:documentCollection/a:preface/a:p[@class='canonicalSha256']", NS).text.endswith(canonical)
    assert tree.find(".//a:documentCollection/a:meta//a:FRBRWork/a:FRBRdate", NS).get("date") \
        == adopted_on.isoformat()
    page = client.get(f"/conferences/{world.conference}/export").get_data(as_text=True)
    assert '<tr data-format="akn">' in page and document.sha256 in page
    # The API lists it with the others.
    listed = client.api("GET", f"/api/v1/conferences/{world.conference}/documents").get_json()
    assert {"format": "akn", "sha256": document.sha256}.items() <= \
        next(d for d in listed if d["format"] == "akn").items()


def test_an_unknown_format_names_akoma_ntoso_among_the_choices(app, world):
    client = signed_in(app, world.cast.secretariat)
    refused = client.api("POST", f"/api/v1/conferences/{world.conference}/exports", {"format": "xml"})
    assert refused.status_code == 400 and "akn" in refused.get_data(as_text=True)


def test_the_command_line_writes_akoma_ntoso(app, world, tmp_path):
    target = tmp_path / "outcome.xml"
    result = app.test_cli_runner().invoke(args=[
        "export", "--conference", str(world.conference), "--format", "akn", "-o", str(target)])
    assert result.exit_code == 0, result.output
    tree = validated(target.read_bytes())
    assert WORLD_FIRST in text(tree.getroot())
