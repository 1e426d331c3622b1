"""What the processes relayed lately, for an editor that joins a document in the meantime.

With several processes, an update accepted by one is relayed at once to every editor of the
document (through Redis) and reaches the log a moment later. Another process's own copy of the
document learns of it only from the log. So an editor that joins on that other process in the
moment between would be answered without it, and, having joined the room after it was relayed,
would never receive it: its copy would lack those words until it reconnected.

Every process hears every relayed update (Redis's message queue gives each process each
message, whether or not one of its sockets is in the room), so each keeps the ones of the last
``KEEP_SECONDS`` per document (``updates_for``), and a sync step 1 is answered from the
document's own state with them applied (``services.answer_sync_step1``): the client gets them,
and is not asked to hand them back. Updates are kept no longer than an update takes to be
written or refused (the acknowledgement's wait); a ``reset`` of the document (an update refused
after it was relayed) drops them, or the refused words would come back with the next join.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from drafting.realtime.protocol import Kind, ProtocolError, parse_message

#: As long as an accepted update may take to be written (events.WAIT_SECONDS).
KEEP_SECONDS = 30.0
#: At most this many updates are kept per document (a room typing fast for KEEP_SECONDS).
KEEP_COUNT = 5000

DOC_ROOM_PREFIX = "doc:"

_lock = threading.Lock()
_kept: dict[str, deque[tuple[float, bytes]]] = {}
#: When every document's old updates were last dropped (a document that falls quiet is
#: otherwise only pruned when it is next written to or joined).
_swept = 0.0


def note(room: Any, event: Any, data: Any) -> None:
    """Called for each message the process hears from the queue (``patches.client_manager``):
    keep a relayed update of a document; forget a document's updates when it is reset."""
    if not isinstance(room, str) or not room.startswith(DOC_ROOM_PREFIX):
        return
    doc = room[len(DOC_ROOM_PREFIX):]
    if event == "reset":
        with _lock:
            _kept.pop(doc, None)
        return
    if event != "y" or not isinstance(data, tuple) or len(data) != 2 or data[0] != doc:
        return
    try:
        parsed = parse_message(data[1])
    except ProtocolError:
        return
    if parsed.kind is not Kind.UPDATE:
        return
    now = time.monotonic()
    with _lock:
        kept = _kept.setdefault(doc, deque(maxlen=KEEP_COUNT))
        kept.append((now, parsed.body))
        _prune(doc, kept, now)
        _sweep(now)


def updates_for(doc: str) -> list[bytes]:
    """The document's updates relayed in the last ``KEEP_SECONDS``, oldest first."""
    now = time.monotonic()
    with _lock:
        kept = _kept.get(doc)
        if kept is None:
            return []
        _prune(doc, kept, now)
        return [update for _at, update in kept]


def _sweep(now: float) -> None:
    global _swept
    if now - _swept < KEEP_SECONDS:
        return
    _swept = now
    for doc, kept in list(_kept.items()):
        _prune(doc, kept, now)


def _prune(doc: str, kept: deque[tuple[float, bytes]], now: float) -> None:
    while kept and kept[0][0] < now - KEEP_SECONDS:
        kept.popleft()
    if not kept:
        _kept.pop(doc, None)

