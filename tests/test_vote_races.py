"""Votes under concurrency, with real threads on the real database (SQLite or PostgreSQL):
many voters at once, one voter many times at once, ballots racing the close, two closers.

Each thread is one request: its own request context and session, a commit at the end, as
an edge would. The threads read what they need, commit (so no transaction is held while
waiting), meet at a barrier, and then act at the same moment."""
from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from drafting.errors import Conflict
from drafting.votes import records, services
from drafting.votes.ballots import Cast, cast_ballot
from drafting.votes.deadlines import close_due_votes
from drafting.votes.schemas import BallotIn, VoteOpen
from drafting.votes.tally import counts
from models import (
    Ballot,
    ClauseKind,
    Conference,
    GroupRole,
    Membership,
    Participant,
    Vote,
    VoteOption,
    VoteStatus,
    db,
    utcnow,
)
from tests.helpers.races import at_once, caster


def crowd(app, group_id: int, n: int) -> list[int]:
    """``n`` members of the group, inserted at once (the factories would hash n passwords)."""
    with app.app_context():
        start = db.session.scalar(select(func.coalesce(func.max(Participant.id), 0)))
        ids = []
        for k in range(n):
            person = Participant(email=f"voter{start + k}-{group_id}@example.org", name=f"Voter {k:03}",
                                 affiliation="Ministry", country="Kazakhstan",
                                 category="government_official", password_hash=None)
            db.session.add(person)
            db.session.flush()
            ids.append(person.id)
        db.session.execute(insert(Membership), [
            {"group_id": group_id, "participant_id": pid, "role": GroupRole.MEMBER} for pid in ids])
        db.session.commit()
        return ids


def open_vote(app, factories, voters: int, **data: Any) -> tuple[Any, list[int], int, dict[str, int]]:
    """A group whose chair stays neutral, ``voters`` members, and an open vote on a clause."""
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Text;")])
    with app.app_context():
        db.session.execute(update(Conference).where(Conference.id == cast.conference.id)
                           .values(chair_votes=False))
        db.session.commit()
    ids = [cast.member.id, *crowd(app, cast.group.id, voters - 1)]
    with app.test_request_context():
        chair = db.session.get(Participant, cast.chair.id)
        recommendation = db.session.merge(recommendation)
        vote = services.open_vote(chair, recommendation, VoteOpen.model_validate({
            "subject": "clause", "clause_id": recommendation.live_clauses[0].id,
            **data}))
        db.session.commit()
        assert vote.eligible_count == voters
        return cast, ids, vote.id, {o.kind.value: o.id for o in vote.options}


def closer(vote_id: int, chair_id: int | None) -> Callable[[Any], Any]:
    def job(barrier: threading.Barrier) -> Any:
        chair = db.session.get(Participant, chair_id) if chair_id else None
        vote = db.session.get(Vote, vote_id)
        # One request, one transaction: what it read before the close (the options, as a
        # page would show them) must not be what the close counts.
        _ = [o.secret_count for o in vote.options], vote.recommendation.group
        barrier.wait()
        if chair is None:
            return close_due_votes()
        return services.close_vote(chair, vote)
    return job


def stored(app, vote_id: int) -> tuple[Vote, list[int], int, records.Verification]:
    with app.app_context():
        vote = db.session.get(Vote, vote_id)
        ballots = db.session.scalar(select(func.count(Ballot.id)).where(Ballot.vote_id == vote_id))
        verification = records.verify_vote(vote) if vote.status is VoteStatus.CLOSED else None
        tally = counts(vote)
        db.session.expunge_all()
        return vote, tally, ballots, verification


@pytest.mark.parametrize("secret", [False, True], ids=["roll-call", "secret"])
def test_a_hundred_voters_at_once_are_all_counted(app, factories, secret):
    _cast, voters, vote_id, options = open_vote(app, factories, 100, secret=secret)
    choice = ["yes", "no", "abstain"]
    results = at_once(app, [caster(vote_id, voter, options[choice[i % 3]])
                            for i, voter in enumerate(voters)])
    assert all(isinstance(r, Cast) and not r.changed for r in results), \
        Counter(type(r).__name__ + ":" + str(r) for r in results if not isinstance(r, Cast))
    vote, tally, ballots, _ = stored(app, vote_id)
    assert (vote.turnout, ballots, tally) == (100, 100, [34, 33, 33])


def test_one_roll_call_voter_twenty_times_at_once_is_one_ballot(app, factories):
    _cast, voters, vote_id, options = open_vote(app, factories, 3)
    choices = [options["yes"] if i % 2 else options["no"] for i in range(20)]
    results = at_once(app, [caster(vote_id, voters[0], option) for option in choices])
    assert all(isinstance(r, Cast) for r in results), results
    assert sum(not r.changed for r in results) == 1
    vote, tally, ballots, _ = stored(app, vote_id)
    assert (vote.turnout, ballots, sum(tally)) == (1, 1, 1)
    with app.app_context():
        row = db.session.scalar(select(Ballot).where(Ballot.vote_id == vote_id))
        assert row.option_id in (options["yes"], options["no"])


def test_one_secret_voter_twenty_times_at_once_is_one_ballot(app, factories):
    _cast, voters, vote_id, options = open_vote(app, factories, 3, secret=True)
    results = at_once(app, [caster(vote_id, voters[0], options["yes" if i % 2 else "no"])
                            for i in range(20)])
    counted = [r for r in results if isinstance(r, Cast)]
    refused = [r for r in results if not isinstance(r, Cast)]
    assert len(counted) == 1 and counted[0].receipt and not counted[0].changed
    assert len(refused) == 19
    assert all(isinstance(r, Conflict) and "receipt" in r.message for r in refused), refused
    vote, tally, ballots, _ = stored(app, vote_id)
    assert (vote.turnout, ballots, sum(tally)) == (1, 1, 1)


@pytest.mark.parametrize("secret", [False, True], ids=["roll-call", "secret"])
def test_ballots_racing_the_close_are_counted_or_refused(app, factories, secret):
    cast, voters, vote_id, options = open_vote(app, factories, 30, secret=secret)
    jobs = [caster(vote_id, voter, options["yes" if i % 3 else "no"]) for i, voter in enumerate(voters)]
    jobs.insert(15, closer(vote_id, cast.chair.id))
    results = at_once(app, jobs)
    decision = results.pop(15)
    assert not isinstance(decision, Exception), decision
    counted = [r for r in results if isinstance(r, Cast)]
    refused = [r for r in results if not isinstance(r, Cast)]
    assert all(isinstance(r, Conflict) and "no longer accepted" in r.message for r in refused), \
        [repr(r) for r in refused]
    vote, tally, ballots, verification = stored(app, vote_id)
    assert vote.status is VoteStatus.CLOSED
    assert ballots == len(counted) == vote.turnout == sum(tally) == decision.turnout
    assert verification.ok, verification.checks
    assert [o["count"] for o in json.loads(vote.record)["options"]] == tally


def test_two_chairs_closing_at_once_close_it_once(app, factories):
    cast, _voters, vote_id, _options = open_vote(app, factories, 3)
    second_chair = factories.member_of(cast.group, GroupRole.CHAIR)
    results = at_once(app, [closer(vote_id, cast.chair.id), closer(vote_id, second_chair.id)])
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Decision"]
    vote, _tally, _ballots, verification = stored(app, vote_id)
    assert vote.status is VoteStatus.CLOSED and verification.ok
    with app.app_context():
        records = db.session.scalars(select(Vote.record_sha256).where(Vote.record_sha256.is_not(None))).all()
        assert records == [vote.record_sha256]


def test_several_deadline_closers_at_once_close_it_once(app, factories):
    _cast, _voters, vote_id, _options = open_vote(app, factories, 3, deadline_minutes=5)
    with app.app_context():
        db.session.execute(update(Vote).where(Vote.id == vote_id)
                           .values(deadline=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    results = at_once(app, [closer(vote_id, None) for _ in range(4)])
    assert sorted(results) == [0, 0, 0, 1], results
    vote, _tally, _ballots, verification = stored(app, vote_id)
    assert vote.status is VoteStatus.CLOSED and vote.closed_by_id is None and verification.ok
    with app.app_context():
        assert db.session.scalar(select(func.count(Vote.id)).where(Vote.record.is_not(None))) == 1
        assert db.session.scalar(select(func.count(VoteOption.id))) == 3


def opener(recommendation_id: int, chair_id: int, data: dict[str, Any]) -> Callable[[Any], Any]:
    def job(barrier: threading.Barrier) -> Vote:
        from models import Recommendation

        chair = db.session.get(Participant, chair_id)
        recommendation = db.session.get(Recommendation, recommendation_id)
        _ = [c.status for c in recommendation.live_clauses], recommendation.group
        barrier.wait()
        return services.open_vote(chair, recommendation, VoteOpen.model_validate(dict(data)))
    return job


def test_a_vote_opened_twice_at_once_on_one_clause_opens_once(app, factories):
    """The chair's double click, or two chairs: one vote, the other told the clause is locked."""
    cast = factories.cast()
    second_chair = factories.member_of(cast.group, GroupRole.CHAIR)
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Text;")])
    with app.app_context():
        clause_id = db.session.merge(recommendation).live_clauses[0].id
    data = {"subject": "clause", "clause_id": clause_id}
    results = at_once(app, [opener(recommendation.id, chair, data)
                            for chair in (cast.chair.id, second_chair.id) * 2])
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Conflict", "Conflict", "Vote"], results
    assert all("locked" in r.message or "already open" in r.message
               for r in results if isinstance(r, Conflict))
    with app.app_context():
        assert db.session.scalar(select(func.count(Vote.id)).where(Vote.status == VoteStatus.OPEN)) == 1


def test_the_whole_recommendation_put_twice_at_once_opens_once(app, factories):
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Text;")])
    with app.test_request_context():
        chair = db.session.get(Participant, cast.chair.id)
        draft = db.session.merge(recommendation)
        vote = services.open_vote(chair, draft, VoteOpen(subject="clause", method="consensus",
                                                 clause_id=draft.live_clauses[0].id))
        services.close_vote(chair, vote)  # nobody objected (the chair is present): adopted
        db.session.commit()
    results = at_once(app, [opener(recommendation.id, cast.chair.id, {"subject": "recommendation"})
                            for _ in range(3)])
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Conflict", "Vote"], results
    assert all("open votes" in r.message for r in results if isinstance(r, Conflict))
    with app.app_context():
        assert db.session.scalar(select(func.count(Vote.id)).where(Vote.status == VoteStatus.OPEN)) == 1


def test_one_receipt_used_five_times_at_once_changes_the_ballot_once(app, factories):
    _cast, voters, vote_id, options = open_vote(app, factories, 3, secret=True)
    with app.test_request_context():
        first = cast_ballot(db.session.get(Participant, voters[0]), db.session.get(Vote, vote_id),
                                     BallotIn(option_id=options["no"]))
        db.session.commit()
    targets = ["yes", "abstain", "yes", "abstain", "yes"]
    results = at_once(app, [caster(vote_id, voters[0], options[t], receipt=first.receipt) for t in targets])
    changed = [r for r in results if isinstance(r, Cast)]
    assert len(changed) == 1 and changed[0].changed, results
    assert all(isinstance(r, Conflict) and "used already" in r.message
               for r in results if not isinstance(r, Cast)), results
    vote, tally, ballots, _ = stored(app, vote_id)
    assert (vote.turnout, ballots, sum(tally), tally[1]) == (1, 1, 1, 0)


def test_closes_at_once_in_one_conference_chain_in_one_line(app, factories):
    """Six votes of one conference closed at the same moment: every record follows exactly
    one other, so changing any of them breaks the hash of the next."""
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, f"Clause {n};") for n in range(6)])
    with app.test_request_context():
        chair = db.session.get(Participant, cast.chair.id)
        draft = db.session.merge(recommendation)
        vote_ids = [services.open_vote(chair, draft, VoteOpen(subject="clause", clause_id=clause.id)).id
                    for clause in draft.live_clauses]
        db.session.commit()
    results = at_once(app, [closer(vote_id, cast.chair.id) for vote_id in vote_ids])
    assert not any(isinstance(r, Exception) for r in results), results
    with app.app_context():
        links = dict(db.session.execute(select(Vote.record_sha256, Vote.previous_sha256)).tuples().all())
        assert len(links) == 6
        previous = list(links.values())
        assert previous.count(None) == 1 and len(set(previous)) == 6, "the chain forked"
        assert all(p is None or p in links for p in previous)
        assert all(records.verify_vote(db.session.get(Vote, vote_id)).ok for vote_id in vote_ids)
