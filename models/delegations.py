"""Delegations: a participating State, an international organisation or another body taking
part in a conference, and who sits in which (at most one delegation per participant per
conference)."""
from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow
from models.conferences import Conference
from models.participants import Participant, enum_column


class DelegationKind(enum.StrEnum):
    #: A participating State (or a member State): "Kazakhstan".
    STATE = "state"
    #: An international organisation: "International Organization for Migration".
    ORGANISATION = "organisation"
    #: Anything else that speaks as one (a parliamentary assembly, a group of NGOs).
    OTHER = "other"


class Delegation(db.Model):  # type: ignore[name-defined]
    __tablename__ = "delegation"
    __table_args__ = (
        UniqueConstraint("conference_id", "name"),
        # What a seat's composite foreign key refers to: a seat's conference is its
        # delegation's, by the database's guarantee.
        UniqueConstraint("id", "conference_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conference.id", ondelete="CASCADE"), index=True)
    #: As printed in the conference's documents ("Kazakhstan", "Russian Federation").
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DelegationKind] = mapped_column(enum_column(DelegationKind, "delegation_kind"))
    #: What alphabetical order (roll calls) goes by: the name as the documents' language
    #: sorts it, which may differ from the name printed ("Moldova, Republic of").
    sort_key: Mapped[str] = mapped_column(String(200))
    #: The head of delegation: casts the delegation's ballot where the delegation votes.
    head_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    #: A member the delegation designated to cast its ballots (the head's place, where the
    #: head chairs or sits in another group).
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    conference: Mapped[Conference] = relationship()
    head: Mapped[Participant | None] = relationship(foreign_keys=[head_id])
    voter: Mapped[Participant | None] = relationship(foreign_keys=[voter_id])
    seats: Mapped[list[Seat]] = relationship(
        back_populates="delegation", foreign_keys="[Seat.delegation_id, Seat.conference_id]")

    def can_view(self, participant: Participant) -> bool:
        return self.conference.can_view(participant)

    def can_manage(self, participant: Participant) -> bool:
        """Create, rename, seat people, name the head: the secretariat."""
        return participant.is_secretariat

    def casts_for(self, participant: Participant) -> bool:
        """Whether the participant may cast the delegation's ballot: its head or its
        designated voter (whether they may vote in a given group is the vote's question)."""
        return participant.id in (self.head_id, self.voter_id)


class Seat(db.Model):  # type: ignore[name-defined]
    """A participant's place in a delegation, for one conference."""

    __tablename__ = "delegation_seat"
    __table_args__ = (
        # One delegation per participant per conference.
        UniqueConstraint("conference_id", "participant_id"),
        ForeignKeyConstraint(["delegation_id", "conference_id"],
                             ["delegation.id", "delegation.conference_id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column()
    delegation_id: Mapped[int] = mapped_column(index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    delegation: Mapped[Delegation] = relationship(back_populates="seats",
                                                  foreign_keys=[delegation_id, conference_id])
    participant: Mapped[Participant] = relationship()


def delegation_of(conference_id: int, participant_id: int) -> Delegation | None:
    """The delegation the participant sits in at this conference, if any."""
    return db.session.scalar(
        select(Delegation).join(Seat, Seat.delegation_id == Delegation.id)
        .where(Seat.conference_id == conference_id, Seat.participant_id == participant_id))


def delegations_of(conference_id: int, participant_ids: Iterable[int]) -> dict[int, Delegation]:
    """Participant id -> their delegation at this conference, for those who sit in one: one
    query for a list of names (members, a roll call, statements)."""
    wanted = list(set(participant_ids))
    if not wanted:
        return {}
    return dict(db.session.execute(
        select(Seat.participant_id, Delegation).join(Seat, Seat.delegation_id == Delegation.id)
        .where(Seat.conference_id == conference_id, Seat.participant_id.in_(wanted))).tuples().all())


__all__ = ["Delegation", "DelegationKind", "Seat", "delegation_of", "delegations_of"]
