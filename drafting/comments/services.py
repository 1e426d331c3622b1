"""The rules of discussing clauses: who may comment, reply, edit, delete, resolve; anchors
that follow the text; mentions that notify; and the events that tell open pages.

Every change queues one event on the recommendation's room (after commit, from
``drafting.realtime``) carrying the whole thread as the API shows it, so an open page can
replace its copy without asking again.
"""
from __future__ import annotations

import base64
import binascii
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from drafting.comments.mentions import mentioned
from drafting.comments.schemas import thread_out
from drafting.editing.services import resolve_anchor
from drafting.errors import NotFound, PermissionDenied, ValidationFailed
from drafting.notifications.services import notify
from drafting.realtime import queue_event, recommendation_room
from drafting.services import check_conference_open, clean_text, is_id, load
from models import (
    Clause,
    ClauseStatus,
    Comment,
    CommentThread,
    NotificationKind,
    Participant,
    Recommendation,
    RecommendationStatus,
    clause_activity,
    db,
    may_comment_on,
    utcnow,
)

MAX_COMMENT_LENGTH = 5000
#: Longest quoted text kept for an anchor (longer selections keep their start).
MAX_QUOTE_LENGTH = 1000


class ThreadFilter:
    OPEN = "open"
    RESOLVED = "resolved"
    ALL = "all"
    CHOICES = (OPEN, RESOLVED, ALL)


# --- reading -----------------------------------------------------------------------------


def get_thread(thread_id: Any, viewer: Participant) -> CommentThread:
    thread = load(CommentThread, thread_id)
    if not thread.can_view(viewer) or thread.clause.deleted_at is not None:
        raise NotFound(_("Not found."))
    return thread


def get_comment(comment_id: Any, viewer: Participant) -> Comment:
    comment = load(Comment, comment_id)
    get_thread(comment.thread_id, viewer)
    return comment


def clean_filter(value: Any) -> str:
    if value in (None, ""):
        return ThreadFilter.ALL
    if value not in ThreadFilter.CHOICES:
        raise ValidationFailed(_("Show open, resolved or all threads."),
                               fields={"state": _("Choose open, resolved or all.")})
    return str(value)


def clause_threads(clause: Clause, state: str = ThreadFilter.ALL) -> list[CommentThread]:
    """The clause's threads, most recently active first."""
    query = select(CommentThread).where(CommentThread.clause_id == clause.id)
    if state == ThreadFilter.OPEN:
        query = query.where(CommentThread.resolved_at.is_(None))
    elif state == ThreadFilter.RESOLVED:
        query = query.where(CommentThread.resolved_at.is_not(None))
    return list(db.session.scalars(query.order_by(CommentThread.last_activity_at.desc(),
                                                  CommentThread.id.desc())))


def recommendation_threads(recommendation: Recommendation,
                           state: str = ThreadFilter.ALL) -> dict[int, list[CommentThread]]:
    """Clause id -> its threads, for every live clause."""
    threads: dict[int, list[CommentThread]] = {c.id: [] for c in recommendation.live_clauses}
    query = (select(CommentThread).join(Clause)
             .where(Clause.recommendation_id == recommendation.id, Clause.deleted_at.is_(None))
             .order_by(CommentThread.last_activity_at.desc(), CommentThread.id.desc()))
    if state == ThreadFilter.OPEN:
        query = query.where(CommentThread.resolved_at.is_(None))
    elif state == ThreadFilter.RESOLVED:
        query = query.where(CommentThread.resolved_at.is_not(None))
    for thread in db.session.scalars(query):
        threads.setdefault(thread.clause_id, []).append(thread)
    return threads


# --- changing ----------------------------------------------------------------------------


def check_can_comment(clause: Clause, actor: Participant) -> None:
    check_conference_open(clause.recommendation)
    if clause.deleted_at is not None:
        raise NotFound(_("This clause has been deleted."))
    if clause.recommendation.status is not RecommendationStatus.DRAFTING:
        raise PermissionDenied(_("This recommendation is no longer a draft: its discussion is closed."))
    if clause.status is ClauseStatus.ADOPTED:
        # Its open threads were resolved with the adoption (``close_hanging``).
        raise PermissionDenied(_("This clause is adopted: its discussion is closed."))
    if not may_comment_on(clause, actor):
        raise PermissionDenied(_("Your role in this group does not allow you to comment."))


def clean_body(value: Any) -> str:
    return clean_text(value, "body", _("Comment"), max_length=MAX_COMMENT_LENGTH)


def _decode_position(value: Any) -> bytes:
    if not isinstance(value, str) or len(value) > 200:
        raise ValidationFailed(_("The commented range could not be read."),
                               fields={"anchor": _("Not a position in this clause.")})
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(_("The commented range could not be read."),
                               fields={"anchor": _("Not a position in this clause.")}) from None


def _clean_anchor(clause: Clause, anchor: Any) -> tuple[bytes, bytes, str] | None:
    """(start, end, quoted words) of an anchor ``{"start", "end"}`` (base64 of Yjs relative
    positions), or None for a comment on the whole clause. The quote is read from the text
    itself, never taken from the client."""
    if anchor is None:
        return None
    if not isinstance(anchor, dict) or set(anchor) - {"start", "end"}:
        raise ValidationFailed(_("The commented range could not be read."),
                               fields={"anchor": _("Give start and end positions.")})
    start, end = _decode_position(anchor.get("start")), _decode_position(anchor.get("end"))
    span = resolve_anchor(clause, start, end)
    if not span.text.strip():
        raise ValidationFailed(_("Select some words of the clause to comment on them."),
                               fields={"anchor": _("The selection is empty.")})
    return start, end, span.text[:MAX_QUOTE_LENGTH]


def _touch(thread: CommentThread) -> None:
    thread.last_activity_at = utcnow()


def _emit(thread: CommentThread, name: str, **extra: Any) -> None:
    db.session.flush()
    recommendation_id = thread.clause.recommendation_id
    activity = clause_activity(thread.clause)
    queue_event(name, {"recommendation": recommendation_id, "clause": thread.clause_id,
                       "thread": thread_out(thread).model_dump(mode="json"),
                       "open_threads": activity.open_threads, "comments": activity.comments,
                       **extra},
                room=recommendation_room(recommendation_id))


def _notify_mentions(comment: Comment, actor: Participant, already: set[int] | None = None) -> None:
    group = comment.thread.clause.recommendation.group
    for person in mentioned(comment.body, group):
        if person.id != actor.id and person.id not in (already or set()):
            notify(person, NotificationKind.MENTION, actor=actor, clause=comment.thread.clause,
                   comment=comment)


def start_thread(actor: Participant, clause: Clause, data: dict[str, Any]) -> CommentThread:
    """A new thread on a clause, with its first comment; anchored to the words between
    ``anchor.start`` and ``anchor.end`` when given."""
    check_can_comment(clause, actor)
    body = clean_body(data.get("body"))
    anchor = _clean_anchor(clause, data.get("anchor"))
    thread = CommentThread(clause=clause, created_by=actor)
    if anchor is not None:
        thread.anchor_start, thread.anchor_end, thread.quote = anchor
    comment = Comment(thread=thread, author=actor, body=body)
    db.session.add_all([thread, comment])
    db.session.flush()
    _notify_mentions(comment, actor)
    _emit(thread, "comment_created", comment=comment.id)
    return thread


def reply(actor: Participant, thread: CommentThread, data: dict[str, Any]) -> Comment:
    """A comment in an existing thread, answering ``parent_id`` (a comment of the same thread)
    when given. Replying to a resolved thread reopens it: the discussion is not over."""
    check_can_comment(thread.clause, actor)
    body = clean_body(data.get("body"))
    parent_id = data.get("parent_id")
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id) if is_id(Comment, parent_id) else None
        if parent is None or parent.thread_id != thread.id:
            raise ValidationFailed(_("A reply answers a comment of the same thread."),
                                   fields={"parent_id": _("Not a comment of this thread.")})
    comment = Comment(thread=thread, author=actor, body=body, parent_id=parent_id)
    db.session.add(comment)
    reopened = thread.resolved_at is not None
    thread.resolved_at = thread.resolved_by_id = None
    _touch(thread)
    db.session.flush()
    _notify_mentions(comment, actor)
    mentioned_ids = {person.id for person in mentioned(comment.body, thread.clause.recommendation.group)}
    if thread.created_by_id not in (None, actor.id) and thread.created_by_id not in mentioned_ids:
        starter = db.session.get(Participant, thread.created_by_id)
        if starter is not None and thread.can_view(starter):
            notify(starter, NotificationKind.REPLY, actor=actor, clause=thread.clause,
                   comment=comment)
    _emit(thread, "comment_created", comment=comment.id, reopened=reopened)
    return comment


def check_can_edit(comment: Comment, actor: Participant) -> None:
    if comment.is_deleted:
        raise ValidationFailed(_("This comment has been removed."))
    check_can_comment(comment.thread.clause, actor)
    if not comment.can_edit(actor):
        raise PermissionDenied(_("Only its author can change or remove a comment."))


def edit_comment(actor: Participant, comment: Comment, data: dict[str, Any]) -> None:
    """Change one's own comment; it shows "edited". People newly mentioned are notified."""
    check_can_edit(comment, actor)
    body = clean_body(data.get("body"))
    if body == comment.body:
        return
    group = comment.thread.clause.recommendation.group
    before = {person.id for person in mentioned(comment.body, group)}
    comment.body = body
    comment.edited_at = utcnow()
    _touch(comment.thread)
    db.session.flush()
    _notify_mentions(comment, actor, already=before)
    _emit(comment.thread, "comment_updated", comment=comment.id)


def delete_comment(actor: Participant, comment: Comment) -> None:
    """Remove one's own comment: its place in the thread stays ("comment removed") so that
    the replies to it still read in order; its words go."""
    check_can_edit(comment, actor)
    comment.deleted_at = utcnow()
    comment.body = ""
    _touch(comment.thread)
    _emit(comment.thread, "comment_deleted", comment=comment.id)


def check_can_resolve(thread: CommentThread, actor: Participant) -> None:
    check_can_comment(thread.clause, actor)
    if not thread.can_resolve(actor):
        raise PermissionDenied(_("Only whoever started the thread, or the group's chair, can "
                                 "resolve or reopen it."))


def set_resolved(actor: Participant, thread: CommentThread, resolved: bool) -> None:
    """Resolve a thread (the point is settled) or reopen it. Doing what is already done is
    not an error: two people may click at once."""
    check_can_resolve(thread, actor)
    if thread.is_resolved is resolved:
        return
    if resolved:
        thread.resolved_at = utcnow()
        thread.resolved_by_id = actor.id
    else:
        thread.resolved_at = thread.resolved_by_id = None
    _touch(thread)
    _emit(thread, "thread_resolved" if resolved else "thread_reopened")


def resolve_by_adoption(clauses: list[Clause], actor: Participant | None) -> None:
    """The adoption of these clauses (or of their recommendation) closes their discussion:
    every open thread on them is resolved, recorded as resolved by the adoption (by
    ``actor``, who closed the vote; None: its deadline did). Their open pages are told."""
    if not clauses:
        return
    now = utcnow()
    threads = db.session.scalars(select(CommentThread).where(
        CommentThread.clause_id.in_([c.id for c in clauses]),
        CommentThread.resolved_at.is_(None)).order_by(CommentThread.id))
    for thread in threads:
        thread.resolved_at = now
        thread.resolved_by_id = actor.id if actor else None
        thread.resolved_by_adoption = True
        _touch(thread)
        _emit(thread, "thread_resolved")
