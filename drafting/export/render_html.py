"""The outcome document as one standalone, print-ready HTML file.

The document is a download, not an app page: it links no stylesheet, script, font or image
(its print CSS is inline), so it reads the same offline and in a browser's print preview. The
PDF (render_pdf, Typst) follows its typography. Every string of the product is translated
through the template; user text is the sanitiser's HTML carried by the outline, everything else
is escaped by Jinja.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

from drafting.export.labels import draft_mark, organised_by, roll_call_by_choice
from drafting.export.outline import Outline, Text
from drafting.export.render_json import canonical_sha256

TEMPLATE = "export/document.html"


def _user(text: Text) -> Markup:
    """User text as the sanitiser left it: safe to place unescaped, and only that."""
    return Markup(text.html)  # noqa: S704 - the one sanitiser's output (outline.Text.of)


_FIRST_PARAGRAPH = re.compile(r"^<p(?: [^>]*)?>")


def _numbered(number: str, body: Markup) -> Markup:
    """An operative clause's body with its number opening the first paragraph (where it hangs
    in the margin); before the body, on a line of its own, when the clause opens otherwise
    (a list, a quotation)."""
    mark = Markup('<span class="clause-number">{}</span> ').format(number)
    text = str(body).lstrip()
    opening = _FIRST_PARAGRAPH.match(text)
    if opening is None:
        return Markup('<p class="clause-number-line">{}</p>').format(mark) + body
    return Markup(text[:opening.end()]) + mark + Markup(text[opening.end():])  # noqa: S704 - the sanitiser's HTML, cut at a tag


def _when(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _css_string(value: str) -> Markup:
    """A CSS string literal: translations end up in ``content:`` of the print CSS."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    escaped = escaped.replace("<", "\\3c ")  # never a "</style>" in the inline stylesheet
    return Markup(f'"{escaped}"')  # noqa: S704 - quotes, backslashes and "<" escaped above


def _page_counter() -> Markup:
    """``content`` for "Page n of N", in the reader's language, with CSS page counters in the
    places the translation gives them."""
    words = _("Page %(page)s of %(pages)s", page="\x00", pages="\x01")
    counters = {"\x00": "counter(page)", "\x01": "counter(pages)"}
    parts = [counters.get(piece) or _css_string(piece)
             for piece in re.split("(\x00|\x01)", words) if piece]
    return Markup(" ".join(parts))  # noqa: S704 - built from escaped CSS strings


def document(outline: Outline, *, changes: bool = False) -> str:
    """The HTML text of the document (``render`` encodes it)."""
    context: dict[str, Any] = {
        "outline": outline,
        "changes": changes,
        "user": _user,
        "when": _when,
        "roll_call_by_choice": roll_call_by_choice,
        "numbered": _numbered,
        "page_counter": _page_counter(),
        "draft_mark": draft_mark(outline.adoption is not None),
        "canonical_sha256": canonical_sha256(outline) if outline.final else "",
        "css_string": _css_string,
        "organised_by": organised_by(outline.organisers),
    }
    return render_template(TEMPLATE, **context)


def render(outline: Outline, *, changes: bool = False) -> bytes:
    """UTF-8 HTML of the outcome document; ``changes``: clauses as redlines against their first
    draft."""
    return document(outline, changes=changes).encode("utf-8")
