"""The sanitiser's HTML as a small typed tree, for the exports that turn it back into
something other than HTML (Word runs, Markdown).

What each tag of the sanitiser's set (``drafting.markup.ALLOWED_TAGS``) means to an export
is decided here, once: an element carries its ``Kind`` and, for inline formatting, its
``Style``; the renderers dispatch on those, never on tag names. How each renderer shows a
kind (a link as "text (address)", a heading as bold) stays with the renderer.

The input is the sanitiser's output, which is well formed. Anything else is read the way
the tree is built: an end tag closes the nearest open element of its name and everything
opened inside it; an end tag nothing matches is ignored; an unknown tag keeps its text.
"""
from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Protocol


class Kind(enum.Enum):
    ROOT = "root"
    PARAGRAPH = "paragraph"
    HEADING = "heading"
    LIST = "list"
    ITEM = "item"
    QUOTE = "quote"
    CODE_BLOCK = "code block"
    RULE = "rule"
    TABLE = "table"
    #: ``thead``, ``tbody``, ``tfoot``: rows grouped, nothing more.
    ROW_GROUP = "row group"
    ROW = "row"
    CELL = "cell"
    STYLED = "styled"
    LINK = "link"
    BREAK = "break"
    #: ``abbr`` and any tag this module does not know: its text, nothing else.
    PLAIN = "plain"


class Style(enum.StrEnum):
    """Inline formatting. The values are the Word renderer's run marks."""

    BOLD = "b"
    ITALIC = "i"
    UNDERLINE = "u"
    STRIKE = "s"
    CODE = "code"
    SUB = "sub"
    SUP = "sup"
    #: Text still in square brackets, not agreed (``drafting.brackets``): highlighted.
    UNAGREED = "unagreed"


_STYLES: dict[str, Style] = {
    "b": Style.BOLD, "strong": Style.BOLD, "em": Style.ITALIC, "i": Style.ITALIC,
    # <ins> and <del> in user text are the writer's own emphasis, not a tracked change.
    "u": Style.UNDERLINE, "ins": Style.UNDERLINE, "s": Style.STRIKE, "del": Style.STRIKE,
    "code": Style.CODE, "sub": Style.SUB, "sup": Style.SUP, "mark": Style.UNAGREED,
}
_KINDS: dict[str, Kind] = {
    "p": Kind.PARAGRAPH, "h1": Kind.HEADING, "h2": Kind.HEADING, "h3": Kind.HEADING,
    "h4": Kind.HEADING, "h5": Kind.HEADING, "h6": Kind.HEADING, "ul": Kind.LIST, "ol": Kind.LIST,
    "li": Kind.ITEM, "blockquote": Kind.QUOTE, "pre": Kind.CODE_BLOCK, "hr": Kind.RULE,
    "table": Kind.TABLE, "thead": Kind.ROW_GROUP, "tbody": Kind.ROW_GROUP,
    "tfoot": Kind.ROW_GROUP, "tr": Kind.ROW, "td": Kind.CELL, "th": Kind.CELL,
    "a": Kind.LINK, "br": Kind.BREAK, **{tag: Kind.STYLED for tag in _STYLES},
}
#: Elements that are blocks of their own; inline content between them makes paragraphs. A
#: cell is not one: it only means something inside a row.
BLOCK_KINDS = frozenset({
    Kind.PARAGRAPH, Kind.HEADING, Kind.LIST, Kind.ITEM, Kind.QUOTE, Kind.CODE_BLOCK, Kind.RULE,
    Kind.TABLE, Kind.ROW_GROUP, Kind.ROW,
})
#: Tags that never have content, so never stay open.
_VOID = frozenset({"br", "hr"})


@dataclass
class Element:
    tag: str
    kind: Kind
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)

    @classmethod
    def of(cls, tag: str, attrs: dict[str, str] | None = None) -> Element:
        return cls(tag, _KINDS.get(tag, Kind.PLAIN), attrs or {})

    @property
    def is_block(self) -> bool:
        return self.kind in BLOCK_KINDS

    @property
    def style(self) -> Style | None:
        return _STYLES.get(self.tag) if self.kind is Kind.STYLED else None

    @property
    def ordered(self) -> bool:
        """A numbered list (``ol``) rather than a bulleted one."""
        return self.tag == "ol"

    @property
    def start(self) -> int:
        """A numbered list's first number: its ``start`` attribute, else 1."""
        try:
            return int(self.attrs.get("start", "1"))
        except ValueError:
            return 1

    @property
    def header(self) -> bool:
        """A header cell (``th``)."""
        return self.tag == "th"

    @property
    def href(self) -> str:
        """A link's address, without the spaces around it ("" when it has none)."""
        return self.attrs.get("href", "").strip()

    def elements(self) -> Iterator[Element]:
        return (child for child in self.children if isinstance(child, Element))


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("", Kind.ROOT)
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element.of(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    """Sanitised HTML as a tree under a ``Kind.ROOT`` element."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def text_of(node: Element | str) -> str:
    """All the text under ``node``, as written (whitespace kept)."""
    if isinstance(node, str):
        return node
    parts: list[str] = []
    stack: list[Element | str] = [node]
    while stack:
        top = stack.pop()
        if isinstance(top, str):
            parts.append(top)
        else:
            stack.extend(reversed(top.children))
    return "".join(parts)


class Visitor(Protocol):
    def enter(self, element: Element) -> None: ...

    def leave(self, element: Element) -> None: ...

    def text(self, data: str) -> None: ...


def walk(root: Element, visitor: Visitor) -> None:
    """Calls ``visitor`` for everything under ``root`` in document order: ``enter`` and
    ``leave`` around each element's content, ``text`` for each run of text. Iterative, so
    that however deep a text nests its lists and quotes, no recursion limit is met."""
    stack: list[tuple[Element, int]] = [(root, 0)]
    while stack:
        element, index = stack.pop()
        if index == len(element.children):
            if element is not root:
                visitor.leave(element)
            continue
        stack.append((element, index + 1))
        child = element.children[index]
        if isinstance(child, str):
            visitor.text(child)
        else:
            visitor.enter(child)
            stack.append((child, 0))
