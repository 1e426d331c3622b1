"""Everything Plenary changes inside python-socketio and python-engineio, in one place.

Plenary uses them through their public API (event handlers, ``client_manager``, the Engine.IO
``message`` handler) wherever it can. What follows reaches into them where no public door
exists, each for a defect described beside it; none has an upstream fix that Plenary could
take instead at the versions pinned below (no upstream issue was found for them when this
module was written: each is to be reported with the reproduction in its test). So the
versions are pinned exactly in ``setup.cfg``'s install requirements, and ``check_versions``
refuses to start on any other: a patch of private code is only known to be right for the
code it was written and tested against.

- ``WholePackets``: concurrent sends to one client interleave a binary packet's parts
  (tests/test_editing.py, ``test_a_binary_packet_leaves_in_one_piece...``).
- ``guard_packets``: client events named like Socket.IO's own run the server's handlers,
  unreadable packets raise inside the server (tests/test_fuzz_socket.py).
- ``deferred_acks``: a live edit is acknowledged when durable, after its handler has
  returned (tests/test_writer.py).
- ``close_every_session``: python-engineio's ``disconnect()`` waits, for each session, until
  its client has collected the goodbye; a long-polling client that went away never does, and
  a stopping server waited for it until it was killed (tests/test_faults.py).
- ``client_manager``: ending sockets on every process, in order with the events around it,
  needs the point where a message from the queue is delivered on each process
  (``PubSubManager._handle_emit``; tests/test_scale_out.py, tests/test_socket_permissions.py).
"""
from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import socketio  # type: ignore[import-untyped]
from socketio.packet import Packet  # type: ignore[import-untyped]

#: The exact versions the patches here were written and tested against (setup.cfg pins them).
PINNED = {"python-socketio": "5.18.1", "python-engineio": "4.15.1", "Flask-SocketIO": "5.7.0"}


class UnsupportedVersion(RuntimeError):
    """A patched library is not at the version its patch was made for."""


def check_versions() -> None:
    """Refuse to start with other versions of the patched libraries than ``PINNED``."""
    wrong = []
    for name, wanted in PINNED.items():
        try:
            found = version(name)
        except PackageNotFoundError:
            found = "not installed"
        if found != wanted:
            wrong.append(f"{name} {found} (Plenary needs {wanted})")
    if wrong:
        raise UnsupportedVersion("Plenary patches these libraries and was tested with other versions: "
                                 + "; ".join(wrong) + ". Install the project's own requirements "
                                 "(pip install -e .).")


# --- sending a binary packet whole ------------------------------------------------------------

_BINARY_HEADER = re.compile(r"^[56](\d+)-")


class WholePackets:
    """Make each Socket.IO packet leave in one piece.

    A packet with binary data (every ``y`` message) is several Engine.IO messages: a header
    naming how many attachments follow, then the attachments. python-socketio queues them
    one by one without a lock, so two threads sending to the same client (a relay from one
    editor's handler, a reply or an acknowledgement from another's) could interleave them,
    and the client would take one packet's attachment for the next packet and fail. Here a
    header takes its client's lock until its last attachment is queued; every other send to
    that client waits for it. Sending is only queueing, so the lock is held for microseconds.
    """

    def __init__(self, server: Any) -> None:
        self.locks: dict[str, threading.RLock] = {}
        self.remaining: dict[str, int] = {}
        self.guard = threading.Lock()
        self.eio_send = server.eio.send
        self.send_eio_packet = server._send_eio_packet
        server.eio.send = lambda sid, data: self.send(sid, data, self.eio_send, data)
        server._send_eio_packet = lambda sid, pkt: self.send(sid, pkt.data, self.send_eio_packet,
                                                               pkt)

    def send(self, sid: str, data: Any, forward: Any, argument: Any) -> None:
        with self.guard:
            if len(self.locks) > 10000:
                self._forget_idle()
            lock = self.locks.setdefault(sid, threading.RLock())
        lock.acquire()
        try:
            if self.remaining.get(sid):  # an attachment of the packet this thread is sending
                self.remaining[sid] -= 1
                if self.remaining[sid] == 0:
                    lock.release()  # the header's hold
                forward(sid, argument)
                return
            header = _BINARY_HEADER.match(data) if isinstance(data, str) else None
            forward(sid, argument)
            if header and int(header.group(1)) > 0:
                self.remaining[sid] = int(header.group(1))
                lock.acquire()  # held until the last attachment is queued
        finally:
            lock.release()

    def _forget_idle(self) -> None:
        """Drop the locks of clients not in the middle of a packet (most are long gone)."""
        for sid in [sid for sid, count in self.locks.items() if not self.remaining.get(sid)]:
            del self.locks[sid]
            self.remaining.pop(sid, None)


def send_packets_whole(server: Any) -> None:
    if not getattr(server, "_plenary_whole_packets", False):
        WholePackets(server)
        server._plenary_whole_packets = True


# --- refusing what is not a client's to send ----------------------------------------------------

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


def guard_packets(server: Any) -> None:
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


# --- acknowledging later ----------------------------------------------------------------------

class Later:
    """A handler's answer that is not known yet: the acknowledgement is sent when
    ``result()`` returns, from a task of its own, while the connection's next messages are
    handled. A live edit is acknowledged once it is durable, and the sender's next keystroke
    must not wait for that."""

    def __init__(self, result: Callable[[], Any]) -> None:
        self.result = result


def deferred_acks(server: Any) -> None:
    """Let a handler return ``Later``. python-socketio sends a handler's return value as the
    acknowledgement as soon as the handler returns, and has no public way to acknowledge
    afterwards (the packet's id is not handed to the handler): here the handling of an
    event is python-socketio's own, but for a ``Later`` answer."""
    if getattr(server, "_plenary_deferred_acks", False):
        return
    packet = socketio.packet

    def handle_event_internal(srv: Any, sid: str, eio_sid: str, data: Any, namespace: str, id: Any) -> None:
        answer = srv._trigger_event(data[0], namespace, sid, *data[1:])
        if isinstance(answer, Later):
            srv.start_background_task(_acknowledge_later, srv, eio_sid, namespace, id, answer)
            return
        if answer is not srv.not_handled and id is not None:
            _acknowledge(srv, eio_sid, namespace, id, answer)

    def _acknowledge_later(srv: Any, eio_sid: str, namespace: str, id: Any, later: Later) -> None:
        answer = later.result()
        if id is not None:
            _acknowledge(srv, eio_sid, namespace, id, answer)

    def _acknowledge(srv: Any, eio_sid: str, namespace: str, id: Any, answer: Any) -> None:
        # As python-socketio does: a tuple is several arguments, None none.
        data = [] if answer is None else list(answer) if isinstance(answer, tuple) else [answer]
        srv._send_packet(eio_sid, srv.packet_class(packet.ACK, namespace=namespace, id=id, data=data))

    server._handle_event_internal = handle_event_internal
    server._plenary_deferred_acks = True


# --- ending sockets on every process ----------------------------------------------------------

def close_every_session(server: Any) -> None:
    """Close every Engine.IO session of the Socket.IO ``server`` (a stopping process): each
    is sent its goodbye, and none is waited for. ``Server.disconnect()`` (every session) closes
    each with ``wait=True``, which waits until the client has taken the goodbye from the
    session's queue; a WebSocket client takes it at once, but a long-polling client that has
    gone away (a closed laptop, a dropped proxy connection) never polls again, and the stop
    waited for it until gunicorn's graceful timeout killed the worker."""
    eio = server.eio
    for session in list(eio.sockets.values()):
        session.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
    eio.sockets = {}


def _emitted_data(message: dict[str, Any]) -> Any:
    """The data of an emit as it travels through the queue, decoded as
    ``PubSubManager._handle_emit`` decodes it: binary attachments travel base64-encoded
    beside a placeholder structure."""
    data = message.get("data")
    if message.get("binary") and isinstance(data, list) and data:
        data = Packet.reconstruct_binary(data[0], [base64.b64decode(a) for a in data[1:]])
    if isinstance(data, list):
        return data[0] if len(data) == 1 else tuple(data)
    return data


def client_manager(redis_url: str | None, internal: dict[str, Callable[[Any], None]], *,
                   channel: str = "flask-socketio",
                   heard: Callable[[Any, Any, Any], None] | None = None) -> Any:
    """The Socket.IO client manager: Redis's when several processes share rooms, else the
    local one; either way an event named in ``internal`` is not sent to clients but handed to
    its function on every process (the one that emits it, and each that hears it from
    Redis), in order with the events before and after it. So, for example, the sockets whose
    session ended are out of their rooms before any later event is sent, wherever they are.
    With Redis, ``heard(room, event, data)`` is given every other message each process hears
    from the queue, before it is delivered to the process's sockets (``data`` as emitted: a
    tuple for several arguments, binary parts as bytes)."""
    if redis_url:
        class InternalRedisManager(socketio.RedisManager):
            def _handle_emit(self, message: dict[str, Any]) -> None:
                # Runs on every process for each message of the queue (a private method:
                # the one point where a published emit reaches each process's clients).
                handler = internal.get(message.get("event", ""))
                if handler is not None:
                    data = message.get("data")
                    handler(data[0] if isinstance(data, list) and data else data)
                    return
                if heard is not None:
                    heard(message.get("room"), message.get("event"), _emitted_data(message))
                super()._handle_emit(message)

        return InternalRedisManager(redis_url, channel=channel)

    class InternalManager(socketio.Manager):
        def emit(self, event: str, data: Any, *args: Any, **kwargs: Any) -> Any:
            handler = internal.get(event)
            if handler is not None:
                handler(data)
                return None
            return super().emit(event, data, *args, **kwargs)

    return InternalManager()
