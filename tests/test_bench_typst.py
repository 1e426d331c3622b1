"""The Typst candidate of the PDF benchmark (bench/typst_pdf.py): user text reaches Typst as
text, never as markup, and the bench command compares both engines on the same outline.

Speed is not asserted here (docs/benchmarks.md has the figures); what is asserted is what makes
the comparison fair and the candidate safe to build on: every hostile payload, and Typst's own
syntax, comes out of the PDF as the text the sanitiser left, and nothing is read or called.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest
from pypdf import PdfReader

from bench import typst_pdf
from drafting.export.html_tree import parse, text_of
from drafting.export.outline import Text
from tests.conftest import ROOT

typst = pytest.importorskip("typst", reason="the bench extra (pip install -e '.[bench]') brings typst")

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


def test_the_bench_command_measures_both_engines_on_the_same_outline():
    finished = subprocess.run(
        [sys.executable, "-m", "bench.run", "pdf", "--groups", "1", "--recommendations", "2",
         "--clauses", "4", "--rounds", "1", "--engines", "weasyprint,typst"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    rows = [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]
    assert [row["engine"] for row in rows] == ["weasyprint", "typst"]
    for row in rows:
        assert row["pages"] > 3 and row["bytes"] > 10_000
        assert row["render_seconds"] > 0 and 0 <= row["other_cpu"] <= 2.5
    assert "| typst (en) |" in finished.stderr
