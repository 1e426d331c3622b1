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
from models import (
    Ballot,
    Participant,
    Vote,
    VoteRule,
    VoteStatus,
    db,
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


def roll_call(vote: Vote) -> list[Ballot]:
    """Who chose what, published after the close of a roll-call vote; never for a secret one."""
    if vote.secret:
        return []
    return list(db.session.scalars(
        select(Ballot).join(Participant, Ballot.voter_id == Participant.id)
        .where(Ballot.vote_id == vote.id).order_by(Participant.name, Ballot.id)))
