"""Clause documents held in memory: the database's log plus what was accepted and is on its
way to it.

Every acknowledged update is a row in ``clause_update``; the in-memory ``pycrdt`` document is
built from the latest snapshot plus the rows after it, and caught up with rows written by
other processes when it answers a newcomer. An editor's update is accepted into the document
at once (``services.accept_update``) and written by the writer a moment later: the document
counts what it ``accepted`` and what the writer has ``settled`` (written, or refused), and
anyone who must act on the stored text waits until the two are equal (``hold``).

A transaction that changes a document itself (a server edit, a vote freezing its wording)
first holds it: no update is accepted meanwhile, the writer finishes what was accepted, and
the document's lock is kept until the transaction ends, so nobody reads what is not yet
committed; if it rolls back, the documents it touched are marked stale and evicted, so memory
never holds what the database does not.

Each document also remembers its clause's ``Gate`` (may its wording change at all, and in
which recommendation), so that an editor's keystroke is checked from memory. Every commit
that changes a clause's status or deletion, or a recommendation's status, forgets the gates
concerned on every process (``forget_gates``); the next keystroke reads them again.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pycrdt import Doc, Text
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, SessionTransaction

from drafting.realtime import GATES_CHANGED, tell_every_process, yupdate
from drafting.realtime.protocol import ProtocolError
from models import Clause, ClauseSnapshot, ClauseUpdate, Recommendation, db

#: The name of the one Y.Text of every clause document (the browser uses the same).
TEXT_NAME = "text"
TOUCHED_KEY = "plenary_touched_docs"
RETIRED_KEY = "plenary_retired_docs"
HOLDS_KEY = "plenary_held_docs"
GATES_KEY = "plenary_changed_gates"


@dataclass(frozen=True)
class Gate:
    """What an editor's keystroke is checked against in memory, besides its sender's grant."""

    recommendation_id: int
    #: ``Clause.is_writable``: not deleted, not locked, its recommendation a draft, its
    #: conference open.
    writable: bool
    deleted: bool
    #: When its conference was closed (its outcome document finalised): what a refusal says.
    closed_at: datetime | None = None

    @classmethod
    def of(cls, clause: Clause) -> Gate:
        return cls(clause.recommendation_id, clause.is_writable, clause.deleted_at is not None,
                   clause.recommendation.group.conference.finalised_at)


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
    #: The clause's gate as last read (None: read it from the database before the next edit).
    gate: Gate | None = None
    #: Bumped whenever the gate is forgotten: a gate read from the database before that is
    #: not installed (it may be older than the change).
    gate_epoch: int = 0
    #: Updates accepted into this document in memory, and how many of them the writer has
    #: settled (written, or refused), in order: equal when nothing waits for the log.
    accepted: int = 0
    settled: int = 0
    #: ``accepted`` when rows were last read from the log into the document: the text an
    #: update accepted up to then carries (``Accepted.text``) lacks them.
    rows_read_at: int = 0
    #: Transactions holding the document (``hold``): no update is accepted meanwhile.
    holds: int = 0
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
#: Notified whenever a document's ``settled`` or ``holds`` changes, or it is evicted.
_changes = threading.Condition()


def wait_for(condition: Any, timeout: float) -> bool:
    """Wait until ``condition()`` is true, for at most ``timeout`` seconds; whether it is."""
    deadline = time.monotonic() + timeout
    with _changes:
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            _changes.wait(left)
    return True


def settle(live: LiveDoc, seq: int) -> None:
    """The writer is done with the document's updates up to ``seq`` (written or refused)."""
    with _changes:
        live.settled = max(live.settled, seq)
        _changes.notify_all()


def hold(live: LiveDoc, timeout: float) -> bool:
    """Stop accepting updates into the document for the current transaction and wait until
    the writer has settled everything accepted so far; whether it did in time (if not, the
    hold is let go at once). Call without the document's lock: the writer may need it."""
    with _changes:
        live.holds += 1
    db.session().info.setdefault(HOLDS_KEY, []).append(live)
    target = live.accepted
    if wait_for(lambda: live.settled >= target or live.stale, timeout):
        return True
    _unhold([live])
    db.session().info[HOLDS_KEY].remove(live)
    return False


def wait_unheld(live: LiveDoc, timeout: float) -> bool:
    """Wait until no transaction holds the document (or it is evicted); whether it happened
    in time."""
    return wait_for(lambda: not live.holds or live.stale, timeout)


def holding(clause_id: int) -> bool:
    """Whether the current transaction holds the clause's document already."""
    return any(live.clause_id == clause_id and not live.stale
               for live in db.session().info.get(HOLDS_KEY, []))


def _unhold(lives: Iterable[LiveDoc]) -> None:
    with _changes:
        for live in lives:
            live.holds -= 1
        _changes.notify_all()


def let_go_of_holds(session: Session, transaction: SessionTransaction) -> None:
    """The transaction ended: updates are accepted into what it held again."""
    if transaction.parent is None:
        _unhold(session.info.pop(HOLDS_KEY, []))


# --- gates: changed by a commit, forgotten on every process ------------------------------

def note_gate_changes(session: Session, _context: Any, _instances: Any) -> None:
    """Before a flush: remember the clauses and recommendations whose gate changes."""
    clauses: set[int] = set()
    recommendations: set[int] = set()
    for instance in [*session.dirty, *session.deleted]:
        if isinstance(instance, Clause):
            state: Any = inspect(instance)
            if instance in session.deleted or any(
                    state.attrs[name].history.has_changes() for name in ("status", "deleted_at")):
                clauses.add(instance.id)
        elif isinstance(instance, Recommendation) and (
                instance in session.deleted or inspect(instance).attrs["status"].history.has_changes()):
            recommendations.add(instance.id)
    if clauses or recommendations:
        changed = session.info.setdefault(GATES_KEY, (set(), set()))
        changed[0].update(clauses)
        changed[1].update(recommendations)


def gates_changed(clause_ids: Iterable[int]) -> None:
    """Note gates changed by a statement the session does not track (a bulk UPDATE)."""
    changed = db.session().info.setdefault(GATES_KEY, (set(), set()))
    changed[0].update(clause_ids)


def take_gate_changes(session: Session) -> dict[str, list[int]] | None:
    """After a commit: the gates it changed, as the message every process hears."""
    changed = session.info.pop(GATES_KEY, None)
    if changed is None:
        return None
    return {"clauses": sorted(changed[0]), "recommendations": sorted(changed[1])}


def announce_gate_changes(session: Session) -> None:
    """After a commit: forget the gates it changed here at once (before the documents it held
    are let go), and on every other process as soon as it hears."""
    changes = take_gate_changes(session)
    if changes is not None:
        forget_gates(changes)
        tell_every_process(GATES_CHANGED, changes)


def drop_gate_changes(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(GATES_KEY, None)


def forget_gates(changes: Any) -> None:
    """Forget the gates a commit changed (here, or on another process: ``changes`` is the
    message ``take_gate_changes`` made, as it arrived)."""
    if not isinstance(changes, dict):
        return
    clauses = {n for n in changes.get("clauses") or [] if isinstance(n, int)}
    recommendations = {n for n in changes.get("recommendations") or [] if isinstance(n, int)}
    with _registry_lock:
        found = [live for live in _docs.values() if live.clause_id in clauses or (
            live.gate is not None and live.gate.recommendation_id in recommendations)]
    for live in found:
        with _changes:
            live.gate = None
            live.gate_epoch += 1


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


def stored_state(clause_id: int, up_to: int) -> bytes:
    """The clause's document as its log has it up to row ``up_to`` (included), as one update."""
    scratch = LiveDoc(clause_id, *new_doc())
    snapshot = db.session.scalar(
        select(ClauseSnapshot)
        .where(ClauseSnapshot.clause_id == clause_id, ClauseSnapshot.up_to_update_id <= up_to)
        .order_by(ClauseSnapshot.up_to_update_id.desc())
        .limit(1)
    )
    if snapshot is not None:
        scratch.apply(snapshot.data)
        scratch.last_update_id = snapshot.up_to_update_id
    apply_rows(scratch, scratch.last_update_id, up_to + 1)
    return scratch.doc.get_update()


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
    if rows:
        live.rows_read_at = live.accepted
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


def evict(live: LiveDoc) -> None:
    """Drop the document from memory: whoever needs it next rebuilds it from the log."""
    with _registry_lock:
        if _docs.get(live.clause_id) is live:
            del _docs[live.clause_id]
    with _changes:
        live.stale = True
        _changes.notify_all()


def release_documents(session: Session) -> None:
    """Committed: what memory holds is in the database; let others read it."""
    for live in [*session.info.pop(TOUCHED_KEY, {}).values(), *session.info.pop(RETIRED_KEY, [])]:
        live.lock.release()


def evict_documents(session: Session, _previous: SessionTransaction | None = None) -> None:
    """Rolled back (a savepoint included): what memory holds may not be in the database."""
    for live in session.info.get(TOUCHED_KEY, {}).values():
        evict(live)


def let_go_of_documents(session: Session, transaction: SessionTransaction) -> None:
    """The transaction ended without a commit (rolled back, or closed): evict and let go."""
    if transaction.parent is None:
        for live in [*session.info.pop(TOUCHED_KEY, {}).values(), *session.info.pop(RETIRED_KEY, [])]:
            evict(live)
            live.lock.release()
