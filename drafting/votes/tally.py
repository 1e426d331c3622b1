"""What a vote's ballots add up to: the count per option, and the roll call; a secret vote's
running tally, sealed in its row until the close (``sealing``)."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from drafting.errors import Unavailable
from drafting.votes import sealing
from drafting.votes.roll_call import delegation_key, person_key, roll_call_order
from drafting.votes.units import first_called
from models import (
    Ballot,
    Delegation,
    Vote,
    VoteRule,
    VoteStatus,
    VoteVoter,
    db,
    delegations_of,
)


@dataclass
class Running:
    """A secret vote's tally while it is open: known to the server only while it counts."""

    counts: list[int]
    reasons: list[str]


def _secret() -> bytes:
    return str(current_app.config["SECRET_KEY"]).encode()


def _slots(vote: Vote) -> int:
    """Room for a reason per voter where objections carry one (consensus), none elsewhere:
    the sealed length follows what is public, never what was chosen."""
    return vote.eligible_count if vote.rule is VoteRule.CONSENSUS else 0


def sealed(vote: Vote, running: Running) -> bytes:
    """The whole tally, sealed afresh, as the vote's row stores it."""
    return sealing.seal(_secret(), vote.id, running.counts, running.reasons,
                        options=len(vote.options), slots=_slots(vote))


def seal(vote: Vote, running: Running) -> None:
    """Write the whole tally, sealed afresh, into the vote's row (and nowhere else)."""
    db.session.execute(update(Vote).where(Vote.id == vote.id).values(sealed_tally=sealed(vote, running))
                       .execution_options(synchronize_session=False))


def running(vote: Vote) -> Running:
    """The sealed tally as stored now (read again: the caller holds the vote's row)."""
    return unsealed(vote, db.session.scalar(select(Vote.sealed_tally).where(Vote.id == vote.id)))


def unsealed(vote: Vote, stored: bytes | None) -> Running:
    """The tally of the vote's ``sealed_tally`` as the caller read it (holding the row)."""
    if stored is None:
        return Running([0] * len(vote.options), [])
    try:
        counts, reasons = sealing.unseal(_secret(), vote.id, stored)
    except InvalidTag:
        # Sealed under another secret key (it was changed while the vote was open): nothing
        # here can count it; said plainly rather than failing (docs/security.md).
        raise Unavailable(_("This secret vote's ballots were counted under the server's "
                            "previous secret key, so they cannot be counted now. Ask the "
                            "server's administrator to restore that key, or cancel the "
                            "vote.")) from None
    return Running(counts, reasons)


def unseal_at_close(vote: Vote) -> None:
    """The close publishes the result anyway: the counts and the (sorted) reasons go into
    the option rows and the vote's row in plain, once, with no ballot left to link."""
    tally = running(vote)
    for option, count in zip(vote.options, tally.counts, strict=True):
        option.secret_count = count
    vote.secret_reasons = json.dumps(sorted(tally.reasons), ensure_ascii=False)
    db.session.flush()


def counts(vote: Vote, ballots: list[Ballot] | None = None) -> list[int]:
    """Ballots per option, in option order: a secret vote's counts (unsealed at its close;
    before, the sealed tally), or a roll-call vote's ballot rows counted (``ballots``, when
    the caller has loaded them already)."""
    if vote.secret:
        if vote.status is VoteStatus.CLOSED:
            return [option.secret_count for option in vote.options]
        return running(vote).counts
    if ballots is not None:
        by_option: dict[int | None, int] = Counter(ballot.option_id for ballot in ballots)
    else:
        by_option = dict(db.session.execute(
            select(Ballot.option_id, func.count()).where(Ballot.vote_id == vote.id)
            .group_by(Ballot.option_id)).tuples().all())
    return [by_option.get(option.id, 0) for option in vote.options]


def present(vote: Vote) -> int:
    """How many of the eligible the question has reached: while it is open, so far; once
    closed, by its close (a page seen afterwards changes nothing)."""
    query = select(func.count(VoteVoter.id)).where(VoteVoter.vote_id == vote.id,
                                                   VoteVoter.seen_at.is_not(None))
    if vote.closed_at is not None:
        query = query.where(VoteVoter.seen_at <= vote.closed_at)
    return db.session.scalar(query) or 0


def roll_call(vote: Vote, ballots: list[Ballot] | None = None) -> list[Ballot]:
    """Who chose what, published after the close of a roll-call vote (never for a secret
    one), in the roll call's order: alphabetical by delegation (a vote by delegation) or by
    surname, from the one drawn by lot at the opening (``roll_call``). ``ballots``: the
    vote's, when the caller has loaded them already."""
    if vote.secret:
        return []
    if ballots is None:
        ballots = list(db.session.scalars(select(Ballot).where(Ballot.vote_id == vote.id)))
    if vote.by_delegation:
        return roll_call_order(ballots, _delegation_key, first_called(vote))
    return roll_call_order(ballots, lambda b: person_key(b.voter), first_called(vote))


def _delegation_key(ballot: Ballot) -> tuple[str, str, int]:
    assert ballot.delegation is not None  # a vote by delegation's ballots are its delegations'
    return delegation_key(ballot.delegation)


def ballot_delegations(vote: Vote, ballots: list[Ballot]) -> dict[int, Delegation]:
    """Ballot id -> the delegation named beside it in the roll call: the delegation whose
    ballot it is (a vote by delegation), or the one its voter sits in now."""
    if vote.by_delegation:
        return {b.id: b.delegation for b in ballots if b.delegation is not None}
    seats = delegations_of(vote.recommendation.group.conference_id, [b.voter_id for b in ballots])
    return {b.id: seats[b.voter_id] for b in ballots if b.voter_id in seats}
