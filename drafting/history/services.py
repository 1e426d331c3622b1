"""A clause's history, read from its update log: who changed it when, what it said at any
point, and going back to an earlier wording (as a new edit, so the history keeps both)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from drafting.editing import docs
from drafting.editing.diff import Piece, word_diff
from drafting.errors import NotFound
from drafting.recommendations.schemas import ClausePatch
from drafting.recommendations.services import check_can_edit, update_clause
from models import Clause, ClauseSnapshot, ClauseUpdate, Participant, db

#: Edits by one person with pauses shorter than this are one editing session.
SESSION_GAP = timedelta(minutes=5)


@dataclass
class EditingSession:
    author: Participant | None
    started_at: datetime
    ended_at: datetime
    first_update_id: int
    last_update_id: int
    updates: int
    #: Who handed the author's edits in, when someone else's editor did (after a crash that
    #: lost them before they were written: ``drafting.editing.attribution``).
    handed_in_by: Participant | None = None


def editing_sessions(clause: Clause) -> list[EditingSession]:
    """The log grouped into sessions, newest first."""
    rows = db.session.execute(
        select(ClauseUpdate.id, ClauseUpdate.author_id, ClauseUpdate.handed_in_by_id,
               ClauseUpdate.created_at)
        .where(ClauseUpdate.clause_id == clause.id)
        .order_by(ClauseUpdate.id)
    ).all()
    sessions: list[EditingSession] = []
    people: dict[int, Participant | None] = {}

    def person(participant_id: int | None) -> Participant | None:
        if participant_id is None:
            return None
        if participant_id not in people:
            people[participant_id] = db.session.get(Participant, participant_id)
        return people[participant_id]

    last_key: tuple[int | None, int | None] | None = None
    for row_id, author_id, handed_in_by_id, created_at in rows:
        last = sessions[-1] if sessions else None
        key = (author_id, handed_in_by_id)
        if last is not None and key == last_key and created_at - last.ended_at <= SESSION_GAP:
            last.ended_at, last.last_update_id = created_at, row_id
            last.updates += 1
            continue
        sessions.append(EditingSession(person(author_id), created_at, created_at, row_id, row_id, 1,
                                       person(handed_in_by_id)))
        last_key = key
    return list(reversed(sessions))


def text_at(clause: Clause, update_id: Any) -> str:
    """The clause's text just after the logged update ``update_id`` (of this clause)."""
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 < update_id < 2**63:
        raise NotFound(_("No such point in this clause's history."))
    exists = db.session.scalar(
        select(ClauseUpdate.id).where(ClauseUpdate.id == update_id)
        .where(ClauseUpdate.clause_id == clause.id)
    )
    if exists is None:
        raise NotFound(_("No such point in this clause's history."))
    live = docs.LiveDoc(clause.id, *docs.new_doc())
    snapshot = db.session.scalar(
        select(ClauseSnapshot).where(ClauseSnapshot.clause_id == clause.id)
        .where(ClauseSnapshot.up_to_update_id <= update_id)
        .order_by(ClauseSnapshot.up_to_update_id.desc()).limit(1)
    )
    if snapshot is not None:
        live.doc.apply_update(snapshot.data)
        live.last_update_id = snapshot.up_to_update_id
    docs.apply_rows(live, live.last_update_id, update_id + 1)
    return str(live.text)


def compare(clause: Clause, from_id: Any, to_id: Any) -> list[Piece]:
    """Word-level differences between two points of the history (``to`` may be the present)."""
    before = text_at(clause, from_id)
    after = clause.text if to_id is None else text_at(clause, to_id)
    return word_diff(before, after)


def restore_wording(actor: Participant, clause: Clause, update_id: Any) -> None:
    """Make the wording of an earlier point the current one, as a new edit by ``actor``."""
    check_can_edit(clause.recommendation, actor)
    update_clause(actor, clause, ClausePatch(text=text_at(clause, update_id)))
