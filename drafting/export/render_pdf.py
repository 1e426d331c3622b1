"""The outcome document as PDF, typeset by Typst (the ``typst`` binding: the compiler in this
process, from a PyPI wheel).

The outline (drafting/export/outline.py) is written as Typst source and compiled in one piece:
Typst lays out the benchmark's 328-page conference in about 1.5 s where WeasyPrint's 12 parts on
two workers took 13.5 s (docs/benchmarks.md, issue 18). The export runs it in the export's child
process (drafting/export/child.py), so its memory goes when the child exits.

The typography is the HTML document's (templates/export/document.html): the identification
(symbol, distribution, date and place, original language), the body's name before each
recommendation's preamble, preambular paragraphs roman with only the opening participle in
italics (outline.py marks it), numbered operative paragraphs with the number hanging, DRAFT on
every page of a document that is not final and a final's mark with its canonical text's SHA-256,
the annexes (decisions, statements, participants: table rows never split). The system's DejaVu
fonts are embedded, by path (nothing is looked up or downloaded); hyphenation follows the
document's language; headings are bookmarks; "Page n of N" is Typst's own counter.

**User text never becomes Typst markup.** It is read from the outline's sanitised HTML (never
from the Markdown), through ``html_tree``, and every run of text is written as a Typst string
literal (``#"…";``): quotes, backslashes and control characters escaped, the expression closed
by its semicolon. Typst shows a string as text, whatever it holds (``#``, ``=``, ``*``, ``<…>``
are characters), so no delegate's text can call a function or read a file. The compiler is
given no root with files of ours and no package path. Links in user text are printed as text
(their address after them), never as clickable PDF links.

**A final's bytes can be reproduced:** the PDF's creation time is the document's own
(``outline.generated_at``), and Typst writes nothing else that changes from run to run.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typst
from flask import get_template_attribute
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from markupsafe import escape

from drafting.export.html_tree import Element, Kind, Style, parse, text_of
from drafting.export.labels import draft_mark, organised_by, roll_call_by_choice
from drafting.export.outline import ClauseBlock, NotAdoptedBlock, Outline, Text, VoteEntry
from drafting.export.render_json import canonical_sha256

#: Debian's fonts-dejavu-core and -extra (the project's setup installs them).
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
#: Hanging indent of the operative paragraphs' numbers (as the HTML's 2.2em).
HANG = "2.2em"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACE = re.compile(r"\s+")


def string(value: str) -> str:
    """A Typst string literal holding ``value`` exactly (as text, never markup)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = _CONTROL.sub(lambda m: f"\\u{{{ord(m.group()):x}}}", escaped)
    return f'"{escaped}"'


def text(value: str) -> str:
    """``value`` as text in markup: a string literal, closed so that nothing after it reads
    as a method call."""
    return f"#{string(value)};" if value else ""


class _Inline:
    """Inline content of the sanitised HTML as Typst markup, whitespace collapsed as HTML
    does."""

    def runs(self, nodes: Iterable[Element | str]) -> str:
        return "".join(self.run(node) for node in nodes)

    def run(self, node: Element | str) -> str:
        if isinstance(node, str):
            return text(_SPACE.sub(" ", node))
        kind = node.kind
        if kind is Kind.BREAK:
            return "#linebreak();"
        if kind is Kind.LINK:
            inner = self.runs(node.children)
            shown = node.href
            # A printed document names a link's address instead of opening it (as the HTML's
            # print CSS does); no PDF link is made from user text.
            if shown:
                inner += f"#text(size: 0.85em, fill: rgb(\"#555555\"))[{text(' <' + shown + '>')}]"
            return inner
        if kind is Kind.STYLED:
            inner = self.runs(node.children)
            return {
                Style.BOLD: f"#strong[{inner}]", Style.ITALIC: f"#emph[{inner}]",
                Style.UNDERLINE: f"#underline[{inner}]", Style.STRIKE: f"#strike[{inner}]",
                Style.CODE: f"#raw({string(text_of(node))});", Style.SUB: f"#sub[{inner}]",
                Style.SUP: f"#super[{inner}]",
                Style.UNAGREED: f"#highlight(fill: rgb(\"#fdf0d5\"))[{inner}]",
            }.get(node.style, inner)  # type: ignore[arg-type]
        return self.runs(node.children)  # PLAIN and anything inline


def user(value: Text | str, *, number: str = "") -> str:
    """A user text's blocks as Typst markup. ``number``: an operative paragraph's number,
    hanging before its first paragraph, the rest of the clause indented as deep."""
    inline = _Inline()
    blocks = _blocks(parse(value.html if isinstance(value, Text) else value), inline)
    if not number:
        return "".join(blocks)
    mark = f"#box(width: {HANG})[{text(number)}]"
    if blocks and blocks[0].startswith("#par()["):
        first, rest = f"#par(hanging-indent: {HANG})[{mark}" + blocks[0].removeprefix("#par()["), blocks[1:]
    else:  # a list or a quotation first: the number on a line of its own
        first, rest = f"#par[{mark}]\n", blocks
    return first + (f"#pad(left: {HANG})[{''.join(rest)}]\n" if rest else "")


def _blocks(root: Element, inline: _Inline) -> list[str]:
    """Block-level Typst for an element's children: inline runs between blocks gathered into
    paragraphs."""
    out: list[str] = []
    pending: list[Element | str] = []

    def flush() -> None:
        content = inline.runs(pending)
        pending.clear()
        if content.strip() and content.replace('#" ";', "").strip():
            out.append(f"#par()[{content}]\n")

    for child in root.children:
        if isinstance(child, Element) and child.is_block:
            flush()
            out.append(_block(child, inline))
        else:
            pending.append(child)
    flush()
    return [block for block in out if block]


def _block(node: Element, inline: _Inline) -> str:
    kind = node.kind
    if kind is Kind.PARAGRAPH:
        content = inline.runs(node.children)
        return f"#par()[{content}]\n" if content else ""
    if kind is Kind.HEADING:
        return f"#block(above: 0.8em, below: 0.4em)[#strong[{inline.runs(node.children)}]]\n"
    if kind is Kind.LIST:
        items = ", ".join(f"[{''.join(_blocks(item, inline))}]" for item in node.elements()
                          if item.kind is Kind.ITEM)
        if node.ordered:
            return f"#enum(start: {node.start}, {items})\n" if items else ""
        return f"#list({items})\n" if items else ""
    if kind is Kind.QUOTE:
        return f"#quote(block: true)[{''.join(_blocks(node, inline))}]\n"
    if kind is Kind.CODE_BLOCK:
        return f"#raw(block: true, {string(text_of(node))})\n"
    if kind is Kind.RULE:
        return "#line(length: 100%, stroke: 0.5pt)\n"
    if kind is Kind.TABLE:
        rows = [row for group in [node, *(g for g in node.elements() if g.kind is Kind.ROW_GROUP)]
                for row in group.elements() if row.kind is Kind.ROW]
        cells = [[cell for cell in row.elements() if cell.kind is Kind.CELL] for row in rows]
        columns = max((len(row) for row in cells), default=0)
        if not columns:
            return ""
        body = ", ".join(f"[{'#strong[' if cell.header else '['}{inline.runs(cell.children)}]]"
                         for row in cells for cell in row + [Element.of("td")] * (columns - len(row)))
        return f"#table(columns: {columns}, {body})\n"
    return "".join(_blocks(node, inline))  # an item or row group out of place: its content


# --- the document ---------------------------------------------------------------------------------


def _page_label() -> str:
    """"Page n of N" in the reader's language, with the counters where the translation puts them."""
    words = _("Page %(page)s of %(pages)s", page="\x00", pages="\x01")
    pieces = []
    for piece in re.split("(\x00|\x01)", words):
        if piece == "\x00":
            pieces.append("#counter(page).display()")
        elif piece == "\x01":
            pieces.append("#counter(page).final().first()")
        elif piece:
            pieces.append(text(piece))
    return "".join(pieces)


def _plain(markup: str) -> str:
    """A macro's HTML (a date range) as its text."""
    return _SPACE.sub(" ", text_of(parse(str(markup)))).strip()


def _anchor(name: str) -> str:
    return f"<{name}>"


def _redline(clause: ClauseBlock) -> str:
    """The clause's changes since its first draft as HTML (as the HTML document's ``redline``):
    added words underlined, removed words struck through; each piece escaped."""
    tags = {"insert": "ins", "delete": "del"}
    pieces = "".join(f"<{tags[p['op']]}>{escape(p['text'])}</{tags[p['op']]}>" if p["op"] in tags
                     else str(escape(p["text"])) for p in clause.changes)
    return f"<p>{pieces}</p>"


def _clause(clause: ClauseBlock, *, preambular: bool, changes: bool) -> str:
    # Roman, the opening participle in italics: outline.py marks it with <em> in the HTML.
    content: Text | str = _redline(clause) if changes and clause.changes else clause.text
    body = f"#pad(left: {HANG})[{user(content)}]\n" if preambular else user(content, number=clause.number)
    if clause.ad_referendum:
        body += (f"#par[#text(font: \"DejaVu Sans\", size: 9pt, style: \"italic\", fill: rgb(\"#0c5550\"))"
                 f"[{text(_('(agreed ad referendum)'))}]]\n")
    return f"#block[{body}]\n#v(0.3em)\n"


def _vote(vote: VoteEntry) -> str:
    """A decision as the record of decisions gives it (the HTML document's annex A): its
    number and subject, the decision in one line, the record's facts in small print, a
    recorded vote's roll call by choice."""
    rule_label = get_template_attribute("votes/_vote.html", "rule_label")
    closed = datetime.fromisoformat(vote.closed_at) if vote.closed_at else None
    present = ((_("Present"), str(vote.present)) if vote.present is not None
               else (_("Turnout"), str(vote.turnout)))
    facts = [
        (_("Working group"), vote.group),
        (_("Decision rule"), _plain(rule_label(vote.rule))),
        (_("Quorum"), _("%(percent)s%% of the eligible voters", percent=vote.quorum) if vote.quorum else _("None")),
        (_("Eligible voters"), str(vote.eligible)),
        present,
        (_("Closed"), format_datetime(closed, "d MMMM y, HH:mm") if closed else ""),
    ]
    record = " · ".join(f"{term}: {value}" for term, value in facts)
    out = [_heading(2, f"{vote.number} {vote.subject}", f"vote-{vote.id}", listed=False),
           f"#par[{text(vote.decision)}]\n",
           f"#par[#text(size: 9.5pt, fill: rgb(\"#333333\"))[{text(record)}]]\n"]
    if vote.recorded:
        lines = "".join(
            f"#par[#text(size: 9.5pt)[#strong[{text(_('%(choice)s (%(count)s):', choice=label, count=count))}]"
            f"{text(' ' + ('; '.join(names) if names else '—'))}]]\n"
            for label, count, names in roll_call_by_choice(vote.counts, vote.roll_call, vote.voting_unit))
        out.append(f"#pad(left: 1.2em)[{lines}]\n")
    return f"#block(breakable: false, below: 1.2em)[{''.join(out)}]\n"


PREAMBLE = r"""
#let grey = rgb("#555555")
#let sans = "DejaVu Sans"
#set document(title: TITLE, author: AUTHORS, description: DESCRIPTION, date: CREATED)
#set text(font: "DejaVu Serif", size: 10.5pt, lang: LANG, hyphenate: true, fill: rgb("#111111"))
#set par(justify: true, leading: 0.65em, spacing: 0.45em)
#show heading: set text(font: sans)
#show heading: set block(sticky: true)
#show heading: set par(justify: false)
#show heading.where(level: 1): it => { pagebreak(weak: true); set text(size: 14pt); block(below: 1em, it) }
#show heading.where(level: 2): set text(size: 11.5pt)
#show heading.where(level: 2): set block(above: 1.6em, below: 0.7em)
#set table(stroke: 0.5pt + rgb("#999999"), inset: (x: 0.5em, y: 0.25em))
#set table.cell(breakable: false)
#show table: set text(font: sans, size: 9pt)
#show table: set par(justify: false)
#set page(
  paper: "a4",
  margin: (top: 25mm, right: 20mm, bottom: 22mm, left: 20mm),
  header: context {
    if here().page() > 1 {
      // The section this page is in: its first heading here, else the last one before.
      let here-page = here().page()
      let opening = query(heading.where(level: 1)).filter(h => h.location().page() == here-page)
      let found = if opening.len() > 0 { opening } else { query(heading.where(level: 1).before(here())) }
      set text(font: sans, size: 8pt, fill: grey, hyphenate: false)
      set par(justify: false)
      let section = if found.len() > 0 { if opening.len() > 0 { found.first().body } else { found.last().body } }
      // The DRAFT mark on a line of its own above the title and the section, as wide as they need.
      stack(spacing: 3pt, align(center, DRAFT_HEADER),
        grid(columns: (1fr, 1fr), column-gutter: 2em, align: (left, right), TITLE_TEXT, section))
    } else { align(center, DRAFT_HEADER) }
  },
  footer: context align(center, text(font: sans, size: 8pt, fill: grey)[PAGE_LABEL]),
  background: WATERMARK,
)
"""


def _heading(level: int, title: str, anchor: str = "", *, listed: bool = True) -> str:
    """A heading (a bookmark; ``listed``: also in the contents), with its anchor as label."""
    options = "" if listed else ", outlined: false, bookmarked: true"
    return f"#heading(level: {level}{options})[{text(title)}] {_anchor(anchor) if anchor else ''}\n"


def _identification(outline: Outline) -> str:
    """The symbol and distribution on the left, date and place and the original language on
    the right, a rule under them: as a secretariat issues the document."""
    ident = outline.identification
    if ident is None:
        return ""
    left = (f"#text(weight: \"bold\", size: 11pt)[{text(ident.symbol)}] \\ " if ident.symbol else "")
    left += text(ident.distribution_label)
    date_place = ident.dates + (f", {ident.place}" if ident.place else "")
    right = f"{text(date_place)} \\ {text(ident.original_label)}"
    return (f"#block(width: 100%, stroke: (bottom: 0.75pt + grey), inset: (bottom: 0.4em))["
            f"#set text(font: sans, size: 9.5pt, hyphenate: false)\n#set par(justify: false)\n"
            f"#grid(columns: (1fr, 1fr), align: (left, right), [{left}], [{right}])] <identification>\n")


def _final_mark(outline: Outline) -> str:
    """"Final text — symbol" and the SHA-256 of the canonical text, on the final only."""
    if not outline.final:
        return ""
    symbol = outline.identification.symbol if outline.identification else ""
    statement = f"#strong[{text(_('Final text'))}]" + (text(f" — {symbol}") if symbol else "")
    digest = f"#text(font: \"DejaVu Sans Mono\", size: 8pt)[{text(canonical_sha256(outline))}]"
    return (f"#block(above: 2em)[#set text(font: sans, size: 9pt)\n#par[{statement}]\n"
            f"#par[{text(_('SHA-256 of the canonical text:'))} {digest}]] <final>\n")


def _title_page(outline: Outline, *, changes: bool) -> list[str]:
    date_range = get_template_attribute("_dates.html", "date_range")
    dates = outline.identification.dates if outline.identification else _plain(
        date_range(outline.starts_on, outline.ends_on))
    out = [_identification(outline), "#align(center)[#set par(justify: false)\n#set text(hyphenate: false)\n#v(30mm)\n",
           f"#text(font: sans, size: 9pt, fill: grey, tracking: 0.15em)[{text(_('Outcome document').upper())}]\n\n",
           f"#text(font: sans, size: 20pt, weight: \"bold\")[{text(outline.title)}]\n\n"]
    if outline.venue:
        out.append(f"#text(size: 12pt)[{text(outline.venue)}]\n\n")
    out.append(f"#text(size: 12pt)[{text(dates)}]\n\n")
    if outline.organisers:
        out.append(f"#v(2em){text(organised_by(outline.organisers))}\n\n")
    out.append("]\n")
    out.append(_final_mark(outline))
    if changes:
        note = _("Changes since the first draft: added words are underlined, removed words struck through.")
        out.append(f"#v(1.5em)\n#align(center)[#emph[{text(note)}]]\n")
    if outline.pending:
        items = "".join(f"[{text(_('Open vote') if item.kind == 'vote' else _('Recommendation still being drafted'))}"
                        f"{text(f': {item.title} ({item.group})')}], " for item in outline.pending)
        out.append(f"#block(above: 2em, stroke: 1.5pt + rgb(\"#b00020\"), inset: (x: 1em, y: 0.6em), width: 100%)["
                   f"#text(font: sans, size: 14pt, weight: \"bold\", fill: rgb(\"#b00020\"))"
                   f"[{text(_('Pending items'))}]\n\n"
                   f"{text(_('This document is a draft. These items are not decided yet:'))}\n\n"
                   f"#list({items})]\n")
    if outline.preamble.html:
        out.append(f"#v(2em)\n{user(outline.preamble)}")
    # Contents: the groups and recommendations, the annexes; page numbers are Typst's own.
    out.append(_heading(1, _("Contents"), "contents", listed=False))
    out.append("#[#set text(font: sans, size: 10pt)\n#outline(title: none, depth: 2, indent: 1.5em)]\n")
    return out


def _not_adopted(items: list[NotAdoptedBlock]) -> str:
    """The recommendations a group decided not to adopt, where they would have stood: the
    title and how (their text is not outcome)."""
    return "".join(f"#block(above: 1em, below: 0.6em, sticky: true)[#text(font: sans, weight: \"bold\")"
                   f"[{text(item.title)}]]\n#par[{text(item.how)}]\n" for item in items)


def _sections(outline: Outline, *, changes: bool) -> list[str]:
    out = []
    for section in outline.sections:
        out.append(_heading(1, _("Working group %(number)s: %(name)s", number=section.number, name=section.name),
                            f"group-{section.number}"))
        if section.mandate.html:
            out.append(f"#block(stroke: (left: 2pt + rgb(\"#999999\")), inset: (left: 0.8em), below: 1.5em)["
                       f"#text(font: sans, weight: \"bold\")[{text(_('Mandate'))}]\n\n{user(section.mandate)}]\n")
        for recommendation in section.recommendations:
            title = _("Recommendation %(number)s: %(title)s", number=recommendation.number,
                      title=recommendation.title)
            out.append(_heading(2, title, f"recommendation-{recommendation.number.replace('.', '-')}"))
            # One sentence: the body's name, the preamble, then the operative verbs.
            if outline.identification is not None:
                out.append(f"#par[{text(outline.identification.body_name)}]\n#v(0.3em)\n")
            out += [_clause(c, preambular=True, changes=changes) for c in recommendation.preambular]
            out += [_clause(c, preambular=False, changes=changes) for c in recommendation.operative]
            out.append("#v(1em)\n")
        out.append(_not_adopted(section.not_adopted))
    if outline.adoption is not None:
        out.append(f"#v(2em)\n#emph[{text(outline.adoption.line)}\n\n{text(outline.adoption.how)}]\n")
    if outline.chairs_summary.html:
        note = _("Issued under the Chair’s own responsibility. It was not adopted by the conference and is "
                 "not part of the adopted text above.")
        out.append(_heading(1, _("Chair’s summary"), "chairs-summary"))
        out.append(f"#block(stroke: 1pt + grey, inset: (x: 0.8em, y: 0.5em))"
                   f"[#text(font: sans, size: 9.5pt)[{text(note)}]]\n")
        out.append(user(outline.chairs_summary))
    return out


def _annexes(outline: Outline) -> list[str]:
    out = [_heading(1, _("Annex A: Record of decisions"), "annex-a")]
    out += [_vote(vote) for vote in outline.votes] or [f"#emph[{text(_('No decision has been taken.'))}]\n"]
    out.append(_heading(1, _("Annex B: Interpretative statements and reservations"), "annex-b"))
    statement_heading = get_template_attribute("_macros.html", "statement_heading")
    for statement in outline.statements:
        kind = _("Reservation") if statement.kind == "reservation" else _("Interpretative statement")
        title = (f"{_plain(statement_heading(statement.kind, statement.delegation))} — " if statement.delegation
                 else f"{kind}: ") + (statement.author or _("Former participant"))
        if statement.affiliation:
            title += f" ({statement.affiliation})"
        on = _("On %(subject)s", subject=statement.on)
        heading = _heading(2, title, f"statement-{statement.id}", listed=False)
        out.append(f"#block(breakable: false, below: 1em)[{heading}"
                   f"#text(fill: grey)[{text(on)}]\n\n{user(statement.text)}]\n")
    if not outline.statements:
        out.append(f"#emph[{text(_('No statement or reservation has been made.'))}]\n")
    out.append(_heading(1, _("Annex C: Participants"), "annex-c"))
    labels = (_("Name"), _("Affiliation"), _("Country"), _("Working groups"))
    header = ", ".join(f"[*{text(label)}*]" for label in labels)
    for category in outline.participants:
        rows = "".join(
            "".join(f"[{text(value)}], " for value in (p.name, p.affiliation, p.country, "; ".join(p.groups))) + "\n"
            for p in category.participants)
        # Rows never split across pages (``table.cell(breakable: false)``); the header repeats.
        out.append(f"{_heading(2, category.label, listed=False)}"
                   f"#table(columns: (1.3fr, 1.5fr, 1fr, 1.5fr), fill: (_, y) => if y == 0 {{ rgb(\"#eeeeee\") }},\n"
                   f"table.header({header}),\n{rows})\n")
    if not outline.participants:
        out.append(f"#emph[{text(_('No participant is listed.'))}]\n")
    return out


def _datetime(moment: datetime) -> str:
    """A Typst ``datetime`` of the moment (UTC, to the second)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return (f"datetime(year: {utc.year}, month: {utc.month}, day: {utc.day}, "
            f"hour: {utc.hour}, minute: {utc.minute}, second: {utc.second})")


def document_source(outline: Outline, *, changes: bool = False) -> str:
    """The whole document as Typst source."""
    language = str(get_locale() or "en")
    mark = draft_mark(outline.adoption is not None)
    draft_header = (f'text(font: sans, size: 9pt, weight: "bold", fill: rgb("#b00020"), {string(mark)})'
                    if outline.draft else "none")
    watermark = (f'place(center + horizon, rotate(-30deg, text(font: sans, size: 40pt, weight: "bold", '
                 f'fill: rgb(176, 0, 32, 33), {string(mark)})))' if outline.draft else "none")
    description = _("Outcome document") + (f" — {mark}" if outline.draft else "")
    head = (PREAMBLE.replace("TITLE_TEXT", string(outline.title))
            .replace("TITLE", string(outline.title))
            .replace("AUTHORS", "(" + "".join(f"{string(o)}, " for o in outline.organisers) + ")")
            .replace("DESCRIPTION", string(description))
            .replace("CREATED", _datetime(outline.generated_at))
            .replace("LANG", string(language.split("_")[0]))
            .replace("DRAFT_HEADER", draft_header)
            .replace("WATERMARK", watermark)
            .replace("PAGE_LABEL", _page_label()))
    return "".join([head, *_title_page(outline, changes=changes), *_sections(outline, changes=changes),
                    *_annexes(outline)])


def render(outline: Outline, *, changes: bool = False,
           progress: Callable[[float], None] | None = None) -> bytes:
    """PDF bytes of the outcome document, typeset by Typst in this process. ``progress``
    hears 0.5 once the source is written and 1.0 once the PDF is (Typst compiles in one
    call)."""
    source = document_source(outline, changes=changes)
    if progress is not None:
        progress(0.5)
    moment = outline.generated_at
    # The document's own time, also as the compile's clock (SOURCE_DATE_EPOCH's role): no run's
    # time reaches the bytes.
    timestamp = int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
    # (The stub wants font paths of the source's type; the binding takes a str path with bytes.)
    fonts: list[Any] = [str(FONT_DIR)]
    pdf = typst.compile(source.encode("utf-8"), font_paths=fonts, ignore_system_fonts=True,
                        timestamp=timestamp)
    if progress is not None:
        progress(1.0)
    return pdf
