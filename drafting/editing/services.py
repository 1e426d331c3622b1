"""The rules of live editing: who may open the editor, who may change which clause, and how
an update becomes durable before anyone else hears of it."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from pycrdt import Doc, Text
from pycrdt import get_update as get_missing
from sqlalchemy import update
from sqlalchemy.orm import Session, SessionTransaction, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from drafting.editing import attribution, docs, positions
from drafting.editing.diff import hunks
from drafting.errors import (
    Conflict,
    DomainError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TooLarge,
    Unavailable,
    ValidationFailed,
)
from drafting.realtime import queue_event, queue_update, recommendation_room, yupdate
from drafting.realtime.protocol import ProtocolError
from drafting.services import closed_message, load
from models import (
    Clause,
    ClauseSnapshot,
    ClauseUpdate,
    Participant,
    Recommendation,
    WorkingGroup,
    activity_by_clause,
    db,
    may_comment_in,
    open_amendments_by_clause,
)
from models.conferences import ROLES_KEY
from models.votes import VOTERS_KEY

T = TypeVar("T")

DOC_PREFIX = "clause:"
LOGGED_KEY = "plenary_logged_updates"
WRITTEN_KEY = "plenary_written_updates"
RESET_KEY = "plenary_reset_docs"
MAY_EDIT_KEY = "plenary_may_edit"


def max_clause_length() -> int:
    """The longest a clause may be, in characters (``CLAUSE_MAX_LENGTH``): typed, pasted,
    sent through the API or proposed in an amendment alike."""
    return int(current_app.config["CLAUSE_MAX_LENGTH"])


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
        "ad_referendum": clause.ad_referendum, "editable": clause.can_edit(participant),
    }


def clause_states(recommendation: Recommendation, participant: Participant) -> list[dict[str, Any]]:
    """Every clause's state, with how much discussion waits on it (for its badges)."""
    numbers = recommendation.display_numbers()
    activity = activity_by_clause(recommendation)
    amendments = open_amendments_by_clause(recommendation)
    states = []
    for clause in recommendation.live_clauses:
        state = clause_state(clause, numbers[clause.id], participant)
        discussed = activity.get(clause.id)
        state.update(open_threads=discussed.open_threads if discussed else 0,
                     comments=discussed.comments if discussed else 0,
                     open_amendments=amendments.get(clause.id, 0))
        states.append(state)
    return states


def join_recommendation(recommendation_id: Any, participant: Participant) -> tuple[dict[str, Any], bool]:
    """What an editor needs to start: the participant's role, every clause's document and,
    if they may draft there, a Yjs client id of their own (``attribution``); and whether
    their role lets them draft there (their ``Grant``, kept by the connection)."""
    recommendation = load(Recommendation, recommendation_id)
    if not recommendation.can_view(participant):
        raise NotFound(_("Not found."))
    role = editor_role(recommendation, participant)
    if role is None:
        raise PermissionDenied(_("Only the working group's members can open its editor."))
    drafts = recommendation.group.can_draft(participant)
    return {
        "ok": True,
        "role": role,
        "can_edit": recommendation.can_edit(participant),
        "can_comment": may_comment_in(recommendation, participant),
        "recommendation": {"id": recommendation.id, "title": recommendation.title,
                           "status": recommendation.status.value},
        "version": recommendation.structure_version,
        "clauses": clause_states(recommendation, participant),
        "client": attribution.register(participant, recommendation) if drafts else None,
    }, drafts


def clause_for_doc(doc_name: Any, joined: set[int], *, deleted_ok: bool = False) -> Clause:
    """The clause a document name stands for, if it belongs to a recommendation the
    connection has joined; NotFound otherwise (whether it exists elsewhere is not said)."""
    # With its recommendation and group: every permission question about it needs them.
    clause = db.session.get(Clause, clause_id_of(doc_name), options=[
        joinedload(Clause.recommendation).joinedload(Recommendation.group)
        .joinedload(WorkingGroup.conference)])
    if clause is None or clause.recommendation_id not in joined:
        raise NotFound(_("Unknown document."))
    if clause.deleted_at is not None and not deleted_ok:
        raise _deleted()
    return clause


def _deleted() -> NotFound:
    return NotFound(_("This clause has been deleted: what was typed in it after that was not saved."))


def _lock_clause_row(clause: Clause) -> None:
    """Serialise writers of one clause across processes (PostgreSQL row lock until commit;
    SQLite serialises every writer anyway, and has no such lock to take), and read its status
    again under the lock: a vote or a lock committed while this transaction waited for it
    must be what the permission check sees, not what was read before."""
    if clause in db.session.dirty and db.session.is_modified(clause):
        # This transaction changed the clause itself (it holds the row already).
        return
    db.session.refresh(clause, ["status", "deleted_at"],
                       with_for_update=db.session.get_bind().dialect.name == "postgresql")


@contextmanager
def _document(clause: Clause, *, writing: bool, hold: bool = True) -> Iterator[docs.LiveDoc]:
    """The clause's live document, caught up with the database, its lock held.

    Writing, the document is first held (``docs.hold``: nothing more is accepted into it and
    the writer finishes what was), then the clause's row is locked, then the document's lock
    taken: one order for every transaction, and the writer never waits for a holder (only the
    writer itself, re-applying an update, passes ``hold=False``). A reader that finds a
    clause still without a log (a clause from before live editing, or just added with text)
    lets go of the document to take the row lock, so that exactly one process turns that
    text into the first update. A transaction that has already changed the document holds
    both locks: nothing to catch up."""
    live: docs.LiveDoc | None = docs.held(clause.id)
    if live is not None:
        with live.lock:
            yield live
        return
    if writing and hold:
        _hold(clause.id)
    if writing:
        _lock_clause_row(clause)
    live = docs.acquire(clause.id)
    while writing and hold and not docs.holding(clause.id):  # evicted meanwhile: hold the new one
        live.lock.release()
        _hold(clause.id)
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
                first = live.doc.get_update(before)
                live.edited(first)
                _persist(clause, live, first, author_id=clause.created_by_id)
        yield live
    finally:
        if live is not None:
            live.lock.release()


def _hold(clause_id: int) -> None:
    timeout = current_app.config["YJS_WRITE_TIMEOUT_MS"] / 1000
    while not docs.holding(clause_id):
        if not docs.hold(docs.live_doc(clause_id), timeout):
            raise Unavailable(_("The latest edits of this clause could not be saved in time, "
                                "so nothing was changed: try again."))


@dataclass
class _Logged:
    """The updates a transaction adds to one clause's log, written when it commits."""

    clause: Clause
    live: docs.LiveDoc
    #: The last update applied before this transaction's first.
    previous: int
    rows: list[ClauseUpdate] = field(default_factory=list)


def _persist(clause: Clause, live: docs.LiveDoc, update: bytes, *, author_id: int | None,
             handed_in_by_id: int | None = None) -> None:
    """Add the update to the clause's log. The rows are inserted together when the transaction
    commits (``write_logged_updates``): a batch of keystrokes is one INSERT, not one each."""
    docs.touched(live)
    row = ClauseUpdate(clause_id=clause.id, author_id=author_id, handed_in_by_id=handed_in_by_id,
                       data=update)
    db.session.add(row)
    logged: dict[int, _Logged] = db.session().info.setdefault(LOGGED_KEY, {})
    entry = logged.get(clause.id)
    if entry is None or entry.live is not live:
        entry = logged[clause.id] = _Logged(clause, live, live.last_update_id)
    entry.rows.append(row)


def write_logged_updates(session: Session) -> None:
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


def forget_permission_answers(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(MAY_EDIT_KEY, None)
        session.info.pop(ROLES_KEY, None)
        session.info.pop(VOTERS_KEY, None)


def drop_logged_updates(session: Session, previous: SessionTransaction) -> None:
    """The transaction rolled back (not a savepoint: its rows are dropped with it)."""
    if not previous.nested:
        session.info.pop(LOGGED_KEY, None)


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
                first, last = positions.resolve(live, start), positions.resolve(live, end)
            except positions.NotAPosition:
                spans.append(None)
                continue
            last = max(first, last)
            spans.append(Span(first, last, text[first:last]))
    return spans


def answer_sync_step1(clause: Clause, state_vector: bytes,
                      relayed_lately: Sequence[bytes] = ()) -> tuple[bytes, bytes]:
    """(sync step 2 for the client, the server's own state vector). ``relayed_lately``: what
    other processes relayed and this one may not have read from the log yet
    (``drafting.editing.relayed``); the answer counts it as the document's, so that the client
    gets it, and is not asked to hand it back (it would be stored a second time)."""
    with _document(clause, writing=False) as live:
        document = live.doc
        if relayed_lately:
            document, _text = docs.new_doc()
            document.apply_update(live.doc.get_update())
            for update in relayed_lately:
                document.apply_update(update)
        try:
            missing = document.get_update(state_vector)
        except ValueError:
            raise ValidationFailed(_("The state vector could not be read.")) from None
        return missing, document.get_state()


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


#: Formatting attributes the editor sets on text (none yet: clause text is plain Markdown).
EDITOR_FORMATS: frozenset[str] = frozenset()


class UpdateBehind(Conflict):
    """The update builds on changes the server does not have (refused, or still on their
    way). Nothing of it is applied or stored; the sender is sent the server's state vector
    (``state``, a sync step 1), and its answer brings everything that was missing."""

    def __init__(self, message: str, *, state: bytes) -> None:
        super().__init__(message)
        self.state = state


def _takes(decoded: yupdate.Update, live: docs.LiveDoc) -> bool:
    """Whether the document can take the update now (``yupdate.check_update``): False when it
    builds on changes the document lacks; ValidationFailed for one the editor never makes."""
    try:
        yupdate.check_update(decoded, live.known(), formats=EDITOR_FORMATS)
    except yupdate.Refused:
        raise ValidationFailed(_("This change cannot be made to a clause: only text can be "
                                 "typed into it.")) from None
    except yupdate.Pending:
        return False
    return True


def _behind(live: docs.LiveDoc) -> UpdateBehind:
    return UpdateBehind(_("This change builds on others the server has not received: they are "
                          "being sent again."), state=live.doc.get_state())


def _read_update(update: bytes) -> yupdate.Update:
    try:
        return yupdate.read_update(update)
    except ProtocolError:
        raise ValidationFailed(_("The update could not be read: send Yjs version-1 updates.")) from None


def _check_length(live: docs.LiveDoc, update: bytes, decoded: yupdate.Update) -> None:
    """Refuse an update that would make the clause longer than ``CLAUSE_MAX_LENGTH`` (an
    update that shortens a clause already too long is taken)."""
    limit = max_clause_length()
    # pycrdt's length is in UTF-8 bytes, never fewer than the characters: usually enough.
    if len(live.text) + len(decoded.inserted_text) <= limit:
        return
    scratch: Doc = Doc()
    scratch_text = scratch.get(docs.TEXT_NAME, type=Text)
    scratch.apply_update(live.doc.get_update())
    before = len(str(scratch_text))
    scratch.apply_update(update)
    after = len(str(scratch_text))
    if after > limit and after > before:
        raise TooLarge(_("A clause can hold at most %(limit)d characters: this change would "
                         "make it %(length)d long.", limit=limit, length=after))


def _only_what_is_new(update: bytes, decoded: yupdate.Update, live: docs.LiveDoc,
                      deletions: dict[int, list[tuple[int, int]]]) -> bytes:
    """The part of ``update`` the document lacks: what is logged and relayed, so that an
    update handed in again (a resend, a replica's sync) is stored once."""
    known = live.known()
    all_new = all(s.clock >= known.state.get(s.client, 0) for s in decoded.structs if s.kind != yupdate.SKIP)
    if all_new and deletions == {c: yupdate.normalise_ranges(r) for c, r in decoded.deletions.items()}:
        return update
    items = get_missing(update, live.doc.get_state())
    return items[:yupdate.read_update(items).delete_set_offset] + yupdate.encode_delete_set(deletions)


def apply_update(clause: Clause, author: Participant, update: bytes, *,
                 origin: str | None = None, hold: bool = True) -> bool:
    """Apply an update as a transaction of its own kind: if the author may change this
    clause and it is one the editor makes (``yupdate.check_update``). Durable (flushed into
    the log, committed by the caller) before anyone else is sent it. (An editor's keystroke
    takes the faster way: ``accept_update``, then the writer.) Returns whether anything
    changed; an update that changes nothing (sent again after a reconnect) is not an error."""
    decoded = _read_update(update)
    with _document(clause, writing=True, hold=hold) as live:
        if clause.deleted_at is not None:  # deleted while this update waited for the document
            raise _deleted()
        if not _takes(decoded, live):
            raise _behind(live)
        known = live.known()
        deletions = yupdate.new_deletions(decoded, known)
        clients = yupdate.new_clients(decoded, known)
        if not clients and not deletions:
            return False
        if not _may_edit(clause, author):
            closed_at = clause.recommendation.group.conference.finalised_at
            if closed_at is not None:
                raise PermissionDenied(closed_message(closed_at))
            if clause.is_locked:
                raise PermissionDenied(_("This clause is locked: its wording cannot change now."))
            raise PermissionDenied(_("Your role does not allow you to edit this text."))
        _check_length(live, update, decoded)
        stored = _only_what_is_new(update, decoded, live, deletions)
        live.apply(update, decoded)
        authors = attribution.owners(clause.recommendation_id, clients)
        for part in attribution.parts(stored, clients, authors, author.id):
            _persist(clause, live, part.data, author_id=part.author_id,
                     handed_in_by_id=part.handed_in_by_id)
    queue_update(clause.doc_name, stored, room=doc_room(clause.doc_name), origin=origin)
    return True


# --- live editing: accepted from memory, written by the writer -----------------------------

@dataclass
class Grant:
    """What a connection may do in the editor, resolved when it joins each recommendation
    (``join_recommendation``) and kept for as long as it is connected: whose it is, and in
    which recommendations its group role lets it draft. A change of role ends the
    connection (``queue_sockets_ended``): it joins again and is granted anew."""

    participant_id: int
    #: Recommendation id -> whether the participant's role lets them draft there.
    drafts: dict[int, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    """An update taken into a clause's document in memory, on its way to the log."""

    live: docs.LiveDoc
    doc: str
    recommendation_id: int
    #: What is new in it, to relay and store (None: nothing; it was here already).
    stored: bytes | None
    #: The document's count of accepted updates once it was taken: it is durable when the
    #: writer has settled that many.
    seq: int
    #: The clause's text with it, which the clause's row takes when it is written.
    text: str = ""
    #: The Yjs clients of its new items: whose they are (``attribution``).
    clients: frozenset[int] = frozenset()


def clause_id_of(doc_name: Any) -> int:
    """The clause id a document name stands for (NotFound for anything else)."""
    if not isinstance(doc_name, str) or not doc_name.startswith(DOC_PREFIX):
        raise NotFound(_("Unknown document."))
    number = doc_name[len(DOC_PREFIX):]
    if not number.isascii() or not number.isdigit() or len(number) > 18:
        raise NotFound(_("Unknown document."))
    return int(number)


def accept_update(grant: Grant, doc_name: Any, update: bytes,
                  hand_over: Callable[[Accepted], T]) -> tuple[Accepted, T | None]:
    """Take an editor's update into the clause's document if the grant and the clause's gate
    allow it and it is one the editor makes (``yupdate.check_update``): checked from memory,
    so that it can be relayed at once. What is new in it is handed over (``hand_over``, to
    the writer: ``drafting.editing.writer``) before the document is let go, so that the
    writer gets a document's updates in the order they were taken; its answer is returned
    beside the update (None when there was nothing new). It is durable once the writer has
    settled ``Accepted.seq`` updates of the document; the writer re-checks the grant and the
    clause in the database. Reads the database only for a document or gate not yet in
    memory, or an update that builds on edits another process wrote."""
    clause_id = clause_id_of(doc_name)
    decoded = _read_update(update)
    timeout = current_app.config["YJS_WRITE_TIMEOUT_MS"] / 1000
    while True:
        live = docs.acquire(clause_id)
        try:
            held, epoch = live.holds > 0, live.gate_epoch
            if not held and live.gate is not None and live.loaded:
                accepted = _accept(live, live.gate, grant, doc_name, update, decoded)
                return accepted, None if accepted.stored is None else hand_over(accepted)
        finally:
            live.lock.release()
        if held:  # a transaction is acting on the stored text: wait for its end
            if not docs.wait_unheld(live, timeout):
                raise Unavailable(_("Your edit could not be saved yet: it will be sent again."))
        else:
            _load_gate(clause_id, grant, epoch)


def _load_gate(clause_id: int, grant: Grant, epoch: int) -> None:
    """Read the clause's document and gate from the database into memory (the caller's
    transaction, which it ends). A gate forgotten meanwhile (``epoch``) is not installed."""
    clause = clause_for_doc(f"{DOC_PREFIX}{clause_id}", set(grant.drafts), deleted_ok=True)
    with _document(clause, writing=False) as live:
        if live.gate_epoch == epoch:
            live.gate = docs.Gate.of(clause)
    db.session.commit()


def _accept(live: docs.LiveDoc, gate: docs.Gate, grant: Grant, doc_name: str, update: bytes,
            decoded: yupdate.Update) -> Accepted:
    if gate.recommendation_id not in grant.drafts:
        raise NotFound(_("Unknown document."))
    if gate.deleted:
        raise _deleted()
    if not _takes(decoded, live):
        # It may build on edits another process has written: read them, and try again.
        if not docs.apply_rows(live, live.last_update_id, None):
            raise _behind(live)
        db.session.commit()
        return _accept(live, gate, grant, doc_name, update, decoded)
    known = live.known()
    deletions = yupdate.new_deletions(decoded, known)
    clients = yupdate.new_clients(decoded, known)
    if not clients and not deletions:
        return Accepted(live, doc_name, gate.recommendation_id, None, live.accepted)
    if gate.closed_at is not None:
        raise PermissionDenied(closed_message(gate.closed_at))
    if not gate.writable:
        raise PermissionDenied(_("This clause is locked: its wording cannot change now."))
    if not grant.drafts[gate.recommendation_id]:
        raise PermissionDenied(_("Your role does not allow you to edit this text."))
    _check_length(live, update, decoded)
    stored = _only_what_is_new(update, decoded, live, deletions)
    live.apply(update, decoded)
    live.accepted += 1
    return Accepted(live, doc_name, gate.recommendation_id, stored, live.accepted, str(live.text),
                    clients)


@dataclass
class Written:
    """One accepted update as the writer finds it: who sent it (None: their session has
    ended) and, once written, the refusal if it was refused after all."""

    accepted: Accepted
    author: Participant | None
    locale: str = "en"
    error: DomainError | None = None


def write_accepted(batch: Sequence[Written]) -> None:
    """Write accepted updates to the clause log (the caller commits), re-checking in the
    database, under each clause's row lock, what ``accept_update`` checked from memory: an
    update that slipped through (a lock, a deletion or a revocation committed a moment before
    every process heard of it) is not stored, its sender is refused, and its clause is reset
    on every editor. An update whose document was evicted since it was accepted is applied
    again, under every rule, to the document rebuilt from the log."""
    by_clause: dict[int, list[Written]] = {}
    for each in batch:
        by_clause.setdefault(each.accepted.live.clause_id, []).append(each)
    row_locks = db.session.get_bind().dialect.name == "postgresql"
    for clause_id in sorted(by_clause):
        entries = by_clause[clause_id]
        clause = db.session.get(Clause, clause_id, options=[
            joinedload(Clause.recommendation).joinedload(Recommendation.group)
        .joinedload(WorkingGroup.conference)])
        if clause is None:  # gone with its recommendation
            for each in entries:
                each.error = NotFound(_("Unknown document."))
            continue
        if row_locks:
            _lock_clause_row(clause)  # and its status read under the lock
        _write_clause(clause, entries, read_again=not row_locks)


def _write_clause(clause: Clause, entries: list[Written], *, read_again: bool) -> None:
    rows: list[tuple[Written, ClauseUpdate]] = []
    live_entries = [each for each in entries if not each.accepted.live.stale]
    authors = attribution.owners(clause.recommendation_id,
                                 {c for each in live_entries for c in each.accepted.clients})
    for each in live_entries:
        if each.author is None:  # refused below: stored under nobody meanwhile
            parts = [attribution.Part(None, None, each.accepted.stored or b"")]
        else:
            parts = attribution.parts(each.accepted.stored or b"", each.accepted.clients, authors,
                                      each.author.id)
        for part in parts:
            row = ClauseUpdate(clause_id=clause.id, author_id=part.author_id,
                               handed_in_by_id=part.handed_in_by_id, data=part.data)
            db.session.add(row)
            rows.append((each, row))
    if rows:
        db.session.flush()
        if read_again:  # SQLite: only now, with the write lock, is what it reads the latest
            db.session.refresh(clause, ["status", "deleted_at"])
    kept: list[tuple[Written, ClauseUpdate]] = []
    for each, row in rows:
        error = _refusal(clause, each)
        if error is None and not each.accepted.live.stale:
            kept.append((each, row))
            continue
        db.session.delete(row)
        if error is not None:
            each.error = error
            _reset(clause, each.accepted.live, error)
    # Gone before anything reads the log again in this transaction: a document rebuilt from
    # it now must not take in what is not being written.
    db.session.flush()
    for each in entries:
        if each.accepted.live.stale and each.error is None:
            _apply_again(clause, each)
    if kept:
        _bring_up_to_date(clause, kept)
    db.session().info.pop(RESET_KEY, None)


def _refusal(clause: Clause, each: Written) -> DomainError | None:
    if each.author is not None and clause.deleted_at is None and _may_edit(clause, each.author):
        return None
    # Said in the sender's language (switched only for a refusal: it costs on every update).
    with force_locale(each.locale):
        if each.author is None:
            return NotAuthenticated(_("Your session has ended. Sign in again."))
        if clause.deleted_at is not None:
            return _deleted()
        closed_at = clause.recommendation.group.conference.finalised_at
        if closed_at is not None:
            return PermissionDenied(closed_message(closed_at))
        if not clause.is_writable:
            return PermissionDenied(_("This clause is locked: its wording cannot change now."))
        return PermissionDenied(_("Your role does not allow you to edit this text."))


def _reset(clause: Clause, live: docs.LiveDoc, error: DomainError) -> None:
    """An update was refused after it was relayed: drop the clause's document (rebuilt from
    the log when next needed) and tell every editor, once, to drop its copy too and sync
    afresh (its ``message`` is for the people whose words these were)."""
    docs.evict(live)
    reset: set[int] = db.session().info.setdefault(RESET_KEY, set())
    if clause.id in reset:
        return
    reset.add(clause.id)
    queue_event("reset", {"doc": clause.doc_name, "code": error.code, "message": error.message},
                room=doc_room(clause.doc_name))


def _apply_again(clause: Clause, each: Written) -> None:
    """An update accepted into a document since evicted: under every rule, against the
    document rebuilt from the log (the writer's own transaction: no hold)."""
    if each.author is None:
        each.error = _refusal(clause, each)
        return
    try:
        # Its checks all come before anything is written: a refusal leaves nothing to undo.
        with force_locale(each.locale):
            apply_update(clause, each.author, each.accepted.stored or b"", hold=False)
    except DomainError as error:
        each.error = error
        _reset(clause, each.accepted.live, error)


def _bring_up_to_date(clause: Clause, kept: list[tuple[Written, ClauseUpdate]]) -> None:
    """The clause's text follows its last written update; the document learns of rows other
    processes wrote meanwhile and, past the threshold and with nothing else on its way to
    the log, is snapshotted. Its row bookkeeping follows once the transaction commits."""
    last, row = kept[-1]
    live = last.accepted.live
    with live.lock:
        # Rows other processes wrote since this one last read the log: theirs came first
        # (PostgreSQL: they held the row lock this transaction now has; SQLite: the write
        # lock), and the document must have them before its bookkeeping passes them by.
        docs.apply_rows(live, live.last_update_id, kept[0][1].id)
        quiet = live.accepted == last.accepted.seq
        if last.accepted.seq > live.rows_read_at:  # its text has every row read so far
            clause.text = last.accepted.text
        elif quiet:
            clause.text = str(live.text)
        # else the text with those rows and without what is still on its way is not at hand
        # (read now, or by an earlier batch after this update was accepted): this process's
        # next batch, a moment away, writes it.
        every = current_app.config["YJS_SNAPSHOT_EVERY"]
        snapshot = live.since_snapshot + len(kept) >= every
        if snapshot:
            # A snapshot holds only what is durable: with more on its way to the log, it is
            # built from the log itself.
            data = live.doc.get_update() if quiet else docs.stored_state(clause.id, row.id)
            db.session.add(ClauseSnapshot(clause_id=clause.id, up_to_update_id=row.id, data=data))
    db.session().info.setdefault(WRITTEN_KEY, []).append((live, row.id, len(kept), snapshot))


def written(session: Session) -> None:
    """After the writer's commit: each document's log bookkeeping follows what it wrote."""
    for live, row_id, count, snapshot in session.info.pop(WRITTEN_KEY, []):
        with live.lock:
            live.last_update_id = max(live.last_update_id, row_id)
            live.since_snapshot = 0 if snapshot else live.since_snapshot + count


def drop_written(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(WRITTEN_KEY, None)


def hold_text(clause: Clause) -> str:
    """The clause's text as it is now, its document held until the transaction ends: nothing
    typed meanwhile can slip in between what the caller decides from the text (a vote's
    frozen wording, an amendment's rebase) and the commit. ``clause.text`` is brought up to
    date too."""
    with _document(clause, writing=True) as live:
        docs.touched(live)
        text = str(live.text)
    set_committed_value(clause, "text", text)
    return text


def replace_text(clause: Clause, author: Participant, new_text: str) -> None:
    """Change the text on the server, as an edit like any other, against the document as it
    is now: word by word, only the words that differ are deleted and inserted, so that what
    others type at the same time elsewhere in the clause survives."""
    with _document(clause, writing=True) as live:
        current = str(live.text)
        if current == new_text:
            return
        before = live.doc.get_state()
        with live.doc.transaction():
            # From the end, so that the offsets of the hunks still to do stay true.
            for start, end, replacement in reversed(hunks(current, new_text)):
                first, last = positions.utf8_offset(current, start), positions.utf8_offset(current, end)
                if last > first:
                    del live.text[first:last]
                if replacement:
                    live.text.insert(first, replacement)
        update = live.doc.get_update(before)
        live.edited(update)
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
                "status": c.status.value, "doc": c.doc_name, "ad_referendum": c.ad_referendum}
               for c in recommendation.live_clauses]
    queue_event("clauses_changed", {"recommendation": recommendation.id, "clauses": clauses,
                                    "version": version},
                room=recommendation_room(recommendation.id))
