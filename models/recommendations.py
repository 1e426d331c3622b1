"""Recommendations and their clauses."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow
from models.conferences import GroupRole, Membership, WorkingGroup
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


class ClauseStatus(enum.StrEnum):
    OPEN = "open"
    #: A vote on the clause is open: its wording is frozen until the vote ends.
    LOCKED = "locked"
    #: The group adopted the wording; it no longer changes.
    ADOPTED = "adopted"


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
    #: Bumped by every change of the clause list, so that editors can tell which of two
    #: announcements of concurrent changes is the newer one.
    structure_version: Mapped[int] = mapped_column(default=0)

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

    @property
    def is_closed(self) -> bool:
        """Its conference is closed (finalised): nothing of it changes any more."""
        return self.group.conference.is_closed

    def can_edit(self, participant: Participant) -> bool:
        """Write the text: drafting members and chairs, while the recommendation is a draft
        of a conference still open."""
        return (self.status is RecommendationStatus.DRAFTING and not self.is_closed
                and self.group.can_draft(participant))

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
    status: Mapped[ClauseStatus] = mapped_column(
        enum_column(ClauseStatus, "clause_status"), default=ClauseStatus.OPEN
    )
    #: Agreed ad referendum: the negotiators agree on the wording subject to confirmation by
    #: their capitals (set and cleared by the group's chair; not part of the text's history).
    ad_referendum: Mapped[bool] = mapped_column(default=False, server_default=false())

    recommendation: Mapped[Recommendation] = relationship(back_populates="clauses")

    @property
    def doc_name(self) -> str:
        """The name of the clause's Yjs document on the wire."""
        return f"clause:{self.id}"

    @property
    def is_locked(self) -> bool:
        return self.status is not ClauseStatus.OPEN

    @property
    def is_writable(self) -> bool:
        """Its wording may change at all: not deleted, not locked, its recommendation a draft,
        its conference open (the part of ``can_edit`` that is the same for everyone, which
        live editing keeps in memory and every process is told of when it changes)."""
        return (self.deleted_at is None and not self.is_locked
                and self.recommendation.status is RecommendationStatus.DRAFTING
                and not self.recommendation.is_closed)

    def can_edit(self, participant: Participant) -> bool:
        return self.is_writable and self.recommendation.group.can_draft(participant)

    def can_mark_ad_referendum(self, participant: Participant) -> bool:
        """Say the wording is agreed ad referendum, or no longer: the chair of the group."""
        return self.recommendation.group.role_of(participant) is GroupRole.CHAIR

    def can_lock(self, participant: Participant) -> bool:
        """Freeze or unfreeze the wording (before a vote): the chair of the group."""
        return self.recommendation.group.role_of(participant) is GroupRole.CHAIR


class ClauseUpdate(db.Model):  # type: ignore[name-defined]
    """One accepted Yjs update of a clause's text: the durable log every replica is rebuilt
    from, and the clause's history (who changed what, when)."""

    __tablename__ = "clause_update"
    __table_args__ = (Index("ix_clause_update_clause_id_id", "clause_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"))
    #: Who typed it; NULL for the text a clause started with, or a deleted account. Its
    #: items' Yjs client ids say whose they are (``EditorClient``), whoever handed it in.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    #: Who handed it in, when that was not its author: another editor's replica, handing
    #: back what the server lost (a crash before it was written). NULL: the author did.
    handed_in_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The Yjs version-1 update, exactly as accepted.
    data: Mapped[bytes] = mapped_column(LargeBinary)

    author: Mapped[Participant | None] = relationship(foreign_keys=[author_id])
    handed_in_by: Mapped[Participant | None] = relationship(foreign_keys=[handed_in_by_id])


class EditorClient(db.Model):  # type: ignore[name-defined]
    """A Yjs client id the server gave an editor when it joined a recommendation: every item
    typed under it is that participant's, in whichever replica's update it reaches the log.
    Ids start at ``CLIENT_ID_BASE``, above the random 32-bit ids Yjs picks by itself, so a
    given id is never anyone else's."""

    __tablename__ = "editor_client"

    #: Yjs ids are JavaScript numbers: they must stay below 2**53.
    CLIENT_ID_BASE = 2**32

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def client_id(self) -> int:
        return self.CLIENT_ID_BASE + self.id


class ClauseSnapshot(db.Model):  # type: ignore[name-defined]
    """The whole document as of one update: loading starts here and replays only the rest of
    the log, so joining stays fast however long the history grows."""

    __tablename__ = "clause_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"), index=True)
    #: The last ClauseUpdate.id the snapshot contains.
    up_to_update_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    #: The document encoded as one Yjs version-1 update.
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def visible_recommendations(viewer: Participant, group: WorkingGroup | None = None) -> list[Recommendation]:
    """Everything the viewer may read: their groups' drafts, and adopted texts of their
    conferences (or everything, for the secretariat)."""
    query = select(Recommendation).join(WorkingGroup).order_by(
        WorkingGroup.conference_id, WorkingGroup.position, Recommendation.id
    )
    if group is not None:
        query = query.where(Recommendation.group_id == group.id)
    if not viewer.is_secretariat:
        my_groups = select(Membership.group_id).where(Membership.participant_id == viewer.id)
        my_conferences = (
            select(WorkingGroup.conference_id)
            .join(Membership)
            .where(Membership.participant_id == viewer.id)
        )
        query = query.where(
            Recommendation.group_id.in_(my_groups)
            | (
                (Recommendation.status == RecommendationStatus.ADOPTED)
                & WorkingGroup.conference_id.in_(my_conferences)
            )
        )
    return list(db.session.scalars(query))
