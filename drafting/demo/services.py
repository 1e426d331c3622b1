"""Load the demo conference. Idempotent: what exists is found by its natural key and left as
people may have changed it; only what is missing is added."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from drafting.amendments.schemas import AmendmentCreate
from drafting.amendments.services import propose_amendment, set_sponsorship
from drafting.auth.passwords import hash_password
from drafting.comments.services import reply, start_thread
from drafting.demo.data import (
    CONFERENCE,
    CONFERENCE_OPENS,
    DELEGATIONS,
    DEMO_PASSWORD,
    DISCUSSIONS,
    GROUPS,
    PARTICIPANTS,
    QUESTIONS_PUT_AT,
    RECOMMENDATIONS,
    VOTES,
)
from drafting.votes.objections import object_to
from drafting.votes.schemas import ObjectionIn, VoteOpen
from drafting.votes.services import close_vote, mark_present, open_vote
from models import (
    AmendmentKind,
    Clause,
    ClauseKind,
    Conference,
    Delegation,
    DelegationKind,
    GroupRole,
    Membership,
    Participant,
    Recommendation,
    Replay,
    Seat,
    StakeholderCategory,
    VoteMethod,
    VoteSubject,
    WorkingGroup,
    db,
    replayed_at,
)


@dataclass
class DemoReport:
    created: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1


def load_demo() -> DemoReport:
    """Everything through the real services, dated as if done during the conference (its
    records then say 24 and 25 June 2009)."""
    with replayed_at(CONFERENCE_OPENS) as clock:
        return _load(clock)


def _load(clock: Replay) -> DemoReport:
    report = DemoReport()
    people = {email: _participant(email, name, affiliation, country, category, secretariat, report)
              for email, name, affiliation, country, category, secretariat in PARTICIPANTS}
    conference = db.session.scalar(select(Conference).where(Conference.title == CONFERENCE["title"]))
    if conference is None:
        conference = Conference(**CONFERENCE)
        db.session.add(conference)
        report.count("conferences")
    db.session.flush()
    for name, kind, head, voter, seated in DELEGATIONS:
        _delegation(conference, name, DelegationKind(kind), people, head, voter, seated, report)
    for position, (name, mandate, members) in enumerate(GROUPS, start=1):
        group = db.session.scalar(
            select(WorkingGroup).where(WorkingGroup.conference == conference)
            .where(WorkingGroup.name == name)
        )
        if group is None:
            group = WorkingGroup(conference=conference, name=name, mandate=mandate,
                                 position=position)
            db.session.add(group)
            db.session.flush()
            report.count("working groups")
        for email, role in members:
            if group.role_of(people[email]) is None:
                db.session.add(Membership(group=group, participant=people[email],
                                          role=GroupRole(role)))
                db.session.flush()
                report.count("memberships")
        for title, clauses in RECOMMENDATIONS.get(name, []):
            _recommendation(group, title, clauses, people, report, clock)
    db.session.flush()
    return report


def _delegation(conference: Conference, name: str, kind: DelegationKind,
                people: dict[str, Participant], head: str, voter: str | None, members: list[str],
                report: DemoReport) -> None:
    """A delegation and its members, unless it exists (as the secretariat may have changed it)."""
    exists = db.session.scalar(select(Delegation.id).where(Delegation.conference_id == conference.id,
                                                           Delegation.name == name))
    if exists is not None:
        return
    delegation = Delegation(conference=conference, name=name, kind=kind, sort_key="")
    db.session.add(delegation)
    db.session.flush()
    seated = set()
    for email in members:
        elsewhere = db.session.scalar(select(Seat.id).where(
            Seat.conference_id == conference.id, Seat.participant_id == people[email].id))
        if elsewhere is None:  # the secretariat may have seated them in another meanwhile
            db.session.add(Seat(conference_id=conference.id, delegation_id=delegation.id,
                                participant_id=people[email].id))
            seated.add(email)
    db.session.flush()
    delegation.head_id = people[head].id if head in seated else None
    delegation.voter_id = people[voter].id if voter in seated else None
    report.count("delegations")


def _participant(email: str, name: str, affiliation: str, country: str, category: str,
                 secretariat: bool, report: DemoReport) -> Participant:
    participant = db.session.scalar(select(Participant).where(Participant.email == email))
    if participant is None:
        participant = Participant(
            email=email, name=name, affiliation=affiliation, country=country,
            category=StakeholderCategory(category), is_secretariat=secretariat,
            password_hash=hash_password(DEMO_PASSWORD),
        )
        db.session.add(participant)
        db.session.flush()
        report.count("participants")
    return participant


def _recommendation(group: WorkingGroup, title: str, clauses: list[tuple[str, str]],
                    people: dict[str, Participant], report: DemoReport, clock: Replay) -> None:
    exists = db.session.scalar(
        select(Recommendation.id).where(Recommendation.group_id == group.id)
        .where(Recommendation.title == title)
    )
    if exists is not None:
        return
    chair = next((m.participant for m in group.memberships if m.role is GroupRole.CHAIR), None)
    recommendation = Recommendation(group=group, title=title, created_by=chair)
    db.session.add(recommendation)
    positions = {ClauseKind.PREAMBULAR: 0, ClauseKind.OPERATIVE: 0}
    for kind_name, text in clauses:
        kind = ClauseKind(kind_name)
        positions[kind] += 1
        db.session.add(Clause(recommendation=recommendation, kind=kind, text=text,
                              position=positions[kind],
                              created_by_id=chair.id if chair else None))
    db.session.flush()
    report.count("recommendations")
    if title in DISCUSSIONS:
        clock.advance(30)
        db.session.refresh(recommendation)
        _discussion(recommendation, DISCUSSIONS[title], people, report, clock)
    if title in VOTES and chair is not None:
        clock.at(QUESTIONS_PUT_AT[title])
        db.session.refresh(recommendation)
        _votes(recommendation, chair, VOTES[title], people, report, clock)


def _discussion(recommendation: Recommendation, discussion: dict[str, Any],
                people: dict[str, Participant], report: DemoReport, clock: Replay) -> None:
    clauses = recommendation.live_clauses
    for index, author, body, replies in discussion["threads"]:
        thread = start_thread(people[author], clauses[index], {"body": body})
        for replier, text in replies:
            clock.advance(12)
            reply(people[replier], thread, {"body": text})
        report.count("comment threads")
    for index, proposer, kind, text, rationale, sponsors in discussion["amendments"]:
        clock.advance(20)
        amendment = propose_amendment(people[proposer], clauses[index], AmendmentCreate(
            kind=AmendmentKind(kind), text=text, rationale=rationale))
        for sponsor in sponsors:
            set_sponsorship(people[sponsor], amendment, True)
        report.count("amendments")


def _votes(recommendation: Recommendation, chair: Participant, votes: list[Any],
           people: dict[str, Participant], report: DemoReport, clock: Replay) -> None:
    """The questions the chair puts, a few minutes apart: on a clause (its index), or on the
    whole (None)."""
    clauses = recommendation.live_clauses
    for index, method, answers, declared in votes:
        put = (VoteOpen(subject=VoteSubject.RECOMMENDATION, method=VoteMethod(method)) if index is None
               else VoteOpen(subject=VoteSubject.CLAUSE, clause_id=clauses[index].id,
                             method=VoteMethod(method)))
        vote = open_vote(chair, recommendation, put)
        db.session.flush()
        for member, answer in answers:
            clock.advance(1)
            if answer == "present":
                mark_present(vote, people[member])
            else:
                object_to(people[member], vote, ObjectionIn(reason=answer))
        if declared:
            clock.advance(1)
            close_vote(chair, vote)
            db.session.flush()
        clock.advance(2)
        report.count("votes")


def demo_logins() -> list[tuple[str, str]]:
    """(email, what they are) for the accounts the README documents."""
    described = {
        "secretariat@plenary.example": "secretariat",
        "chair@plenary.example": "chair, " + GROUPS[0][0],
        "member@plenary.example": "member, " + GROUPS[0][0],
        "member2@plenary.example": "member, " + GROUPS[0][0],
        "observer@plenary.example": "observer, " + GROUPS[0][0],
    }
    return list(described.items())
