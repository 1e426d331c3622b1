"""Objections to a consensus sought: consensus is the absence of objection, so a member
objects openly, by name, with a reason if they wish, and may withdraw it while the chair has
not declared the result. An objection to a silence procedure breaks the silence: the
procedure ends there, without consensus.

An objection is stored as the objector's ballot on the question's "Objection" option (one
per member, by the database's unique constraint), so that the record, the roll call and the
verification treat it as every other ballot; the vote's turnout counts the objections.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, delete
from sqlalchemy.exc import IntegrityError

from drafting.errors import Conflict, PermissionDenied
from drafting.services import check_conference_open
from drafting.votes import units
from drafting.votes.schemas import ObjectionIn
from drafting.votes.services import (
    changeable_ballot,
    claim_open,
    emit,
    end_with_decision,
    is_voter,
    mark_present,
)
from models import Ballot, Delegation, OptionKind, Participant, Vote, VoteMethod, VoteStatus, db, utcnow

CLOSED = _l("This question has been decided: objections are no longer taken.")


def check_can_object(vote: Vote, member: Participant, now: datetime | None = None) -> Delegation | None:
    """Refuse an objection that may not be made; in a vote by delegation, the delegation on
    whose behalf the member objects (its head or designated voter)."""
    if not vote.by_consensus:
        raise Conflict(_("This question is decided by ballot: cast a ballot instead."))
    # As a ballot: an open question keeps the conference from being finalised.
    check_conference_open(vote.recommendation, serialise=False)
    if vote.status is VoteStatus.CANCELLED:
        raise Conflict(_("This question was withdrawn."))
    # A silence procedure past its deadline is decided, whether or not the closer has run.
    if vote.status is VoteStatus.CLOSED or (vote.deadline is not None and (now or utcnow()) >= vote.deadline):
        raise Conflict(str(CLOSED))
    if vote.by_delegation:
        return units.casting_delegation(vote, member)  # or says who speaks for it
    if not is_voter(vote, member):
        if vote.group.role_of(member) is None:
            raise PermissionDenied(_("Only the group's members take part in its decisions."))
        raise PermissionDenied(_("You are not among those who decide this question (observers "
                                 "never do, and who decides was fixed when it was put)."))
    return None


def _claim_open(vote: Vote, change: int) -> None:
    """The question's row, held while it is open (the chair's declaration waits for this
    transaction, or came first), with the objections counted on it."""
    claim_open(vote, change, str(CLOSED))


def object_to(member: Participant, vote: Vote, command: ObjectionIn) -> Vote:
    """Object (or change the reason of one's objection). Under a silence procedure the
    objection ends it at once: no consensus."""
    delegation = check_can_object(vote, member)
    objection = next(o for o in vote.options if o.kind is OptionKind.NO)
    reason = command.reason or ""
    _claim_open(vote, 0)
    mark_present(vote, member)
    existing = changeable_ballot(vote, member, delegation)
    if existing is None:
        try:
            with db.session.begin_nested():
                db.session.add(Ballot(vote_id=vote.id, voter_id=member.id, option_id=objection.id,
                                      delegation_id=delegation.id if delegation else None,
                                      reason=reason))
            _claim_open(vote, 1)
        except IntegrityError:
            # The same member's (or delegation's) other request got there first: this one
            # updates it, if it is the member's own.
            existing = changeable_ballot(vote, member, delegation)
            if existing is None:
                raise Conflict(_("Your delegation has objected already.")) from None
    if existing is not None:
        existing.reason = reason
    db.session.refresh(vote)
    if vote.method is VoteMethod.SILENCE:
        end_with_decision(vote, member)
    else:
        emit(vote, "objection_made")
    return vote


def withdraw_objection(member: Participant, vote: Vote) -> Vote:
    """Take one's objection back while the chair has not declared the result."""
    check_can_object(vote, member)
    if vote.method is VoteMethod.SILENCE:
        raise Conflict(_("An objection breaks a silence procedure at once: there is nothing "
                         "left to withdraw."))
    _claim_open(vote, 0)
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        delete(Ballot).where(Ballot.vote_id == vote.id, Ballot.voter_id == member.id))
    if result.rowcount != 1:
        raise Conflict(_("You have not objected to this question."))
    _claim_open(vote, -1)
    db.session.refresh(vote)
    emit(vote, "objection_withdrawn")
    return vote
