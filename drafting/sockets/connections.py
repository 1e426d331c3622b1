"""Who is at the other end of each socket, checked at connect and again on every message.

A browser connects with its session cookie; a script with ``auth: {"token": ...}``. The
connection remembers which login session or token it came with, and every later message
re-checks that it is still live: signing out, changing the password, revoking the token or
deactivating the account ends what the socket may do at once.

Nor does it go on hearing: when a login session or token ends, or a participant's role in a
group changes or ends, the service queues ``queue_sockets_ended`` and, after commit, the
sockets concerned leave every room at once and are disconnected, on whichever server process
holds them. A socket whose rights changed is disconnected rather than taken out of some
rooms: the editor reconnects by itself and joins again with the rights it has now, so there
is one rule (the join's) for what a socket may hear.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, request, session
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room

from drafting.auth.services import (
    live_login_sessions,
    participant_for_api_token,
    participants_for_api_tokens,
)
from drafting.auth.sessions import SESSION_KEY
from drafting.errors import DomainError, NotAuthenticated, RateLimited
from drafting.extensions import socketio
from drafting.realtime import answer_sender, participant_room
from models import Participant, db, hash_secret, utcnow


@dataclass
class TokenBucket:
    """Messages a connection may still send now; refilled at ``rate`` a second."""

    rate: float
    burst: float
    #: Below 0 until the first message, which finds the bucket full.
    tokens: float = -1.0
    #: When it was last refilled, by ``clock``.
    stamp: float = 0.0
    #: Monotonic seconds. Replaceable so that a test can hold time still and count exactly
    #: what a burst lets through, however slow the machine.
    clock: Callable[[], float] = field(default=time.monotonic)

    def take(self) -> bool:
        now = self.clock()
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class Connection:
    sid: str
    participant_id: int
    #: The login session secret (browser) or API token (script) it came with.
    session_secret: str | None
    token: str | None
    bucket: TokenBucket
    #: The language its messages are answered in, chosen when it connected.
    locale: str = "en"
    #: Recommendation ids joined -> the document names of their clauses it may address.
    joined: dict[int, set[str]] = field(default_factory=dict)
    #: Recommendation ids joined -> whether its role there lets it draft (resolved at join;
    #: a change of role ends the connection, which joins again).
    drafts: dict[int, bool] = field(default_factory=dict)
    #: Document name -> Yjs awareness client id -> last clock, to clear presence on leave.
    awareness: dict[str, dict[int, int]] = field(default_factory=dict)
    #: Who its presence says it is (name, colour, category), fixed at its first presence.
    identity: dict[str, Any] | None = None
    #: Set when its session ended or its rights changed: it is being disconnected.
    ended: bool = False
    #: When its login session expires (None: an API token, which ends only when revoked).
    expires_at: datetime | None = None

    def spend(self) -> None:
        """Take one message off its budget; refused when none is left."""
        if not self.bucket.take():
            raise RateLimited(_("Too many messages: slow down."))

    def check_live(self) -> None:
        """From memory: its session has neither ended (every process is told at once,
        ``end_sockets``) nor expired."""
        if self.ended or (self.expires_at is not None and utcnow() >= self.expires_at):
            raise NotAuthenticated(_("Your session has ended. Sign in again."))

    def participant(self) -> Participant:
        """The participant, if what authenticated the socket is still live."""
        if self.ended:
            raise NotAuthenticated(_("Your session has ended. Sign in again."))
        participant = authenticate_all([self]).get(self.sid)
        if participant is None:
            raise NotAuthenticated(_("Your session has ended. Sign in again."))
        return participant


def authenticate_all(connections: list[Connection]) -> dict[str, Participant]:
    """The participant of each connection (by sid) whose login session or token is still
    live, in two queries however many connections."""
    by_token = participants_for_api_tokens({c.token for c in connections if c.token is not None})
    logins = live_login_sessions({c.session_secret for c in connections
                                  if c.token is None and c.session_secret is not None})
    found = {}
    for connection in connections:
        if connection.token is not None:
            participant = by_token.get(connection.token)
        else:
            login = logins.get(connection.session_secret) if connection.session_secret else None
            participant = login.participant if login else None
        if participant is not None and participant.id == connection.participant_id:
            found[connection.sid] = participant
    return found


_connections: dict[str, Connection] = {}
_lock = threading.Lock()


def current() -> Connection:
    connection = _connections.get(request.sid)  # type: ignore[attr-defined]
    if connection is None or connection.ended:
        raise NotAuthenticated(_("Your session has ended. Sign in again."))
    return connection


def find_current() -> Connection | None:
    return find(request.sid)  # type: ignore[attr-defined]


def find(sid: str) -> Connection | None:
    return _connections.get(sid)


def _authenticate(auth: Any) -> tuple[Participant, str | None, str | None, datetime | None] | None:
    """(participant, login session secret, API token, when the login session expires)."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        token = auth["token"]
        participant = participant_for_api_token(token)
        return (participant, None, token, None) if participant else None
    if current_user.is_authenticated:
        secret = session.get(SESSION_KEY)
        login = live_login_sessions({secret}).get(secret) if isinstance(secret, str) else None
        expires_at = login.created_at + current_app.config["PERMANENT_SESSION_LIFETIME"] if login else None
        return current_user._get_current_object(), secret, None, expires_at
    return None


def register_handlers() -> None:

    @socketio.on("connect")
    def on_connect(auth: Any = None) -> bool:
        """Sent by a browser (session cookie; Flask-SocketIO has already refused foreign
        Origins) or a script (``auth: {"token"}``). Refused for anyone else. The socket
        joins its participant's own room; nobody else receives anything."""
        found = _authenticate(auth)
        if found is None:
            return False
        participant, secret, token, expires_at = found
        db.session.commit()  # a token's last use
        config = current_app.config
        connection = Connection(
            sid=request.sid,  # type: ignore[attr-defined]
            participant_id=participant.id, session_secret=secret, token=token,
            bucket=TokenBucket(rate=config["YJS_RATE"], burst=config["YJS_BURST"]),
            locale=str(get_locale() or "en"), expires_at=expires_at,
        )
        with _lock:
            _connections[connection.sid] = connection
        join_room(participant_room(participant.id))
        return True

    @socketio.on("disconnect")
    def on_disconnect(*_reason: Any) -> None:
        """Sent by Socket.IO when a connection ends. Its presence is cleared for the others
        (by the editing handlers' hook); nothing is stored."""
        with _lock:
            connection = _connections.pop(request.sid, None)  # type: ignore[attr-defined]
        if connection is not None:
            for hook in _disconnect_hooks:
                hook(connection)


_disconnect_hooks: list[Any] = []


def on_disconnect(hook: Any) -> Any:
    """Register ``hook(connection)`` to run when a socket goes away."""
    _disconnect_hooks.append(hook)
    return hook


def refuse(error: DomainError, doc: Any = None) -> dict[str, Any]:
    """Answer the message being handled with a refusal, in the one error shape: as an
    ``error`` event ``{"code", "message", "doc"}`` and as the acknowledgement. Nothing it
    did is kept; a refusal because the session ended also ends the socket."""
    db.session.rollback()
    answer_sender("error", {"code": error.code, "message": error.message,
                    "doc": doc if isinstance(doc, str) else None})
    if isinstance(error, NotAuthenticated):
        connection = find_current()
        if connection is not None:
            end(connection)
    return {"ok": False, "error": {"code": error.code, "message": error.message}}


def refuse_later(connection: Connection, error: DomainError, doc: Any = None) -> dict[str, Any]:
    """``refuse``, for an answer sent after its handler returned (``patches.Later``)."""
    socketio.emit("error", {"code": error.code, "message": error.message,
                            "doc": doc if isinstance(doc, str) else None}, to=connection.sid)
    if isinstance(error, NotAuthenticated):
        end(connection)
    return {"ok": False, "error": {"code": error.code, "message": error.message}}


def end(connection: Connection) -> None:
    """Close the socket once the refusal being sent has left: its session is over."""
    sid = connection.sid

    def close_soon() -> None:
        socketio.sleep(0.2)
        socketio.server.disconnect(sid)

    socketio.start_background_task(close_soon)



# --- ending sockets on every server process -----------------------------------------------

def _ends(connection: Connection, scope: Any, secret_hash: Any) -> bool:
    login = hash_secret(connection.session_secret) \
        if connection.token is None and connection.session_secret is not None else None
    if scope in ("all", "rights"):
        return True
    if scope == "token":
        return connection.token is not None and hash_secret(connection.token) == secret_hash
    if scope == "login":
        return login is not None and login == secret_hash
    if scope == "logins":
        return login is not None and login != secret_hash
    return False


def end_sockets(data: Any) -> None:
    """Take the matching sockets of this process out of every room now (memory only: this
    runs after a commit, or on the message queue's listener), then disconnect them."""
    if not isinstance(data, dict) or not isinstance(data.get("participant"), int):
        return
    server = socketio.server
    room = participant_room(data["participant"])
    for sid, _eio_sid in list(server.manager.get_participants("/", room)):
        connection = _connections.get(sid)
        if connection is None or connection.ended or \
                not _ends(connection, data.get("scope"), data.get("hash")):
            continue
        connection.ended = True
        for joined in server.manager.get_rooms(sid, "/"):
            if joined != sid:
                server.leave_room(sid, joined, namespace="/")
        socketio.start_background_task(_close, connection, data.get("scope") != "rights")


def _close(connection: Connection, session_over: bool) -> None:
    """Say why (when the session is over; a socket whose rights changed just reconnects and
    joins again), then disconnect: the disconnect handler clears its presence."""
    if session_over:
        environ = socketio.server.get_environ(connection.sid) or {}
        app = environ.get("flask.app")
        if app is not None:
            with app.app_context(), force_locale(connection.locale):
                message = _("Your session has ended. Sign in again.")
            socketio.emit("error", {"code": NotAuthenticated.code, "message": message, "doc": None},
                          to=connection.sid)
            socketio.sleep(0.2)  # the refusal leaves before the socket closes
    socketio.server.disconnect(connection.sid)
