"""The outcome document as a Word file (python-docx), in real Word styles.

The secretariat keeps editing this file in Word or LibreOffice, so every part of it wears a
named style rather than direct formatting: Title and Subtitle for the title block, Heading 1
for each working group and annex, Heading 2 for each recommendation (and each vote of the
voting record), "Body Name" for the subject that opens each recommendation, a "Preambular
Clause" paragraph style (roman: its opening participle is an italic run, as UN and OSCE
texts print it) and "List Number" for operative clauses. Each recommendation's operative
clauses are a Word list of their own that restarts at 1 (a new ``w:num`` with a
``startOverride``), so Word renumbers them correctly when someone inserts a clause, which
typed-in numbers would not.

User text arrives as the sanitiser's HTML, read as the typed tree of ``html_tree`` and turned
here into runs; it becomes text and run formatting, never hyperlinks, fields or embedded
objects: a link is printed as its text followed by its address, so nothing in the file can
make Word fetch a URL or open a file.
"""
from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from docx import Document as new_document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from flask_babel import format_datetime
from flask_babel import gettext as _

from drafting.editing.diff import Piece
from drafting.export.html_tree import Element, Kind, Style, parse, walk
from drafting.export.labels import (
    ad_referendum_label,
    draft_mark,
    organised_by,
    roll_call_name,
    rule_labels,
    statement_heading,
    statement_labels,
)
from drafting.export.outline import (
    ClauseBlock,
    GroupSection,
    Outline,
    RecommendationBlock,
    StatementEntry,
    Text,
    VoteEntry,
)
from drafting.export.render_json import canonical_sha256

PREAMBULAR_STYLE = "Preambular Clause"
BODY_NAME_STYLE = "Body Name"
IDENTIFICATION_STYLE = "Document Identification"
NOT_ADOPTED_STYLE = "Not Adopted"
OPERATIVE_STYLE = "List Number"
DRAFT_STYLE = "Draft Mark"
TABLE_STYLE = "Table Grid"
#: A4 less 25 mm margins, in twips (the unit of Word's table widths).
TEXT_WIDTH = 9070
DRAFT_RED = RGBColor(0xB0, 0x00, 0x20)
INSERT_BLUE = RGBColor(0x00, 0x4E, 0x9A)
# Characters XML 1.0 cannot carry: lxml refuses them, and one stray control character in a
# title must not make the whole export fail.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACES = re.compile(r"[ \t\r\n\f]+")
_XML_SPACE = qn("xml:space")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _sub(parent: BaseOxmlElement, tag: str, **attributes: str) -> BaseOxmlElement:
    """A child element ``w:tag`` with ``w:`` attributes, appended to ``parent``."""
    child: BaseOxmlElement = parent.makeelement(
        _qn(tag), {_qn(f"w:{name}"): value for name, value in attributes.items()} if attributes else None)
    parent.append(child)
    return child


@functools.cache
def _qn(tag: str) -> str:
    return qn(tag)


# --- user HTML to runs and blocks ------------------------------------------------------------

@dataclass
class Run:
    text: str
    marks: frozenset[str] = frozenset()
    #: A line break (``<br>``, or a newline in ``<pre>``) rather than text.
    line_break: bool = False


@dataclass
class Block:
    """One paragraph-level piece of user text."""

    kind: Literal["p", "heading", "li", "pre", "hr", "table"]
    runs: list[Run] = field(default_factory=list)
    #: Lists: how deep (1 = top level), whether numbered, which list (numbered lists restart
    #: per list), and the ``start`` of an ``<ol>``.
    depth: int = 0
    ordered: bool = False
    list_id: int = 0
    start: int = 1
    #: A list item's second paragraph continues the item instead of numbering a new one.
    continued: bool = False
    quote: bool = False
    #: Tables: rows of cells of runs, and whether each row is a header row.
    rows: list[list[list[Run]]] = field(default_factory=list)
    header_rows: list[bool] = field(default_factory=list)

    def has_content(self) -> bool:
        return self.kind in ("hr", "table") or any(r.line_break or r.text for r in self.runs)


def _shown_link(href: str) -> str | None:
    """The address printed after a link's text: only absolute web and mail addresses, which a
    reader may want to type; a relative link means nothing outside the site."""
    lowered = href.lower()
    return href if lowered.startswith(("http://", "https://", "mailto:")) else None


def _list_start(element: Element) -> int:
    # Word's numbering takes no negative start, and a start of millions is no list a person
    # wrote; either way the list counts from 1.
    start = element.start
    return start if 0 <= start < 10**6 else 1


class _BlockBuilder:
    """The tree of the sanitiser's HTML (see ``html_tree``) as blocks of formatted runs; a
    ``html_tree.Visitor``.

    Elements of no known kind are ignored and their text kept: the input has been sanitised
    already, and whatever slipped through could at worst appear as plain text."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._block: Block | None = None
        self._marks: list[str] = []
        self._lists: list[tuple[bool, int, int]] = []  # (ordered, list id, start)
        self._list_ids = 0
        self._quote = 0
        self._pre = 0
        self._links: list[tuple[str | None, int]] = []  # (address to show, index in _link_text)
        self._link_text: list[str] = []
        self._table: Block | None = None
        self._cell: list[Run] | None = None

    # blocks

    def _close(self) -> None:
        block = self._block
        self._block = None
        if block is None:
            return
        # Trailing spaces and breaks of a block are source layout (a code block's last
        # newline), not text.
        while block.runs and (block.runs[-1].line_break or not block.runs[-1].text.strip()):
            block.runs.pop()
        if block.runs and not block.runs[-1].line_break:
            last = block.runs[-1]
            block.runs[-1] = Run(last.text.rstrip(), last.marks)
        if block.has_content():
            self.blocks.append(block)

    def _open(self, kind: Literal["p", "heading", "li", "pre"], *, continued: bool = False) -> Block:
        self._close()
        ordered, list_id, start = self._lists[-1] if self._lists else (False, 0, 1)
        if kind == "li" or continued:
            block = Block(kind, depth=len(self._lists), ordered=ordered, list_id=list_id,
                          start=start, continued=continued, quote=self._quote > 0)
        else:
            block = Block(kind, quote=self._quote > 0)
        self._block = block
        return block

    def _current_runs(self) -> list[Run]:
        if self._cell is not None:
            return self._cell
        if self._block is None:
            self._open("li", continued=True) if self._lists else self._open("p")
        assert self._block is not None
        return self._block.runs

    def _add(self, run: Run) -> None:
        runs = self._current_runs()
        if not run.line_break:
            at_start = not runs or runs[-1].line_break or runs[-1].text.endswith(" ")
            if at_start and self._pre == 0:
                run = Run(run.text.lstrip(), run.marks)
            if not run.text:
                return
            if self._links:
                self._link_text.append(run.text)
        runs.append(run)

    def finish(self) -> list[Block]:
        """The blocks, once the walk is over."""
        self._close()
        return self.blocks

    # the visitor

    def enter(self, element: Element) -> None:
        kind = element.kind
        if element.style is not None:
            self._marks.append(element.style.value)
        elif kind is Kind.LINK:
            self._links.append((_shown_link(element.href), len(self._link_text)))
        elif kind is Kind.BREAK:
            self._add(Run("", line_break=True))
        elif self._table is not None:
            self._table_enter(element)
        elif kind is Kind.PARAGRAPH:
            in_item = self._lists and self._block is not None and self._block.kind == "li"
            if in_item and not self._block.has_content():  # type: ignore[union-attr]
                return  # "<li><p>": the item's own first paragraph
            self._open("p", continued=bool(self._lists))
        elif kind is Kind.HEADING:
            self._open("heading")
        elif kind is Kind.LIST:
            self._close()
            self._list_ids += 1
            self._lists.append((element.ordered, self._list_ids, _list_start(element)))
        elif kind is Kind.ITEM:
            self._open("li")
        elif kind is Kind.QUOTE:
            self._close()
            self._quote += 1
        elif kind is Kind.CODE_BLOCK:
            self._open("pre")
            self._pre += 1
        elif kind is Kind.RULE:
            self._close()
            self.blocks.append(Block("hr"))
        elif kind is Kind.TABLE:
            self._close()
            self._table = Block("table", quote=self._quote > 0)

    def leave(self, element: Element) -> None:
        kind = element.kind
        if element.style is not None:
            mark = element.style.value
            if mark in self._marks:
                del self._marks[len(self._marks) - 1 - self._marks[::-1].index(mark)]
        elif kind is Kind.LINK:
            if self._links:
                address, start = self._links.pop()
                text = "".join(self._link_text[start:])
                del self._link_text[start:]
                if address and address != text.strip():
                    self._add(Run(f" ({address})", frozenset(self._marks)))
        elif self._table is not None:
            self._table_leave(element)
        elif kind in (Kind.PARAGRAPH, Kind.ITEM, Kind.CODE_BLOCK, Kind.HEADING):
            if kind is Kind.CODE_BLOCK:
                self._pre = max(0, self._pre - 1)
            self._close()
        elif kind is Kind.LIST:
            self._close()
            if self._lists:
                self._lists.pop()
        elif kind is Kind.QUOTE:
            self._close()
            self._quote = max(0, self._quote - 1)

    def _table_enter(self, element: Element) -> None:
        assert self._table is not None
        if element.kind is Kind.ROW:
            self._table.rows.append([])
            self._table.header_rows.append(False)
        elif element.kind is Kind.CELL:
            if not self._table.rows:
                self._table.rows.append([])
                self._table.header_rows.append(False)
            self._cell = []
            self._table.rows[-1].append(self._cell)
            if element.header:
                self._table.header_rows[-1] = True

    def _table_leave(self, element: Element) -> None:
        if element.kind is Kind.CELL:
            self._cell = None
        elif element.kind is Kind.TABLE:
            assert self._table is not None
            if self._table.rows:
                self.blocks.append(self._table)
            self._table = None
            self._cell = None

    def text(self, data: str) -> None:
        if self._pre:
            lines = data.split("\n")
            for index, line in enumerate(lines):
                if index:
                    self._add(Run("", line_break=True))
                if line:
                    self._add(Run(line, frozenset(self._marks) | {Style.CODE.value}))
            return
        text = _SPACES.sub(" ", data)
        if not text.strip() and (self._cell is None and self._block is None):
            return  # whitespace between blocks
        self._add(Run(text, frozenset(self._marks)))


def html_blocks(html: str) -> list[Block]:
    """The blocks of one piece of sanitised user HTML."""
    builder = _BlockBuilder()
    walk(parse(html), builder)
    return builder.finish()


def redline_runs(pieces: Iterable[Piece]) -> list[Run]:
    """A clause's changes since its first draft: insertions underlined, deletions struck.
    The pieces are the wording as written (Markdown source), shown as plain text."""
    runs: list[Run] = []
    for piece in pieces:
        marks = {"insert": frozenset({"ins"}), "delete": frozenset({"del"})}.get(piece["op"], frozenset())
        for index, line in enumerate(piece["text"].split("\n")):
            if index:
                runs.append(Run("", line_break=True))
            if line:
                runs.append(Run(line, marks))
    return runs


# --- the Word document ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Table:
    element: BaseOxmlElement
    #: Of its columns, in twips: each new cell gets its column's width.
    widths: list[str]


class _Writer:
    """Builds one document. Styles, numbering, header and footer go through python-docx's
    API; the body's many paragraphs and table cells are built as WordprocessingML elements
    directly, because python-docx's paragraph and style setters scan every style of the
    document on each call (75 s for a 20-group conference instead of about one)."""

    def __init__(self, outline: Outline, changes: bool) -> None:
        self.outline = outline
        self.changes = changes
        self.document = new_document()
        self._style_ids: dict[str, str] = {}
        self._list_abstract: dict[str, int] = {}
        self._add_styles()
        self.body = self.document.element.body

    # styles and numbering

    def _add_styles(self) -> None:
        styles = self.document.styles
        normal = styles["Normal"]
        preambular = styles.add_style(PREAMBULAR_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        preambular.base_style = normal
        preambular.paragraph_format.space_after = Pt(6)
        preambular.paragraph_format.left_indent = Mm(10)
        body_name = styles.add_style(BODY_NAME_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        body_name.base_style = normal
        body_name.paragraph_format.space_after = Pt(6)
        body_name.paragraph_format.keep_with_next = True
        identification = styles.add_style(IDENTIFICATION_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        identification.base_style = normal
        identification.font.size = Pt(9)
        identification.paragraph_format.space_after = Pt(0)
        identification.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        not_adopted = styles.add_style(NOT_ADOPTED_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        not_adopted.base_style = normal
        not_adopted.paragraph_format.space_after = Pt(6)
        draft = styles.add_style(DRAFT_STYLE, WD_STYLE_TYPE.PARAGRAPH)
        draft.base_style = normal
        draft.font.bold = True
        draft.font.color.rgb = DRAFT_RED
        draft.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for name in ("List Number", "List Continue"):
            styles[name].paragraph_format.space_after = Pt(6)

    def style_id(self, name: str) -> str:
        found = self._style_ids.get(name)
        if found is None:
            found = self._style_ids[name] = str(self.document.styles[name].style_id)
        return found

    def restarted_list(self, style_name: str, start: int = 1) -> int:
        """A new Word list (``w:num``) on the numbering of ``style_name`` that starts at
        ``start``: each recommendation's operative clauses are numbered 1., 2., … afresh."""
        numbering = self.document.part.numbering_part.element
        abstract = self._list_abstract.get(style_name)
        if abstract is None:
            style = self.document.styles[style_name]
            num_id = style.element.pPr.numPr.numId.val
            abstract = numbering.num_having_numId(num_id).abstractNumId.val
            self._list_abstract[style_name] = abstract
        num = numbering.add_num(abstract)
        num.add_lvlOverride(ilvl=0).add_startOverride(start)
        return int(num.numId)

    # paragraphs and runs

    def paragraph(self, parent: BaseOxmlElement, style: str, runs: Iterable[Run] = (),
                  text: str | None = None, *, num_id: int | None = None,
                  centred: bool = False) -> BaseOxmlElement:
        """A ``w:p`` in ``style`` appended to ``parent`` (the body or a table cell)."""
        p = _sub(parent, "w:p")
        if style == "Normal" and num_id is None and not centred:
            # The default paragraph style: most table cells, left without properties.
            self.runs(p, [Run(text)] if text is not None else runs)
            return p
        properties = _sub(p, "w:pPr")
        _sub(properties, "w:pStyle", val=self.style_id(style))
        if num_id is not None:
            numbering = _sub(properties, "w:numPr")
            _sub(numbering, "w:ilvl", val="0")
            _sub(numbering, "w:numId", val=str(num_id))
        if centred:
            _sub(properties, "w:jc", val="center")
        self.runs(p, [Run(text)] if text is not None else runs)
        return p

    @staticmethod
    def runs(p: BaseOxmlElement, runs: Iterable[Run]) -> None:
        for each in runs:
            r = _sub(p, "w:r")
            marks = each.marks
            if marks:
                # In the schema's order of run properties.
                properties = _sub(r, "w:rPr")
                if "code" in marks:
                    _sub(properties, "w:rFonts", ascii="Courier New", hAnsi="Courier New",
                         cs="Courier New")
                if "b" in marks:
                    _sub(properties, "w:b")
                if "i" in marks:
                    _sub(properties, "w:i")
                if "s" in marks or "del" in marks:
                    _sub(properties, "w:strike")
                if "ins" in marks:
                    _sub(properties, "w:color", val=str(INSERT_BLUE))
                elif "del" in marks:
                    _sub(properties, "w:color", val=str(DRAFT_RED))
                if Style.UNAGREED.value in marks:
                    # Unagreed text, as a drafter highlights it in Word.
                    _sub(properties, "w:highlight", val="yellow")
                if "u" in marks or "ins" in marks:
                    _sub(properties, "w:u", val="single")
                if "sub" in marks or "sup" in marks:
                    _sub(properties, "w:vertAlign", val="subscript" if "sub" in marks else "superscript")
            if each.line_break:
                _sub(r, "w:br")
                continue
            t = _sub(r, "w:t")
            t.text = text = _clean(each.text)
            if text[:1].isspace() or text[-1:].isspace() or "  " in text:
                t.set(_XML_SPACE, "preserve")  # Word drops such spaces otherwise

    def user_text(self, parent: BaseOxmlElement, blocks: list[Block], *, style: str = "Normal",
                  first: BaseOxmlElement | None = None, list_depth: int = 0) -> None:
        """Blocks of user text in ``style``. ``first``: a paragraph (a numbered clause) that
        takes the first block's runs; ``list_depth``: how deep the text already stands in a
        list, so that a list inside a clause is indented under it."""
        numbered_lists: dict[int, int] = {}
        for index, block in enumerate(blocks):
            if index == 0 and first is not None and block.kind not in ("table", "hr", "li"):
                self.runs(first, self._block_runs(block))
                continue
            depth = min(3, block.depth + list_depth)
            suffix = "" if depth <= 1 else f" {depth}"
            if block.kind == "table":
                self.user_table(parent, block)
            elif block.kind == "hr":
                self.paragraph(parent, style, text="* * *", centred=True)
            elif block.kind == "li" and not block.continued:
                if block.ordered:
                    name = f"List Number{suffix}"
                    if block.list_id not in numbered_lists:
                        numbered_lists[block.list_id] = self.restarted_list(name, block.start)
                    self.paragraph(parent, name, self._block_runs(block),
                                   num_id=numbered_lists[block.list_id])
                else:
                    self.paragraph(parent, f"List Bullet{suffix}", self._block_runs(block))
            elif block.continued:
                self.paragraph(parent, f"List Continue{suffix}", self._block_runs(block))
            elif block.quote:
                self.paragraph(parent, "Quote", self._block_runs(block))
            else:
                self.paragraph(parent, style, self._block_runs(block))

    @staticmethod
    def _block_runs(block: Block) -> list[Run]:
        # Headings inside user text stay paragraphs (bold): Word's heading levels belong to
        # the document's own outline (groups, recommendations, annexes).
        if block.kind == "heading":
            return [Run(r.text, r.marks | {"b"}, r.line_break) for r in block.runs]
        return block.runs

    def user_table(self, parent: BaseOxmlElement, block: Block) -> None:
        columns = max(len(row) for row in block.rows)
        table = self.table(parent, [TEXT_WIDTH // columns] * columns)
        for cells, header in zip(block.rows, block.header_rows, strict=True):
            for cell, runs in zip(self.row(table, columns, header=header), cells, strict=False):
                bold = [Run(r.text, r.marks | {"b"}, r.line_break) for r in runs]
                self.runs(cell[-1], bold if header else runs)

    # tables

    def table(self, parent: BaseOxmlElement, widths: list[int]) -> _Table:
        """A ``w:tbl`` in the annexes' table style; ``widths`` of its columns in twips."""
        table = _sub(parent, "w:tbl")
        properties = _sub(table, "w:tblPr")
        _sub(properties, "w:tblStyle", val=self.style_id(TABLE_STYLE))
        _sub(properties, "w:tblW", w="0", type="auto")
        _sub(properties, "w:tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="1",
             lastColumn="0", noHBand="0", noVBand="1")
        grid = _sub(table, "w:tblGrid")
        for width in widths:
            _sub(grid, "w:gridCol", w=str(width))
        return _Table(table, [str(width) for width in widths])

    def row(self, table: _Table, columns: int | None = None, *, header: bool = False,
            cant_split: bool = False) -> list[BaseOxmlElement]:
        """A new row's cells, each holding one empty paragraph. ``cant_split``: the row is
        never broken across pages (an annex's row: a name and its delegation stay together)."""
        tr = _sub(table.element, "w:tr")
        if header or cant_split:
            properties = _sub(tr, "w:trPr")
            if cant_split:  # before tblHeader, in the schema's order
                _sub(properties, "w:cantSplit")
            if header:
                # Repeated at the top of each page the table runs over.
                _sub(properties, "w:tblHeader")
        cells = []
        # No tcW: a cell takes its column's width from the table's grid.
        for _column in range(columns or len(table.widths)):
            tc = _sub(tr, "w:tc")
            _sub(tc, "w:p")
            cells.append(tc)
        return cells

    def text_row(self, table: _Table, values: Iterable[str], *, header: bool = False) -> None:
        values = list(values)
        for cell, value in zip(self.row(table, len(values), header=header, cant_split=True), values,
                               strict=True):
            self.runs(cell[-1], [Run(value, frozenset({"b"}) if header else frozenset())])

    # the document

    def build(self) -> bytes:
        outline = self.outline
        self.page_setup()
        self.properties()
        # The body's paragraphs are appended in order; its section properties (page size,
        # header, footer) must stay its last child.
        section_properties = self.body.sectPr
        self.body.remove(section_properties)
        body = self.body
        if outline.draft:
            self.paragraph(body, DRAFT_STYLE, text=draft_mark(outline.adoption is not None))
        self.identification()
        self.paragraph(body, "Title", text=outline.title)
        assert outline.identification is not None
        self.paragraph(body, "Subtitle", text=", ".join(
            part for part in (outline.venue, outline.identification.dates) if part))
        if outline.organisers:
            self.paragraph(body, "Normal", text=organised_by(outline.organisers))
        if self.changes:
            self.paragraph(body, "Normal", [
                Run(_("Changes since the first draft:") + " ", frozenset({"b"})),
                Run(_("inserted words are underlined"), frozenset({"ins"})), Run(", "),
                Run(_("deleted words are struck through"), frozenset({"del"})), Run(".")])
        if outline.final:
            self.final_mark()
        if outline.pending:
            self.pending()
        self.user_text(body, html_blocks(outline.preamble.html))
        for section in outline.sections:
            self.section(section)
        self.adoption()
        self.chairs_summary()
        self.voting_record(outline.votes)
        self.statements(outline.statements)
        self.participants()
        body.append(section_properties)
        out = io.BytesIO()
        self.document.save(out)
        return out.getvalue()

    def page_setup(self) -> None:
        section = self.document.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Mm(25))
        section.different_first_page_header_footer = False
        header = section.header.paragraphs[0]
        header.style = self.document.styles["Header"]
        header.add_run(_clean(self.outline.title))
        if self.outline.draft:
            # In the header: on every page.
            mark = section.header.add_paragraph(style=self.document.styles["Header"]).add_run(
                draft_mark(self.outline.adoption is not None))
            mark.bold = True
            mark.font.color.rgb = DRAFT_RED
        footer = section.footer.paragraphs[0]
        footer.style = self.document.styles["Footer"]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        # The translated words around the number, with Word's PAGE field in between.
        before, _sep, after = _("Page %(number)s", number="\x00").partition("\x00")
        footer.add_run(before)
        _page_field(footer)
        footer.add_run(after)

    def properties(self) -> None:
        outline = self.outline
        properties = self.document.core_properties
        properties.title = _clean(outline.title)
        properties.author = _clean("; ".join(outline.organisers))
        properties.subject = (_("Outcome document: changes since the first draft") if self.changes
                              else _("Outcome document"))
        properties.keywords = _("draft") if outline.draft else ""
        properties.comments = ""
        properties.last_modified_by = ""
        properties.revision = 1
        created = outline.generated_at
        if created.tzinfo is not None:
            created = created.astimezone(UTC).replace(tzinfo=None)
        properties.created = properties.modified = created

    def identification(self) -> None:
        """Symbol, distribution, date and place, original language: the document's heading."""
        found = self.outline.identification
        assert found is not None
        if found.symbol:
            self.paragraph(self.body, IDENTIFICATION_STYLE, [Run(found.symbol, frozenset({"b"}))])
        when = found.dates + (f", {found.place}" if found.place else "")
        for text in (found.distribution_label, when, found.original_label):
            self.paragraph(self.body, IDENTIFICATION_STYLE, text=text)

    def final_mark(self) -> None:
        """The final document says so, with its symbol and its canonical text's SHA-256."""
        found = self.outline.identification
        assert found is not None
        symbol = f" — {found.symbol}" if found.symbol else ""
        self.paragraph(self.body, "Normal", [Run(_("Final text"), frozenset({"b"})), Run(symbol)])
        self.paragraph(self.body, "Normal", [
            Run(_("SHA-256 of the canonical text:") + " "),
            Run(canonical_sha256(self.outline), frozenset({Style.CODE.value}))])

    def pending(self) -> None:
        self.paragraph(self.body, "Normal", [Run(_("Still pending:"), frozenset({"b"}))])
        for item in self.outline.pending:
            if item.kind == "vote":
                text = _("Open vote: %(question)s (%(group)s)", question=item.title, group=item.group)
            else:
                text = _("Recommendation “%(title)s” (%(group)s): still being drafted",
                         title=item.title, group=item.group)
            self.paragraph(self.body, "List Bullet", text=text)

    def section(self, section: GroupSection) -> None:
        body = self.body
        self.paragraph(body, "Heading 1", text=_("Working group %(number)s: %(name)s",
                                                 number=section.number, name=section.name))
        mandate = html_blocks(section.mandate.html)
        if mandate:
            label = self.paragraph(body, "Normal", [Run(_("Mandate:") + " ", frozenset({"b"}))])
            self.user_text(body, mandate, first=label)
        for recommendation in section.recommendations:
            self.recommendation(recommendation)
        for item in section.not_adopted:
            self.paragraph(body, "Heading 3", text=item.title)
            self.paragraph(body, NOT_ADOPTED_STYLE, text=item.how)

    def recommendation(self, recommendation: RecommendationBlock) -> None:
        body = self.body
        self.paragraph(body, "Heading 2", text=_(
            "Recommendation %(number)s: %(title)s", number=recommendation.number,
            title=recommendation.title))
        # One sentence: the body's name, the preamble, then the operative verbs.
        assert self.outline.identification is not None
        self.paragraph(body, BODY_NAME_STYLE, text=self.outline.identification.body_name)
        for clause in recommendation.preambular:
            first = self.paragraph(body, PREAMBULAR_STYLE)
            self.clause(first, clause, style=PREAMBULAR_STYLE, list_depth=0)
        if recommendation.operative:
            num_id = self.restarted_list(OPERATIVE_STYLE)
            for clause in recommendation.operative:
                first = self.paragraph(body, OPERATIVE_STYLE, num_id=num_id)
                self.clause(first, clause, style="List Continue", list_depth=1)

    def clause(self, first: BaseOxmlElement, clause: ClauseBlock, *, style: str,
               list_depth: int) -> None:
        if self.changes and clause.changes:
            self.runs(first, redline_runs(clause.changes))
        else:
            self.user_text(self.body, html_blocks(clause.text.html), style=style, first=first,
                           list_depth=list_depth)
        if clause.ad_referendum:
            self.paragraph(self.body, "List Continue" if list_depth else style,
                           [Run(ad_referendum_label(), frozenset({Style.ITALIC.value}))])

    def adoption(self) -> None:
        """The adoption line after the adopted text, once the plenary's adoption is recorded."""
        adoption = self.outline.adoption
        if adoption is not None:
            for text in (adoption.line, adoption.how):
                self.paragraph(self.body, "Normal", [Run(text, frozenset({Style.ITALIC.value}))])

    def chairs_summary(self) -> None:
        """The Chair's summary, apart from the adopted text and saying so (none: nothing)."""
        summary = html_blocks(self.outline.chairs_summary.html)
        if not summary:
            return
        self.paragraph(self.body, "Heading 1", text=_("Chair’s summary"))
        self.paragraph(self.body, "Normal", [Run(_(
            "Issued under the Chair’s own responsibility. It was not adopted by the conference "
            "and is not part of the adopted text above."), frozenset({"b"}))])
        self.user_text(self.body, summary)

    # annexes

    def voting_record(self, votes: list[VoteEntry]) -> None:
        """Annex A: a heading per decision ("A.3 Recommendation 1.2, operative paragraph 1"),
        its decision in one line, the record's facts; a recorded vote's roll call in full."""
        body = self.body
        self.paragraph(body, "Heading 1", text=_("Annex A: Record of decisions"))
        if not votes:
            self.paragraph(body, "Normal", text=_("No decision has been taken."))
        rules = rule_labels()
        # Translated once: a large conference has thousands of votes.
        label = {"group": _("Working group"), "rule": _("Decision rule"),
                 "quorum": _("Quorum"), "none": _("None"), "eligible": _("Eligible voters"),
                 "turnout": _("Turnout"), "present": _("Present"), "closed": _("Closed"),
                 "record": _("Record (SHA-256)"), "name": _("Name"), "choice": _("Choice"),
                 "delegation": _("Delegation")}
        for vote in votes:
            self.paragraph(body, "Heading 2", text=f"{vote.number} {vote.subject}")
            self.paragraph(body, "Normal", [Run(vote.decision, frozenset({"b"}))])
            table = self.table(body, [3000, TEXT_WIDTH - 3000])
            rows: list[tuple[str, str]] = [
                (label["group"], vote.group),
                (label["rule"], rules.get(vote.rule, vote.rule)),
                (label["quorum"], f"{vote.quorum} %" if vote.quorum is not None else label["none"]),
                (label["eligible"], str(vote.eligible)),
                (label["present"], str(vote.present)) if vote.present is not None
                else (label["turnout"], str(vote.turnout)),
                (label["closed"], _closed(vote.closed_at)),
                (label["record"], vote.record_sha256),
            ]
            for row in rows:
                self.text_row(table, row)
            if vote.recorded and vote.roll_call:
                roll = self.table(body, [TEXT_WIDTH // 2, TEXT_WIDTH - TEXT_WIDTH // 2])
                self.text_row(roll, (label["delegation"] if vote.voting_unit == "delegation"
                                     else label["name"], label["choice"]), header=True)
                for name, choice, delegation in vote.roll_call or []:
                    self.text_row(roll, (roll_call_name(name, delegation, vote.voting_unit), choice))

    def statements(self, statements: list[StatementEntry]) -> None:
        body = self.body
        self.paragraph(body, "Heading 1", text=_("Annex B: Interpretative statements and reservations"))
        if not statements:
            self.paragraph(body, "Normal", text=_("No statement has been made."))
            return
        kinds = statement_labels()
        table = self.table(body, [1900, 1500, 2000, TEXT_WIDTH - 5400])
        self.text_row(table, (_("On"), _("Kind"), _("By"), _("Statement")), header=True)
        for statement in statements:
            cells = self.row(table)
            by = statement.author + (f" ({statement.affiliation})" if statement.affiliation else "")
            kind = statement_heading(statement.kind, statement.delegation, kinds)
            for cell, value in zip(cells, (statement.on, kind, by),
                                   strict=False):
                self.runs(cell[-1], [Run(value)])
            self.cell_text(cells[3], statement.text)

    def cell_text(self, cell: BaseOxmlElement, text: Text) -> None:
        blocks = html_blocks(text.html)
        self.user_text(cell, blocks, first=cell[-1])
        if blocks and blocks[-1].kind == "table":
            self.paragraph(cell, "Normal")  # a cell ends with a paragraph

    def participants(self) -> None:
        body = self.body
        self.paragraph(body, "Heading 1", text=_("Annex C: Participants"))
        if not self.outline.participants:
            self.paragraph(body, "Normal", text=_("No participant is listed."))
        for category in self.outline.participants:
            self.paragraph(body, "Heading 2", text=category.label)
            table = self.table(body, [2500, 2700, 1400, TEXT_WIDTH - 6600])
            self.text_row(table, (_("Name"), _("Affiliation"), _("Country"), _("Working groups")),
                          header=True)
            for person in category.participants:
                self.text_row(table, (person.name, person.affiliation, person.country,
                                      ", ".join(person.groups)))


def _closed(value: str) -> str:
    try:
        return format_datetime(datetime.fromisoformat(value), "medium") if value else ""
    except ValueError:
        return value


def _page_field(paragraph: Paragraph) -> None:
    """Word's PAGE field (the current page number), as begin / instruction / separate / end."""
    def run_with(child: BaseOxmlElement) -> None:
        run = paragraph.add_run()._r
        run.append(child)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = " PAGE "
    run_with(instruction)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    paragraph.add_run("1")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def render(outline: Outline, *, changes: bool = False,
           progress: Callable[[float], None] | None = None) -> bytes:
    """The outcome document as DOCX bytes; ``changes``: each clause as a redline against the
    wording it had when its first vote opened."""
    return _Writer(outline, changes).build()
