"""Real-time wiring: Socket.IO connection checks and the one emit-after-commit path.

Services never emit. They call ``queue_event``; the event waits in the database session and
goes out only when that session commits, so a client never learns of a change that was rolled
back. This module is the only place that calls ``socketio.emit``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_login import current_user
from flask_socketio import join_room
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from drafting.extensions import db, socketio

PENDING_KEY = "plenary_pending_events"
SAVEPOINT_MARKS_KEY = "plenary_savepoint_marks"


@dataclass(frozen=True)
class QueuedEvent:
    name: str
    payload: dict[str, Any]
    room: str


def group_room(group_id: int) -> str:
    return f"group:{group_id}"


def participant_room(participant_id: int) -> str:
    return f"participant:{participant_id}"


def queue_event(name: str, payload: dict[str, Any], *, room: str) -> None:
    """Send ``name`` to ``room`` once the current session commits; drop it on rollback."""
    db.session().info.setdefault(PENDING_KEY, []).append(QueuedEvent(name, payload, room))


def _emit_pending(session: Session) -> None:
    pending: list[QueuedEvent] = session.info.pop(PENDING_KEY, [])
    for queued in pending:
        socketio.emit(queued.name, queued.payload, to=queued.room)


def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        marks = session.info.setdefault(SAVEPOINT_MARKS_KEY, {})
        marks[id(transaction)] = len(session.info.get(PENDING_KEY, []))


def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """A savepoint rolled back drops only what was queued inside it: the enclosing
    transaction may still commit, and its events with it."""
    if previous_transaction.nested:
        mark = session.info.get(SAVEPOINT_MARKS_KEY, {}).pop(id(previous_transaction), None)
        if mark is not None:
            del session.info.get(PENDING_KEY, [])[mark:]
        return
    session.info.pop(PENDING_KEY, None)
    session.info.pop(SAVEPOINT_MARKS_KEY, None)


_listeners_installed = False


def init_realtime(app: Flask) -> None:
    global _listeners_installed
    if not _listeners_installed:
        # On the Session class, so every session (request, CLI, test) follows the rule.
        event.listen(Session, "after_commit", _emit_pending)
        event.listen(Session, "after_transaction_create", _mark_savepoint)
        event.listen(Session, "after_soft_rollback", _drop_rolled_back)
        _listeners_installed = True

    @socketio.on("connect")
    def on_connect(auth: Any = None) -> bool:
        """Sent by a browser opening a socket. Refused unless the session is signed in (the
        Origin is checked by Flask-SocketIO before this runs). The socket joins its
        participant's own room; nobody else receives anything."""
        if not current_user.is_authenticated:
            return False
        join_room(participant_room(current_user.id))
        return True
