"""The discussion panel of a clause: its threads, and what the capabilities above comments
add to it (amendments: ``drafting.amendments.page``), with their forms, as one piece of HTML
that the discussion page shows whole and the live editor fetches alone.

The panel's forms are plain HTML forms, so the page works without scripts. The editor's
script sends the same forms with ``X-Plenary-Partial: 1`` and gets the re-rendered panel
back instead of a redirect: 200 when the action was done, the error's status (with the
message inside the panel and the form keeping what was typed) when it was refused. Every
form edge of the panel runs through ``forms.run_form`` with the panel's ``answered`` and
``refusal``, so both ways behave alike.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from drafting.comments import services as comments
from drafting.comments.anchors import thread_anchors
from drafting.comments.forms import ReplyForm, ThreadForm
from drafting.comments.mentions import render_comment
from drafting.errors import INPUT_ERRORS, DomainError
from drafting.forms import Refusal, flashed
from models import Clause, CommentThread, Participant, clause_activity

T = TypeVar("T")

#: The header the editor's script sends to get the panel back rather than a redirect.
PARTIAL_HEADER = "X-Plenary-Partial"


def wants_partial() -> bool:
    return request.headers.get(PARTIAL_HEADER) == "1"


def known_state(value: str | None) -> str:
    """A thread filter to show. A display preference: an odd value shows the open threads
    rather than failing the action or page it came with."""
    return value if value in comments.ThreadFilter.CHOICES else comments.ThreadFilter.OPEN


def posted_state() -> str:
    """The filter a panel form came from (its hidden ``state``)."""
    return known_state(request.form.get("state"))


def allowed(check: Callable[[], None]) -> bool:
    """Whether a service's ``check_can_...`` lets the action through: the panel offers a form
    only to whom the service would accept it from."""
    try:
        check()
    except DomainError:
        return False
    return True


def discussion_url(clause: Clause, state: str = comments.ThreadFilter.OPEN,
                   anchor: str | None = None) -> str:
    # The default filter stays out of the address, so links and redirects read cleanly.
    shown = None if state == comments.ThreadFilter.OPEN else state
    return url_for("comments.discussion", clause_id=clause.id, state=shown, _anchor=anchor)


#: (clause, viewer, thread filter, refused forms by key) -> the part's share of the panel's
#: template context. A part keeps a refused form of its own under its own key.
PanelPart = Callable[[Clause, Participant, str, Mapping[str, FlaskForm]], dict[str, Any]]

_parts: list[PanelPart] = []


def extend(part: PanelPart) -> None:
    """Add a part to every discussion panel (once, when the application is built)."""
    if part not in _parts:
        _parts.append(part)


def panel_context(clause: Clause, viewer: Participant, state: str,
                  forms: dict[str, FlaskForm] | None = None,
                  error: DomainError | None = None) -> dict[str, Any]:
    """What templates/comments/_panel.html needs. ``forms`` holds a refused form under its
    key ("new-thread", "reply-<thread id>"; the parts': "new-amendment", "reject-<amendment
    id>") so that it comes back with what was typed."""
    recommendation = clause.recommendation
    group = recommendation.group
    group.remember_roles()  # every permission question below, from one query
    threads = comments.clause_threads(clause, state)
    forms = dict(forms or {})
    new_thread = forms.get("new-thread") or ThreadForm(formdata=None)
    new_thread.state.data = state
    context = {
        "clause": clause,
        "recommendation": recommendation,
        "group": group,
        "state": state,
        "threads": threads,
        "anchors": thread_anchors(threads),
        "bodies": {comment.id: render_comment(comment.body, group)
                   for thread in threads for comment in thread.comments if not comment.is_deleted},
        "open_threads": clause_activity(clause).open_threads,
        "can_comment": allowed(lambda: comments.check_can_comment(clause, viewer)),
        "new_thread": new_thread,
        "reply_form": lambda thread: keyed_form(forms, f"reply-{thread.id}", ReplyForm, state),
        "error": error,
        "viewer": viewer,
    }
    for part in _parts:
        context.update(part(clause, viewer, state, forms))
    return context


def keyed_form(forms: Mapping[str, FlaskForm], key: str, form_class: type[FlaskForm],
               state: str) -> FlaskForm:
    """The refused form kept under ``key``, or a fresh one; either keeps the panel's filter."""
    form = forms.get(key) or form_class(formdata=None)
    form.state.data = state
    return form


def render_panel(clause: Clause, state: str, *, forms: dict[str, FlaskForm] | None = None,
                 error: DomainError | None = None, status: int = 200,
                 partial: bool | None = None) -> ResponseReturnValue:
    """The panel alone (``partial``) or the discussion page around it."""
    context = panel_context(clause, current_user, state, forms, error)
    if wants_partial() if partial is None else partial:
        return render_template("comments/_panel.html", **context), status
    return render_template(
        "comments/discussion.html", number=clause.recommendation.display_numbers().get(clause.id, ""),
        **context,
    ), status


def answered(clause: Clause, message: str,
             anchor: str | Callable[[T], str]) -> Callable[[T], ResponseReturnValue]:
    """What a panel form answers once done (``forms.run_form``'s ``done``): the panel again,
    for the script; for a person, ``message`` flashed and the discussion page at ``anchor``."""
    state = posted_state()

    def answer(result: T) -> ResponseReturnValue:
        if wants_partial():
            return render_panel(clause, state, partial=True)
        target = anchor(result) if callable(anchor) else anchor
        return flashed(message, discussion_url(clause, state, target))

    return answer


def refusal(clause: Clause, form: FlaskForm | None = None, key: str = "") -> Refusal:
    """How the panel shows a refused form (``forms.run_form``'s ``refused``): for the
    script, every refusal, as the panel with the message on top and the refusal's status;
    for a person, what was typed (400) or what the state refuses (409: a closed conference,
    an amendment dealt with) comes back on the page with the form (under ``key``, see
    ``panel_context``) as it was sent, while "not allowed" and "not found" are the friendly
    error page."""
    state = posted_state()
    partial = wants_partial()

    def render(error: DomainError | None) -> ResponseReturnValue:
        status = error.status if error is not None else 400
        return render_panel(clause, state, forms={key: form} if form is not None else None,
                            error=error, status=status, partial=partial)

    return Refusal(render, errors=(DomainError,) if partial else INPUT_ERRORS,
                   message_above=True)


def thread_key(thread: CommentThread) -> str:
    return f"thread-{thread.id}"

