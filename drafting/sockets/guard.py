"""Whatever a client sends gets an answer in the one error shape, and nothing it sends runs
what only Socket.IO itself may run.

- An event Plenary does not have, and the names Socket.IO reserves for itself (``connect``,
  ``disconnect``: python-socketio would otherwise run the server's own connection handlers for
  a client that merely sent an event of that name), are refused as ``invalid``; every event
  counts against the connection's message budget.
- A packet that is not Socket.IO at all closes the connection.
- A handler that fails is answered too: "unavailable" when the database went away (nothing
  was written; send it again), otherwise the error is logged as the bug it is and the client
  told so, instead of waiting for an acknowledgement that would never come.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_babel import gettext as _

from drafting.errors import (
    DomainError,
    Unavailable,
    ValidationFailed,
    database_away,
    http_message,
    roll_back_quietly,
)
from drafting.extensions import socketio
from drafting.realtime import patches
from drafting.sockets import connections

log = logging.getLogger(__name__)


class _Failed(DomainError):
    """A handler's bug, as the client hears of it."""

    status = 500
    code = "internal_error"


def on_unknown(*_args: Any) -> dict[str, Any]:
    """Sent by a client: an event Plenary does not have (or a reserved name, see
    ``patches.guard_packets``). Refused to the sender alone; nobody else receives anything."""
    try:
        connections.current().spend()
        raise ValidationFailed(_("Plenary has no such event."))
    except DomainError as error:
        return connections.refuse(error)


def on_handler_error(error: Exception) -> Any:
    """Any exception a handler raised (Flask-SocketIO's default error handler): the answer is
    the acknowledgement of the event; a connection attempt is refused."""
    if database_away(error):
        log.warning("database unavailable on socket event %s: %s", _event_name(), error)
        roll_back_quietly()
        refusal: DomainError = Unavailable(http_message(503))
    else:
        log.error("unhandled error on socket event %s", _event_name(), exc_info=error)
        roll_back_quietly()
        refusal = _Failed(http_message(500))
    if _event_name() == "connect":
        return False
    return connections.refuse(refusal)


def _event_name() -> str:
    event = getattr(request, "event", None)
    return str(event.get("message")) if isinstance(event, dict) else "?"


def install() -> None:
    """Guard the Socket.IO server of the app being created."""
    socketio.on_event("*", on_unknown)
    socketio.on_error_default(on_handler_error)
    patches.guard_packets(socketio.server)
