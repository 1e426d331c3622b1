"""Comments pages and API."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from drafting.api import endpoint
from drafting.comments import panel, services
from drafting.comments.forms import CommentEditForm, ReplyForm, ThreadForm
from drafting.comments.schemas import (
    CommentCreate,
    CommentOut,
    CommentPatch,
    ThreadCreate,
    ThreadOut,
    ThreadQuery,
    comment_out,
    thread_out,
    threads_out,
)
from drafting.forms import Refusal, as_id, form_page, run_form
from drafting.recommendations.services import get_clause, get_recommendation
from models import Participant

bp = Blueprint("comments", __name__)


# --- pages -------------------------------------------------------------------------------


@bp.get("/clauses/<int:clause_id>/discussion")
@login_required
def discussion(clause_id: int) -> ResponseReturnValue:
    """The clause's threads and amendments: a page of its own, or (``?partial=1``) the panel
    alone for the live editor."""
    clause = get_clause(clause_id, current_user)
    state = request.args.get("state") or services.ThreadFilter.OPEN
    services.clean_filter(state)
    return panel.render_panel(clause, state, partial=request.args.get("partial") == "1")


@bp.post("/clauses/<int:clause_id>/threads")
@login_required
def thread_new(clause_id: int) -> ResponseReturnValue:
    clause = get_clause(clause_id, current_user)
    form = ThreadForm()
    start, end = form.anchor_start.data or "", form.anchor_end.data or ""
    # Both empty: the whole clause. One without the other is refused by the service.
    anchor = {"start": start or None, "end": end or None} if start or end else None
    return run_form(form, lambda: services.start_thread(
        current_user, clause, {"body": form.body.data, "anchor": anchor}),
        done=panel.answered(clause, _("Your comment is posted."), panel.thread_key),
        refused=panel.refusal(clause, form, "new-thread"))


@bp.post("/threads/<int:thread_id>/replies")
@login_required
def thread_reply(thread_id: int) -> ResponseReturnValue:
    thread = services.get_thread(thread_id, current_user)
    form = ReplyForm()
    parent = form.parent_id.data or None
    # An id that is not a number names no comment: -1 is refused like any stranger's id.
    data = {"body": form.body.data, "parent_id": None if parent is None else as_id(parent) or -1}
    return run_form(form, lambda: services.reply(current_user, thread, data),
                    done=panel.answered(thread.clause, _("Your reply is posted."),
                                        lambda comment: f"comment-{comment.id}"),
                    refused=panel.refusal(thread.clause, form, f"reply-{thread.id}"))


@bp.post("/threads/<int:thread_id>/resolve")
@login_required
def thread_resolve(thread_id: int) -> ResponseReturnValue:
    thread = services.get_thread(thread_id, current_user)
    return run_form(None, lambda: services.set_resolved(current_user, thread, True),
                    done=panel.answered(thread.clause, _("The thread is resolved."),
                                        panel.thread_key(thread)),
                    refused=panel.refusal(thread.clause))


@bp.post("/threads/<int:thread_id>/reopen")
@login_required
def thread_reopen(thread_id: int) -> ResponseReturnValue:
    thread = services.get_thread(thread_id, current_user)
    return run_form(None, lambda: services.set_resolved(current_user, thread, False),
                    done=panel.answered(thread.clause, _("The thread is open again."),
                                        panel.thread_key(thread)),
                    refused=panel.refusal(thread.clause))


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
def comment_edit(comment_id: int) -> ResponseReturnValue:
    comment = services.get_comment(comment_id, current_user)
    thread = comment.thread
    form = CommentEditForm(data={"body": comment.body,
                                 "state": panel.known_state(request.args.get("state"))})
    done: Callable[[None], ResponseReturnValue] = panel.answered(
        thread.clause, _("Your comment is saved."), f"comment-{comment.id}")
    if request.method == "POST" and panel.wants_partial():
        # The script edits in the panel: refusals come back there.
        return run_form(form, lambda: services.edit_comment(current_user, comment,
                                                            {"body": form.body.data}),
                        done=done, refused=panel.refusal(thread.clause))
    services.check_can_edit(comment, current_user)
    return run_form(form, lambda: services.edit_comment(current_user, comment,
                                                        {"body": form.body.data}),
                    done=done, refused=Refusal(lambda _error: form_page(
                        "comments/edit.html", form, comment=comment, thread=thread,
                        clause=thread.clause, recommendation=thread.clause.recommendation,
                        number=thread.clause.recommendation.display_numbers().get(
                            thread.clause_id, ""),
                        state=panel.known_state(form.state.data))))


@bp.post("/comments/<int:comment_id>/delete")
@login_required
def comment_delete(comment_id: int) -> ResponseReturnValue:
    comment = services.get_comment(comment_id, current_user)
    return run_form(None, lambda: services.delete_comment(current_user, comment),
                    done=panel.answered(comment.thread.clause, _("Your comment is removed."),
                                        panel.thread_key(comment.thread)),
                    refused=panel.refusal(comment.thread.clause))


# --- API ---------------------------------------------------------------------------------


@endpoint("/clauses/<int:clause_id>/threads", summary="A clause's discussion threads, most "
          "recently active first; ?state=open|resolved|all", tag="comments",
          response=list[ThreadOut], query=ThreadQuery, errors=(404,))
def api_clause_threads(actor: Participant, clause_id: int, query: ThreadQuery) -> list[ThreadOut]:
    clause = get_clause(clause_id, actor)
    return threads_out(services.clause_threads(clause, query.state))


@endpoint("/recommendations/<int:recommendation_id>/threads", summary="The threads of every "
          "live clause, clause by clause in reading order; ?state=open|resolved|all",
          tag="comments", response=list[ThreadOut], query=ThreadQuery, errors=(404,))
def api_recommendation_threads(actor: Participant, recommendation_id: int,
                               query: ThreadQuery) -> list[ThreadOut]:
    recommendation = get_recommendation(recommendation_id, actor)
    by_clause = services.recommendation_threads(recommendation, query.state)
    return threads_out(t for threads in by_clause.values() for t in threads)


@endpoint("/clauses/<int:clause_id>/threads", "POST", summary="Start a thread on a clause, or "
          "on a range of its words (anchor); @**Name|id** mentions notify members",
          tag="comments", response=ThreadOut, status=201, body=ThreadCreate, errors=(403, 404, 409))
def api_start_thread(actor: Participant, clause_id: int, body: ThreadCreate) -> ThreadOut:
    clause = get_clause(clause_id, actor)
    return thread_out(services.start_thread(actor, clause, body.model_dump()))


@endpoint("/threads/<int:thread_id>", summary="A thread with its comments and where its "
          "anchored words are now", tag="comments", response=ThreadOut, errors=(404,))
def api_get_thread(actor: Participant, thread_id: int) -> ThreadOut:
    return thread_out(services.get_thread(thread_id, actor))


@endpoint("/threads/<int:thread_id>/comments", "POST", summary="Reply in a thread (reopens it "
          "if resolved); parent_id answers one of its comments", tag="comments",
          response=CommentOut, status=201, body=CommentCreate, errors=(403, 404, 409))
def api_reply(actor: Participant, thread_id: int, body: CommentCreate) -> CommentOut:
    thread = services.get_thread(thread_id, actor)
    return comment_out(services.reply(actor, thread, body.model_dump()))


@endpoint("/comments/<int:comment_id>", "PATCH", summary="Change one's own comment (it shows "
          "'edited')", tag="comments", response=CommentOut, body=CommentPatch, errors=(403, 404, 409))
def api_edit_comment(actor: Participant, comment_id: int, body: CommentPatch) -> CommentOut:
    comment = services.get_comment(comment_id, actor)
    services.edit_comment(actor, comment, body.model_dump())
    return comment_out(comment)


@endpoint("/comments/<int:comment_id>", "DELETE", summary="Remove one's own comment (a "
          "'comment removed' placeholder keeps its place)", tag="comments", status=204,
          errors=(400, 403, 404, 409))
def api_delete_comment(actor: Participant, comment_id: int) -> None:
    services.delete_comment(actor, services.get_comment(comment_id, actor))


@endpoint("/threads/<int:thread_id>/resolve", "POST", summary="Resolve a thread (whoever "
          "started it, or the chair)", tag="comments", response=ThreadOut, errors=(403, 404, 409))
def api_resolve_thread(actor: Participant, thread_id: int) -> ThreadOut:
    thread = services.get_thread(thread_id, actor)
    services.set_resolved(actor, thread, True)
    return thread_out(thread)


@endpoint("/threads/<int:thread_id>/reopen", "POST", summary="Reopen a resolved thread "
          "(whoever started it, or the chair)", tag="comments", response=ThreadOut,
          errors=(403, 404, 409))
def api_reopen_thread(actor: Participant, thread_id: int) -> ThreadOut:
    thread = services.get_thread(thread_id, actor)
    services.set_resolved(actor, thread, False)
    return thread_out(thread)
