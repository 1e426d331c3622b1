"""A recommendation's structure: its two parts (preamble, operative part), the order of their
clauses, and telling the open editors when it changes. Shared by the services that change it:
adding, moving, deleting and restoring clauses (``recommendations.services``) and applying an
adopted amendment (``votes.services``)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from drafting.editing.services import announce_structure
from drafting.errors import ValidationFailed
from drafting.services import load
from models import Clause, ClauseKind, Recommendation, db


def lock(recommendation: Recommendation) -> None:
    """Serialise structure changes of one recommendation (PostgreSQL row lock until commit),
    so that two people reordering at once end in one order, the same for everyone."""
    db.session.execute(
        select(Recommendation.id).where(Recommendation.id == recommendation.id).with_for_update()
    )
    db.session.refresh(recommendation)


def part_of(recommendation: Recommendation, kind: ClauseKind) -> list[Clause]:
    """The recommendation's live clauses of one kind (its preamble or its operative part), in order."""
    return [c for c in recommendation.live_clauses if c.kind is kind]


def renumber(ordered: list[Clause]) -> None:
    """Number a part's clauses 1, 2, … in the order given."""
    # Positions are only an order: rewriting them never touches a clause's id.
    for position, clause in enumerate(ordered, start=1):
        clause.position = position


def place_after(recommendation: Recommendation, clause: Clause, after_id: Any) -> None:
    """Put ``clause`` right after the clause ``after_id`` of its part, or first when None."""
    part = [c for c in part_of(recommendation, clause.kind) if c.id != clause.id]
    index = 0
    if after_id is not None:
        after = load(Clause, after_id)
        if after.recommendation_id != recommendation.id or after.deleted_at is not None:
            raise ValidationFailed(_("The clause to place it after is not in this recommendation."),
                                   fields={"after_id": _("Not a clause of this recommendation.")})
        if after.kind is not clause.kind or after.id == clause.id:
            raise ValidationFailed(_("A clause can only follow another clause of the same kind."),
                                   fields={"after_id": _("Different kind.")})
        index = part.index(after) + 1
    part.insert(index, clause)
    renumber(part)


def announce(recommendation: Recommendation) -> None:
    """Tell every open editor of the recommendation its new clause list (after commit)."""
    db.session.flush()
    db.session.refresh(recommendation)
    announce_structure(recommendation)
