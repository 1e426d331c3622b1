"""Notifications pages and API."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from drafting.api import endpoint
from drafting.forms import as_id, flashed, run_form
from drafting.notifications import services
from drafting.notifications.schemas import (
    NotificationList,
    NotificationOut,
    NotificationQuery,
    notification_out,
)
from models import Notification, Participant, db

bp = Blueprint("notifications", __name__)


# --- pages -------------------------------------------------------------------------------


@bp.app_context_processor
def unread_badge() -> dict[str, Any]:
    """``unread_notifications()`` for the header's badge: one COUNT, asked only by a page
    that shows the header to someone signed in."""
    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        try:
            return services.unread_count(current_user)
        except SQLAlchemyError:
            # The page (perhaps the error page telling that the database failed) is worth
            # more than its badge.
            db.session.rollback()
            return 0

    return {"unread_notifications": unread_notifications}


@bp.get("/notifications")
@login_required
def index() -> ResponseReturnValue:
    before = as_id(request.args.get("before"))
    notifications = services.notifications_of(current_user, before=before)
    numbers: dict[int, dict[int, str]] = {}
    for notification in notifications:
        recommendation = notification.clause.recommendation
        if recommendation.id not in numbers:
            numbers[recommendation.id] = recommendation.display_numbers()
    return render_template(
        "notifications/index.html", notifications=notifications, numbers=numbers,
        unread=services.unread_count(current_user),
        older=notifications[-1].id if len(notifications) == services.PAGE_SIZE else None,
    )


@bp.post("/notifications/<int:notification_id>/open")
@login_required
def open_notification(notification_id: int) -> ResponseReturnValue:
    """Mark it read and go to what it is about."""
    notification = services.get_notification(notification_id, current_user)
    return run_form(None, lambda: services.mark_read(current_user, notification),
                    done=lambda _none: _about(notification))


def _about(notification: Notification) -> ResponseReturnValue:
    """Where a notification leads: the discussion of its clause, at its comment or amendment."""
    clause = notification.clause
    if clause.deleted_at is not None:  # e.g. an accepted deletion: the recommendation shows it
        return redirect(url_for("recommendations.show", recommendation_id=clause.recommendation_id))
    if notification.comment is not None:
        # Every thread: it may have been resolved since.
        return redirect(url_for("comments.discussion", clause_id=clause.id, state="all",
                                _anchor=f"thread-{notification.comment.thread_id}"))
    anchor = f"amendment-{notification.amendment_id}" if notification.amendment_id else None
    return redirect(url_for("comments.discussion", clause_id=clause.id, _anchor=anchor))


@bp.post("/notifications/read-all")
@login_required
def read_all() -> ResponseReturnValue:
    return run_form(None, lambda: services.mark_all_read(current_user),
                    done=lambda _none: flashed(_("All your notifications are marked read."),
                                               url_for("notifications.index")))


# --- API ---------------------------------------------------------------------------------


def _page(actor: Participant, query: NotificationQuery | None = None) -> NotificationList:
    query = query or NotificationQuery()
    return NotificationList(
        unread=services.unread_count(actor),
        notifications=[notification_out(n) for n in services.notifications_of(
            actor, unread_only=query.unread, before=query.before)],
    )


@endpoint("/notifications", summary="My notifications, newest first, with the unread count; "
          "?unread=true for unread only, ?before=<id> pages back", tag="notifications",
          response=NotificationList, query=NotificationQuery, errors=())
def api_notifications(actor: Participant, query: NotificationQuery) -> NotificationList:
    return _page(actor, query)


@endpoint("/notifications/<int:notification_id>/read", "POST", summary="Mark one of my "
          "notifications read", tag="notifications", response=NotificationOut, errors=(404,))
def api_read_notification(actor: Participant, notification_id: int) -> NotificationOut:
    notification = services.get_notification(notification_id, actor)
    services.mark_read(actor, notification)
    return notification_out(notification)


@endpoint("/notifications/read-all", "POST", summary="Mark all my notifications read",
          tag="notifications", response=NotificationList, errors=())
def api_read_all_notifications(actor: Participant) -> NotificationList:
    services.mark_all_read(actor)
    return _page(actor)
