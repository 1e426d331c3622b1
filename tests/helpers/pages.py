"""Reading pages as a browser parses them (html.parser: tags and attributes, not substrings),
and what every page must be: well formed, running no code but Plenary's own, friendly when
something fails."""
from __future__ import annotations

import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from models import Participant, db
from tests.conftest import ROOT
from tests.helpers.html import code_attribute_problems, inert_problems

# --- reading a page ---------------------------------------------------------------------------

VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
             "source", "track", "wbr"}
#: Classes of the elements that hold rendered Markdown.
MARKDOWN_CLASSES = {"prose", "clause__text"}


class Page(HTMLParser):
    """The parts of a page the checks below look at."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        #: Every start tag, in document order, with its attributes as written.
        self.tags: list[tuple[str, list[tuple[str, str]]]] = []
        self.ids: list[str] = []
        self.h1: list[str] = []
        #: Forms with method=post: (action, carries a csrf_token input).
        self.post_forms: list[list[Any]] = []
        #: Inner HTML of every element that shows rendered Markdown.
        self.markdown_areas: list[str] = []
        #: Where the links inside <main> lead (the header's links are on every page).
        self.main_links: list[str] = []
        self._texts: dict[str, list[str]] = {}
        self._open: list[tuple[str, list[str] | None]] = []
        self._form: list[Any] | None = None
        self._area: list[str] | None = None
        self._area_depth = 0
        self.feed(source)
        self.close()

    def text_of(self, element_id: str) -> str:
        return " ".join("".join(self._texts.get(element_id, [])).split())

    def attributes_of(self, element_id: str) -> dict[str, str]:
        return next(dict(attrs) for _tag, attrs in self.tags if dict(attrs).get("id") == element_id)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        written = [(name, value or "") for name, value in attrs]
        values = dict(written)
        self.tags.append((tag, written))
        if self._area is not None:
            self._area.append(self.get_starttag_text() or "")
            self._area_depth += tag not in VOID_TAGS
        elif MARKDOWN_CLASSES & set(values.get("class", "").split()):
            self._area, self._area_depth = [], 1
        if tag == "html":
            self.lang = values.get("lang")
        if "id" in values:
            self.ids.append(values["id"])
        if tag == "form":
            self._form = [values.get("action"), False]
            if values.get("method", "get").lower() == "post":
                self.post_forms.append(self._form)
        if tag == "input" and values.get("name") == "csrf_token" and self._form is not None:
            self._form[1] = True
        if tag == "h1":
            self.h1.append("")
        if tag == "a" and any(open_tag == "main" for open_tag, _buffer in self._open):
            self.main_links.append(values.get("href", ""))
        if tag not in VOID_TAGS:
            self._open.append((tag, self._texts.setdefault(values["id"], []) if "id" in values else None))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # "<br/>" and "<div/>" alike: HTML ignores the slash.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._area is not None:
            self._area_depth -= 1
            if self._area_depth == 0:
                self.markdown_areas.append("".join(self._area))
                self._area = None
            else:
                self._area.append(f"</{tag}>")
        if tag == "form":
            self._form = None
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data: str) -> None:
        if self._area is not None:
            self._area.append(html.escape(data))
        for _tag, buffer in self._open:
            if buffer is not None:
                buffer.append(data)
        if any(tag == "h1" for tag, _buffer in self._open):
            self.h1[-1] += data


def read(response: Any) -> Page:
    assert response.mimetype == "text/html", response.mimetype
    return Page(response.get_data(as_text=True))


def read_all(pages: list[tuple[str, Any]]) -> list[tuple[str, Page]]:
    """(what, page) of each (what, response), every one of them having answered 200."""
    assert [(what, response.status_code) for what, response in pages if response.status_code != 200] == []
    return [(what, read(response)) for what, response in pages]


def structure_problems(page: Page) -> list[str]:
    problems = []
    if not page.lang:
        problems.append("<html> has no lang")
    if len(page.h1) != 1:
        problems.append(f"{len(page.h1)} <h1> elements: {page.h1}")
    mains = [dict(attrs) for tag, attrs in page.tags if tag == "main"]
    if [main.get("id") for main in mains] != ["main"]:
        problems.append(f"<main> elements: {mains}")
    duplicated = sorted({i for i in page.ids if page.ids.count(i) > 1})
    if duplicated:
        problems.append(f"duplicated ids: {duplicated}")
    problems += [f"POST form to {action!r} without csrf_token" for action, has_token
                 in page.post_forms if not has_token]
    return problems


def assert_well_formed(response: Any) -> Page:
    page = read(response)
    assert not structure_problems(page), structure_problems(page)
    return page


#: What a browser's URL parser drops: tabs and newlines anywhere, C0 controls and spaces around.
#: Elements that run, load or embed something; none of Plenary's templates uses them.
EMBEDDING_TAGS = {"applet", "audio", "base", "embed", "frame", "frameset", "iframe", "img", "math",
                  "noscript", "object", "portal", "source", "style", "svg", "template", "video"}


def head_signature(tag: str, attrs: list[tuple[str, str]]) -> tuple[str, frozenset[tuple[str, str]]]:
    # A meta's content differs from page to page (the CSRF token); what it is does not.
    return tag, frozenset((name, value) for name, value in attrs
                          if not (tag == "meta" and name == "content"))


def base_head(page: Page) -> set[tuple[str, frozenset[tuple[str, str]]]]:
    """The <meta> and <link> elements base.html itself puts on a page without user text."""
    head = {head_signature(tag, attrs) for tag, attrs in page.tags if tag in {"meta", "link"}}
    metas = {dict(attrs).get("name", "charset") for tag, attrs in head if tag == "meta"}
    assert metas == {"charset", "viewport", "csrf-token"}, head
    return head


@dataclass(frozen=True)
class OwnAssets:
    """The bundles a page may load, by URL, as static/dist/manifest.json names them today."""

    #: main.js, the first script of every page.
    main: str
    #: The entries' scripts: main.js everywhere, the live editor on a recommendation...
    scripts: frozenset[str]
    #: The chunks they import (modulepreload links).
    chunks: frozenset[str]
    #: The stylesheets a page adds to base.html's.
    stylesheets: frozenset[str]


def own_assets() -> OwnAssets:
    manifest = json.loads((ROOT / "static" / "dist" / "manifest.json").read_text(encoding="utf-8"))
    url = "/static/dist/{}".format
    return OwnAssets(
        main=url(manifest["main.js"]["file"]),
        scripts=frozenset(url(manifest[name]["file"]) for name in ("main.js", "editor.js", "votes.js", "export.js")),
        chunks=frozenset(url(path) for entry in manifest.values() for path in entry.get("imports", [])),
        stylesheets=frozenset({url(manifest["editor.css"]["file"])}))


def is_own_asset_link(tag: str, attrs: dict[str, str | None], assets: OwnAssets) -> bool:
    href = attrs.get("href") or ""
    return tag == "link" and ((attrs.get("rel") == "stylesheet" and href in assets.stylesheets)
                              or (attrs.get("rel") == "modulepreload" and href in assets.chunks))


def executable_problems(page: Page, head: set[tuple[str, frozenset[tuple[str, str]]]]) -> list[str]:
    """Anything on the page that could run code, other than what base.html (``head``) has.
    A fragment (no <html>: a panel fetched with partial=1) goes into a page that has loaded
    the bundles already, so it must load none."""
    problems = []
    assets = own_assets()
    scripts = [dict(attrs) for tag, attrs in page.tags if tag == "script"]
    sources = [script.get("src", "") for script in scripts]
    if not any(tag == "html" for tag, _attrs in page.tags):
        if scripts:
            problems.append(f"scripts in a fragment: {scripts}")
    elif not scripts or sources[0] != assets.main \
            or any(script.get("type") != "module" for script in scripts) \
            or not set(sources) <= assets.scripts or len(set(sources)) != len(sources):
        problems.append(f"scripts: {scripts}")
    for tag, attrs in page.tags:
        if tag in EMBEDDING_TAGS:
            problems.append(f"<{tag}>")
        if tag in {"meta", "link"} and head_signature(tag, attrs) not in head \
                and not is_own_asset_link(tag, dict(attrs), assets):
            problems.append(f"<{tag} {attrs}>")
        problems += code_attribute_problems(tag, list(attrs))
    return problems


def hostile_text_problems(app: Flask, pages: list[tuple[str, Page]]) -> tuple[list[str], int]:
    """What could run code on each page (``executable_problems``, against the head of a page
    without user text) and what in its Markdown areas is not inert, each named by its page;
    and how many Markdown areas were read, so that a test can tell the hostile text was on the
    pages at all."""
    head = base_head(read(app.test_client().get("/login")))
    problems, areas = [], 0
    for what, page in pages:
        problems += [f"{what}: {problem}" for problem in executable_problems(page, head)]
        for area in page.markdown_areas:
            areas += 1
            problems += [f"{what}: {problem} in Markdown {area!r}" for problem in inert_problems(area)]
    return problems, areas


def assert_friendly_error_page(response: Any, status: int, title: str) -> Page:
    assert response.status_code == status
    page = assert_well_formed(response)
    assert page.h1 == [title]
    assert "/" in page.main_links  # a way back to the dashboard
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and 'File "' not in body
    return page


def content_security_policy(header: str) -> dict[str, list[str]]:
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {directive[0].lower(): directive[1:] for directive in directives}


def issue_invitation(app: Flask, participant_id: int) -> str:
    from drafting.auth.services import issue_invitation as issue

    with app.test_request_context():
        token = issue(db.session.get(Participant, participant_id), created_by=None)
        db.session.commit()
    return token


# --- acting and reading as the tests of pages do ---

def client_as(app: Flask, cast: Any, role: str | None) -> Any:
    """A test client signed in as the cast's ``role`` (None or "anonymous": signed in as
    nobody)."""
    client = app.test_client()
    if role not in (None, "anonymous"):
        client.sign_in(getattr(cast, role))
    return client


@contextmanager
def acting(app: Flask) -> Iterator[None]:
    """Call services as an edge would: in a request context, committed at the end. The rows
    touched stay readable afterwards (their columns loaded, detached), as factories' are."""
    with app.test_request_context():
        yield
        db.session.commit()
        for row in list(db.session.identity_map.values()):
            db.session.refresh(row)
        db.session.expunge_all()


def plain(text: str) -> str:
    """``text`` with its white space folded, as a page's text reads."""
    return " ".join(text.split())


def get(model: type, object_id: int) -> Any:
    found = db.session.get(model, object_id)
    assert found is not None
    return found


def fetch(app: Flask, model: type, object_id: int) -> Any:
    """A fresh copy of a row, read after the requests under test."""
    with app.app_context():
        found = db.session.get(model, object_id)
        if found is not None:
            db.session.expunge(found)
        return found


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def elements(page: Page, tag: str | None = None, **wanted: str) -> list[dict[str, str]]:
    """The attributes of every element with this tag and these attribute values
    (``data_x="1"`` means ``data-x="1"``; the value ``...`` only asks that it be present)."""
    found = []
    for name, attrs in page.tags:
        values = dict(attrs)
        if tag is not None and name != tag:
            continue
        if all((key.replace("_", "-") in values) if value is ... else
               values.get(key.replace("_", "-")) == value for key, value in wanted.items()):
            found.append(values)
    return found


class _Marks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.marks: list[tuple[str, str]] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in {"ins", "del"}:
            self._in = tag
            self.marks.append((tag, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.marks[-1] = (self._in, self.marks[-1][1] + data)


def marks(response: Any) -> list[tuple[str, str]]:
    """The redlines' insertions and deletions, in page order: [("del", "migrant"), ...]."""
    parser = _Marks()
    parser.feed(response.get_data(as_text=True))
    return parser.marks
