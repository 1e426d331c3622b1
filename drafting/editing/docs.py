"""Clause documents held in memory: a cache of the database, never the other way round.

Every accepted update is first a row in ``clause_update``; the in-memory ``pycrdt`` document
is rebuilt from the latest snapshot plus the rows after it, and caught up with rows written
by other processes before it answers anyone. A transaction that rolls back evicts the
documents it touched, so memory never holds what the database does not.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pycrdt import Doc, Text
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ClauseSnapshot, ClauseUpdate, db

TOUCHED_KEY = "plenary_touched_docs"


@dataclass
class LiveDoc:
    clause_id: int
    doc: Doc
    text: Text
    #: The last ClauseUpdate.id applied (0: nothing yet).
    last_update_id: int = 0
    #: Updates applied since the newest snapshot; a new snapshot is taken past a threshold.
    since_snapshot: int = 0
    loaded: bool = False
    #: One writer or reader at a time: pycrdt documents are not shared between threads.
    lock: threading.RLock = field(default_factory=threading.RLock)


_docs: dict[int, LiveDoc] = {}
_registry_lock = threading.Lock()


def new_doc() -> tuple[Doc, Text]:
    doc: Doc = Doc()
    text = doc.get("text", type=Text)
    return doc, text


def live_doc(clause_id: int) -> LiveDoc:
    """The clause's document, created empty if needed; call ``catch_up`` under its lock."""
    with _registry_lock:
        live = _docs.get(clause_id)
        if live is None:
            doc, text = new_doc()
            live = _docs[clause_id] = LiveDoc(clause_id, doc, text)
        return live


def catch_up(live: LiveDoc) -> None:
    """Apply what the database has and this process has not seen (snapshot first, if new)."""
    if not live.loaded:
        snapshot = db.session.scalar(
            select(ClauseSnapshot)
            .where(ClauseSnapshot.clause_id == live.clause_id)
            .order_by(ClauseSnapshot.up_to_update_id.desc())
            .limit(1)
        )
        if snapshot is not None:
            live.doc.apply_update(snapshot.data)
            live.last_update_id = snapshot.up_to_update_id
        live.loaded = True
    apply_rows(live, live.last_update_id, None)


def apply_rows(live: LiveDoc, after: int, before: int | None) -> None:
    """Apply the clause's logged updates with ``after < id < before`` (or all after ``after``)."""
    query = (
        select(ClauseUpdate.id, ClauseUpdate.data)
        .where(ClauseUpdate.clause_id == live.clause_id)
        .where(ClauseUpdate.id > after)
        .order_by(ClauseUpdate.id)
    )
    if before is not None:
        query = query.where(ClauseUpdate.id < before)
    for row_id, data in db.session.execute(query).all():
        live.doc.apply_update(data)
        live.last_update_id = max(live.last_update_id, row_id)
        live.since_snapshot += 1


def touched(live: LiveDoc) -> None:
    """Remember that the current transaction changed this document in memory."""
    db.session().info.setdefault(TOUCHED_KEY, set()).add(live.clause_id)


def forget(clause_id: int) -> None:
    with _registry_lock:
        _docs.pop(clause_id, None)


def forget_all() -> None:
    """Drop every cached document (a restarted process starts like this)."""
    with _registry_lock:
        _docs.clear()


def evict_touched(session: Session) -> None:
    for clause_id in session.info.pop(TOUCHED_KEY, set()):
        forget(clause_id)


def keep_touched(session: Session) -> None:
    session.info.pop(TOUCHED_KEY, None)


_hooks_installed = False


def install_session_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    from sqlalchemy import event

    event.listen(Session, "after_commit", keep_touched)
    event.listen(Session, "after_soft_rollback",
                 lambda session, previous: None if previous.nested else evict_touched(session))
    _hooks_installed = True
