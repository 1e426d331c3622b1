"""What a vote's ballots add up to: the count per option, and the roll call."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from models import (
    Ballot,
    Participant,
    Vote,
    db,
)


def counts(vote: Vote, ballots: list[Ballot] | None = None) -> list[int]:
    """Ballots per option, in option order: a secret vote's counters, or a roll-call vote's
    ballot rows counted (``ballots``, when the caller has loaded them already)."""
    if vote.secret:
        return [option.secret_count for option in vote.options]
    if ballots is not None:
        by_option: dict[int | None, int] = Counter(ballot.option_id for ballot in ballots)
    else:
        by_option = dict(db.session.execute(
            select(Ballot.option_id, func.count()).where(Ballot.vote_id == vote.id)
            .group_by(Ballot.option_id)).tuples().all())
    return [by_option.get(option.id, 0) for option in vote.options]


def roll_call(vote: Vote) -> list[Ballot]:
    """Who chose what, published after the close of a roll-call vote; never for a secret one."""
    if vote.secret:
        return []
    return list(db.session.scalars(
        select(Ballot).join(Participant, Ballot.voter_id == Participant.id)
        .where(Ballot.vote_id == vote.id).order_by(Participant.name, Ballot.id)))
