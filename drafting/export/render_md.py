"""The outcome document as Markdown: a clean text others can paste, diff and publish.

User text reaches this renderer only as the sanitiser's HTML (``Text.html``), read as the
typed tree of ``html_tree``; a small converter turns that tree back into Markdown.
Everything that came from a person is then escaped, so that whatever Markdown engine reads
the file later (ours, plain Python-Markdown, CommonMark, GitHub's) cannot find a link, an
image or raw HTML in it: user links are kept as "text (URL)" in plain words, ``<`` becomes
``&lt;`` (Python-Markdown does not honour ``\\<``), and bare ``http://`` / ``www.`` are
defused so autolinking engines leave them as text. The only markup in the output is the
document's own.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from flask_babel import gettext as _

from drafting.editing.diff import Piece
from drafting.export.html_tree import Element, Kind, Style, parse, text_of
from drafting.export.labels import (
    ad_referendum_label,
    draft_mark,
    organised_by,
    roll_call_name,
    rule_labels,
    statement_heading,
    statement_labels,
)
from drafting.export.outline import ClauseBlock, GroupSection, Outline, Text
from drafting.export.render_json import canonical_sha256

# --- escaping plain text ------------------------------------------------------------------

#: One pass, so that nothing this inserts is escaped again. Backslash escapes only for the
#: characters Python-Markdown and CommonMark both honour; entities for the rest.
_SPECIAL = re.compile(r"&(?=#?[A-Za-z0-9]+;)|://|(?i:\bwww\.)|[\\`*_\[\]()!<>~]")
_REPLACEMENTS = {"<": "&lt;", "~": "&#126;", "&": "&amp;", "://": "&#58;//"}
_LINE_START = re.compile(r"^(?:[#+=-]|\d+\.)")
_LIST_ITEM = re.compile(r"(?:- |\d+\. )")


def _replace(match: re.Match[str]) -> str:
    found = match.group(0)
    if found.lower() == "www.":
        return found[:3] + "&#46;"
    return _REPLACEMENTS.get(found, "\\" + found)


def escape(text: str) -> str:
    """Plain text as Markdown that renders as exactly that text, on one line."""
    return _SPECIAL.sub(_replace, " ".join(text.split()))


def _escape_line_start(line: str) -> str:
    """What only means something at the start of a line: headings, list markers, a setext
    underline."""
    found = _LINE_START.match(line)
    if not found:
        return line
    marker = found.group(0)
    if marker == "=":
        return "&#61;" + line[1:]
    if marker[-1] == ".":
        return marker[:-1] + "\\." + line[len(marker):]
    return "\\" + line


def _wrap(marker: str, inner: str) -> str:
    """``*inner*``, with the spaces around ``inner`` kept outside (``* x*`` is no emphasis)."""
    core = inner.strip()
    if not core:
        return inner
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()):]
    return f"{lead}{marker}{core}{marker}{trail}"


# --- HTML to Markdown ----------------------------------------------------------------------

#: The styles Markdown has marks for; the others (underline, sub- and superscript) are
#: written as their text.
_EMPHASIS = {Style.ITALIC: "*", Style.BOLD: "**", Style.STRIKE: "~~"}


def _inline(nodes: list[Element | str], *, cell: bool = False, breaks: bool = True) -> str:
    """Inline content as one Markdown string; ``<br>`` as a hard break ("  \\n") where the
    context allows one, else a space."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            # HTML collapses whitespace; so does Markdown, but a line break would be a new line.
            text = re.sub(r"\s+", " ", node)
            out.append(_SPECIAL.sub(_replace, text))
            continue
        style = node.style
        if node.kind is Kind.BREAK:
            out.append("  \n" if breaks and not cell else " ")
        elif style is not None and style in _EMPHASIS:
            out.append(_wrap(_EMPHASIS[style], _inline(node.children, cell=cell, breaks=breaks)))
        elif style is Style.CODE:
            out.append(_code_span(text_of(node), cell=cell))
        elif style is Style.UNAGREED:
            # The square brackets are the mark itself, as drafts write it: kept as brackets,
            # not escaped, so that the text reads (and renders again) as unagreed.
            inner = _inline(node.children, cell=cell, breaks=breaks)
            if inner.startswith("\\[") and inner.endswith("\\]"):
                inner = f"[{inner[2:-2]}]"
            out.append(inner)
        elif node.kind is Kind.LINK:
            label = _inline(node.children, cell=cell, breaks=False)
            href = node.href
            # Kept as words: a link in the export would be a link nobody re-checked.
            out.append(f"{label} ({escape(href)})" if href and href != text_of(node).strip()
                       else label if not href else escape(href))
        else:
            # Underline, sub- and superscript, abbreviations (and blocks met inline): Markdown
            # has no mark for them, so their text.
            out.append(_inline(node.children, cell=cell, breaks=breaks))
    return "".join(out)


def _code_span(code: str, *, cell: bool) -> str:
    code = re.sub(r"[ \t\r\n\f\v]+", " ", code)
    if not code.strip():
        return escape(code)
    if cell:
        code = code.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if code.startswith("`") or code.endswith("`") else ""
    return f"{fence}{pad}{code}{pad}{fence}"


def _preformatted(code: str) -> list[str]:
    """A code block as one code span per line. Not an indented code block: its lines are
    raw, and where the indentation is misread (first in a list item, after a list) they
    would be read as Markdown and HTML; a code span is raw in every context."""
    lines = [line.rstrip() for line in code.strip("\n").split("\n")]
    # Indentation as no-break spaces: a code span collapses ordinary ones.
    spans = [_code_span("\u00a0" * (len(line) - len(line.lstrip(" "))) + line.lstrip(" "), cell=False)
             if line.strip() else "" for line in lines]
    spans = [span for span in spans if span]
    return [f"{span}  " for span in spans[:-1]] + spans[-1:]


def _paragraph(nodes: list[Element | str]) -> list[str]:
    text = _inline(nodes).strip()
    if not text:
        return []
    return [_escape_line_start(line.strip()) + ("  " if line.endswith("  ") else "")
            for line in text.split("\n")]


def _indent(lines: list[str], first: str, rest: str) -> list[str]:
    return [(first if i == 0 else rest if line else "") + line for i, line in enumerate(lines)]


def _join(blocks: list[list[str]]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        if not block:
            continue
        if lines:
            lines.append("")
        lines.extend(block)
    return lines


def _blocks(node: Element) -> list[list[str]]:
    """A container's children as Markdown blocks (lists of lines); runs of inline content
    between block elements become paragraphs."""
    blocks: list[list[str]] = []
    run: list[Element | str] = []
    for child in node.children:
        if isinstance(child, str) or not child.is_block:
            run.append(child)
            continue
        blocks.append(_paragraph(run))
        run = []
        blocks.append(_block(child))
    blocks.append(_paragraph(run))
    return [b for b in blocks if b]


def _block(node: Element) -> list[str]:
    kind = node.kind
    if kind is Kind.PARAGRAPH:
        return _paragraph(node.children)
    if kind is Kind.HEADING:
        text = _inline(node.children, breaks=False).strip()
        return [_wrap("**", text)] if text else []
    if kind is Kind.RULE:
        return ["---"]
    if kind is Kind.QUOTE:
        return [f"> {line}" if line else ">" for line in _join(_blocks(node))]
    if kind is Kind.CODE_BLOCK:
        return _preformatted(text_of(node))
    if kind is Kind.LIST:
        return _list(node)
    if kind is Kind.TABLE:
        return _table(node)
    return _join(_blocks(node))


def _list(node: Element) -> list[str]:
    items = [child for child in node.elements() if child.kind is Kind.ITEM]
    number = node.start
    rendered = [_blocks(item) for item in items]
    # Loose (blank lines between items) only when an item holds several paragraphs; a nested
    # list right under an item's words keeps the list tight. User paragraphs never start
    # with a list marker (they are escaped), so a block that does is a list.
    loose = any(sum(1 for block in blocks if not _LIST_ITEM.match(block[0])) > 1
                for blocks in rendered)
    lines: list[str] = []
    for blocks in rendered:
        marker = f"{number}. " if node.ordered else "- "
        number += 1
        if loose and lines:
            lines.append("")
        body = _item_body(blocks)
        # Four spaces: what Python-Markdown needs for a continuation, and fine for CommonMark.
        lines.extend(_indent(body or [""], marker, "    "))
    return lines


def _item_body(blocks: list[list[str]]) -> list[str]:
    """A list item's blocks: a nested list straight under the item's first words, every
    other block after a blank line (without one, a line would continue the block before it)."""
    lines: list[str] = []
    for index, block in enumerate(blocks):
        if lines and not (index == 1 and _LIST_ITEM.match(block[0])
                          and not _LIST_ITEM.match(blocks[0][0])):
            lines.append("")
        lines.extend(block)
    return lines


def _rows(node: Element) -> list[Element]:
    rows: list[Element] = []
    for child in node.elements():
        rows.extend([child] if child.kind is Kind.ROW else _rows(child))
    return rows


def _cell(node: Element) -> str:
    return _inline(node.children, cell=True).strip().replace("|", "\\|") or " "


def table(header: list[str], rows: list[list[str]], aligns: list[str] | None = None) -> list[str]:
    """A Markdown table of cells that are already Markdown (escaped; ``|`` as ``\\|``)."""
    width = max([len(header), *(len(r) for r in rows)])
    header = header + [" "] * (width - len(header))
    aligns = (aligns or []) + [""] * width
    rule = {"left": ":--", "right": "--:", "center": ":-:"}
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join(rule.get(a, "---") for a in aligns[:width]) + " |"]
    lines += ["| " + " | ".join(r + [" "] * (width - len(r))) + " |" for r in rows]
    return lines


def _table(node: Element) -> list[str]:
    rows = [[c for c in row.elements() if c.kind is Kind.CELL]
            for row in _rows(node)]
    rows = [r for r in rows if r]
    if not rows:
        return []
    return table([_cell(c) for c in rows[0]], [[_cell(c) for c in r] for r in rows[1:]],
                 [c.attrs.get("align", "") for c in rows[0]])


def markdown_of(text: Text) -> list[str]:
    """User text (its sanitised HTML) as Markdown lines."""
    return _join(_blocks(parse(text.html)))


def cell_of(text: str) -> str:
    """Plain user text for a table cell."""
    return escape(text).replace("|", "\\|") or " "


# --- the document --------------------------------------------------------------------------

def _when(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp


def _redline(changes: list[Piece]) -> list[str]:
    """A clause as deleted and inserted words: ``~~deleted~~ **inserted**``. The pieces are
    the clause's Markdown source, so they are escaped as plain text, line by line (emphasis
    cannot span a paragraph break)."""
    lines = [""]
    previous = "equal"
    for piece in changes:
        if previous == "delete" and piece["op"] == "insert" and lines[-1][-1:] not in ("", " ") \
                and not piece["text"][:1].isspace():
            # "~~old~~ **new**": a replaced word reads as two, not as one run-on word.
            lines[-1] += " "
        previous = piece["op"]
        for index, part in enumerate(piece["text"].split("\n")):
            if index:
                lines.append("")
            words = _SPECIAL.sub(_replace, re.sub(r"[ \t]+", " ", part))
            marker = {"insert": "**", "delete": "~~"}.get(piece["op"], "")
            lines[-1] += _wrap(marker, words) if marker else words
    paragraphs: list[list[str]] = []
    for line in lines:
        if line.strip():
            paragraphs.append([_escape_line_start(line.strip())])
    return _join(paragraphs)


def _clause_lines(clause: ClauseBlock, changes: bool) -> list[str]:
    lines = _redline(clause.changes) if changes and clause.changes else markdown_of(clause.text)
    if clause.ad_referendum:
        # Beside the clause, on its last line: a line of its own would end a list item.
        label = escape(ad_referendum_label())
        lines = [*lines[:-1], f"{lines[-1]} {label}"] if lines else [label]
    return lines


def _preambular(clause: ClauseBlock, changes: bool) -> list[str]:
    """As UN and OSCE texts print it: the opening participle in italics (the outline marks it
    in the clause's HTML), the rest roman."""
    return _clause_lines(clause, changes)


def _operative(clauses: list[ClauseBlock], changes: bool) -> list[str]:
    lines: list[str] = []
    loose = any("" in _clause_lines(c, changes) for c in clauses)
    for clause in clauses:
        if loose and lines:
            lines.append("")
        number = clause.number if clause.number.endswith(".") else f"{clause.number}."
        body = _clause_lines(clause, changes) or [""]
        lines.extend(_indent(body, f"{number} ", "    "))
    return lines


def _identification(outline: Outline) -> list[str]:
    """The heading lines that identify the document: symbol, distribution, date and place,
    original language."""
    found = outline.identification
    assert found is not None
    lines = [f"**{escape(found.symbol)}**"] if found.symbol else []
    when = found.dates + (f", {found.place}" if found.place.strip() else "")
    lines += [escape(found.distribution_label), escape(when), escape(found.original_label)]
    return [f"{line}  " for line in lines[:-1]] + lines[-1:]


def _final_block(outline: Outline) -> list[str]:
    """The final document says so, with its symbol and its canonical text's SHA-256."""
    found = outline.identification
    assert found is not None
    symbol = f" — {escape(found.symbol)}" if found.symbol else ""
    return [f"**{escape(_('Final text'))}**{symbol}  ",
            f"{escape(_('SHA-256 of the canonical text:'))} `{canonical_sha256(outline)}`"]


def _title_block(outline: Outline) -> list[list[str]]:
    blocks: list[list[str]] = [_identification(outline), [f"# {escape(outline.title)}"]]
    facts = [escape(outline.venue)] if outline.venue.strip() else []
    assert outline.identification is not None
    facts.append(escape(outline.identification.dates))
    if outline.organisers:
        facts.append(escape(organised_by(outline.organisers)))
    blocks.append([f"{line}  " for line in facts[:-1]] + facts[-1:])
    if outline.final:
        blocks.append(_final_block(outline))
    blocks.append(markdown_of(outline.preamble))
    return blocks


def _draft_block(outline: Outline) -> list[str]:
    # The same words as the HTML document's pending list, so they are translated once.
    lines = ["> **" + escape(draft_mark(outline.adoption is not None)) + "**"]
    if outline.pending:
        lines += [">", "> **" + _("Pending items") + "**", ">",
                  "> " + _("This document is a draft. These items are not decided yet:"), ">"]
        for item in outline.pending:
            kind = _("Open vote") if item.kind == "vote" else _("Recommendation still being drafted")
            lines.append(f"> - {kind}: {escape(item.title)} ({escape(item.group)})")
    return lines


def _sections(outline: Outline, changes: bool) -> list[list[str]]:
    blocks: list[list[str]] = []
    for section in outline.sections:
        blocks.append(["## " + _("Working group %(number)s: %(name)s", number=section.number,
                                  name=escape(section.name))])
        blocks.append(markdown_of(section.mandate))
        for recommendation in section.recommendations:
            blocks.append(["### " + _("Recommendation %(number)s: %(title)s",
                                       number=recommendation.number,
                                       title=escape(recommendation.title))])
            # One sentence: the body's name, the preamble, then the operative verbs.
            assert outline.identification is not None
            blocks.append([_escape_line_start(escape(outline.identification.body_name))])
            blocks += [_preambular(c, changes) for c in recommendation.preambular]
            blocks.append(_operative(recommendation.operative, changes))
        blocks += _not_adopted(section)
    return blocks


def _not_adopted(section: GroupSection) -> list[list[str]]:
    """What the group decided not to adopt, where it would have stood: its title and how."""
    return [[f"#### {escape(item.title)}", "", escape(item.how)] for item in section.not_adopted]


def _adoption(outline: Outline) -> list[list[str]]:
    """The adoption line after the adopted text, once the plenary's adoption is recorded."""
    if outline.adoption is None:
        return []
    return [[f"*{escape(outline.adoption.line)}*  ", f"*{escape(outline.adoption.how)}*"]]


def _chairs_summary(outline: Outline) -> list[list[str]]:
    """The Chair's summary, apart from the adopted text and saying so (none: nothing)."""
    if not outline.chairs_summary.markdown:
        return []
    note = _("Issued under the Chair’s own responsibility. It was not adopted by the "
             "conference and is not part of the adopted text above.")
    return [["---"], ["## " + _("Chair’s summary")], [f"> **{note}**"],
            markdown_of(outline.chairs_summary)]


def _annex_votes(outline: Outline) -> list[list[str]]:
    """Annex A: one line per decision, numbered as in every format; a recorded vote's roll
    call in full after it."""
    blocks: list[list[str]] = [["## " + _("Annex A: Record of decisions")]]
    if not outline.votes:
        return [*blocks, ["*" + _("No decision has been taken.") + "*"]]
    rules = rule_labels()
    terms = {"group": _("Working group"), "rule": _("Decision rule"), "quorum": _("Quorum"),
             "eligible": _("Eligible voters"), "turnout": _("Turnout"), "present": _("Present"),
             "closed": _("Closed")}
    for vote in outline.votes:
        blocks.append([f"### {vote.number} {escape(vote.subject)}"])
        facts = [(terms["group"], escape(vote.group)), (terms["rule"], rules.get(vote.rule, vote.rule)),
                 (terms["quorum"], f"{vote.quorum} %" if vote.quorum is not None else "—"),
                 (terms["eligible"], str(vote.eligible)),
                 (terms["present"], str(vote.present)) if vote.present is not None
                 else (terms["turnout"], str(vote.turnout)),
                 (terms["closed"], _when(vote.closed_at))]
        blocks.append([f"**{escape(vote.decision)}**  ",
                       " · ".join(f"{term}: {value}" for term, value in facts)])
        if vote.recorded:
            blocks.append(table([_("Delegation") if vote.voting_unit == "delegation" else _("Participant"),
                                 _("Choice")],
                                [[cell_of(roll_call_name(name, delegation, vote.voting_unit)),
                                  cell_of(choice)] for name, choice, delegation in vote.roll_call or []])
                          if vote.roll_call else ["*" + _("Nobody voted.") + "*"])
    return blocks


def _annex_statements(outline: Outline) -> list[list[str]]:
    blocks: list[list[str]] = [["## " + _("Annex B: Interpretative statements and reservations")]]
    if not outline.statements:
        return [*blocks, ["*" + _("No statement.") + "*"]]
    kinds = statement_labels()
    for statement in outline.statements:
        by = escape(statement.author)
        if statement.affiliation:
            by = f"{by} ({escape(statement.affiliation)})"
        heading = statement_heading(statement.kind, statement.delegation, kinds)
        blocks.append([f"### {escape(heading)}: {escape(statement.on)}"])
        blocks.append([_("By %(author)s", author=by)])
        blocks.append(markdown_of(statement.text))
    return blocks


def _annex_participants(outline: Outline) -> list[list[str]]:
    blocks: list[list[str]] = [["## " + _("Annex C: Participants")]]
    for category in outline.participants:
        blocks.append([f"### {escape(category.label)}"])
        blocks.append(table(
            [_("Name"), _("Affiliation"), _("Country"), _("Working groups")],
            [[cell_of(p.name), cell_of(p.affiliation), cell_of(p.country),
              "; ".join(cell_of(g) for g in p.groups)] for p in category.participants]))
    return blocks


def render(outline: Outline, *, changes: bool = False,
           progress: Callable[[float], None] | None = None) -> bytes:
    """The outcome document as UTF-8 Markdown; ``changes``: each clause changed since its
    first vote opened as a redline (~~deleted~~ **inserted**)."""
    blocks: list[list[str]] = []
    if not outline.final:
        blocks.append(_draft_block(outline))
    blocks += _title_block(outline)
    if changes:
        note = _("Changes since the first draft: deleted words are struck through, inserted "
                 "words in bold.")
        blocks.append([f"*{note}*"])
    blocks += _sections(outline, changes)
    blocks += _adoption(outline)
    blocks += _chairs_summary(outline)
    blocks += _annex_votes(outline)
    blocks += _annex_statements(outline)
    blocks += _annex_participants(outline)
    return ("\n".join(_join(blocks)) + "\n").encode("utf-8")
