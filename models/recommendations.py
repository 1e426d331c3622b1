"""Recommendations and their clauses."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow
from models.conferences import GroupRole, WorkingGroup
from models.participants import Participant, enum_column


class RecommendationStatus(enum.StrEnum):
    DRAFTING = "drafting"
    ADOPTED = "adopted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ClauseKind(enum.StrEnum):
    #: "Recognising that ...": context, printed in italics before the operative part.
    PREAMBULAR = "preambular"
    #: "Recommends that ...": what is actually asked, numbered 1., 2., ...
    OPERATIVE = "operative"


class Recommendation(db.Model):  # type: ignore[name-defined]
    __tablename__ = "recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_group.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[RecommendationStatus] = mapped_column(
        enum_column(RecommendationStatus, "recommendation_status"),
        default=RecommendationStatus.DRAFTING,
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    group: Mapped[WorkingGroup] = relationship(back_populates="recommendations")
    created_by: Mapped[Participant | None] = relationship()
    clauses: Mapped[list[Clause]] = relationship(
        back_populates="recommendation",
        order_by="Clause.position, Clause.id",
        cascade="all, delete-orphan",
    )

    @property
    def live_clauses(self) -> list[Clause]:
        """Clauses in reading order: preambular first, then operative, each in its position."""
        live = [clause for clause in self.clauses if clause.deleted_at is None]
        return sorted(live, key=lambda c: (c.kind is not ClauseKind.PREAMBULAR, c.position, c.id))

    def display_numbers(self) -> dict[int, str]:
        """Clause id -> display number, recomputed from the order (ids never are)."""
        numbers: dict[int, str] = {}
        counters = {ClauseKind.PREAMBULAR: 0, ClauseKind.OPERATIVE: 0}
        for clause in self.live_clauses:
            counters[clause.kind] += 1
            n = counters[clause.kind]
            numbers[clause.id] = f"PP{n}" if clause.kind is ClauseKind.PREAMBULAR else f"{n}."
        return numbers

    def can_view(self, participant: Participant) -> bool:
        """Drafts belong to their group (and the secretariat); adopted texts to the conference."""
        if participant.is_secretariat or self.group.role_of(participant) is not None:
            return True
        return self.status is RecommendationStatus.ADOPTED and self.group.can_view(participant)

    def can_edit(self, participant: Participant) -> bool:
        """Write the text: drafting members and chairs, while the recommendation is a draft."""
        return self.status is RecommendationStatus.DRAFTING and self.group.can_draft(participant)

    def can_manage(self, participant: Participant) -> bool:
        """Rename or withdraw: the group's chair, or the secretariat."""
        return participant.is_secretariat or self.group.role_of(participant) is GroupRole.CHAIR


class Clause(db.Model):  # type: ignore[name-defined]
    """One paragraph. Its id is stable for ever; its display number is derived from the order."""

    __tablename__ = "clause"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ClauseKind] = mapped_column(enum_column(ClauseKind, "clause_kind"))
    #: Sort key within its kind; gaps are fine, only the order matters.
    position: Mapped[int] = mapped_column(default=0)
    #: Markdown text of the clause.
    text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    #: Soft delete: the clause leaves the text but stays in history, and its id is never reused.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    recommendation: Mapped[Recommendation] = relationship(back_populates="clauses")

    def can_edit(self, participant: Participant) -> bool:
        return self.deleted_at is None and self.recommendation.can_edit(participant)
