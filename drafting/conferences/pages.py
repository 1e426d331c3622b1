"""What every page of a conference shows, whichever capability renders it: the notice that
the conference is closed (templates/base.html)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, before_render_template
from jinja2 import Template

from models import (
    Amendment,
    Clause,
    Comment,
    CommentThread,
    Conference,
    Recommendation,
    Vote,
    WorkingGroup,
)


def conference_of_page(context: Mapping[str, Any]) -> Conference | None:
    """The conference a page is about, from what its template is given: the conference
    itself, or a group, recommendation, clause, vote, amendment, thread or comment of it."""
    found = context.get("conference")
    if isinstance(found, Conference):
        return found
    for name in ("group", "recommendation", "clause", "vote", "amendment", "thread", "comment"):
        value = context.get(name)
        if isinstance(value, Comment):
            value = value.thread
        if isinstance(value, (CommentThread, Amendment)):
            value = value.clause
        if isinstance(value, Clause | Vote):
            value = value.recommendation
        if isinstance(value, Recommendation):
            value = value.group
        if isinstance(value, WorkingGroup):
            return value.conference
    return None


def _add_page_conference(_app: Flask, template: Template, context: dict[str, Any],
                         **_extra: Any) -> None:
    context.setdefault("page_conference", conference_of_page(context))


def install(app: Flask) -> None:
    """Give every page rendered by ``app`` its ``page_conference`` (None off conferences)."""
    before_render_template.connect(_add_page_conference, app)
