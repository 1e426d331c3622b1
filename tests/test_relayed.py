"""What a process keeps of the updates it heard relayed (drafting/editing/relayed.py), for an
editor joining before they are in the log: the servers' side is in tests/test_scale_out.py;
here, what is kept, for how long, and what drops it."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from drafting.editing import relayed
from drafting.realtime.protocol import awareness_message, sync_update

pytestmark = pytest.mark.database_independent

DOC = "clause:7"
ROOM = f"doc:{DOC}"


@pytest.fixture
def clock(monkeypatch) -> Iterator[list[float]]:
    """The store's clock, moved by the test; the store empty before and after."""
    now = [1000.0]
    monkeypatch.setattr(relayed.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(relayed, "_kept", {})
    monkeypatch.setattr(relayed, "_swept", 0.0)
    yield now


def test_relayed_updates_of_a_document_are_kept_in_order_for_a_while(clock):
    relayed.note(ROOM, "y", (DOC, sync_update(b"first")))
    clock[0] += 10
    relayed.note(ROOM, "y", (DOC, sync_update(b"second")))
    assert relayed.updates_for(DOC) == [b"first", b"second"]
    clock[0] += relayed.KEEP_SECONDS - 5  # the first is older than that now
    assert relayed.updates_for(DOC) == [b"second"]
    clock[0] += 10
    assert relayed.updates_for(DOC) == []


def test_only_updates_of_a_document_s_room_are_kept(clock):
    relayed.note("recommendation:3", "y", (DOC, sync_update(b"x")))  # not a document's room
    relayed.note(ROOM, "y", ("clause:8", sync_update(b"x")))  # another document's name
    relayed.note(ROOM, "clauses_changed", {"recommendation": 3})
    relayed.note(ROOM, "y", (DOC, awareness_message(b"\x00")))  # presence, not text
    relayed.note(ROOM, "y", (DOC, b"\xff\xff"))  # unreadable
    assert relayed.updates_for(DOC) == []


def test_a_reset_drops_what_was_kept(clock):
    relayed.note(ROOM, "y", (DOC, sync_update(b"refused words")))
    relayed.note(ROOM, "reset", {"doc": DOC, "code": "forbidden", "message": "locked"})
    assert relayed.updates_for(DOC) == []


def test_documents_that_fall_quiet_are_forgotten(clock):
    relayed.note(ROOM, "y", (DOC, sync_update(b"old")))
    clock[0] += relayed.KEEP_SECONDS + 1
    relayed.note("doc:clause:9", "y", ("clause:9", sync_update(b"new")))
    assert DOC not in relayed._kept
