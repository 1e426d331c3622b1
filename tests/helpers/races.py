"""Races with real threads on the real database: each thread one request (its own request
context and session, a commit at the end, as an edge would), all released together."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from drafting.errors import Conflict
from drafting.votes.ballots import Cast, cast_ballot
from drafting.votes.schemas import BallotIn
from models import Participant, Vote, db


def at_once(app, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in a thread of its own, all released together; their results (or the
    domain error each raised), in order."""
    barrier = threading.Barrier(len(jobs), timeout=30)
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        with app.test_request_context():
            try:
                results[index] = job(barrier)
                db.session.commit()
            except Conflict as error:
                db.session.rollback()
                results[index] = error
            except Exception as error:  # anything else: the test shows what and where
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def caster(vote_id: int, voter_id: int, option_id: int, **data: Any) -> Callable[[Any], Any]:
    def job(barrier: threading.Barrier) -> Cast:
        voter = db.session.get(Participant, voter_id)
        vote = db.session.get(Vote, vote_id)
        _ = vote.options, vote.recommendation.group
        db.session.commit()  # nothing held while waiting for the others
        barrier.wait()
        return cast_ballot(voter, vote, BallotIn.model_validate({"option_id": option_id, **data}))
    return job
