"""Notifications on the wire."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from drafting.participants.schemas import ParticipantBrief, participant_brief
from models import Notification, NotificationKind


class NotificationOut(BaseModel):
    id: int
    kind: NotificationKind = Field(description="mention, reply, or amendment_decided.")
    actor: ParticipantBrief | None
    recommendation_id: int
    clause_id: int
    comment_id: int | None
    thread_id: int | None
    amendment_id: int | None
    detail: str = Field(description="For amendment_decided: the amendment's new status.")
    created_at: datetime
    read: bool


class NotificationList(BaseModel):
    unread: int
    notifications: list[NotificationOut]


class NotificationQuery(BaseModel):
    unread: bool = Field(default=False, description="Only the unread ones.")
    # Bounded by the id column (PostgreSQL INTEGER): a larger number would fail in the
    # database driver instead of simply naming nothing.
    before: int | None = Field(default=None, ge=1, le=2**31 - 1,
                               description="Page back: entries older than this id.")


def notification_out(notification: Notification) -> NotificationOut:
    return NotificationOut(
        id=notification.id, kind=notification.kind,
        actor=participant_brief(notification.actor) if notification.actor else None,
        recommendation_id=notification.clause.recommendation_id, clause_id=notification.clause_id,
        comment_id=notification.comment_id,
        thread_id=notification.comment.thread_id if notification.comment else None,
        amendment_id=notification.amendment_id, detail=notification.detail,
        created_at=notification.created_at, read=notification.read_at is not None,
    )
