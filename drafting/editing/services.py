"""The rules of live editing: who may open the editor, who may change which clause, and how
an update becomes durable before anyone else hears of it."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from pycrdt import Doc
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, SessionTransaction, joinedload

from drafting.editing import anchors, docs
from drafting.errors import NotFound, PermissionDenied, ValidationFailed
from drafting.realtime import queue_event, queue_update, recommendation_room
from drafting.realtime.protocol import ProtocolError, is_bare_delete_set, read_var_uint
from drafting.services import load
from models import (
    Clause,
    ClauseSnapshot,
    ClauseUpdate,
    Participant,
    Recommendation,
    db,
    may_comment_in,
)
from models.conferences import ROLES_KEY

DOC_PREFIX = "clause:"
LOGGED_KEY = "plenary_logged_updates"
MAY_EDIT_KEY = "plenary_may_edit"


def doc_room(doc_name: str) -> str:
    return f"doc:{doc_name}"


def editor_role(recommendation: Recommendation, participant: Participant) -> str | None:
    """The participant's place in the editor: their group role, "secretariat" (watching), or
    None for anyone else."""
    role = recommendation.group.role_of(participant)
    if role is not None:
        return role.value
    return "secretariat" if participant.is_secretariat else None


def clause_state(clause: Clause, number: str, participant: Participant) -> dict[str, Any]:
    return {
        "id": clause.id, "number": number, "kind": clause.kind.value,
        "status": clause.status.value, "doc": clause.doc_name,
        "editable": clause.can_edit(participant),
    }


def clause_states(recommendation: Recommendation, participant: Participant) -> list[dict[str, Any]]:
    """Every clause's state, with how much discussion waits on it (for its badges)."""
    from drafting.amendments.services import open_counts_by_clause
    from drafting.comments.services import activity_by_clause

    numbers = recommendation.display_numbers()
    activity = activity_by_clause(recommendation)
    amendments = open_counts_by_clause(recommendation)
    states = []
    for clause in recommendation.live_clauses:
        state = clause_state(clause, numbers[clause.id], participant)
        discussed = activity.get(clause.id)
        state.update(open_threads=discussed.open_threads if discussed else 0,
                     comments=discussed.comments if discussed else 0,
                     open_amendments=amendments.get(clause.id, 0))
        states.append(state)
    return states


def join_recommendation(recommendation_id: Any, participant: Participant) -> dict[str, Any]:
    """What an editor needs to start: the participant's role and every clause's document."""
    recommendation = load(Recommendation, recommendation_id)
    if not recommendation.can_view(participant):
        raise NotFound(_("Not found."))
    role = editor_role(recommendation, participant)
    if role is None:
        raise PermissionDenied(_("Only the working group's members can open its editor."))
    return {
        "ok": True,
        "role": role,
        "can_edit": recommendation.can_edit(participant),
        "can_comment": may_comment_in(recommendation, participant),
        "recommendation": {"id": recommendation.id, "title": recommendation.title,
                           "status": recommendation.status.value},
        "version": recommendation.structure_version,
        "clauses": clause_states(recommendation, participant),
    }


def clause_for_doc(doc_name: Any, joined: set[int]) -> Clause:
    """The clause a document name stands for, if it belongs to a recommendation the
    connection has joined; NotFound otherwise (whether it exists elsewhere is not said)."""
    if not isinstance(doc_name, str) or not doc_name.startswith(DOC_PREFIX):
        raise NotFound(_("Unknown document."))
    number = doc_name[len(DOC_PREFIX):]
    if not number.isascii() or not number.isdigit() or len(number) > 18:
        raise NotFound(_("Unknown document."))
    # With its recommendation and group: every permission question about it needs them.
    clause = db.session.get(Clause, int(number), options=[
        joinedload(Clause.recommendation).joinedload(Recommendation.group)])
    if clause is None or clause.deleted_at is not None or clause.recommendation_id not in joined:
        raise NotFound(_("Unknown document."))
    return clause


def _lock_clause_row(clause: Clause) -> None:
    """Serialise writers of one clause across processes (PostgreSQL row lock until commit;
    SQLite serialises every writer anyway, and has no such lock to take)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Clause.id).where(Clause.id == clause.id).with_for_update())


@contextmanager
def _document(clause: Clause, *, writing: bool) -> Iterator[docs.LiveDoc]:
    """The clause's live document, caught up with the database, its lock held.

    Lock order is always the clause's row first, then the document: a writer takes the row
    lock before anything; a reader that finds a clause still without a log (a clause from
    before live editing, or just added with text) lets go of the document to take the row
    lock, so that exactly one process turns that text into the first update. A transaction
    that has already changed the document holds both locks: nothing to catch up."""
    live: docs.LiveDoc | None = docs.held(clause.id)
    if live is not None:
        with live.lock:
            yield live
        return
    if writing:
        _lock_clause_row(clause)
    live = docs.acquire(clause.id)
    try:
        docs.catch_up(live)
        if live.last_update_id == 0 and clause.text:
            if not writing:
                live.lock.release()
                live = None
                _lock_clause_row(clause)
                live = docs.acquire(clause.id)
                docs.catch_up(live)
            if live.last_update_id == 0:
                before = live.doc.get_state()
                live.text += clause.text
                _persist(clause, live, live.doc.get_update(before), author_id=clause.created_by_id)
        yield live
    finally:
        if live is not None:
            live.lock.release()


@dataclass
class _Logged:
    """The updates a transaction adds to one clause's log, written when it commits."""

    clause: Clause
    live: docs.LiveDoc
    #: The last update applied before this transaction's first.
    previous: int
    rows: list[ClauseUpdate] = field(default_factory=list)


def _persist(clause: Clause, live: docs.LiveDoc, update: bytes, *, author_id: int | None) -> None:
    """Add the update to the clause's log. The rows are inserted together when the transaction
    commits (``_write_logged``): a batch of keystrokes is one INSERT, not one each."""
    docs.touched(live)
    row = ClauseUpdate(clause_id=clause.id, author_id=author_id, data=update)
    db.session.add(row)
    logged: dict[int, _Logged] = db.session().info.setdefault(LOGGED_KEY, {})
    entry = logged.get(clause.id)
    if entry is None or entry.live is not live:
        entry = logged[clause.id] = _Logged(clause, live, live.last_update_id)
    entry.rows.append(row)


def _write_logged(session: Session) -> None:
    """Before a commit: insert the logged updates, then bring each document's bookkeeping
    and, past the threshold, its snapshot up to date."""
    logged: dict[int, _Logged] = session.info.pop(LOGGED_KEY, {})
    if not logged:
        return
    session.flush()
    every = current_app.config["YJS_SNAPSHOT_EVERY"]
    row_locks = session.get_bind().dialect.name == "postgresql"
    for entry in logged.values():
        rows = [row for row in entry.rows if row.id is not None and row in session]
        if entry.live.stale or not rows:  # rolled back with a savepoint
            continue
        live = entry.live
        # Another process may have committed updates of this clause after we caught up and
        # before our insert got the database's write lock (SQLite has no row lock;
        # PostgreSQL's, taken before the catch-up, rules this out): apply those too, or this
        # process would skip them for ever.
        if not row_locks:
            docs.apply_rows(live, entry.previous, rows[0].id)
        entry.clause.text = str(live.text)
        live.last_update_id = max(live.last_update_id, rows[-1].id)
        live.since_snapshot += len(rows)
        if live.since_snapshot >= every:
            session.add(ClauseSnapshot(clause_id=entry.clause.id, up_to_update_id=live.last_update_id,
                                       data=live.doc.get_update()))
            live.since_snapshot = 0
    session.flush()


def _forget_answers(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(MAY_EDIT_KEY, None)
        session.info.pop(ROLES_KEY, None)


_hooks_installed = False


def install_session_hooks() -> None:
    global _hooks_installed
    if not _hooks_installed:
        event.listen(Session, "before_commit", _write_logged)
        event.listen(Session, "after_transaction_end", _forget_answers)
        event.listen(Session, "after_soft_rollback",
                     lambda session, previous: None if previous.nested else session.info.pop(LOGGED_KEY, None))
        _hooks_installed = True


def _delete_set(doc: Doc) -> bytes:
    return doc.get_update(doc.get_state())


def _changes(doc: Doc, update: bytes) -> bool:
    """Apply the update; whether it brought anything.

    An update with items is new as far as anyone can cheaply tell: either the document
    integrates them, or it cannot yet (they build on something it has not received) and they
    wait, pending, inside the document, new all the same; they must be logged and passed on,
    or they would be lost. Only an update without items that changes nothing (a delete set
    already known, re-sent after a reconnect) is a no-op."""
    try:
        item_groups, _position = read_var_uint(update, 0)
        if item_groups > 0:
            doc.apply_update(update)
            return True
        if not is_bare_delete_set(update):
            raise ValidationFailed(_("The update could not be read: send Yjs version-1 updates."))
        deletions = _delete_set(doc)
        doc.apply_update(update)
    except (ValueError, ProtocolError):
        raise ValidationFailed(_("The update could not be read.")) from None
    return _delete_set(doc) != deletions


@dataclass(frozen=True)
class Span:
    """Where a range of a clause's text is now, in characters (code points) of ``clause.text``."""

    start: int
    end: int
    text: str


def resolve_anchor(clause: Clause, start: bytes, end: bytes) -> Span:
    """Where the words between two Yjs relative positions are now: positions follow the text
    as people edit, so the span grows, shrinks or becomes empty (its words deleted).
    ValidationFailed when the positions cannot be read or point into another document."""
    (span,) = resolve_anchors(clause, [(start, end)])
    if span is None:
        raise ValidationFailed(_("The commented range could not be read."),
                               fields={"anchor": _("Not a position in this clause.")})
    return span


def resolve_anchors(clause: Clause, ranges: Sequence[tuple[bytes, bytes]]) -> list[Span | None]:
    """``resolve_anchor`` for each (start, end) of ``ranges``, in order, all under one catch-up
    of the clause's document (a clause's threads are listed together); None for a range whose
    positions cannot be read."""
    spans: list[Span | None] = []
    with _document(clause, writing=False) as live:
        text = str(live.text)
        for start, end in ranges:
            try:
                first, last = anchors.resolve(live, start), anchors.resolve(live, end)
            except anchors.NotAPosition:
                spans.append(None)
                continue
            last = max(first, last)
            spans.append(Span(first, last, text[first:last]))
    return spans


def answer_sync_step1(clause: Clause, state_vector: bytes) -> tuple[bytes, bytes]:
    """(sync step 2 for the client, the server's own state vector)."""
    with _document(clause, writing=False) as live:
        try:
            missing = live.doc.get_update(state_vector)
        except ValueError:
            raise ValidationFailed(_("The state vector could not be read.")) from None
        return missing, live.doc.get_state()


def _may_edit(clause: Clause, author: Participant) -> bool:
    """``clause.can_edit(author)``, asked once per transaction: the writer applies a batch of
    keystrokes from the same people to the same clauses in one transaction, whose answer to
    "what is this person's role" cannot change before it ends."""
    info = db.session().info
    answers: dict[tuple[int, int], bool] = info.setdefault(MAY_EDIT_KEY, {})
    key = (clause.id, author.id)
    if key not in answers:
        clause.recommendation.group.remember_roles()
        answers[key] = clause.can_edit(author)
    return answers[key]


def _would_change(live: docs.LiveDoc, update: bytes) -> bool:
    scratch: Doc = Doc()
    scratch.apply_update(live.doc.get_update())
    return _changes(scratch, update)


def apply_update(clause: Clause, author: Participant, update: bytes, *,
                 origin: str | None = None) -> bool:
    """Apply a client's update if the author may change this clause. Durable (flushed into the
    log, committed by the caller) before anyone else is sent it. Returns whether anything
    changed; an update that changes nothing (sent again after a reconnect) is not an error."""
    with _document(clause, writing=True) as live:
        if not _may_edit(clause, author):
            if _would_change(live, update):
                if clause.is_locked:
                    raise PermissionDenied(_("This clause is locked: its wording cannot change now."))
                raise PermissionDenied(_("Your role does not allow you to edit this text."))
            return False
        if not _changes(live.doc, update):
            return False
        docs.touched(live)
        _persist(clause, live, update, author_id=author.id)
    queue_update(clause.doc_name, update, room=doc_room(clause.doc_name), origin=origin)
    return True


def replace_text(clause: Clause, author: Participant, new_text: str) -> None:
    """Change the text on the server, as an edit like any other: the smallest replacement,
    so that what others type at the same time elsewhere in the clause survives."""
    with _document(clause, writing=True) as live:
        current = str(live.text)
        if current == new_text:
            return
        start = 0
        while start < min(len(current), len(new_text)) and current[start] == new_text[start]:
            start += 1
        end_current, end_new = len(current), len(new_text)
        while end_current > start and end_new > start and current[end_current - 1] == new_text[end_new - 1]:
            end_current -= 1
            end_new -= 1
        # pycrdt indexes text by UTF-8 bytes; Python strings by code points.
        byte_start = len(current[:start].encode())
        byte_end = len(current[:end_current].encode())
        before = live.doc.get_state()
        with live.doc.transaction():
            if byte_end > byte_start:
                del live.text[byte_start:byte_end]
            if end_new > start:
                live.text.insert(byte_start, new_text[start:end_new])
        update = live.doc.get_update(before)
        docs.touched(live)
        _persist(clause, live, update, author_id=author.id)
        clause.text = str(live.text)  # now, for whoever reads it before the commit
    queue_update(clause.doc_name, update, room=doc_room(clause.doc_name))


def announce_structure(recommendation: Recommendation) -> None:
    """Tell every open editor of the recommendation that its clause list changed. One message
    serves everyone, so it has no per-person ``editable``: a client may edit a clause when
    its ``join`` said ``can_edit`` and the clause's ``status`` is ``open``."""
    # Atomic in the database (and under its row/write lock): concurrent changes get distinct,
    # increasing versions in the order they commit.
    version = db.session.execute(
        update(Recommendation)
        .where(Recommendation.id == recommendation.id)
        .values(structure_version=Recommendation.structure_version + 1)
        .returning(Recommendation.structure_version)
    ).scalar_one()
    numbers = recommendation.display_numbers()
    clauses = [{"id": c.id, "number": numbers[c.id], "kind": c.kind.value,
                "status": c.status.value, "doc": c.doc_name} for c in recommendation.live_clauses]
    queue_event("clauses_changed", {"recommendation": recommendation.id, "clauses": clauses,
                                    "version": version},
                room=recommendation_room(recommendation.id))
