"""The one path from user-written Markdown to HTML that is safe to show.

Every surface that shows user text (pages, API ``*_html`` fields, exports) calls
``render_markdown``. The sanitiser is nh3 (the Rust ammonia library): bleach, which the
product card named, was declared unmaintained with no further security releases on 2026-06-05.
"""
from __future__ import annotations

import threading
import xml.etree.ElementTree as etree
from re import Match

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markupsafe import Markup

from drafting.brackets import bracket_at

# What recommendation texts, mandates and comments need (``mark``: a passage in square
# brackets, see ``brackets``), and nothing that can run, load,
# float over the page or submit: no images (they fetch URLs), no forms, no style, no class.
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "ins", "li", "mark", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})


class _UnagreedProcessor(InlineProcessor):
    """Wraps each passage in square brackets (``brackets``) in ``<mark>``, brackets kept.
    Registered below links and images, so that those are taken first, and above the
    shortcut references; escapes and code spans are taken before it too. What the mark
    holds is still read by the patterns below it (emphasis), not by this one again: the
    outermost of nested passages is the one marked."""

    # Markdown reads the text of an element made inside a link's text once more, from the
    # first pattern: without this a passage there would be marked twice.
    ANCESTOR_EXCLUDES = ("mark",)

    def handleMatch(self, m: Match[str], data: str
                    ) -> tuple[etree.Element | None, int | None, int | None]:
        opened = bracket_at(data, m.start(0))
        if opened is None or opened[1] is not None:
            return None, None, None
        element = etree.Element("mark")
        element.text = data[m.start(0):opened[0]]
        return element, m.start(0), opened[0]


class _UnagreedExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Links are 160, images 150, references to images 140, shortcut references 130.
        md.inlinePatterns.register(_UnagreedProcessor(r"\[", md), "unagreed", 145)


MARKDOWN_EXTENSIONS: list[str | Extension] = ["tables", "sane_lists", "smarty",
                                              _UnagreedExtension()]


def _keep_only_plain_links(tag: str, attribute: str, value: str) -> str | None:
    """A link is absolute http(s)/mailto, a same-site path or a fragment. ammonia passes
    "relative" URLs through; a browser would read ``java\u200bscript:x`` as one, harmlessly,
    but a text with a colon before its first slash is never a link a delegate meant."""
    if attribute != "href":
        return value
    lowered = value.strip().lower()
    if lowered.startswith(("http://", "https://", "mailto:")):
        return value
    first_segment = lowered.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if ":" in first_segment or any(ord(char) < 32 or 127 <= ord(char) < 160 or
                                   0x200B <= ord(char) <= 0x200F for char in lowered):
        return None
    return value


def _sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_keep_only_plain_links,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow ugc",
        strip_comments=True,
    )


_converters = threading.local()


def _converter() -> markdown.Markdown:
    """This thread's Markdown converter. Building one (its extensions, their processors) costs
    more than converting a clause; one per thread is reused, reset before each text, since a
    converter keeps state while it works and cannot be shared between threads."""
    converter: markdown.Markdown | None = getattr(_converters, "markdown", None)
    if converter is None:
        converter = _converters.markdown = markdown.Markdown(
            extensions=MARKDOWN_EXTENSIONS, output_format="html")
    return converter


def render_markdown(text: str | None) -> Markup:
    """Markdown to sanitised HTML, ready to be placed in a template unescaped."""
    if not text:
        return Markup("")
    html = _converter().reset().convert(text)
    return Markup(_sanitise(html))  # noqa: S704 - this is the sanitiser's own output
