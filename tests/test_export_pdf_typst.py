"""The PDF's Typst source (drafting/export/render_pdf.py): user text reaches Typst as text,
never as markup. Every hostile payload, and Typst's own syntax, comes out of the PDF as the text
the sanitiser left, alone and inside a whole document, and nothing is read or called.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import replace

import pytest
import typst
from pypdf import PdfReader

from drafting.export import render_pdf as typst_pdf
from drafting.export.html_tree import parse, text_of
from drafting.export.outline import Text
from tests.export_fixture import hostile_outline

pytestmark = pytest.mark.database_independent

#: Typst's own syntax, as a delegate might type it: calls, labels, references, maths, raw text,
#: an escaped string end followed by a call, a file read.
TYPST_SYNTAX = [
    '#read("/etc/passwd")',
    '"; #read("/etc/passwd") //',
    '\\"; #panic("injected") #"',
    "]] #panic(\"x\") [[ #{ panic() }",
    "= Heading <label> @label *bold* _emphasis_ $x^2$ `raw` ~ -- --- ... // comment",
    '#import "@preview/cetz:0.3.0": *',
    "\\u{41}\\u{0} \\\\ \\#",
]


def _visible(value: str) -> str:
    return re.sub(r"\s+", "", value).replace("\u00ad", "")


def test_user_text_comes_out_as_its_text_whatever_it_holds(ctx, xss_payloads):
    payloads = [*xss_payloads, *TYPST_SYNTAX]
    body = ('#set page(width: 24cm, height: auto, margin: 1cm)\n#set par(justify: false)\n'
            '#set text(font: "DejaVu Sans", hyphenate: false)\n')
    expected = []
    for payload in payloads:
        text = Text.of(payload)
        body += typst_pdf.user(text) + "#pagebreak()\n"
        expected.append(_visible(text_of(parse(text.html))))
    pdf = typst.compile(body.encode(), font_paths=[str(typst_pdf.FONT_DIR)], ignore_system_fonts=True)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == len(payloads) + 1
    for payload, wanted, page in zip(payloads, expected, pages, strict=False):
        assert wanted in _visible(page.extract_text()), payload
    # Had a call run, the compile would have failed (panic) or the file shown up.
    assert "root:x:0:0" not in "".join(page.extract_text() for page in pages)


def test_a_string_literal_holds_exactly_its_value():
    for value in ['a"b', "back\\slash", "line\nbreak\ttab\x00nul", "#emph[x]", "\u00e9\u0436"]:
        # Typst evaluates the literal and answers its value as JSON.
        assert json.loads(typst.eval(b"", typst_pdf.string(value), ignore_system_fonts=True)) == value


@pytest.mark.parametrize("final", [False, True])
def test_every_field_of_a_whole_document_is_text(ctx, xss_payloads, final):
    """The whole document with every field a person writes holding a payload (titles, names,
    the symbol, the body's name, annex entries, a clause's changes): it compiles, and each
    payload is printed as written."""
    for payload in [*TYPST_SYNTAX, *xss_payloads[:8]]:
        outline = replace(hostile_outline(payload), draft=not final, final=final)
        pdf = typst_pdf.render(outline, changes=True)
        flat = _visible("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
        assert _visible(payload) in flat, payload
        assert "root:x:0:0" not in flat
        assert ("DRAFT" in flat) is not final
