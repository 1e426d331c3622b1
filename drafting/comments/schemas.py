"""Threads and comments on the wire: the API and the socket events send the same shapes."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from drafting.comments.anchors import thread_anchors
from drafting.comments.mentions import render_comment
from drafting.participants.schemas import ParticipantBrief, participant_brief
from models import Comment, CommentThread


class AnchorOut(BaseModel):
    start: str = Field(description="Base64 of the Yjs relative position where the words begin.")
    end: str = Field(description="Base64 of the Yjs relative position where they end.")
    quote: str = Field(description="The words as they were when the thread began.")
    text: str = Field(description="The words between the positions now.")
    detached: bool = Field(description="The words were deleted: only the quote remains.")


class CommentOut(BaseModel):
    id: int
    thread_id: int
    parent_id: int | None
    author: ParticipantBrief | None
    body: str = Field(description="Markdown; empty once removed.")
    body_html: str = Field(description="Rendered and sanitised; mentions are links.")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool = Field(description="Removed by its author: shown as 'comment removed'.")


class ThreadOut(BaseModel):
    id: int
    clause_id: int
    created_by: ParticipantBrief | None
    created_at: datetime
    last_activity_at: datetime
    resolved: bool
    resolved_at: datetime | None
    resolved_by: ParticipantBrief | None
    resolved_by_adoption: bool = Field(description="Resolved because its clause (or its "
                                       "recommendation) was adopted, not by a person.")
    anchor: AnchorOut | None = Field(description="The commented words; null: the whole clause.")
    comments: list[CommentOut]


class AnchorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    start: str = Field(max_length=200, description="Base64 of Y.encodeRelativePosition (start).")
    end: str = Field(max_length=200, description="Base64 of Y.encodeRelativePosition (end).")


class ThreadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    body: str = Field(description="Markdown; @**Name** or @**Name|id** mentions a member.")
    anchor: AnchorIn | None = None


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    body: str
    parent_id: int | None = Field(default=None, description="The comment of this thread it answers.")


class CommentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    body: str


class ThreadQuery(BaseModel):
    state: Literal["open", "resolved", "all"] = "all"


def comment_out(comment: Comment) -> CommentOut:
    group = comment.thread.clause.recommendation.group
    return CommentOut(
        id=comment.id, thread_id=comment.thread_id, parent_id=comment.parent_id,
        author=participant_brief(comment.author) if comment.author else None,
        body=comment.body, body_html=render_comment(comment.body, group) if comment.body else "",
        created_at=comment.created_at, edited_at=comment.edited_at, deleted=comment.is_deleted,
    )


def thread_out(thread: CommentThread) -> ThreadOut:
    return threads_out([thread])[0]


def threads_out(threads: Iterable[CommentThread]) -> list[ThreadOut]:
    """``thread_out`` of each thread, their anchors resolved together (one catch-up of each
    clause's document, however many threads it has)."""
    threads = list(threads)
    anchors = thread_anchors(threads)
    return [_thread_out(thread, anchors[thread.id]) for thread in threads]


def _thread_out(thread: CommentThread, anchor: dict[str, Any] | None) -> ThreadOut:
    return ThreadOut(
        id=thread.id, clause_id=thread.clause_id,
        created_by=participant_brief(thread.created_by) if thread.created_by else None,
        created_at=thread.created_at, last_activity_at=thread.last_activity_at,
        resolved=thread.is_resolved, resolved_at=thread.resolved_at,
        resolved_by=participant_brief(thread.resolved_by) if thread.resolved_by else None,
        resolved_by_adoption=thread.resolved_by_adoption,
        anchor=AnchorOut(**anchor) if anchor else None,
        comments=[comment_out(c) for c in thread.comments],
    )
