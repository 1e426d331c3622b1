"""The notification list: what happened that concerns a participant, newest first, with an
unread count. In-app only; nothing is mailed."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from drafting.errors import NotFound
from drafting.notifications.schemas import notification_out
from drafting.realtime import participant_room, queue_event
from drafting.services import load
from models import Amendment, Clause, Comment, Notification, NotificationKind, Participant, db, utcnow

PAGE_SIZE = 50


def notify(recipient: Participant, kind: NotificationKind, *, actor: Participant, clause: Clause,
           comment: Comment | None = None, amendment: Amendment | None = None,
           detail: str = "") -> Notification:
    """Add an entry to the recipient's list; their open pages hear of it after the commit."""
    notification = Notification(recipient_id=recipient.id, kind=kind, actor_id=actor.id,
                                clause_id=clause.id, comment=comment, amendment=amendment,
                                detail=detail)
    db.session.add(notification)
    db.session.flush()
    queue_event("notification_created", {
        "notification": notification_out(notification).model_dump(mode="json"),
        "unread": unread_count(recipient),
    }, room=participant_room(recipient.id))
    return notification


def unread_count(participant: Participant) -> int:
    return db.session.scalar(
        select(func.count(Notification.id))
        .where(Notification.recipient_id == participant.id, Notification.read_at.is_(None))
    ) or 0


def notifications_of(participant: Participant, *, unread_only: bool = False,
                     before: int | None = None, limit: int = PAGE_SIZE) -> list[Notification]:
    """Newest first; ``before`` (an id) pages back."""
    query = select(Notification).where(Notification.recipient_id == participant.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def get_notification(notification_id: Any, viewer: Participant) -> Notification:
    notification = load(Notification, notification_id)
    if notification.recipient_id != viewer.id:
        raise NotFound(_("Not found."))
    return notification


def mark_read(actor: Participant, notification: Notification) -> None:
    if notification.recipient_id != actor.id:
        raise NotFound(_("Not found."))
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
        _announce_count(actor)


def mark_all_read(actor: Participant) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.recipient_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    _announce_count(actor)


def _announce_count(participant: Participant) -> None:
    """The participant's other pages update their badge."""
    queue_event("notifications_read", {"unread": unread_count(participant)},
                room=participant_room(participant.id))
