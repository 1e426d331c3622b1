"""Socket handlers of the live editor: thin edges over ``drafting.editing.services``.

Each handler checks the connection is still allowed, parses, calls one service, commits,
then answers. Refusals go to the sender alone, both as the acknowledgement and as an
``error`` event ``{"code", "message", "doc"}``.

An event with more arguments than it takes is refused the same way; unknown events, packets
that are not Socket.IO and handlers' failures are answered by ``drafting.sockets.guard``.
Every event counts against the connection's message budget.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_socketio import join_room, leave_room

from drafting.editing import docs, presence, relayed, services
from drafting.editing.ticker import ticker
from drafting.editing.writer import Submission, writer
from drafting.errors import (
    DomainError,
    TooLarge,
    Unavailable,
    ValidationFailed,
)
from drafting.extensions import socketio
from drafting.realtime import answer_sender, recommendation_room
from drafting.realtime.patches import Later
from drafting.realtime.protocol import (
    Kind,
    ProtocolError,
    awareness_message,
    parse_message,
    sync_step1,
    sync_step2,
)
from drafting.realtime.relay import relay
from drafting.sockets import connections
from drafting.sockets.connections import refuse
from models import db

#: How long an acknowledgement waits for its update's commit before answering "unavailable"
#: (the editor sends it again; the writer keeps trying meanwhile).
WAIT_SECONDS = 30.0


def _recommendation_id(data: Any) -> Any:
    return data.get("recommendation") if isinstance(data, dict) else None


def _arguments(args: tuple[Any, ...], count: int) -> tuple[Any, ...]:
    """The event's ``count`` arguments (missing ones None); more than that is refused."""
    if len(args) > count:
        raise ValidationFailed(_("This event takes at most %(count)d arguments.", count=count))
    return args + (None,) * (count - len(args))


def on_join(*args: Any) -> dict[str, Any]:
    """Sent by an editor opening a recommendation: ``{"recommendation": id}``. Acknowledged
    with the participant's role and every clause's document. From then on the socket
    receives the recommendation's ``clauses_changed``; nobody else receives anything."""
    try:
        connection = connections.current()
        connection.spend()
        (data,) = _arguments(args, 1)
        answer, drafts = services.join_recommendation(_recommendation_id(data), connection.participant())
        db.session.commit()
    except DomainError as error:
        return refuse(error)
    recommendation_id = answer["recommendation"]["id"]
    connection.joined.setdefault(recommendation_id, set())
    connection.drafts[recommendation_id] = drafts
    join_room(recommendation_room(recommendation_id))
    return answer


def on_leave(*args: Any) -> dict[str, Any]:
    """Sent by an editor closing a recommendation. Its presence in the recommendation's
    documents is removed for everyone still there."""
    try:
        connection = connections.current()
        connection.spend()
        (data,) = _arguments(args, 1)
    except DomainError as error:
        return refuse(error)
    recommendation_id = _recommendation_id(data)
    # Not a bool: True == 1 would pop recommendation 1's documents and leave no room.
    is_number = isinstance(recommendation_id, int) and not isinstance(recommendation_id, bool)
    docs = connection.joined.pop(recommendation_id, None) if is_number else None
    connection.drafts.pop(recommendation_id, None)
    if docs is None:
        return refuse(ValidationFailed(_("You have not joined that recommendation.")))
    leave_room(recommendation_room(recommendation_id))
    for doc in docs:
        _say_goodbye(connection, doc)
        leave_room(services.doc_room(doc))
    return {"ok": True}


def _say_goodbye(connection: connections.Connection, doc: str) -> None:
    clocks = connection.awareness.pop(doc, {})
    if clocks:
        presence.farewell(doc, clocks)


@connections.on_disconnect
def _leave_everything(connection: connections.Connection) -> None:
    for names in connection.joined.values():
        for doc in names:
            _say_goodbye(connection, doc)


def _join_doc(connection: connections.Connection, recommendation_id: int, doc: str) -> None:
    docs = connection.joined[recommendation_id]
    if doc not in docs:
        docs.add(doc)
        join_room(services.doc_room(doc))


def on_y(*args: Any) -> dict[str, Any]:
    """Sent by an editor: one y-protocols message ``payload`` about the clause document
    ``doc``. Sync step 1 is answered to the sender (step 2, then the server's step 1);
    an accepted update is sent to everyone else in the document at once, and acknowledged
    to its sender once the process's writer has made it durable (with whatever else arrived
    meanwhile); awareness is stamped with the sender's identity and relayed to everyone
    else."""
    doc = args[0] if args else None
    try:
        connection = connections.current()
        connection.spend()
        doc, payload = _arguments(args, 2)
        if isinstance(payload, bytes | bytearray) and \
                len(payload) > current_app.config["YJS_MAX_MESSAGE_BYTES"]:
            raise TooLarge(_("That message is larger than Plenary accepts."))
        try:
            message = parse_message(payload)
        except ProtocolError:
            raise ValidationFailed(_("The message could not be read.")) from None
        if message.kind in (Kind.STEP2, Kind.UPDATE):
            return _accept(connection, doc, message.body)
        if message.kind is Kind.AWARENESS and any(doc in docs for docs in connection.joined.values()):
            # A document this connection already syncs; its sender is checked at the tick.
            _stamp(connection, doc, message.body)
            return {"ok": True}
        participant = connection.participant()
        clause = services.clause_for_doc(doc, set(connection.joined))
        _join_doc(connection, clause.recommendation_id, doc)
        if message.kind is Kind.STEP1:
            # With what other processes relayed lately, perhaps not in the log yet.
            missing, state = services.answer_sync_step1(clause, message.body, relayed.updates_for(doc))
            db.session.commit()
            answer_sender("y", doc, sync_step2(missing))
            answer_sender("y", doc, sync_step1(state))
            others = presence.present(doc)
            if others is not None:
                answer_sender("y", doc, awareness_message(others))
        elif message.kind is Kind.AWARENESS:
            connection.identity = presence.identity(participant)
            db.session.commit()
            _stamp(connection, doc, message.body)
    except DomainError as error:
        return refuse(error, doc)
    return {"ok": True}


def _accept(connection: connections.Connection, doc: Any, update: bytes) -> Any:
    """Accept an update from memory, relay it at once, and acknowledge it once the writer
    has made it durable (``Later``: this connection's next messages need not wait)."""
    connection.check_live()
    grant = services.Grant(connection.participant_id, connection.drafts)
    to_log = writer()
    try:
        accepted, submission = services.accept_update(
            grant, doc, update, hand_over=lambda accepted: to_log.submit_update(connection, accepted))
    except services.UpdateBehind as behind:
        # What it builds on is missing: the sender's answer to this brings it.
        answer_sender("y", doc, sync_step1(behind.state))
        raise
    db.session.commit()  # whatever it read
    _join_doc(connection, accepted.recommendation_id, doc)
    if accepted.stored is not None:
        relay().send_rollback_unsafe(doc, accepted.stored, room=services.doc_room(doc),
                                     origin=connection.sid)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return Later(lambda: _acknowledge(app, connection, accepted, submission))


def _acknowledge(app: Flask, connection: connections.Connection, accepted: services.Accepted,
                 submission: Submission | None) -> dict[str, Any]:
    """The sender's answer, once its update is durable (or refused after all). An update
    that brought nothing new is answered when what it repeats is durable."""
    live = accepted.live
    if submission is None:
        durable = docs.wait_for(lambda: live.settled >= accepted.seq or live.stale, WAIT_SECONDS)
        error = None if durable and not live.stale else _not_yet(app, connection)
    elif not submission.done.wait(WAIT_SECONDS):
        error = _not_yet(app, connection)
    else:
        error = submission.error
    if error is None:
        return {"ok": True}
    with app.app_context():
        return connections.refuse_later(connection, error, accepted.doc)


def _not_yet(app: Flask, connection: connections.Connection) -> DomainError:
    with app.app_context(), force_locale(connection.locale):
        return Unavailable(_("Your edit could not be saved yet: it will be sent again."))


def _stamp(connection: connections.Connection, doc: str, body: bytes) -> None:
    if connection.identity is None:
        connection.identity = presence.identity(connection.participant())
        db.session.commit()
    try:
        presence.stamp(body, doc=doc, sid=connection.sid, me=connection.identity,
                       clocks=connection.awareness.setdefault(doc, {}))
    except ProtocolError:
        raise ValidationFailed(_("The message could not be read.")) from None
    ticker()


def register_handlers() -> None:
    """Attach the editor's handlers to the Socket.IO server of the app being created. Each
    app has its own server; a decorator run at import would reach only the first app's."""
    socketio.on_event("join", on_join)
    socketio.on_event("leave", on_leave)
    socketio.on_event("y", on_y)
