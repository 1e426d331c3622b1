"""Ballots, written in groups: one transaction and one commit for the ballots that arrive
while the previous commit is being made.

When a whole group votes at once, each ballot cast in a transaction of its own waits for the
vote's row (every ballot claims it until commit, ``ballots.Ballots``) and pays for its own
reads, writes, commit and announcement: a hundred ballots queue behind each other. So the
ballot form and the API hand each ballot to their process's ballots' writer (``submit``),
which takes whatever is waiting, casts it all in one transaction (``ballots.Ballots``: the
vote, its options, the voters' roles and eligibility read once; the new ballot rows in one
INSERT; the vote's row written once; one announcement of the turnout), commits once, and
answers each request: counted (after the commit), or its own refusal. Under light load a
batch is one ballot. The group commit itself is the live editor's
(``drafting.realtime.workers.GroupCommit``).

A refusal (not a voter, the vote closed, not one of its options, a wrong receipt) stays with
its own ballot: nothing of it is written, and the others are counted. A batch that fails
for another reason (a bug, a constraint) is rolled back and its ballots are cast again one
by one, each in its own transaction, so that the failure stays with the ballot that caused
it; when the database does not answer, every ballot of the batch is told so at once.

The writer is an edge like a route: it resolves who sent each ballot, calls the service
and commits; a request answers what the writer answered, as if it had cast the ballot
itself (its refusal, or what failed, is raised in the request).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from drafting.errors import DomainError, NotFound, Unavailable, database_away
from drafting.realtime.workers import GroupCommit, worker
from drafting.services import load
from drafting.votes import ballots, services
from drafting.votes.schemas import BallotIn, VoteOut, vote_out
from models import Participant, Vote, db

log = logging.getLogger(__name__)

#: How long a batch waits for the database's locks (a close holding the vote's row, another
#: process's batch) before its ballots are answered "unavailable".
LOCK_WAIT_MS = 5000
#: How long a batch waits in all for more ballots while they keep coming, each less than
#: ``BALLOT_BATCH_LINGER_MS`` after the one before (or that linger, if it is longer).
LONGEST_LINGER_SECONDS = 0.05
#: How long a request waits for its ballot's answer: well past what a batch can take (its
#: lock waits are bounded), so that it is only reached if the writer itself is stuck.
ANSWER_WAIT_SECONDS = 120.0


@dataclass(frozen=True)
class Counted:
    """What the voter is told once their ballot is committed: whether it changed an earlier
    one, a secret ballot's receipt, and (for the API) the vote as it then stood."""

    changed: bool
    receipt: str | None
    vote: VoteOut | None


@dataclass
class Submission:
    voter_id: int
    vote_id: int
    command: BallotIn
    #: The voter's language, for their refusal.
    locale: str
    #: Answer with the vote as it stands after the commit (the API's answer).
    with_vote: bool
    done: threading.Event = field(default_factory=threading.Event)
    counted: Counted | None = None
    #: Its refusal, or what failed while casting it.
    error: BaseException | None = None


class BallotWriter(GroupCommit[Submission]):
    name = "plenary-ballots"

    def run(self) -> None:
        while True:
            # While ballots keep coming (a group voting at once) the batch grows: one
            # transaction, one commit and one announcement to every open page for them all.
            batch = self.collect([], max(LONGEST_LINGER_SECONDS, self.linger), quiet=self.linger)
            try:
                if not self._attempt(batch) and len(batch) > 1 and not _database_away(batch[0].error):
                    for submission in batch:  # a failure stays with the ballot that caused it
                        self._attempt([submission])
            finally:
                for submission in batch:
                    submission.done.set()
                self.settled(len(batch))

    def _attempt(self, batch: list[Submission]) -> bool:
        """Cast the batch and commit; whether it committed (if not, every submission holds
        what failed)."""
        for submission in batch:  # a ballot cast again alone starts afresh
            submission.counted, submission.error = None, None
        with self.app.app_context():
            try:
                self.limit_lock_waits(LOCK_WAIT_MS)
                _cast_all(batch)
                db.session.commit()
                log.debug("%d ballots cast in one transaction", len(batch))
            except Exception as error:  # answered to its requests, which raise it
                db.session.rollback()
                if not _database_away(error):
                    log.exception("Casting a batch of %d ballots failed", len(batch))
                for submission in batch:
                    submission.counted, submission.error = None, error
                return False
        return True


def _database_away(error: BaseException | None) -> bool:
    return isinstance(error, Exception) and database_away(error)


def _cast_all(batch: Sequence[Submission]) -> None:
    """Each submission's ballot, cast (``counted``) or refused (``error``), one vote after
    another in the order of their ids (so two processes' batches claim them in one order)."""
    voters = {p.id: p for p in db.session.scalars(
        select(Participant).where(Participant.id.in_({s.voter_id for s in batch})))}
    for vote_id, same_vote in groupby(sorted(batch, key=lambda s: s.vote_id), key=lambda s: s.vote_id):
        submissions = list(same_vote)
        try:
            vote = load(Vote, vote_id)
        except NotFound:
            vote = None
        # Reads once what every ballot asks (the voters' roles, who may vote), the visibility
        # checks below included.
        batch_of_vote = ballots.Ballots(vote, [voters[s.voter_id] for s in submissions
                                               if s.voter_id in voters]) if vote else None
        casts = {}
        for submission in submissions:
            voter = voters.get(submission.voter_id)
            with force_locale(submission.locale):
                try:
                    if voter is None:  # their account was deleted a moment ago
                        raise NotFound(_("Not found."))
                    services.get_vote(submission.vote_id, voter)
                    assert batch_of_vote is not None
                    casts[id(submission)] = batch_of_vote.cast(voter, submission.command)
                except DomainError as refusal:
                    submission.error = refusal
        if batch_of_vote is None:
            continue
        batch_of_vote.write()
        shown = vote_out(batch_of_vote.vote) if any(s.with_vote for s in submissions if id(s) in casts) else None
        for submission in submissions:
            if (cast := casts.get(id(submission))) is not None:
                submission.counted = Counted(cast.changed, cast.receipt,
                                             shown if submission.with_vote else None)


def writer() -> BallotWriter:
    """The current application's ballots' writer (one per application in this process)."""
    config = current_app.config
    return worker(BallotWriter, config["BALLOT_BATCH_LIMIT"], config["BALLOT_BATCH_LINGER_MS"] / 1000)


def submit(voter: Participant, vote_id: int, command: BallotIn, *, with_vote: bool = False) -> Counted:
    """Cast ``voter``'s ballot through the process's ballots' writer, and wait until it is
    committed (with whatever arrived together with it): its answer, or its refusal (or what
    failed) raised here. For an edge: the request's own transaction ends first, so that it
    holds neither a connection nor a lock while it waits."""
    submission = Submission(voter.id, vote_id, command, str(get_locale() or "en"), with_vote)
    db.session.commit()
    writer().submit(submission)
    if not submission.done.wait(ANSWER_WAIT_SECONDS):
        raise Unavailable(_("The server is too busy to say yet whether your ballot is counted: "
                            "open the vote again in a moment to see."))
    if submission.error is not None:
        raise submission.error
    assert submission.counted is not None
    return submission.counted

