"""Who a vote's ballots belong to: each voter, or where the conference votes by delegation,
each delegation represented among the group's voting members.

A vote by delegation fixes its eligible delegations when it opens, not the people who will
cast their ballots: a delegation's ballot is cast by its head or its designated voter,
whoever of them it is when they cast and provided they are a voting member of the group.
So a delegation that designates another voter while a vote is open still votes, through the
new one; whoever casts first casts the delegation's one ballot (the database's unique
constraint on the vote and the delegation), and only they can change it before the close.
Participants who sit in no delegation do not vote where delegations do.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from drafting.errors import Conflict, PermissionDenied
from drafting.votes.roll_call import delegation_key, draw, person_key
from models import (
    Delegation,
    Participant,
    Seat,
    Vote,
    VoteVoter,
    WorkingGroup,
    db,
    delegation_of,
)


def delegations_among(group: WorkingGroup, voters: list[int]) -> list[int]:
    """The delegations (ids) that the group's voting members ``voters`` sit in."""
    return list(db.session.scalars(
        select(Seat.delegation_id).distinct()
        .where(Seat.conference_id == group.conference_id, Seat.participant_id.in_(voters))
        .order_by(Seat.delegation_id)))


def eligible_delegations(group: WorkingGroup, voters: list[int]) -> list[int]:
    """What a vote by delegation is put to, or a refusal that says why there is nobody."""
    found = delegations_among(group, voters)
    if not found:
        raise Conflict(_("In this conference each delegation casts one ballot, and no voting "
                         "member of this group sits in a delegation: the secretariat seats "
                         "participants in their delegations on the conference's Delegations "
                         "page."))
    return found


def fix_voters(vote: Vote, eligible: list[int]) -> None:
    """Record who may vote (participants, or delegations) and, for a roll-call vote, draw by
    lot where its roll call starts."""
    if vote.by_delegation:
        db.session.add_all([VoteVoter(vote_id=vote.id, delegation_id=d) for d in eligible])
    else:
        db.session.add_all([VoteVoter(vote_id=vote.id, participant_id=p) for p in eligible])
    if vote.secret:
        return  # nobody is called: only the counts are published
    drawn = draw(eligible)
    if vote.by_delegation:
        vote.drawn_delegation_id = drawn
    else:
        vote.drawn_participant_id = drawn


def first_called(vote: Vote) -> tuple[str, str, int] | None:
    """The roll-call key of the one drawn by lot (None: nothing drawn)."""
    if vote.by_delegation:
        return delegation_key(vote.drawn_delegation) if vote.drawn_delegation else None
    return person_key(vote.drawn_participant) if vote.drawn_participant else None


def _eligible(vote: Vote, delegation: Delegation) -> bool:
    return db.session.scalar(select(VoteVoter.id).where(
        VoteVoter.vote_id == vote.id, VoteVoter.delegation_id == delegation.id)) is not None


def _votes_in(vote: Vote, participant: Participant) -> bool:
    return vote.group.role_of(participant) in vote.group.voting_roles()


def casting_delegation(vote: Vote, participant: Participant) -> Delegation:
    """In a vote by delegation, the delegation whose ballot the participant casts; or a
    refusal saying who casts it instead."""
    group = vote.group
    if group.role_of(participant) is None:
        raise PermissionDenied(_("Only the group's members vote in its votes."))
    delegation = delegation_of(group.conference_id, participant.id)
    if delegation is None:
        raise PermissionDenied(_("In this vote each delegation casts one ballot, and you do not "
                                 "sit in a delegation, so you do not vote in it."))
    if not _eligible(vote, delegation):
        raise PermissionDenied(_("The delegation of %(delegation)s is not among the voters of "
                                 "this vote: they were fixed when it opened.",
                                 delegation=delegation.name))
    casters = [p for p in (delegation.voter, delegation.head)
               if p is not None and _votes_in(vote, p)]
    if not casters:
        raise PermissionDenied(_("The ballot of the delegation of %(delegation)s is cast by its "
                                 "head or its designated voter, and neither is a voting member "
                                 "of this group: the secretariat can designate a voter among "
                                 "the delegation's members here.", delegation=delegation.name))
    if participant.id not in {p.id for p in casters}:
        raise PermissionDenied(_("The ballot of the delegation of %(delegation)s is cast by "
                                 "%(name)s.", delegation=delegation.name,
                                 name=" / ".join(p.name for p in casters)))
    return delegation
