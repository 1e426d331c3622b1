"""The sanitiser's HTML as a typed tree: every allowed tag has one meaning, decided in
``drafting.export.html_tree``, and the Word and Markdown exports read it alike."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from drafting.export import render_docx, render_md
from drafting.export.html_tree import Element, Kind, Style, parse, text_of, walk
from drafting.export.outline import Text
from drafting.markup import ALLOWED_TAGS, render_markdown

# What is checked here does not depend on the database: run once (tests/conftest.py).
pytestmark = pytest.mark.database_independent


class _Recorder:
    """A visitor that writes down what the walk shows it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def enter(self, element: Element) -> None:
        self.events.append(("enter", element.tag))

    def leave(self, element: Element) -> None:
        self.events.append(("leave", element.tag))

    def text(self, data: str) -> None:
        self.events.append(("text", data))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _plain_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _elements(root: Element) -> list[Element]:
    """``root`` and everything under it, in document order."""
    found: list[Element] = []
    stack = [root]
    while stack:
        element = stack.pop()
        found.append(element)
        stack.extend(reversed(list(element.elements())))
    return found


def test_every_tag_the_sanitiser_allows_has_a_meaning():
    """A tag added to the sanitiser's set without a meaning here would be read by both
    exports as bare text; only ``abbr`` is meant to be."""
    plain = {tag for tag in ALLOWED_TAGS if Element.of(tag).kind is Kind.PLAIN}
    assert plain == {"abbr"}
    assert Element.of("marquee").kind is Kind.PLAIN


@pytest.mark.parametrize(("tag", "style"), [
    ("b", Style.BOLD), ("strong", Style.BOLD), ("em", Style.ITALIC), ("i", Style.ITALIC),
    ("u", Style.UNDERLINE), ("ins", Style.UNDERLINE), ("s", Style.STRIKE), ("del", Style.STRIKE),
    ("code", Style.CODE), ("sub", Style.SUB), ("sup", Style.SUP),
])
def test_inline_tags_are_styles(tag, style):
    element = Element.of(tag)
    assert (element.kind, element.style, element.is_block) == (Kind.STYLED, style, False)


def test_markdown_reads_back_as_a_typed_tree_with_its_words_intact():
    html = str(render_markdown(
        "## Заголовок *ü*\n\n"
        "*Ünïcödé* **Привет** <del>中文</del> `😀 x` [lien](https://example.org/é)  \nnext\n\n"
        "3. trois\n4. quatre\n\n"
        "| العربية | b |\n|---|---|\n| ½ | ✓ |\n\n"
        "> cité\n\n---\n\n    code  à\n"))
    root = parse(html)
    assert root.kind is Kind.ROOT
    blocks = list(root.elements())
    assert [b.kind for b in blocks] == [Kind.HEADING, Kind.PARAGRAPH, Kind.LIST, Kind.TABLE,
                                        Kind.QUOTE, Kind.RULE, Kind.CODE_BLOCK]
    assert all(b.is_block for b in blocks)
    heading, paragraph, numbered, table, quote, _rule, code = blocks
    assert text_of(heading) == "Заголовок ü"
    inline = list(paragraph.elements())
    assert [(e.kind, e.style, text_of(e)) for e in inline] == [
        (Kind.STYLED, Style.ITALIC, "Ünïcödé"), (Kind.STYLED, Style.BOLD, "Привет"),
        (Kind.STYLED, Style.STRIKE, "中文"), (Kind.STYLED, Style.CODE, "😀 x"),
        (Kind.LINK, None, "lien"), (Kind.BREAK, None, "")]
    assert inline[4].href == "https://example.org/é"
    (link,) = parse('<a href="  mailto:ø@example.org ">ø</a>').elements()
    assert link.href == "mailto:ø@example.org"
    assert numbered.ordered and numbered.start == 3
    assert [text_of(item) for item in numbered.elements()] == ["trois", "quatre"]
    cells = [c for c in _elements(table) if c.kind is Kind.CELL]
    assert [(text_of(c), c.header) for c in cells] == [
        ("العربية", True), ("b", True), ("½", False), ("✓", False)]
    assert [e.kind for e in table.elements()] == [Kind.ROW_GROUP, Kind.ROW_GROUP]
    assert text_of(quote).strip() == "cité"
    assert text_of(code) == "code  à\n"


@pytest.mark.parametrize(("start", "expected"), [("7", 7), ("", 1), ("x", 1), ("-2", -2)])
def test_a_numbered_list_starts_where_its_attribute_says(start, expected):
    (numbered,) = parse(f'<ol start="{start}"><li>a</li></ol>').elements()
    assert numbered.start == expected
    (bulleted,) = parse("<ul><li>a</li></ul>").elements()
    assert (bulleted.ordered, bulleted.start) == (False, 1)


def test_an_end_tag_closes_what_was_opened_inside_it():
    """Not the sanitiser's output, which is well formed; what the tree makes of anything else."""
    root = parse("<p><b>bold <i>both</p>after</i> <br>end")
    paragraph, after, space, line_break, end = root.children
    assert isinstance(paragraph, Element) and text_of(paragraph) == "bold both"
    assert (after, space, end) == ("after", " ", "end")
    assert isinstance(line_break, Element) and line_break.kind is Kind.BREAK


def test_the_walk_is_in_document_order_and_balanced():
    recorder = _Recorder()
    walk(parse("<p>é<em>ï<br></em></p><hr><ul><li>ø</li></ul>"), recorder)
    assert recorder.events == [
        ("enter", "p"), ("text", "é"), ("enter", "em"), ("text", "ï"), ("enter", "br"),
        ("leave", "br"), ("leave", "em"), ("leave", "p"), ("enter", "hr"), ("leave", "hr"),
        ("enter", "ul"), ("enter", "li"), ("text", "ø"), ("leave", "li"), ("leave", "ul")]


def test_deep_nesting_meets_no_recursion_limit():
    depth = 5000
    html = "<blockquote>" * depth + "fond" + "</blockquote>" * depth
    recorder = _Recorder()
    walk(parse(html), recorder)
    assert len(recorder.events) == 2 * depth + 1 and ("text", "fond") in recorder.events
    assert text_of(parse(html)) == "fond"
    assert [block.runs[0].text for block in render_docx.html_blocks(html)] == ["fond"]


def test_hostile_text_keeps_every_word_and_no_unknown_element(xss_payloads):
    """Whatever the sanitiser lets through of each payload is read whole: no text lost or
    added, every element of a known kind, every enter matched by its leave."""
    for payload in xss_payloads:
        for source in (payload, f"- {payload}\n\n> **{payload}**"):
            html = str(render_markdown(source))
            root = parse(html)
            assert text_of(root) == _plain_text(html), payload
            assert all(e.kind is not Kind.PLAIN or e.tag == "abbr" for e in _elements(root)[1:]), payload
            recorder = _Recorder()
            walk(root, recorder)
            depth = 0
            for event, _tag in recorder.events:
                depth += {"enter": 1, "leave": -1}.get(event, 0)
                assert depth >= 0
            assert depth == 0
            assert "".join(data for event, data in recorder.events if event == "text") == text_of(root)


@pytest.mark.parametrize(("source", "markdown", "marks"), [
    ("*Ünï*", "*Ünï*", {"i"}),
    ("**Привет**", "**Привет**", {"b"}),
    ("<del>中文</del>", "~~中文~~", {"s"}),
    ("<u>ø</u>", "ø", {"u"}),
    ("H<sub>₂</sub>", "H₂", {"sub"}),
])
def test_both_exports_read_a_style_alike(source, markdown, marks):
    """One meaning, two spellings: the Markdown mark where Markdown has one (its text where
    it has none), and the Word run property."""
    text = Text.of(source)
    assert render_md.markdown_of(text) == [markdown]
    (block,) = render_docx.html_blocks(text.html)
    assert [run.marks for run in block.runs if run.marks] == [marks]
