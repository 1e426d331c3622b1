"""Real-time wiring: the one emit-after-commit path (the connections themselves are
``drafting.sockets``).

Services never emit. They call ``queue_event`` (or ``queue_update`` for a Yjs update); the
event waits in the database session and goes out only when that session commits, so a client
never learns of a change that was rolled back. This module is the only place that calls
``socketio.emit``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from pycrdt import merge_updates
from sqlalchemy.orm import Session, SessionTransaction

from drafting.extensions import db, socketio
from drafting.realtime import patches
from drafting.realtime.protocol import sync_update

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


@dataclass(frozen=True)
class QueuedUpdate:
    """A Yjs update of one document, sent as a ``y`` sync-update message."""

    doc: str
    update: bytes
    room: str
    #: The connection it came from (None: the server's own edit).
    origin: str | None = None


def queue_event(name: str, payload: dict[str, Any] | tuple[Any, ...], *, room: str,
                skip_sid: str | None = None) -> None:
    """Send ``name`` to ``room`` once the current session commits; drop it on rollback."""
    args = payload if isinstance(payload, tuple) else (payload,)
    db.session().info.setdefault(PENDING_KEY, []).append(QueuedEvent(name, args, room, skip_sid))


#: The internal event that ends sockets on whichever server process holds them; it never
#: reaches a client (drafting/sockets/connections.py takes it off the Socket.IO manager).
SOCKETS_ENDED = "plenary:sockets_ended"


#: The internal event that tells every server process which clauses' gates a commit changed
#: (``drafting.editing.docs.forget_gates``); it never reaches a client either.
GATES_CHANGED = "plenary:gates_changed"


def tell_every_process(event: str, data: Any) -> None:
    """Hand an internal event (``SOCKETS_ENDED``, ``GATES_CHANGED``) to its function on every
    server process, this one included: after a commit only."""
    socketio.emit(event, data)


@dataclass(frozen=True)
class QueuedEnding:
    """Close some of a participant's sockets: their login session or token ended, or their
    rights changed (see ``queue_sockets_ended``)."""

    participant_id: int
    scope: str
    secret_hash: str | None = None


def queue_sockets_ended(participant_id: int, *, scope: str, secret_hash: str | None = None) -> None:
    """Once the session commits, disconnect the participant's sockets in ``scope``: "all"
    (the account is closed); "rights" (all, without a word: their rights changed, they
    reconnect and join again); "logins" (every one that came with a login session but the
    one hashed ``secret_hash``); "login" or "token" (the ones that came with the login session
    or API token hashed ``secret_hash``). On every server process, before any later event."""
    db.session().info.setdefault(PENDING_KEY, []).append(
        QueuedEnding(participant_id, scope, secret_hash))


def queue_update(doc: str, update: bytes, *, room: str, origin: str | None = None) -> None:
    """Send a Yjs update of ``doc`` to ``room`` (but its origin) once the session commits.

    The updates of one document committed together go out as one merged message, where the
    first of them stood: a transaction that accepted many keystrokes sends one message to
    each editor, not one per keystroke."""
    db.session().info.setdefault(PENDING_KEY, []).append(QueuedUpdate(doc, update, room, origin))


def emit_pending(session: Session) -> None:
    """After a commit: send what the transaction queued, in the order it was queued."""
    pending: list[QueuedEvent | QueuedUpdate | QueuedEnding] = session.info.pop(PENDING_KEY, [])
    updates: dict[tuple[str, str], list[QueuedUpdate]] = {}
    for queued in pending:
        if isinstance(queued, QueuedUpdate):
            updates.setdefault((queued.doc, queued.room), []).append(queued)
    for queued in pending:
        if isinstance(queued, QueuedEvent):
            socketio.emit(queued.name, _data(queued.args), to=queued.room, skip_sid=queued.skip_sid)
            continue
        if isinstance(queued, QueuedEnding):
            socketio.emit(SOCKETS_ENDED, {"participant": queued.participant_id, "scope": queued.scope,
                                          "hash": queued.secret_hash},
                          to=participant_room(queued.participant_id))
            continue
        batch = updates.pop((queued.doc, queued.room), None)
        if batch is None:  # already sent, merged with an earlier one
            continue
        send_merged(queued.doc, [(each.update, each.origin) for each in batch], room=queued.room)


def send_merged(doc: str, updates: list[tuple[bytes, str | None]], *, room: str) -> None:
    """Send (update, origin) pairs of one document to ``room`` as one ``y`` message, merged,
    skipping the origin when there is one (several senders: each gets its own edits back
    too, which Yjs ignores as known). The caller decides when: after a commit, or a relay."""
    origins = {origin for _update, origin in updates}
    update = updates[0][0] if len(updates) == 1 else merge_updates(*[u for u, _origin in updates])
    skip_sid = origins.pop() if len(origins) == 1 else None
    socketio.emit("y", (doc, sync_update(update)), to=room, skip_sid=skip_sid)


def _data(args: tuple[Any, ...]) -> Any:
    # python-socketio sends a tuple as that many arguments (``y`` has two).
    return args[0] if len(args) == 1 else args


def send_now_rollback_unsafe(name: str, *args: Any, room: str, skip_sid: str | None = None) -> None:
    """Send straight away, whatever becomes of the current transaction: only for what is not
    a change of stored state (presence)."""
    socketio.emit(name, _data(args), to=room, skip_sid=skip_sid)


def answer_sender(name: str, *args: Any) -> None:
    """Answer the connection whose message is being handled, and no one else."""
    from flask_socketio import emit

    emit(name, _data(args))


def mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    """A savepoint begins: remember how much was queued before it."""
    if transaction.nested:
        marks = session.info.setdefault(SAVEPOINT_MARKS_KEY, {})
        marks[id(transaction)] = len(session.info.get(PENDING_KEY, []))


def drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """A savepoint rolled back drops only what was queued inside it: the enclosing
    transaction may still commit, and its events with it."""
    if previous_transaction.nested:
        mark = session.info.get(SAVEPOINT_MARKS_KEY, {}).pop(id(previous_transaction), None)
        if mark is not None:
            del session.info.get(PENDING_KEY, [])[mark:]
        return
    session.info.pop(PENDING_KEY, None)
    session.info.pop(SAVEPOINT_MARKS_KEY, None)


def init_realtime(app: Flask) -> None:
    patches.send_packets_whole(socketio.server)
    patches.deferred_acks(socketio.server)
