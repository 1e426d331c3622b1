"""Presence (Yjs awareness): relayed, never stored, and never trusted for identity.

Each awareness entry a client sends is stamped with who really sent it; an entry for a Yjs
client id that another connection already speaks for is dropped, so nobody can move or
rename someone else's cursor.

Stamped entries wait in an outbox for the next tick (``drafting.editing.ticker``), which
checks their senders are still signed in and sends each document's entries as one message:
with a cursor moving on every keystroke, a room of fifty would otherwise cost fifty sends for
every key anyone presses. Only the newest entry of each Yjs client is kept until the tick.
"""
from __future__ import annotations

import threading
from typing import Any

from drafting.realtime.protocol import AwarenessEntry, encode_awareness, parse_awareness
from models import Participant

MAX_ENTRIES = 16

_owners: dict[tuple[str, int], str] = {}
#: The latest stamped state of each client in each document, so that someone who opens the
#: document sees at once who is already there (in memory only; gone with the process).
_states: dict[str, dict[int, AwarenessEntry]] = {}
#: Document name -> Yjs client id -> (the entry to send, the connection it came from; None
#: for the server's own, such as the farewell of a connection that has gone).
_outbox: dict[str, dict[int, tuple[AwarenessEntry, str | None]]] = {}
_lock = threading.Lock()


def identity(participant: Participant) -> dict[str, Any]:
    return {"id": participant.id, "name": participant.name,
            "color": participant.color, "category": participant.category.value}


def stamp(body: bytes, *, doc: str, sid: str, me: dict[str, Any],
          clocks: dict[int, int]) -> None:
    """Put the entries of an awareness update in the outbox, each state's ``user`` replaced
    by the sender's identity ``me``. ``clocks`` remembers this connection's client ids and
    clocks, to clear them when it leaves."""
    entries = parse_awareness(body)[:MAX_ENTRIES]
    kept = []
    with _lock:
        for entry in entries:
            owner = _owners.setdefault((doc, entry.client_id), sid)
            if owner != sid:
                continue
            state = None if entry.state is None else {**entry.state, "user": me}
            stamped = AwarenessEntry(entry.client_id, entry.clock, state)
            kept.append(stamped)
            clocks[entry.client_id] = entry.clock
            if state is None:
                _owners.pop((doc, entry.client_id), None)
                clocks.pop(entry.client_id, None)
                _states.get(doc, {}).pop(entry.client_id, None)
            else:
                _states.setdefault(doc, {})[entry.client_id] = stamped
        outbox = _outbox.setdefault(doc, {})
        for stamped in kept:
            outbox[stamped.client_id] = (stamped, sid)


def farewell(doc: str, clocks: dict[int, int]) -> None:
    """Put in the outbox the entries that remove a leaving connection's clients from
    everyone's view (replacing whatever of theirs was still waiting)."""
    with _lock:
        outbox = _outbox.setdefault(doc, {})
        for client_id, clock in clocks.items():
            _owners.pop((doc, client_id), None)
            _states.get(doc, {}).pop(client_id, None)
            outbox[client_id] = (AwarenessEntry(client_id, clock + 1, None), None)


def take_outbox() -> dict[str, list[tuple[AwarenessEntry, str | None]]]:
    """Everything waiting to be sent, by document; the outbox is left empty."""
    global _outbox
    with _lock:
        taken, _outbox = _outbox, {}
    return {doc: list(entries.values()) for doc, entries in taken.items() if entries}


def present(doc: str) -> bytes | None:
    """Everyone currently in the document, as one awareness update (None if nobody)."""
    with _lock:
        entries = list(_states.get(doc, {}).values())
    return encode_awareness(entries) if entries else None


def forget_all() -> None:
    """Drop all presence (a restarted process starts like this)."""
    with _lock:
        _owners.clear()
        _states.clear()
        _outbox.clear()
