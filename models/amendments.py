"""Amendments: proposed alternative wordings of a clause, with their sponsors."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow
from models.conferences import GroupRole
from models.participants import Participant, enum_column
from models.recommendations import Clause, Recommendation, RecommendationStatus


class AmendmentKind(enum.StrEnum):
    #: A new wording of the clause.
    REPLACE = "replace"
    #: A new clause, inserted right after the amended one (in the same part).
    INSERT = "insert"
    #: Strike the clause out.
    DELETE = "delete"


class AmendmentStatus(enum.StrEnum):
    PROPOSED = "proposed"
    WITHDRAWN = "withdrawn"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    #: The chair will put it to a vote.
    TO_BE_VOTED = "to_be_voted"
    ADOPTED_BY_VOTE = "adopted_by_vote"
    REJECTED_BY_VOTE = "rejected_by_vote"
    #: Still open when its clause (or its recommendation) was adopted: the adoption closed
    #: it, undecided.
    SUPERSEDED = "superseded"


#: Amendments still waiting to be dealt with.
OPEN_STATUSES = frozenset({AmendmentStatus.PROPOSED, AmendmentStatus.TO_BE_VOTED})


class Amendment(db.Model):  # type: ignore[name-defined]
    __tablename__ = "amendment"
    __table_args__ = (Index("ix_amendment_clause_id_status", "clause_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The clause amended (for an insertion: the clause the new one follows).
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"))
    kind: Mapped[AmendmentKind] = mapped_column(enum_column(AmendmentKind, "amendment_kind"))
    #: The proposed wording (Markdown); empty for a deletion.
    text: Mapped[str] = mapped_column(Text, default="")
    #: The clause's wording the proposal was written against: comparing it with the clause's
    #: current text tells which of the proposal's changes still apply and which conflict.
    base_text: Mapped[str] = mapped_column(Text, default="")
    #: Markdown: why.
    rationale: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AmendmentStatus] = mapped_column(
        enum_column(AmendmentStatus, "amendment_status"), default=AmendmentStatus.PROPOSED
    )
    proposer_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When and by whom it was accepted, rejected or put to a vote, and the reason given.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    #: For an accepted insertion: the clause it created.
    created_clause_id: Mapped[int | None] = mapped_column(
        ForeignKey("clause.id", ondelete="SET NULL")
    )

    clause: Mapped[Clause] = relationship(foreign_keys=[clause_id])
    proposer: Mapped[Participant | None] = relationship(foreign_keys=[proposer_id])
    decided_by: Mapped[Participant | None] = relationship(foreign_keys=[decided_by_id])
    sponsors: Mapped[list[AmendmentSponsor]] = relationship(
        back_populates="amendment", order_by="AmendmentSponsor.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def _drafting(self) -> bool:
        clause = self.clause
        return (clause.deleted_at is None
                and clause.recommendation.status is RecommendationStatus.DRAFTING
                and not clause.recommendation.is_closed)

    def can_view(self, participant: Participant) -> bool:
        return self.clause.recommendation.can_view(participant)

    def can_edit(self, participant: Participant) -> bool:
        """Change or withdraw: the proposer, until the amendment is dealt with."""
        return (self.status is AmendmentStatus.PROPOSED and self.proposer_id == participant.id
                and self._drafting() and self.clause.recommendation.group.can_draft(participant))

    def can_sponsor(self, participant: Participant) -> bool:
        """Co-sponsor: any other chair or member of the group, while it is open."""
        return (self.is_open and self.proposer_id != participant.id and self._drafting()
                and self.clause.recommendation.group.can_draft(participant))

    def can_decide(self, participant: Participant) -> bool:
        """Accept, reject or put to a vote: the group's chair."""
        return (self._drafting()
                and self.clause.recommendation.group.role_of(participant) is GroupRole.CHAIR)


class AmendmentSponsor(db.Model):  # type: ignore[name-defined]
    __tablename__ = "amendment_sponsor"
    __table_args__ = (UniqueConstraint("amendment_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendment.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    amendment: Mapped[Amendment] = relationship(back_populates="sponsors")
    participant: Mapped[Participant] = relationship()


# --- at a glance ---------------------------------------------------------------------------

def open_amendment_counts(recommendation_ids: list[int]) -> dict[int, int]:
    """Recommendation id -> how many of its amendments wait to be dealt with."""
    if not recommendation_ids:
        return {}
    rows = db.session.execute(
        select(Clause.recommendation_id, func.count(Amendment.id))
        .join(Amendment, Amendment.clause_id == Clause.id)
        .where(Clause.recommendation_id.in_(recommendation_ids), Clause.deleted_at.is_(None),
               Amendment.status.in_(OPEN_STATUSES))
        .group_by(Clause.recommendation_id)
    ).tuples()
    return dict(rows.all())


def open_amendments_by_clause(recommendation: Recommendation) -> dict[int, int]:
    """Clause id -> how many of its amendments wait to be dealt with."""
    rows = db.session.execute(
        select(Amendment.clause_id, func.count(Amendment.id))
        .join(Clause, Amendment.clause_id == Clause.id)
        .where(Clause.recommendation_id == recommendation.id,
               Amendment.status.in_(OPEN_STATUSES))
        .group_by(Amendment.clause_id)
    ).tuples()
    return dict(rows.all())
