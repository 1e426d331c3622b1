"""Real-time wiring: Socket.IO connection checks and the one emit-after-commit path.

Services never emit. They call ``queue_event``; the event waits in the database session and
goes out only when that session commits, so a client never learns of a change that was rolled
back. This module is the only place that calls ``socketio.emit``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from drafting.extensions import db, socketio

PENDING_KEY = "plenary_pending_events"
SAVEPOINT_MARKS_KEY = "plenary_savepoint_marks"


@dataclass(frozen=True)
class QueuedEvent:
    name: str
    #: The event's arguments: one JSON object, or several values (``y`` sends two).
    args: tuple[Any, ...]
    room: str
    #: The connection that caused it and already has it (a Yjs update's sender).
    skip_sid: str | None = None


def group_room(group_id: int) -> str:
    return f"group:{group_id}"


def participant_room(participant_id: int) -> str:
    return f"participant:{participant_id}"


def recommendation_room(recommendation_id: int) -> str:
    return f"recommendation:{recommendation_id}"


def queue_event(name: str, payload: dict[str, Any] | tuple[Any, ...], *, room: str,
                skip_sid: str | None = None) -> None:
    """Send ``name`` to ``room`` once the current session commits; drop it on rollback."""
    args = payload if isinstance(payload, tuple) else (payload,)
    db.session().info.setdefault(PENDING_KEY, []).append(QueuedEvent(name, args, room, skip_sid))


def _emit_pending(session: Session) -> None:
    pending: list[QueuedEvent] = session.info.pop(PENDING_KEY, [])
    for queued in pending:
        socketio.emit(queued.name, _data(queued.args), to=queued.room, skip_sid=queued.skip_sid)


def _data(args: tuple[Any, ...]) -> Any:
    # python-socketio sends a tuple as that many arguments (``y`` has two).
    return args[0] if len(args) == 1 else args


def relay(name: str, *args: Any, room: str, skip_sid: str | None = None) -> None:
    """Pass on what is not a change of stored state (presence), straight away."""
    socketio.emit(name, _data(args), to=room, skip_sid=skip_sid)


def reply(name: str, *args: Any) -> None:
    """Answer the connection whose message is being handled, and no one else."""
    from flask_socketio import emit

    emit(name, _data(args))


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

    from drafting.realtime import connections

    connections.register_handlers()
