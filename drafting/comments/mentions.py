"""Mentions in comments: ``@**Name**`` or ``@**Name|id**``, whom they name among the
group's people, and a comment rendered with its mentions linked."""
from __future__ import annotations

import html
import re
from typing import Any

from flask import current_app, has_request_context, url_for
from markupsafe import Markup
from sqlalchemy import select

from drafting.markup import render_markdown
from models import Membership, Participant, WorkingGroup, db

#: ``@**Name**`` or ``@**Name|id**`` (Zulip's syntax: the id settles two people of one name).
MENTION = re.compile(r"@\*\*([^*|\n]{1,200}?)(?:\|(\d{1,18}))?\*\*")


def _group_people(group: WorkingGroup) -> list[Participant]:
    return list(db.session.scalars(
        select(Participant).join(Membership).where(Membership.group_id == group.id)
    ))


def mentioned(body: str, group: WorkingGroup) -> list[Participant]:
    """The group's people a comment mentions, each once; a mention of anyone else (or of a
    name two members share, without the id) mentions nobody."""
    people = _group_people(group)
    by_id = {person.id: person for person in people}
    by_name: dict[str, list[Participant]] = {}
    for person in people:
        by_name.setdefault(person.name.casefold(), []).append(person)
    found: dict[int, Participant] = {}
    for name, person_id in MENTION.findall(body):
        if person_id:
            named = by_id.get(int(person_id))
            if named is not None and named.name.casefold() == name.strip().casefold():
                found[named.id] = named
        elif len(candidates := by_name.get(name.strip().casefold(), [])) == 1:
            found[candidates[0].id] = candidates[0]
    return list(found.values())


def _escape_markdown(text: str) -> str:
    """Text that Markdown shows as it is: HTML's characters as entities, Markdown's escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~])", r"\\\1", html.escape(text))


def _path_for(endpoint: str, **values: Any) -> str:
    """``url_for``'s path, also outside a request: events render comments wherever a change
    is made, the command line included."""
    if has_request_context():
        return url_for(endpoint, **values)
    adapter = current_app.url_map.bind("", script_name=current_app.config["APPLICATION_ROOT"])
    return adapter.build(endpoint, values)


def render_comment(body: str, group: WorkingGroup) -> Markup:
    """A comment's Markdown as safe HTML, its mentions linked to the people they name.

    Mentions become ordinary Markdown links before the one Markdown function renders and
    sanitises the whole, so a name can never carry markup of its own."""
    people = {person.id: person for person in mentioned(body, group)}
    by_name = {person.name.casefold(): person for person in people.values()}

    def link(match: re.Match[str]) -> str:
        name, person_id = match.group(1).strip(), match.group(2)
        person = people.get(int(person_id)) if person_id else by_name.get(name.casefold())
        if person is None or person.name.casefold() != name.casefold():
            return match.group(0)
        target = _path_for("groups.show", group_id=group.id) + f"#member-{person.id}"
        return f"[@{_escape_markdown(person.name)}]({target})"

    return render_markdown(MENTION.sub(link, body))
