"""Clause documents held in memory: a cache of the database, never the other way round.

Every accepted update is first a row in ``clause_update``; the in-memory ``pycrdt`` document
is rebuilt from the latest snapshot plus the rows after it, and caught up with rows written
by other processes before it answers anyone.

A transaction that changes a document in memory holds the document's lock until it ends, so
nobody else reads what is not yet committed; if it rolls back, the documents it touched are
marked stale and evicted, so memory never holds what the database does not.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pycrdt import Doc, Text
from sqlalchemy import select
from sqlalchemy.orm import Session, SessionTransaction

from drafting.realtime import yupdate
from drafting.realtime.protocol import ProtocolError
from models import ClauseSnapshot, ClauseUpdate, db

#: The name of the one Y.Text of every clause document (the browser uses the same).
TEXT_NAME = "text"
TOUCHED_KEY = "plenary_touched_docs"
RETIRED_KEY = "plenary_retired_docs"


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
    #: Evicted after a rollback: whoever waited for its lock must fetch the document anew.
    stale: bool = False
    #: One writer or reader at a time: pycrdt documents are not shared between threads.
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: What ``yupdate.check_update`` needs to know of the document (None: read it again
    #: from the document when next needed).
    _known: yupdate.Known | None = None

    def known(self) -> yupdate.Known:
        if self._known is None:
            self._known = yupdate.Known.of_document(self.doc.get_update())
        return self._known

    def apply(self, update: bytes, decoded: yupdate.Update | None = None) -> None:
        """Apply an update; with ``decoded`` (the same update, read) what the document knows
        is brought up to date at once, else read again when next needed."""
        self.doc.apply_update(update)
        if self._known is not None:
            if decoded is None:
                self._known = None
            else:
                self._known.learn(decoded)

    def edited(self, update: bytes) -> None:
        """The server changed the document itself; ``update`` is what changed."""
        if self._known is not None:
            self._known.learn(yupdate.read_update(update))


_docs: dict[int, LiveDoc] = {}
_registry_lock = threading.Lock()


def new_doc() -> tuple[Doc, Text]:
    doc: Doc = Doc()
    text = doc.get(TEXT_NAME, type=Text)
    return doc, text


def live_doc(clause_id: int) -> LiveDoc:
    """The clause's document, created empty if needed; call ``catch_up`` under its lock."""
    with _registry_lock:
        live = _docs.get(clause_id)
        if live is None:
            doc, text = new_doc()
            live = _docs[clause_id] = LiveDoc(clause_id, doc, text)
        return live


def acquire(clause_id: int) -> LiveDoc:
    """The clause's current document with its lock taken (never one evicted meanwhile)."""
    while True:
        live = live_doc(clause_id)
        live.lock.acquire()
        if not live.stale:
            return live
        live.lock.release()


def held(clause_id: int) -> LiveDoc | None:
    """The document, if the current transaction has already changed it (and so holds it,
    with the clause's row lock: nobody else can have changed it since)."""
    live: LiveDoc | None = db.session().info.get(TOUCHED_KEY, {}).get(clause_id)
    return None if live is None or live.stale else live


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
            live.apply(snapshot.data)
            live.last_update_id = snapshot.up_to_update_id
        live.loaded = True
    apply_rows(live, live.last_update_id, None)


def apply_rows(live: LiveDoc, after: int, before: int | None) -> int:
    """Apply the clause's logged updates with ``after < id < before`` (or all after ``after``);
    how many there were."""
    query = (
        select(ClauseUpdate.id, ClauseUpdate.data)
        .where(ClauseUpdate.clause_id == live.clause_id)
        .where(ClauseUpdate.id > after)
        .order_by(ClauseUpdate.id)
    )
    if before is not None:
        query = query.where(ClauseUpdate.id < before)
    rows = db.session.execute(query).all()
    for row_id, data in rows:
        live.apply(data, _read_if_known(live, data))
        live.last_update_id = max(live.last_update_id, row_id)
        live.since_snapshot += 1
    return len(rows)


def _read_if_known(live: LiveDoc, data: bytes) -> yupdate.Update | None:
    """A logged update, read, when the document keeps what it knows up to date (so that
    another process's keystrokes cost their own size here, not a new reading of the whole
    document)."""
    if live._known is None:
        return None
    try:
        return yupdate.read_update(data)
    except ProtocolError:  # a row from before updates were read: the document is read again
        return None


def touched(live: LiveDoc) -> None:
    """Remember that the current transaction changed this document in memory, and hold its
    lock until the transaction ends (call with the lock taken)."""
    info = db.session().info
    holding: dict[int, LiveDoc] = info.setdefault(TOUCHED_KEY, {})
    earlier = holding.get(live.clause_id)
    if earlier is not live:
        live.lock.acquire()
        holding[live.clause_id] = live
        if earlier is not None:  # evicted by a savepoint's rollback: still held till the end
            info.setdefault(RETIRED_KEY, []).append(earlier)


def forget_all() -> None:
    """Drop every cached document (a restarted process starts like this)."""
    with _registry_lock:
        for live in _docs.values():
            live.stale = True
        _docs.clear()


def _evict(live: LiveDoc) -> None:
    with _registry_lock:
        if _docs.get(live.clause_id) is live:
            del _docs[live.clause_id]
    live.stale = True


def release_documents(session: Session) -> None:
    """Committed: what memory holds is in the database; let others read it."""
    for live in [*session.info.pop(TOUCHED_KEY, {}).values(), *session.info.pop(RETIRED_KEY, [])]:
        live.lock.release()


def evict_documents(session: Session, _previous: SessionTransaction | None = None) -> None:
    """Rolled back (a savepoint included): what memory holds may not be in the database."""
    for live in session.info.get(TOUCHED_KEY, {}).values():
        _evict(live)


def let_go_of_documents(session: Session, transaction: SessionTransaction) -> None:
    """The transaction ended without a commit (rolled back, or closed): evict and let go."""
    if transaction.parent is None:
        for live in [*session.info.pop(TOUCHED_KEY, {}).values(), *session.info.pop(RETIRED_KEY, [])]:
            _evict(live)
            live.lock.release()
