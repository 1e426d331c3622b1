"""The outcome document as Akoma Ntoso 3.0 (OASIS LegalDocML) XML, for legal-document systems.

The shape (docs/akoma-ntoso.md says why): the outcome document is one
``<documentCollection name="outcomeDocument">``; each adopted recommendation is a
component holding a ``<statement name="resolution">`` as AKN4UN models a General Assembly
resolution, with its own FRBR identity, so that a consumer can file each one apart; the
annexes (decisions, statements, participants) and the Chair's summary are the collection's
attachments, each a ``<doc>``.

Within a resolution: ``preface`` (its number and title), ``preamble`` (the enacting formula,
then one ``container`` per preambular paragraph, the opening participle in ``<i>``),
``mainBody`` (numbered ``paragraph``/``num``/``content``; a lead-in followed by a list is
``list``/``intro``/``point`` with (a), (b), then (i), (ii)), ``conclusions`` (the plenary's
adoption line, once recorded). ``eId`` is positional (it changes when paragraphs are
renumbered); ``wId`` is the clause's stable id.

User text reaches this renderer only as the sanitiser's HTML (``Text.html``), read as the
typed tree of ``html_tree``; each kind maps to an AKN element (``<em>`` to ``<i>``, a list to
``ul``/``ol``, a table to ``table``), and everything else is text: lxml escapes it, so no
markup of the writer's survives as markup. Characters XML cannot hold are dropped.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date

from babel import Locale
from flask import current_app
from flask_babel import format_date, get_locale, pgettext
from flask_babel import gettext as _
from lxml import etree

from drafting.editing.diff import Piece
from drafting.export.html_tree import Element, Kind, Style, parse, text_of
from drafting.export.labels import (
    ad_referendum_label,
    draft_mark,
    roll_call_name,
    rule_labels,
    statement_heading,
    statement_labels,
)
from drafting.export.outline import ClauseBlock, Identification, Outline, RecommendationBlock, Text
from drafting.export.render_json import canonical_sha256

NAMESPACE = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"
#: Plenary's own metadata (in ``proprietary``): what the document is and the SHA-256 of
#: its adopted text.
PLENARY_NAMESPACE = "urn:plenary:outcome-document"
#: The jurisdiction of the FRBR URIs when ``EXPORT_AKN_JURISDICTION`` is not set: an ISO
#: 3166 code (AKN naming convention). The OSCE has none; the seed conference met in Astana.
DEFAULT_JURISDICTION = "kz"
#: ISO 639-2 codes (FRBRlanguage) of the interface's languages.
LANGUAGES = {"en": "eng", "ru": "rus", "fr": "fra", "de": "deu", "es": "spa", "it": "ita"}

_A = f"{{{NAMESPACE}}}"
#: Characters XML 1.0 cannot hold, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_STYLE_TAGS = {Style.BOLD: "b", Style.ITALIC: "i", Style.UNDERLINE: "u", Style.SUB: "sub",
               Style.SUP: "sup"}
_STYLE_CLASSES = {Style.STRIKE: "strike", Style.CODE: "code", Style.UNAGREED: "unagreed"}


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _el(parent: etree._Element | None, tag: str, text: str | None = None,
        **attributes: str) -> etree._Element:
    element = (etree.Element(_A + tag) if parent is None
               else etree.SubElement(parent, _A + tag))
    for name, value in attributes.items():
        element.set(name.rstrip("_"), clean(value))
    if text:
        element.text = clean(text)
    return element


def _append_text(element: etree._Element, text: str) -> None:
    """Text after what ``element`` already holds (its last child's tail, or its text)."""
    text = clean(text)
    if not text:
        return
    if len(element):
        last = element[-1]
        last.tail = (last.tail or "") + text
    else:
        element.text = (element.text or "") + text


# --- user text: the sanitiser's HTML as AKN ------------------------------------------------


def _inline(parent: etree._Element, nodes: Iterable[Element | str]) -> None:
    """Inline content into ``parent``: the sanitiser's inline tags as AKN's, the rest text."""
    for node in nodes:
        if isinstance(node, str):
            _append_text(parent, re.sub(r"\s+", " ", node))
            continue
        style = node.style
        if node.kind is Kind.BREAK:
            _el(parent, "br")
        elif style in _STYLE_TAGS:
            _inline(_el(parent, _STYLE_TAGS[style]), node.children)
        elif style in _STYLE_CLASSES:
            _inline(_el(parent, "span", class_=_STYLE_CLASSES[style]), node.children)
        elif node.kind is Kind.LINK and node.href:
            # The sanitiser let only http(s), mailto and same-site addresses through.
            _inline(_el(parent, "a", href=node.href), node.children)
        else:
            _inline(parent, node.children)


def _paragraph(parent: etree._Element, nodes: list[Element | str], **attributes: str) -> None:
    if not text_of(Element("", Kind.ROOT, children=list(nodes))).strip() and not any(
            isinstance(n, Element) and n.kind is Kind.BREAK for n in nodes):
        return
    p = _el(parent, "p", **attributes)
    _inline(p, nodes)
    if p.text:
        p.text = p.text.lstrip()
    if len(p) == 0 and p.text:
        p.text = p.text.rstrip()
    elif len(p) and p[-1].tail:
        p[-1].tail = p[-1].tail.rstrip()


def _blocks(parent: etree._Element, node: Element) -> None:
    """A container's children as AKN blocks; runs of inline content become paragraphs."""
    run: list[Element | str] = []
    for child in node.children:
        if isinstance(child, str) or not child.is_block:
            run.append(child)
            continue
        _paragraph(parent, run)
        run = []
        _block(parent, child)
    _paragraph(parent, run)


def _block(parent: etree._Element, node: Element) -> None:
    kind = node.kind
    if kind is Kind.PARAGRAPH:
        _paragraph(parent, node.children)
    elif kind is Kind.HEADING:
        _paragraph(parent, [Element("b", Kind.STYLED, children=node.children)], class_="heading")
    elif kind is Kind.QUOTE:
        quote = _el(parent, "blockContainer", class_="quote")
        _blocks(quote, node)
        if len(quote) == 0:
            parent.remove(quote)
    elif kind is Kind.CODE_BLOCK:
        code = text_of(node).strip("\n")
        if code.strip():
            p = _el(parent, "p", class_="code")
            for index, line in enumerate(code.split("\n")):
                if index:
                    _el(p, "br")
                _append_text(p, line)
    elif kind is Kind.LIST:
        _list(parent, node)
    elif kind is Kind.TABLE:
        _table(parent, node)
    elif kind is not Kind.RULE:
        _blocks(parent, node)


def _list(parent: etree._Element, node: Element) -> None:
    items = [child for child in node.elements() if child.kind is Kind.ITEM]
    if not items:
        return
    listed = _el(parent, "ol" if node.ordered else "ul")
    if node.ordered and node.start != 1:
        listed.set("start", str(node.start))
    for item in items:
        li = _el(listed, "li")
        if any(isinstance(c, Element) and c.is_block for c in item.children):
            # An item of several paragraphs or with a list of its own: its blocks, each a p.
            _blocks(li, item)
        else:
            _inline(li, item.children)


def _rows(node: Element) -> list[Element]:
    rows: list[Element] = []
    for child in node.elements():
        rows.extend([child] if child.kind is Kind.ROW else _rows(child))
    return rows


def _table(parent: etree._Element, node: Element) -> None:
    rows = [(row, [c for c in row.elements() if c.kind is Kind.CELL]) for row in _rows(node)]
    rows = [(row, cells) for row, cells in rows if cells]
    if not rows:
        return
    table = _el(parent, "table")
    for _row, cells in rows:
        tr = _el(table, "tr")
        for cell in cells:
            holder = _el(tr, "th" if cell.header else "td")
            _blocks(holder, cell)
            if len(holder) == 0:
                _el(holder, "p")


def text_blocks(parent: etree._Element, text: Text) -> None:
    """User text (its sanitised HTML) as AKN blocks in ``parent``; an empty text an empty p
    (every container holds at least one block)."""
    _blocks(parent, parse(text.html))
    if len(parent) == 0:
        _el(parent, "p")


def _plain_blocks(parent: etree._Element, *lines: str) -> None:
    for line in lines:
        _el(parent, "p", line)


# --- identification ------------------------------------------------------------------------


class Names:
    """The FRBR URIs of the document and its parts, in one language."""

    def __init__(self, outline: Outline, language: str, original: str, original_name: str) -> None:
        jurisdiction = str(current_app.config.get("EXPORT_AKN_JURISDICTION")
                           or DEFAULT_JURISDICTION).lower()
        self.outline = outline
        self.country = jurisdiction
        self.language = language
        self.original = original
        #: The original's language, named in this document's language ("English").
        self.original_name = original_name
        adoption = outline.adoption
        #: The Work's date: the plenary's adoption, else the conference's last day (the day
        #: it is to be adopted): a draft and its final share their Work.
        self.date: date = adoption.adopted_on if adoption else outline.ends_on
        self.date_name = "adoption" if adoption else "draft"
        self.actor = f"conference-{outline.conference_id}"
        self.generated = outline.generated_at.date()

    def work(self, kind: str, subtype: str, number: str) -> str:
        return (f"/akn/{self.country}/{kind}/{subtype}/{self.actor}/"
                f"{self.date.isoformat()}/{number}")

    def identification(self, meta: etree._Element, kind: str, subtype: str, number: str,
                       component: str = "!main", name: str = "") -> None:
        work = self.work(kind, subtype, number)
        expression = f"{work}/{self.language}@"
        identification = _el(meta, "identification", source="#secretariat")
        frbr = _el(identification, "FRBRWork")
        _el(frbr, "FRBRthis", value=f"{work}/{component}")
        _el(frbr, "FRBRuri", value=work)
        _el(frbr, "FRBRdate", date=self.date.isoformat(), name=self.date_name)
        _el(frbr, "FRBRauthor", href="#conference")
        _el(frbr, "FRBRcountry", value=self.country)
        _el(frbr, "FRBRsubtype", value=subtype)
        _el(frbr, "FRBRnumber", value=number)
        if name:
            _el(frbr, "FRBRname", value=name)
        frbr = _el(identification, "FRBRExpression")
        _el(frbr, "FRBRthis", value=f"{expression}/{component}")
        _el(frbr, "FRBRuri", value=expression)
        _el(frbr, "FRBRdate", date=self.date.isoformat(), name=self.date_name)
        _el(frbr, "FRBRauthor", href="#conference")
        original = f"{work}/{self.original}@"
        if self.language != self.original:
            # A translation is its own Expression, whose wIds are the original's (AKN4UN).
            _el(frbr, "FRBRmasterExpression", href=original, showAs=self.original_name)
        _el(frbr, "FRBRlanguage", language=self.language)
        if self.language != self.original:
            _el(frbr, "FRBRtranslation", href=original, fromLanguage=self.original,
                by="#secretariat")
        frbr = _el(identification, "FRBRManifestation")
        _el(frbr, "FRBRthis", value=f"{expression}/{component}.xml")
        _el(frbr, "FRBRuri", value=f"{expression}.xml")
        _el(frbr, "FRBRdate", date=self.generated.isoformat(), name="generation")
        _el(frbr, "FRBRauthor", href="#secretariat")

    def references(self, meta: etree._Element) -> None:
        references = _el(meta, "references", source="#secretariat")
        _el(references, "TLCOrganization", eId="conference",
            href=f"/akn/ontology/organization/{self.country}/{self.actor}",
            showAs=self.outline.title or _("Conference"))
        _el(references, "TLCOrganization", eId="secretariat",
            href=f"/akn/ontology/organization/{self.country}/{self.actor}-secretariat",
            showAs=_("Secretariat"))
        if self.outline.venue.strip():
            _el(references, "TLCLocation", eId="venue",
                href=f"/akn/ontology/location/{self.country}/{self.actor}-venue",
                showAs=self.outline.venue)


def _status(outline: Outline) -> str:
    """As every format says it: the final, or a draft (adopted by the plenary or not)."""
    if outline.final:
        return _("Final text")
    if outline.draft:
        return draft_mark(outline.adoption is not None)
    return pgettext("outcome document", "Adopted")


def _identification(outline: Outline) -> Identification:
    assert outline.identification is not None  # compile_outline always gives it
    return outline.identification


# --- one recommendation: a resolution --------------------------------------------------------


def _italic_opening(p: etree._Element) -> None:
    """The opening participle in italics, as UN and OSCE texts print a preambular paragraph
    ("*Recognizing* the ..."): kept where the writer italicised it, else its first word."""
    if len(p) and p[0].tag == _A + "i" and not (p.text or "").strip():
        return
    if len(p) and not (p.text or "").strip():
        return  # it opens with other formatting (bold, a link): left as written
    text = p.text or ""
    found = re.match(r"(\s*)(\S+)", text)
    if found is None:
        return
    lead, word = found.groups()
    italic = etree.Element(_A + "i")
    italic.text = word
    italic.tail = text[found.end():]
    p.text = lead or None
    p.insert(0, italic)


def _clause_body(parent: etree._Element, clause: ClauseBlock, changes: bool) -> None:
    """A clause's text as blocks: its redline (``<del>``/``<ins>``) in the changes version."""
    if changes and clause.changes:
        _redline(parent, clause.changes)
    else:
        text_blocks(parent, clause.text)
    if clause.ad_referendum:
        last = parent[-1] if len(parent) and parent[-1].tag == _A + "p" else _el(parent, "p")
        _append_text(last, " " + ad_referendum_label())


def _redline(parent: etree._Element, changes: list[Piece]) -> None:
    """Deleted and inserted words of the clause's source, as plain text in ``del`` and
    ``ins``; each line a paragraph."""
    p = _el(parent, "p")
    for piece in changes:
        for index, part in enumerate(piece["text"].split("\n")):
            if index:
                p = _el(parent, "p")
            words = re.sub(r"[ \t]+", " ", part)
            if piece["op"] in ("insert", "delete"):
                if words:
                    _el(p, "ins" if piece["op"] == "insert" else "del", words)
            else:
                _append_text(p, words)
    for empty in [child for child in parent if child.tag == _A + "p" and len(child) == 0
                  and not (child.text or "").strip()]:
        parent.remove(empty)


def _point_number(level: int, index: int, russian: bool) -> str:
    """(a), (b) … then (i), (ii) …, then 1, 2 …; French, Spanish and Russian write a), i)."""
    if level % 3 == 0:
        label = _letters(index)
    elif level % 3 == 1:
        label = _roman(index)
    else:
        label = str(index)
    return f"{label})" if russian else f"({label})"


def _letters(index: int) -> str:
    label = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        label = chr(ord("a") + rest) + label
    return label


def _roman(index: int) -> str:
    numerals = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    label = ""
    for value, numeral in numerals:
        while index >= value:
            label += numeral
            index -= value
    return label


def _lead_in_and_list(root: Element) -> tuple[list[Element | str], Element, list[Element | str]] | None:
    """A clause that is a lead-in, one list and perhaps words after it (sub-paragraphs),
    split so; None for any other shape (kept as its blocks)."""
    children = [c for c in root.children if not (isinstance(c, str) and not c.strip())]
    lists = [i for i, c in enumerate(children) if isinstance(c, Element) and c.kind is Kind.LIST]
    if len(lists) != 1 or lists[0] == 0:
        return None
    before, after = children[:lists[0]], children[lists[0] + 1:]
    if any(isinstance(c, Element) and c.is_block and c.kind is not Kind.PARAGRAPH for c in before + after):
        return None
    listed = children[lists[0]]
    assert isinstance(listed, Element)
    return before, listed, after


def _points(parent: etree._Element, listed: Element, prefix: str, level: int, russian: bool,
            intro: list[Element | str] | None, wrap_up: list[Element | str] | None) -> None:
    """A lead-in and its list as AKN ``list``/``intro``/``point`` (and ``wrapUp``)."""
    container = _el(parent, "list", eId=f"{prefix}__list_1")
    if intro is not None:
        _blocks(_el(container, "intro"), Element("", Kind.ROOT, children=intro))
    items = [c for c in listed.elements() if c.kind is Kind.ITEM]
    start = listed.start if listed.ordered else 1
    for offset, item in enumerate(items):
        label = _point_number(level, start + offset, russian)
        point_id = f"{prefix}__list_1__point_{label.strip('()')}"
        point = _el(container, "point", eId=point_id)
        _el(point, "num", label)
        nested = _lead_in_and_list(item) if any(
            isinstance(c, Element) and c.kind is Kind.LIST for c in item.children) else None
        if nested is not None:
            before, inner, after = nested
            _points(point, inner, point_id, level + 1, russian, before, after or None)
        else:
            content = _el(point, "content")
            _blocks(content, item)
            if len(content) == 0:
                _el(content, "p")
    if wrap_up:
        wrap = _el(container, "wrapUp")
        _blocks(wrap, Element("", Kind.ROOT, children=wrap_up))
        if len(wrap) == 0:
            container.remove(wrap)
    if container.find(_A + "intro") is not None and len(container.find(_A + "intro")) == 0:
        _el(container.find(_A + "intro"), "p")


def _operative(body: etree._Element, clause: ClauseBlock, prefix: str, index: int,
               changes: bool, russian: bool) -> None:
    eid = f"{prefix}para_{index}"
    paragraph = _el(body, "paragraph", eId=eid, wId=f"clause_{clause.id}")
    number = clause.number if clause.number.endswith(".") else f"{clause.number}."
    _el(paragraph, "num", number)
    shape = None if (changes and clause.changes) else _lead_in_and_list(parse(clause.text.html))
    if shape is None:
        _clause_body(_el(paragraph, "content"), clause, changes)
        return
    before, listed, after = shape
    if clause.ad_referendum:
        after = [*after, " " + ad_referendum_label()]
    _points(paragraph, listed, eid, 0, russian, before, after)


def _resolution(collection: etree._Element, recommendation: RecommendationBlock, index: int,
                outline: Outline, names: Names, changes: bool, russian: bool) -> None:
    component = _el(collection, "component", eId=f"cmp_{index}")
    statement = _el(component, "statement", name="resolution", contains="originalVersion")
    prefix = f"cmp_{index}__"
    meta = _el(statement, "meta")
    number = recommendation.number.replace(".", "-")
    names.identification(meta, "statement", "deliberation", number,
                         name=recommendation.title)
    preface = _el(statement, "preface")
    title = _el(_el(preface, "container", name="title", eId=f"{prefix}container_1"), "p")
    _el(title, "docNumber", _("Recommendation %(number)s", number=recommendation.number))
    _append_text(title, ": ")
    _el(title, "docTitle", recommendation.title)
    # The subject of the one sentence a resolution is, then its preambular paragraphs.
    preamble = _el(statement, "preamble")
    formula = _el(preamble, "formula", name="enactingFormula", eId=f"{prefix}formula_1")
    _el(formula, "p", _identification(outline).body_name)
    for number_, clause in enumerate(recommendation.preambular, start=1):
        container = _el(preamble, "container", name="preambularParagraph",
                        eId=f"{prefix}container_{number_ + 1}", wId=f"clause_{clause.id}")
        _clause_body(container, clause, changes)
        if container[0].tag == _A + "p":
            _italic_opening(container[0])
    body = _el(statement, "mainBody")
    for number_, clause in enumerate(recommendation.operative, start=1):
        _operative(body, clause, prefix, number_, changes, russian)
    if len(body) == 0:
        _el(body, "p")
    if outline.adoption is not None:
        _adoption(_el(statement, "conclusions"), outline, f"{prefix}container_adoption")


def _adoption(conclusions: etree._Element, outline: Outline, eid: str) -> None:
    """The adoption line, its date marked as the document's date."""
    adoption = outline.adoption
    assert adoption is not None
    container = _el(conclusions, "container", name="adoption", eId=eid)
    line = _el(container, "p")
    when = format_date(adoption.adopted_on, "d MMMM y")
    head, found, tail = adoption.line.rpartition(when)
    if found:
        _append_text(line, head)
        _el(line, "docDate", when, date=adoption.adopted_on.isoformat())
        _append_text(line, tail)
    else:
        _append_text(line, adoption.line)
        _el(_el(container, "p"), "docDate", when, date=adoption.adopted_on.isoformat())
    _el(container, "p", adoption.how)


# --- the annexes -----------------------------------------------------------------------------


def _annex(attachments: etree._Element, number: int, heading: str, names: Names,
           name: str) -> etree._Element:
    """An attachment holding a ``doc`` of its own; returns its ``mainBody``."""
    attachment = _el(attachments, "attachment", eId=f"att_{number}")
    _el(attachment, "heading", heading)
    doc = _el(attachment, "doc", name=name, contains="originalVersion")
    meta = _el(doc, "meta")
    names.identification(meta, "documentCollection", "outcome", "1",
                         component=f"!annex_{number}")
    preface = _el(doc, "preface")
    _el(_el(preface, "p"), "docTitle", heading)
    return _el(doc, "mainBody")


def _section(body: etree._Element, eid: str, heading: str, name: str) -> etree._Element:
    """A headed part of an annex; ``eid`` within the annex (prefixed with the annex's own:
    every eId of the collection is unique)."""
    attachment = body.getparent().getparent()
    section = _el(body, "hcontainer", name=name, eId=f"{attachment.get('eId')}__{eid}")
    _el(section, "heading", heading)
    return _el(section, "content")


def _table_of(parent: etree._Element, header: list[str], rows: list[list[str]]) -> None:
    table = _el(parent, "table")
    tr = _el(table, "tr")
    for cell in header:
        _el(_el(tr, "th"), "p", cell)
    for row in rows:
        tr = _el(table, "tr")
        for cell in row:
            _el(_el(tr, "td"), "p", cell)


def _annex_votes(body: etree._Element, outline: Outline) -> None:
    """Annex A, the record of decisions: one line per decision, numbered as in every format;
    a recorded vote's roll call in full after it."""
    if not outline.votes:
        _el(body, "p", _("No decision has been taken."))
        return
    rules = rule_labels()
    _table_of(_section(body, "hcontainer_1", _("Record of decisions"), "votes"),
              [_("No."), _("Subject"), _("Decision"), _("Decision rule"), _("Closed")],
              [[vote.number, vote.subject, vote.decision, rules.get(vote.rule, vote.rule),
                vote.closed_at[:16].replace("T", " ")] for vote in outline.votes])
    for index, vote in enumerate(outline.votes, start=2):
        if not vote.recorded:
            continue
        content = _section(body, f"hcontainer_{index}",
                           _("Roll call of %(number)s", number=vote.number), "rollCall")
        if not vote.roll_call:
            _el(content, "p", _("Nobody voted."))
            continue
        _table_of(content, [_("Delegation") if vote.voting_unit == "delegation" else _("Participant"),
                            _("Choice")],
                  [[roll_call_name(name, delegation, vote.voting_unit), choice]
                   for name, choice, delegation in vote.roll_call])


def _annex_statements(body: etree._Element, outline: Outline) -> None:
    if not outline.statements:
        _el(body, "p", _("No statement."))
        return
    kinds = statement_labels()
    for number, statement in enumerate(outline.statements, start=1):
        heading = statement_heading(statement.kind, statement.delegation, kinds)
        content = _section(body, f"hcontainer_{number}", f"{heading}: {statement.on}", "statement")
        by = statement.author + (f" ({statement.affiliation})" if statement.affiliation else "")
        _el(content, "p", _("By %(author)s", author=by))
        text_blocks(content, statement.text)


def _annex_participants(body: etree._Element, outline: Outline) -> None:
    if not outline.participants:
        _el(body, "p", "—")
        return
    for number, category in enumerate(outline.participants, start=1):
        _table_of(_section(body, f"hcontainer_{number}", category.label, "participants"),
                  [_("Name"), _("Affiliation"), _("Country"), _("Working groups")],
                  [[p.name, p.affiliation, p.country, "; ".join(p.groups)]
                   for p in category.participants])


# --- the document ----------------------------------------------------------------------------


def _proprietary(meta: etree._Element, outline: Outline, changes: bool) -> None:
    proprietary = _el(meta, "proprietary", source="#secretariat")
    document = etree.SubElement(proprietary, f"{{{PLENARY_NAMESPACE}}}document",
                                nsmap={"plenary": PLENARY_NAMESPACE})
    document.set("conference", str(outline.conference_id))
    if outline.group_id is not None:
        document.set("group", str(outline.group_id))
    document.set("status", "final" if outline.final else "draft" if outline.draft or outline.adoption is None
                 else "adopted")
    if outline.final:
        # The SHA-256 every format prints on the final, recomputable from the JSON form.
        document.set("canonicalSha256", canonical_sha256(outline))
    document.set("changes", "true" if changes else "false")
    document.set("adoptedTextSha256", outline.adopted_text_sha256())
    document.set("generated", outline.generated_at.isoformat())


def render(outline: Outline, *, changes: bool = False,
           progress: Callable[[float], None] | None = None) -> bytes:
    """The outcome document as Akoma Ntoso 3.0 XML (UTF-8), in the current language;
    ``changes``: each clause changed since its first vote opened as ``del``/``ins``."""
    locale = str(get_locale() or "en")
    language = LANGUAGES.get(locale.split("_")[0], "eng")
    authentic = Locale.parse(_identification(outline).original_language or "en")
    original = LANGUAGES.get(authentic.language, "eng")
    # French, Spanish and Russian number sub-paragraphs a), i) (UN Editorial Manual).
    russian = language in ("rus", "fra", "spa")
    names = Names(outline, language, original,
                  authentic.get_display_name(locale) or authentic.language)
    root = etree.Element(_A + "akomaNtoso", nsmap={None: NAMESPACE})
    collection = _el(root, "documentCollection", name="outcomeDocument",
                     contains="originalVersion")
    meta = _el(collection, "meta")
    names.identification(meta, "documentCollection", "outcome", "1", name=outline.title)
    names.references(meta)
    _proprietary(meta, outline, changes)

    preface = _el(collection, "preface")
    status = _el(preface, "p", class_="status")
    _el(status, "docStatus", _status(outline))
    found = _identification(outline)
    if found.symbol:
        _el(_el(preface, "p", class_="symbol"), "docNumber", found.symbol)
    _el(preface, "p", found.distribution_label, class_="distribution")
    _el(preface, "p", found.original_label, class_="original")
    if outline.final:
        _el(preface, "p", _("SHA-256 of the canonical text:") + " " + canonical_sha256(outline),
            class_="canonicalSha256")
    if changes:
        # Each clause's deleted and inserted words are marked as such (del, ins).
        _el(preface, "p", _("Changes since the first draft"), class_="note")
    _el(_el(preface, "p"), "docTitle", outline.title)
    facts = _el(preface, "p")
    if outline.venue.strip():
        _el(facts, "location", outline.venue, refersTo="#venue")
        _append_text(facts, ", ")
    _el(facts, "docDate", _identification(outline).dates, date=outline.starts_on.isoformat())
    if outline.organisers:
        organisers = _el(preface, "p", _("Organised by") + ": ")
        for index, organiser in enumerate(outline.organisers):
            if index:
                _append_text(organisers, "; ")
            _el(organisers, "organization", organiser, refersTo="#conference")
    if outline.pending:
        pending = _el(preface, "container", name="pending", eId="container_pending")
        _el(pending, "p", _("This document is a draft. These items are not decided yet:"))
        for item in outline.pending:
            kind = _("Open vote") if item.kind == "vote" else _("Recommendation still being drafted")
            _el(pending, "p", f"{kind}: {item.title} ({item.group})")
    if outline.preamble.html:
        text_blocks(_el(_el(collection, "preamble"), "container", name="conferencePreamble",
                        eId="container_preamble"), outline.preamble)

    body = _el(collection, "collectionBody")
    index = 0
    for section in outline.sections:
        for recommendation in section.recommendations:
            index += 1
            _resolution(body, recommendation, index, outline, names, changes, russian)
        if progress is not None:
            progress(0.8 * index / max(1, sum(len(s.recommendations) for s in outline.sections)))
    if index == 0:
        # A collection holds at least one component: while nothing is adopted, a word saying so.
        component = _el(body, "component", eId="cmp_1")
        _el(_el(component, "interstitial", eId="cmp_1__interstitial_1"), "p",
            _("No recommendation adopted."))
    if outline.adoption is not None:
        _adoption(_el(collection, "conclusions"), outline, "container_adoption")

    attachments = _el(collection, "attachments")
    number = 0
    if outline.chairs_summary.markdown:
        number += 1
        summary = _annex(attachments, number, _("Chair’s summary"), names, "chairsSummary")
        _el(summary, "p", _("Issued under the Chair’s own responsibility. It was not adopted by "
                            "the conference and is not part of the adopted text above."),
            class_="note")
        text_blocks(summary, outline.chairs_summary)
    for heading, name, fill in (
            (_("Annex A: Record of decisions"), "votes", _annex_votes),
            (_("Annex B: Interpretative statements and reservations"), "statements", _annex_statements),
            (_("Annex C: Participants"), "participants", _annex_participants)):
        number += 1
        fill(_annex(attachments, number, heading, names, name), outline)
    if progress is not None:
        progress(1.0)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
