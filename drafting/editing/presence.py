"""Presence (Yjs awareness): relayed, never stored, and never trusted for identity.

Each awareness entry a client sends is stamped with who really sent it; an entry for a Yjs
client id that another connection already speaks for is dropped, so nobody can move or
rename someone else's cursor.
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
_lock = threading.Lock()


def identity(participant: Participant) -> dict[str, Any]:
    return {"id": participant.id, "name": participant.name,
            "color": participant.color, "category": participant.category.value}


def stamp(body: bytes, *, doc: str, sid: str, participant: Participant,
          clocks: dict[int, int]) -> bytes | None:
    """The awareness update to relay, with every state's ``user`` replaced by the sender's
    identity; None when nothing is left to relay. ``clocks`` remembers this connection's
    client ids and clocks, to clear them when it leaves."""
    entries = parse_awareness(body)[:MAX_ENTRIES]
    me = identity(participant)
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
    return encode_awareness(kept) if kept else None


def farewell(doc: str, clocks: dict[int, int]) -> bytes | None:
    """The awareness update that removes a leaving connection's clients from everyone's view."""
    if not clocks:
        return None
    with _lock:
        for client_id in clocks:
            _owners.pop((doc, client_id), None)
            _states.get(doc, {}).pop(client_id, None)
    return encode_awareness([AwarenessEntry(client_id, clock + 1, None)
                             for client_id, clock in clocks.items()])


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
