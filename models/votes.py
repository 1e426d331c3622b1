"""Votes a chair puts to the group, their options, who may vote, the ballots, and the
statements participants attach to what was adopted."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.amendments import Amendment
from models.base import UTCDateTime, db, utcnow
from models.conferences import DRAFTING_ROLES, GroupRole, VoteRule, VotingUnit, WorkingGroup
from models.delegations import Delegation
from models.participants import Participant, enum_column
from models.recommendations import Clause, Recommendation

#: Where a transaction keeps the voters of the votes it asked about all at once
#: (``drafting.votes.services.remember_voters``), dropped when it ends.
VOTERS_KEY = "plenary_vote_voters"


class VoteSubject(enum.StrEnum):
    #: Adopt the clause's wording: yes / no / abstain.
    CLAUSE = "clause"
    #: Choose between the clause's wording and amendments marked "to be voted".
    WORDINGS = "wordings"
    #: One amendment alone: yes / no / abstain.
    AMENDMENT = "amendment"
    #: The recommendation as a whole: yes / no / abstain.
    RECOMMENDATION = "recommendation"
    #: A motion to reconsider the decision on a clause (``clause_id``) or on the whole
    #: recommendation (no clause): carried, the decided text is open again.
    RECONSIDER = "reconsider"


class VoteMethod(enum.StrEnum):
    """How the question is decided."""

    #: Each voter casts a ballot (roll call or secret); the rule counts them.
    BALLOT = "ballot"
    #: The chair puts the text; members may object, by name; the chair declares it adopted
    #: when nobody objects (or that there is no consensus).
    CONSENSUS = "consensus"
    #: Adopted at the deadline unless someone objects before it; an objection ends it at once.
    SILENCE = "silence"


class VoteStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class VoteOutcome(enum.StrEnum):
    ADOPTED = "adopted"
    REJECTED = "rejected"
    #: Too few took part: nothing is decided.
    NO_QUORUM = "no_quorum"
    #: A choice of wordings where none met the rule: the chair may put the top two again.
    RUNOFF = "runoff"
    #: Consensus sought, and someone objected (or broke the silence): nothing adopted; the
    #: rules of procedure may allow a vote on the same text now.
    NO_CONSENSUS = "no_consensus"


class OptionKind(enum.StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"
    #: One of the wordings of a choice.
    WORDING = "wording"


class Vote(db.Model):  # type: ignore[name-defined]
    __tablename__ = "vote"
    __table_args__ = (
        Index("ix_vote_status_deadline", "status", "deadline"),
        CheckConstraint("quorum IS NULL OR (quorum > 0 AND quorum <= 100)", name="quorum_share"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[VoteSubject] = mapped_column(enum_column(VoteSubject, "vote_subject"))
    #: The clause voted on (its wording, or a choice of wordings, or an amendment to it).
    clause_id: Mapped[int | None] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"))
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendment.id", ondelete="CASCADE")
    )
    #: The question as put, in the chair's words.
    question: Mapped[str] = mapped_column(Text)
    method: Mapped[VoteMethod] = mapped_column(enum_column(VoteMethod, "vote_method"),
                                               default=VoteMethod.BALLOT)
    #: The rule the rules of procedure gave the question when it was put (consensus for the
    #: consensus methods).
    rule: Mapped[VoteRule] = mapped_column(enum_column(VoteRule, "vote_rule"))
    #: Votes opened before the rules of procedure: the share of the eligible voters (percent)
    #: the chair asked to take part; NULL: none.
    quorum: Mapped[int | None] = mapped_column()
    #: How many must take part (a ballot) or be present (consensus, silence) for anything to
    #: be decided: fixed at opening from the rules' quorum and the number eligible. NULL on
    #: votes opened before the rules of procedure.
    quorum_needed: Mapped[int | None] = mapped_column()
    #: A motion to reconsider: the closed vote whose decision it would set aside.
    reconsiders_id: Mapped[int | None] = mapped_column(
        ForeignKey("vote.id", ondelete="SET NULL"))
    #: Secret: who took part is kept, what they chose is not linked to them.
    secret: Mapped[bool] = mapped_column(default=False)
    #: Roll-call votes only: everyone sees the running tally while the vote is open.
    show_tally: Mapped[bool] = mapped_column(default=False)
    #: The server closes the vote at this time by itself.
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[VoteStatus] = mapped_column(
        enum_column(VoteStatus, "vote_status"), default=VoteStatus.OPEN
    )
    #: Who casts the ballots: each voter, or each delegation (the conference's unit when the
    #: vote opened).
    voting_unit: Mapped[VotingUnit] = mapped_column(
        enum_column(VotingUnit, "voting_unit"), default=VotingUnit.PERSON,
        server_default=VotingUnit.PERSON.value)
    #: Roll-call votes: where the roll call starts, drawn by lot at the opening among those
    #: who may vote (a delegation, or a participant where people vote); it then goes on in
    #: alphabetical order (``drafting.votes.roll_call``).
    drawn_delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegation.id", ondelete="SET NULL"))
    drawn_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"))
    #: How many may vote (fixed at opening, with the list in vote_voter).
    eligible_count: Mapped[int] = mapped_column(default=0)
    #: How many have voted: kept on the row so that counting and closing serialise on it.
    turnout: Mapped[int] = mapped_column(default=0)
    #: Secret consensus votes, once closed: the objections' reasons, sorted (JSON list), so
    #: that their order says nothing about who gave which. Empty while the vote is open.
    secret_reasons: Mapped[str] = mapped_column(Text, default="[]")
    #: Secret votes: the running tally (every option's count, the reasons), encrypted under
    #: a key derived from the server's secret key, rewritten whole by every ballot whatever
    #: its choice (drafting/votes/sealing.py).
    sealed_tally: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The vote this one is a run-off of.
    runoff_of_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id", ondelete="SET NULL"))
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Who closed or cancelled it; NULL with a closing time: the deadline closed it.
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[VoteOutcome | None] = mapped_column(enum_column(VoteOutcome, "vote_outcome"))
    #: The position (``VoteOption.position``) of the adopted wording of a choice.
    winner_position: Mapped[int | None] = mapped_column()
    #: The record written at the close (canonical JSON), never changed afterwards.
    record: Mapped[str | None] = mapped_column(Text)
    #: SHA-256 of the record, chained with the previous record of the conference: changing
    #: any closed vote breaks every hash after it.
    record_sha256: Mapped[str | None] = mapped_column(String(64))
    previous_sha256: Mapped[str | None] = mapped_column(String(64))

    recommendation: Mapped[Recommendation] = relationship()
    clause: Mapped[Clause | None] = relationship()
    amendment: Mapped[Amendment | None] = relationship()
    opened_by: Mapped[Participant | None] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[Participant | None] = relationship(foreign_keys=[closed_by_id])
    drawn_delegation: Mapped[Delegation | None] = relationship()
    drawn_participant: Mapped[Participant | None] = relationship(foreign_keys=[drawn_participant_id])
    options: Mapped[list[VoteOption]] = relationship(
        back_populates="vote", order_by="VoteOption.position", cascade="all, delete-orphan",
        foreign_keys="VoteOption.vote_id",
    )

    @property
    def group(self) -> WorkingGroup:
        return self.recommendation.group

    @property
    def is_open(self) -> bool:
        return self.status is VoteStatus.OPEN

    @property
    def is_roll_call(self) -> bool:
        return not self.secret

    @property
    def by_consensus(self) -> bool:
        """Declared consensus or a silence procedure: objections, not ballots."""
        return self.method is not VoteMethod.BALLOT

    @property
    def by_delegation(self) -> bool:
        return self.voting_unit is VotingUnit.DELEGATION

    def can_view(self, participant: Participant) -> bool:
        return self.recommendation.can_view(participant)

    def can_run(self, participant: Participant) -> bool:
        """Open, close, cancel: the group's chair."""
        return self.group.role_of(participant) is GroupRole.CHAIR


class VoteOption(db.Model):  # type: ignore[name-defined]
    """One answer a ballot may give: yes, no, abstain, or one of the wordings of a choice."""

    __tablename__ = "vote_option"
    __table_args__ = (UniqueConstraint("vote_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    kind: Mapped[OptionKind] = mapped_column(enum_column(OptionKind, "option_kind"))
    #: What the option stands for, as shown ("Yes", "The clause as drafted", "Amendment 3").
    label: Mapped[str] = mapped_column(String(300))
    #: The exact wording voted on (yes on a wording; each wording of a choice), frozen at
    #: opening; empty where there is none (no, abstain, a deletion).
    wording: Mapped[str] = mapped_column(Text, default="")
    #: SHA-256 of ``wording`` (UTF-8), so that the record proves what was voted.
    wording_sha256: Mapped[str] = mapped_column(String(64), default="")
    #: Secret votes only, once closed: how many ballots chose it, unsealed from the vote's
    #: ``sealed_tally`` at the close. Never written while the vote is open: a ballot that
    #: wrote its option's row would name its choice to whoever reads the row's versions.
    secret_count: Mapped[int] = mapped_column(default=0)
    #: The amendment a wording comes from; NULL for the clause as drafted.
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendment.id", ondelete="SET NULL")
    )

    vote: Mapped[Vote] = relationship(back_populates="options", foreign_keys=[vote_id])
    amendment: Mapped[Amendment | None] = relationship()


class VoteVoter(db.Model):  # type: ignore[name-defined]
    """Someone who may vote in a vote, fixed when it opens: a participant, or where the
    delegation is the voting unit a delegation (whose head or designated voter casts its
    ballot: whoever of them it is when they cast)."""

    __tablename__ = "vote_voter"
    __table_args__ = (
        UniqueConstraint("vote_id", "participant_id"),
        UniqueConstraint("vote_id", "delegation_id"),
        CheckConstraint("(participant_id IS NULL) <> (delegation_id IS NULL)", name="one_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    #: When the open question first reached them (a page, the console, the API showed it):
    #: who was present when a consensus was declared.
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegation.id", ondelete="CASCADE"), index=True
    )


class Ballot(db.Model):  # type: ignore[name-defined]
    """That a participant voted: one per voter, and where the delegation is the voting unit
    one per delegation (``voter`` cast it), by the database's unique constraints.

    In a roll-call vote it also holds their choice. In a secret vote it never does: the
    choice only changes the vote's sealed tally, which every ballot rewrites whatever its
    choice."""

    __tablename__ = "ballot"
    __table_args__ = (UniqueConstraint("vote_id", "voter_id"),
                      UniqueConstraint("vote_id", "delegation_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"),
                                          index=True)
    #: Roll-call only.
    option_id: Mapped[int | None] = mapped_column(ForeignKey("vote_option.id", ondelete="CASCADE"))
    #: Roll-call only: an objection's reason (consensus).
    reason: Mapped[str] = mapped_column(Text, default="")
    #: The delegation whose ballot it is (votes by delegation); NULL where people vote.
    delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegation.id", ondelete="CASCADE"))

    voter: Mapped[Participant] = relationship()
    option: Mapped[VoteOption | None] = relationship()
    delegation: Mapped[Delegation | None] = relationship()


class SpentReceipt(db.Model):  # type: ignore[name-defined]
    """A secret-ballot receipt that has been used to change a ballot: it cannot be used
    again. Only its hash, which tells nothing of the choice it was for."""

    __tablename__ = "spent_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id", ondelete="CASCADE"), index=True)
    receipt_sha256: Mapped[str] = mapped_column(String(64), unique=True)


class StatementKind(enum.StrEnum):
    #: How the participant's delegation understands the adopted text.
    INTERPRETATIVE = "interpretative"
    #: What the participant's delegation does not accept of it.
    RESERVATION = "reservation"


def may_make_statement(recommendation: Recommendation, participant: Participant) -> bool:
    """Whom the rules give a voice on the group's decisions: its chair and members. Observers
    (and everyone outside the group, the secretariat included) make no statements."""
    return recommendation.group.role_of(participant) in DRAFTING_ROLES


class Statement(db.Model):  # type: ignore[name-defined]
    """An interpretative statement or reservation attached to an adopted clause or
    recommendation; printed in the outcome document's annex. One of each kind per author
    and decided text: a clause, or the recommendation as a whole (``clause_id`` NULL)."""

    __tablename__ = "statement"
    __table_args__ = (
        UniqueConstraint("recommendation_id", "clause_id", "author_id", "kind"),
        # NULLs are distinct in a unique constraint: the whole's statements need their own.
        Index("uq_statement_whole", "recommendation_id", "author_id", "kind", unique=True,
              sqlite_where=literal_column("clause_id").is_(None),
              postgresql_where=literal_column("clause_id").is_(None)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation.id", ondelete="CASCADE"), index=True
    )
    #: NULL: on the recommendation as a whole.
    clause_id: Mapped[int | None] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    #: The delegation on whose behalf it was made: the author's at the time (NULL: none).
    delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegation.id", ondelete="SET NULL"))
    kind: Mapped[StatementKind] = mapped_column(enum_column(StatementKind, "statement_kind"))
    #: Markdown.
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recommendation: Mapped[Recommendation] = relationship()
    clause: Mapped[Clause | None] = relationship()
    author: Mapped[Participant | None] = relationship()
    delegation: Mapped[Delegation | None] = relationship()
