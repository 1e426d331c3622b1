"""The secretariat's delegations: create, rename, delete when unused; seat participants in them
(one delegation per participant per conference), name each one's head and designated voter;
and the conference's voting unit (the person or the delegation)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select

from drafting.collation import sort_key
from drafting.delegations.schemas import DelegationPatch, DelegationWrite, SeatIn, VotingUnitIn
from drafting.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from drafting.services import check_conference_open, load
from models import (
    Ballot,
    Conference,
    Delegation,
    Membership,
    Participant,
    Seat,
    Statement,
    Vote,
    VoteVoter,
    WorkingGroup,
    db,
)


def check_can_manage(conference: Conference, actor: Participant) -> None:
    """The secretariat manages the delegations of an open conference (a closed one no longer
    changes)."""
    if not conference.can_manage(actor):
        raise PermissionDenied(_("Only the secretariat manages delegations."))
    check_conference_open(conference)


def list_delegations(conference: Conference) -> list[Delegation]:
    """In alphabetical order, as a roll call goes."""
    found = db.session.scalars(select(Delegation).where(Delegation.conference_id == conference.id))
    return sorted(found, key=lambda d: (sort_key(d.sort_key or d.name), sort_key(d.name), d.id))


def get_delegation(conference: Conference, delegation_id: Any) -> Delegation:
    """A delegation of this conference (whose visibility the caller checked), or NotFound."""
    delegation = load(Delegation, delegation_id)
    if delegation.conference_id != conference.id:
        raise NotFound(_("Not found."))
    return delegation


def _check_unique_name(conference: Conference, name: str, delegation: Delegation | None) -> None:
    # Compared here, not with SQL lower(): SQLite's folds only ASCII (see groups).
    clash = next((found for found in list_delegations(conference)
                  if found.name.casefold() == name.casefold()), None)
    if clash is not None and (delegation is None or clash.id != delegation.id):
        raise Conflict(_("This conference already has a delegation with that name."),
                       fields={"name": _("Already used in this conference.")})


def create_delegation(actor: Participant, conference: Conference,
                      command: DelegationWrite) -> Delegation:
    check_can_manage(conference, actor)
    _check_unique_name(conference, command.name, None)
    delegation = Delegation(conference_id=conference.id, name=command.name, kind=command.kind,
                            sort_key=command.sort_key)
    db.session.add(delegation)
    db.session.flush()
    return delegation


def _member(delegation: Delegation, participant_id: int | None, field: str) -> int | None:
    """A head or designated voter: one of the delegation's members, or None."""
    if participant_id is None:
        return None
    if participant_id not in {seat.participant_id for seat in delegation.seats}:
        raise ValidationFailed(_("Choose a member of the delegation."),
                               fields={field: _("Not a member of this delegation.")})
    return participant_id


def update_delegation(actor: Participant, delegation: Delegation,
                      command: DelegationPatch) -> None:
    """Change what the command gives (what it leaves out stays as it is)."""
    check_can_manage(delegation.conference, actor)
    given = command.model_fields_set
    if command.name is not None:
        _check_unique_name(delegation.conference, command.name, delegation)
        delegation.name = command.name
    if command.kind is not None:
        delegation.kind = command.kind
    if command.sort_key is not None:
        delegation.sort_key = command.sort_key
    if "head_id" in given:
        delegation.head_id = _member(delegation, command.head_id, "head_id")
    if "voter_id" in given:
        delegation.voter_id = _member(delegation, command.voter_id, "voter_id")
    db.session.flush()


def is_used(delegation: Delegation) -> bool:
    """Whether anything stands on the delegation: members, or votes and statements that name
    it (a record keeps what it named)."""
    return db.session.scalar(select(or_(
        exists().where(Seat.delegation_id == delegation.id),
        exists().where(VoteVoter.delegation_id == delegation.id),
        exists().where(Ballot.delegation_id == delegation.id),
        exists().where(Statement.delegation_id == delegation.id),
        exists().where(Vote.drawn_delegation_id == delegation.id)))) or False


def delete_delegation(actor: Participant, delegation: Delegation) -> None:
    check_can_manage(delegation.conference, actor)
    if is_used(delegation):
        raise Conflict(_("The delegation of %(name)s has members, or votes or statements name "
                         "it: only a delegation nobody uses can be deleted.", name=delegation.name))
    db.session.delete(delegation)
    db.session.flush()


def _leave(delegation: Delegation, participant_id: int) -> None:
    """Whoever leaves a delegation heads it no more, nor votes for it."""
    if delegation.head_id == participant_id:
        delegation.head_id = None
    if delegation.voter_id == participant_id:
        delegation.voter_id = None


def seat_participant(actor: Participant, conference: Conference, participant: Participant,
                     command: SeatIn) -> Delegation:
    """Seat the participant in a delegation of the conference, moving them out of the one
    they sat in (which loses them as its head or designated voter)."""
    check_can_manage(conference, actor)
    try:
        delegation = get_delegation(conference, command.delegation_id)
    except NotFound:
        raise ValidationFailed(_("Choose a delegation of this conference."), fields={
            "delegation_id": _("Not a delegation of this conference.")}) from None
    seat = db.session.scalar(select(Seat).where(Seat.conference_id == conference.id,
                                                Seat.participant_id == participant.id))
    if seat is None:
        db.session.add(Seat(conference_id=conference.id, delegation_id=delegation.id,
                            participant_id=participant.id))
    elif seat.delegation_id != delegation.id:
        _leave(seat.delegation, participant.id)
        seat.delegation_id = delegation.id
    db.session.flush()
    db.session.refresh(delegation)
    return delegation


def unseat_participant(actor: Participant, conference: Conference, participant: Participant) -> None:
    """The participant no longer sits in a delegation of the conference."""
    check_can_manage(conference, actor)
    seat = db.session.scalar(select(Seat).where(Seat.conference_id == conference.id,
                                                Seat.participant_id == participant.id))
    if seat is None:
        raise NotFound(_("%(name)s does not sit in a delegation of this conference.",
                         name=participant.name))
    _leave(seat.delegation, participant.id)
    db.session.delete(seat)
    db.session.flush()


def set_voting_unit(actor: Participant, conference: Conference, command: VotingUnitIn) -> None:
    """Who casts the ballots of the conference's votes from now on (open votes keep theirs)."""
    check_can_manage(conference, actor)
    conference.voting_unit = command.voting_unit
    db.session.flush()


def unseated_members(conference: Conference) -> list[Participant]:
    """The members of the conference's working groups who sit in no delegation of it."""
    seated = select(Seat.participant_id).where(Seat.conference_id == conference.id)
    return list(db.session.scalars(
        select(Participant).join(Membership).join(WorkingGroup)
        .where(WorkingGroup.conference_id == conference.id, Participant.id.not_in(seated))
        .distinct().order_by(Participant.name)))


def seated_participants(conference: Conference) -> list[tuple[Participant, Delegation | None]]:
    """Every active participant (or already seated one), with the delegation they sit in at
    this conference: whom the secretariat can seat."""
    seats = dict(db.session.execute(
        select(Seat.participant_id, Delegation).join(Delegation, Seat.delegation_id == Delegation.id)
        .where(Seat.conference_id == conference.id)).tuples().all())
    people = db.session.scalars(select(Participant).where(
        or_(Participant.is_active_account.is_(True), Participant.id.in_(list(seats)))))
    return sorted(((p, seats.get(p.id)) for p in people), key=lambda pair: sort_key(pair[0].name))

