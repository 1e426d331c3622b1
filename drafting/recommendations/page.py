"""The recommendation page, which the capabilities above recommendations extend.

The page shows the recommendation's clauses; amendments add the open amendments with their
redlines beside each clause, votes add the chair's console. Each of them registers a part
(``extend``, called by the application factory): the page asks every part for its share of
the template's context. So recommendations know nothing of amendments or votes, and a vote
route that refuses a form renders the same page, its refused form passed on as ``state``
to the part that reads it."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from drafting.recommendations.forms import ClauseForm
from models import Participant, Recommendation, activity_by_clause

#: (recommendation, viewer, state) -> the part's template context. ``state`` is what the
#: route rendering the page passed (a refused form and its error).
PagePart = Callable[[Recommendation, Participant, Mapping[str, Any]], dict[str, Any]]

_parts: list[PagePart] = []


def extend(part: PagePart) -> None:
    """Add a part to every recommendation page (once, when the application is built)."""
    if part not in _parts:
        _parts.append(part)


def render_page(recommendation: Recommendation, clause_form: ClauseForm | None = None,
                status: int = 200, **state: Any) -> ResponseReturnValue:
    """The recommendation page. ``clause_form``: a refused new-clause form, shown again with
    what was typed; ``state``: what a part needs to show its own refused form."""
    context: dict[str, Any] = {
        "recommendation": recommendation,
        "clauses": recommendation.live_clauses,
        "numbers": recommendation.display_numbers(),
        "can_edit": recommendation.can_edit(current_user),
        "can_manage": recommendation.can_manage(current_user),
        "clause_form": clause_form or ClauseForm(),
        # The discussion at a glance, beside each clause (without scripts; the editor's
        # panel has the rest).
        "activity": activity_by_clause(recommendation),
    }
    for part in _parts:
        context.update(part(recommendation, current_user, state))
    return render_template("recommendations/show.html", **context), status
