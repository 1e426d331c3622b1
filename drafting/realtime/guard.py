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
from drafting.realtime import connections

log = logging.getLogger(__name__)


class _Failed(DomainError):
    """A handler's bug, as the client hears of it."""

    status = 500
    code = "internal_error"


def on_unknown(*_args: Any) -> dict[str, Any]:
    """Sent by a client: an event Plenary does not have (or a reserved name, see
    ``_guard_packets``). Refused to the sender alone; nobody else receives anything."""
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


#: Events only Socket.IO itself may raise on the server, and the catch-all's own name; a
#: client's event of that name is refused as unknown rather than run as the server's connect
#: or disconnect handler (or as the catch-all, with the client's data taken for the sid).
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "*"})
#: The name reserved and malformed events are handed on under: no handler has it, so the
#: catch-all answers them.
_UNKNOWN = "\x00unknown"


class MalformedPacket(ValueError):
    """What a client sent is not a Socket.IO packet Plenary can read."""


#: What python-socketio itself raises for a packet it decoded but cannot take from a client.
_REFUSED_PACKETS = {"Unexpected binary packet", "Unexpected CONNECT_ERROR packet.",
                    "Unknown packet type."}
_CLIENT_PACKET_TYPES = {0, 1, 2, 3, 5, 6}  # all but CONNECT_ERROR, which only a server sends


def _strict_packets(base: type[Any]) -> type[Any]:
    class StrictPacket(base):
        """python-socketio's packet, whose decoding failures (bad JSON, nesting deeper than
        the parser goes, an attachment placeholder naming no attachment) are told apart from
        the failures of the handlers that run after it."""

        def decode(self, encoded_packet: Any) -> Any:
            try:
                count = super().decode(encoded_packet)
            except Exception as error:  # anything the parser raises on hostile input
                raise MalformedPacket(str(error)) from error
            if self.packet_type not in _CLIENT_PACKET_TYPES:
                raise MalformedPacket("Unknown packet type.")
            return count

        def add_attachment(self, attachment: Any) -> Any:
            try:
                return super().add_attachment(attachment)
            except Exception as error:
                raise MalformedPacket(str(error)) from error

    return StrictPacket


def _guard_packets(server: Any) -> None:
    """Put a guard in front of python-socketio's handling of a client's packets.

    python-socketio dispatches an event named ``connect`` or ``disconnect`` sent by a client
    to the server's connection handlers (a client could drop its own connection record while
    its socket stayed in its rooms) and one named ``*`` to the catch-all with the arguments
    shifted (an exception), fails with an exception on an event packet without a name
    (``42[]``) and on a packet it cannot decode, and leaves a client calling an event
    nobody handles waiting for ever. Here reserved, nameless and non-text event names go to
    the catch-all (refused, answered), and a packet that cannot be read closes the
    connection. What the handlers themselves raise is ``on_handler_error``'s."""
    if getattr(server, "_plenary_guarded", False):
        return
    handle_event = server._handle_event
    handle_message = server._handle_eio_message
    server.packet_class = _strict_packets(server.packet_class)

    def guarded_event(eio_sid: str, namespace: str | None, id: int | None, data: Any) -> Any:
        if not isinstance(data, list) or not data:
            data = [_UNKNOWN]
        elif not isinstance(data[0], str) or data[0] in RESERVED_EVENTS or data[0] == _UNKNOWN:
            data = [_UNKNOWN, *data[1:]]
        return handle_event(eio_sid, namespace, id, data)

    def guarded_message(eio_sid: str, data: Any) -> Any:
        try:
            return handle_message(eio_sid, data)
        except MalformedPacket:
            pass
        except ValueError as error:
            if str(error) not in _REFUSED_PACKETS:
                raise
        # Nothing sensible can be answered to what is not Socket.IO: the connection ends.
        server._binary_packet.pop(eio_sid, None)
        server.eio.disconnect(eio_sid)
        return None

    server._handle_event = guarded_event
    server._handle_eio_message = guarded_message
    server.eio.on("message", guarded_message)
    server._plenary_guarded = True


def install() -> None:
    """Guard the Socket.IO server of the app being created."""
    socketio.on_event("*", on_unknown)
    socketio.on_error_default(on_handler_error)
    _guard_packets(socketio.server)
