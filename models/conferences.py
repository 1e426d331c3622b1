"""Conferences, their working groups, and who sits in which group with which role."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import UTCDateTime, db, utcnow
from models.participants import Participant, enum_column

if TYPE_CHECKING:
    from models.recommendations import Recommendation


class GroupRole(enum.StrEnum):
    CHAIR = "chair"
    MEMBER = "member"
    OBSERVER = "observer"


class VoteRule(enum.StrEnum):
    #: Adopted when nobody taking part objects (the OSCE way); an objection gives a reason.
    CONSENSUS = "consensus"
    #: More yes than no; abstentions do not count.
    SIMPLE_MAJORITY = "simple_majority"
    #: At least two thirds of the yes and no votes.
    TWO_THIRDS = "two_thirds"
    #: More yes than half of everyone eligible, whether they voted or not.
    ABSOLUTE_MAJORITY = "absolute_majority"


class QuorumRule(enum.StrEnum):
    """How many of those who may decide must take part (a ballot) or be present (consensus,
    a silence procedure) for anything to be decided."""

    #: More than half (the UN's rule for decisions).
    MAJORITY = "majority"
    #: At least a third.
    ONE_THIRD = "one_third"
    #: Anyone: at least one.
    NONE = "none"


@dataclass(frozen=True)
class RulesOfProcedure:
    """How a conference's working groups decide, as its secretariat set it
    (``Conference.rules``). The defaults follow OSCE and UN practice: consensus first, a vote
    by two thirds of those present and voting only after consensus failed on the same text,
    a majority of the members for a quorum, a neutral chair, two thirds to reconsider."""

    #: How a group decides. Consensus: the chair puts the text and declares it adopted when
    #: nobody objects. A majority rule: by ballot.
    decision_rule: VoteRule = VoteRule.CONSENSUS
    #: Under consensus, the rule of a vote that may follow a consensus that failed on the same
    #: text; None: no vote ever.
    fallback_rule: VoteRule | None = VoteRule.TWO_THIRDS
    quorum: QuorumRule = QuorumRule.MAJORITY
    #: Whether a group's chair votes (and counts as present) with its members.
    chair_votes: bool = False
    #: What reopens a decided text (a motion to reconsider).
    reconsideration_rule: VoteRule = VoteRule.TWO_THIRDS


DEFAULT_RULES = RulesOfProcedure()


class VotingUnit(enum.StrEnum):
    #: Each participant who may vote casts a ballot of their own (a multi-stakeholder meeting).
    PERSON = "person"
    #: One ballot per delegation, cast by its head or its designated voter (an
    #: intergovernmental body: one State, one vote).
    DELEGATION = "delegation"


class Distribution(enum.StrEnum):
    """Who may have the outcome document, printed in its heading ("Distr.: General")."""

    GENERAL = "general"
    LIMITED = "limited"


class AdoptionMethod(enum.StrEnum):
    """How the plenary adopted the outcome document."""

    #: Nobody objected when the chair asked; nothing is counted.
    CONSENSUS = "consensus"
    #: Put to a vote: the counts are recorded.
    VOTE = "vote"


#: Roles that draft: write recommendations and clauses. Observers watch and comment.
DRAFTING_ROLES = frozenset({GroupRole.CHAIR, GroupRole.MEMBER})
#: Session info key of the roles ``WorkingGroup.remember_roles`` keeps for one transaction.
ROLES_KEY = "plenary_group_roles"


class Conference(db.Model):  # type: ignore[name-defined]
    __tablename__ = "conference"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    #: City and venue, as printed on the outcome document ("Astana, Kazakhstan").
    venue: Mapped[str] = mapped_column(String(300), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    #: Organisers, one per line, in the order they are credited.
    organisers: Mapped[str] = mapped_column(Text, default="")
    #: Markdown: what the conference is about; shown on its page.
    description: Mapped[str] = mapped_column(Text, default="")
    #: Markdown: the preamble of the outcome document, written by the secretariat.
    preamble: Mapped[str] = mapped_column(Text, default="")
    #: The rules of procedure (``rules``): see ``RulesOfProcedure`` for each.
    decision_rule: Mapped[VoteRule] = mapped_column(
        enum_column(VoteRule, "decision_rule"), default=DEFAULT_RULES.decision_rule)
    fallback_rule: Mapped[VoteRule | None] = mapped_column(
        enum_column(VoteRule, "fallback_rule"), default=DEFAULT_RULES.fallback_rule)
    quorum_rule: Mapped[QuorumRule] = mapped_column(
        enum_column(QuorumRule, "quorum_rule"), default=DEFAULT_RULES.quorum)
    chair_votes: Mapped[bool] = mapped_column(default=DEFAULT_RULES.chair_votes)
    reconsideration_rule: Mapped[VoteRule] = mapped_column(
        enum_column(VoteRule, "reconsideration_rule"),
        default=DEFAULT_RULES.reconsideration_rule)
    #: Who casts a ballot in the votes of its working groups: each participant, or each
    #: delegation (set by the secretariat; a vote keeps the unit it was opened with).
    voting_unit: Mapped[VotingUnit] = mapped_column(
        enum_column(VotingUnit, "voting_unit"), default=VotingUnit.PERSON,
        server_default=VotingUnit.PERSON.value)
    #: Markdown: the Chair's summary, issued under the conference chair's own responsibility
    #: (written by the secretariat on the chair's behalf): what a group could not agree, kept
    #: apart from what was adopted. Empty: none.
    chairs_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The outcome document's identification (DOMAIN.md section 2), set by the secretariat.
    #: Its symbol ("CONF.MIGR/1/09"; empty: none), and the suffix of this issue of it
    #: ("Rev.1", "Corr.1", "Add.1/Rev.1"; empty: the original issue).
    document_symbol: Mapped[str] = mapped_column(String(100), default="", server_default="")
    symbol_suffix: Mapped[str] = mapped_column(String(60), default="", server_default="")
    #: The authentic language ("Original: ENGLISH"): a locale of the app ("en", "ru").
    original_language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    distribution: Mapped[Distribution] = mapped_column(
        enum_column(Distribution, "distribution"), default=Distribution.GENERAL,
        server_default=Distribution.GENERAL.value)
    #: The subject of each recommendation's operative verbs, as printed before its preamble
    #: ("The participants in the Conference “…”,"). Empty: that formula, in the reader's
    #: language, with the conference's title (``drafting.export.labels.body_name``).
    body_name: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the secretariat finalised the outcome document: from then on the conference is
    #: closed, and nothing of its texts changes any more. NULL until then.
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    groups: Mapped[list[WorkingGroup]] = relationship(
        back_populates="conference",
        order_by="WorkingGroup.position, WorkingGroup.id",
        cascade="all, delete-orphan",
    )
    #: The plenary's adoption of the outcome document, once the secretariat has recorded it.
    plenary_adoption: Mapped[PlenaryAdoption | None] = relationship(
        back_populates="conference", cascade="all, delete-orphan", uselist=False)

    @property
    def is_closed(self) -> bool:
        """Finalised: no new drafts, edits, comments, amendments, votes, statements or
        renames in it."""
        return self.finalised_at is not None

    @property
    def rules(self) -> RulesOfProcedure:
        return RulesOfProcedure(
            decision_rule=self.decision_rule or DEFAULT_RULES.decision_rule,
            fallback_rule=self.fallback_rule,
            quorum=self.quorum_rule or DEFAULT_RULES.quorum,
            chair_votes=bool(self.chair_votes),
            reconsideration_rule=self.reconsideration_rule or DEFAULT_RULES.reconsideration_rule)

    @property
    def organiser_list(self) -> list[str]:
        return [line.strip() for line in self.organisers.splitlines() if line.strip()]

    def is_participant(self, participant: Participant) -> bool:
        return db.session.scalar(
            select(Membership.id)
            .join(WorkingGroup)
            .where(WorkingGroup.conference_id == self.id)
            .where(Membership.participant_id == participant.id)
            .limit(1)
        ) is not None

    def can_view(self, participant: Participant) -> bool:
        return participant.is_secretariat or self.is_participant(participant)

    def can_manage(self, participant: Participant) -> bool:
        return participant.is_secretariat


class WorkingGroup(db.Model):  # type: ignore[name-defined]
    __tablename__ = "working_group"
    __table_args__ = (UniqueConstraint("conference_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conference.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    #: Markdown: the group's mandate, what it is asked to recommend.
    mandate: Mapped[str] = mapped_column(Text, default="")
    #: Order of the group in the conference and in the outcome document.
    position: Mapped[int] = mapped_column(default=0)
    #: Observers (often NGO representatives) comment on clauses unless the secretariat
    #: restricts them to reading.
    observers_may_comment: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    conference: Mapped[Conference] = relationship(back_populates="groups")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )
    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="group", order_by="Recommendation.id", cascade="all, delete-orphan"
    )

    def role_of(self, participant: Participant) -> GroupRole | None:
        known = db.session().info.get(ROLES_KEY, {}).get(self.id)
        if known is not None:
            return known.get(participant.id)
        return db.session.scalar(
            select(Membership.role)
            .where(Membership.group_id == self.id)
            .where(Membership.participant_id == participant.id)
        )

    def remember_roles(self) -> None:
        """Answer ``role_of`` from one query for everyone, until the transaction ends.

        For work that asks about many people and changes no membership: the live editor's
        writer checks every sender of a batch of keystrokes in one transaction. Asking again
        in the same transaction costs nothing."""
        known = db.session().info.setdefault(ROLES_KEY, {})
        if self.id not in known:
            known[self.id] = dict(db.session.execute(
                select(Membership.participant_id, Membership.role).where(Membership.group_id == self.id)
            ).tuples().all())

    def can_view(self, participant: Participant) -> bool:
        """Every participant of the conference sees each group's mandate, members and titles."""
        return self.conference.can_view(participant)

    def can_manage(self, participant: Participant) -> bool:
        """Rename, change the mandate, reorder: the secretariat's job."""
        return participant.is_secretariat

    def can_manage_members(self, participant: Participant) -> bool:
        return participant.is_secretariat or self.role_of(participant) is GroupRole.CHAIR

    def can_assign_role(self, participant: Participant, role: GroupRole) -> bool:
        """A chair runs the membership of their group but cannot appoint or remove chairs."""
        if participant.is_secretariat:
            return True
        return self.role_of(participant) is GroupRole.CHAIR and role is not GroupRole.CHAIR

    def can_draft(self, participant: Participant) -> bool:
        return self.role_of(participant) in DRAFTING_ROLES

    def voting_roles(self) -> frozenset[GroupRole]:
        """Who votes: members, and the chair where the rules of procedure say so. Observers
        never."""
        return DRAFTING_ROLES if self.conference.chair_votes else frozenset({GroupRole.MEMBER})


class Membership(db.Model):  # type: ignore[name-defined]
    __tablename__ = "membership"
    # One role per person per group: a chair is not also listed as a member.
    __table_args__ = (UniqueConstraint("group_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_group.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[GroupRole] = mapped_column(enum_column(GroupRole, "group_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    group: Mapped[WorkingGroup] = relationship(back_populates="memberships")
    participant: Mapped[Participant] = relationship(back_populates="memberships")


class PlenaryAdoption(db.Model):  # type: ignore[name-defined]
    """The plenary's decision on the outcome document, as the secretariat records it: when,
    where, at which meeting, and how (by consensus, or by a vote with its counts). It gives
    the document's adoption line ("Adopted at the closing plenary meeting, Astana, 25 June
    2009"). One per conference; finalising needs it."""

    __tablename__ = "plenary_adoption"
    __table_args__ = (
        # A vote has its three counts; consensus has none.
        CheckConstraint("(method = 'consensus' AND votes_yes IS NULL AND votes_no IS NULL "
                        "AND votes_abstain IS NULL) OR (method = 'vote' AND votes_yes >= 0 "
                        "AND votes_no >= 0 AND votes_abstain >= 0)", name="counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conference.id", ondelete="CASCADE"), unique=True)
    #: The day of the meeting, within the conference's dates.
    adopted_on: Mapped[date] = mapped_column(Date)
    #: Where, as printed ("Astana"): the conference's venue unless the secretariat says
    #: otherwise.
    place: Mapped[str] = mapped_column(String(300))
    #: The meeting as printed after "Adopted at" ("the 3rd plenary meeting"); empty: the
    #: closing plenary meeting, in the document's language.
    meeting: Mapped[str] = mapped_column(String(300), default="")
    method: Mapped[AdoptionMethod] = mapped_column(enum_column(AdoptionMethod, "adoption_method"))
    #: A vote's counts (NULL by consensus). Abstentions are not among those voting.
    votes_yes: Mapped[int | None] = mapped_column()
    votes_no: Mapped[int | None] = mapped_column()
    votes_abstain: Mapped[int | None] = mapped_column()
    #: SHA-256 of the adopted text as compiled when the adoption was recorded: what the
    #: plenary adopted is what is finalised, or finalising is refused.
    text_sha256: Mapped[str] = mapped_column(String(64))
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    conference: Mapped[Conference] = relationship(back_populates="plenary_adoption")
    recorded_by: Mapped[Participant | None] = relationship()
