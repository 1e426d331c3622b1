"""Checks on HTML as a browser would parse it (tags and attributes, not substrings)."""
from __future__ import annotations

from html.parser import HTMLParser

# What user text may turn into. Anything else (script, iframe, svg, form, style, img ...) fails.
USER_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "ins", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "background", "data",
                  "poster", "xlink:href", "cite"}
SAFE_SCHEMES = ("http://", "https://", "mailto:")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in USER_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"handler {name} on <{tag}>")
            if name in {"style", "srcdoc", "class", "id", "target", "formaction"}:
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in URL_ATTRIBUTES and value and not value.lower().startswith(SAFE_SCHEMES) \
                    and ":" in value.split("/")[0]:
                self.problems.append(f"URL {name}={value!r} on <{tag}>")

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
