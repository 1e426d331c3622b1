"""What in HTML could run code, as a browser parses it (tags and attributes, not substrings):
one check of attributes for whole pages (``pages.executable_problems``) and for user text
rendered to HTML, which must moreover keep to the tags Markdown makes (``inert_problems``)."""
from __future__ import annotations

from html.parser import HTMLParser

# What user text may turn into. Anything else (script, iframe, svg, form, style, img ...) fails.
# ``mark``: a passage in square brackets (drafting/brackets.py).
USER_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "ins", "li", "mark", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "background", "data",
                  "poster", "xlink:href", "cite"}
SAFE_SCHEMES = ("http://", "https://", "mailto:")
URL_TABS_AND_NEWLINES = {ord("\t"): None, ord("\n"): None, ord("\r"): None}
URL_PADDING = "".join(map(chr, range(0x21)))


def runs_code(url: str) -> bool:
    """Whether a browser would run or render this URL (or srcset candidate) as code."""
    for candidate in url.split(","):
        cleaned = candidate.translate(URL_TABS_AND_NEWLINES).strip(URL_PADDING).lower()
        if cleaned.startswith(("javascript:", "data:", "vbscript:")):
            return True
    return False


def code_attribute_problems(tag: str, attrs: list[tuple[str, str | None]]) -> list[str]:
    """Attributes that run code or restyle the page: event handlers, ``style``, ``srcdoc``,
    and URLs a browser runs (javascript:, data:, vbscript:)."""
    problems = []
    for name, value in attrs:
        if name.startswith("on"):
            problems.append(f"handler {name} on <{tag}>")
        if name in {"style", "srcdoc"}:
            problems.append(f"attribute {name} on <{tag}>")
        if name in URL_ATTRIBUTES and runs_code(value or ""):
            problems.append(f"URL {name}={value!r} on <{tag}>")
    return problems


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in USER_TAGS:
            self.problems.append(f"tag <{tag}>")
        problems = code_attribute_problems(tag, attrs)
        for name, value in attrs:
            value = (value or "").strip()
            if name in {"class", "id", "target", "formaction"}:
                problems.append(f"attribute {name} on <{tag}>")
            # Stricter than a page's own links: user text links only to the web and to mail.
            if name in URL_ATTRIBUTES and value and not value.lower().startswith(SAFE_SCHEMES) \
                    and ":" in value.split("/")[0] and not runs_code(value):
                problems.append(f"URL {name}={value!r} on <{tag}>")
        self.problems += problems

    handle_startendtag = handle_starttag


def inert_problems(html: str) -> list[str]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.problems


def assert_inert(html: str) -> None:
    """User text rendered to HTML has only harmless tags, no handlers, no dangerous URLs."""
    problems = inert_problems(html)
    assert not problems, f"{problems} in {html!r}"
