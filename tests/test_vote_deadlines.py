"""The server closes a vote at its deadline by itself: exactly once, even with two server
processes each running its closer; and nothing is accepted after the deadline, even before
a closer has run."""
from __future__ import annotations

import re
import signal
import threading
from datetime import timedelta

import pytest
import socketio
from sqlalchemy import func, select, update

from drafting.errors import Conflict
from drafting.votes import ballots, records, services
from drafting.votes.deadlines import close_due_votes
from drafting.votes.schemas import BallotIn, VoteOpen
from models import ClauseKind, GroupRole, Vote, VoteOutcome, VoteStatus, db, utcnow
from tests.helpers.commands import INPUT_REFUSED, refused_fields
from tests.helpers.servers import GEVENT_GUNICORN, Server, log_of, sign_in
from tests.yclient import eventually

#: How often each process's closer looks for votes past their deadline.
POLL = 0.2


# --- in one process ------------------------------------------------------------------------

@pytest.fixture
def vote(ctx, factories):
    cast = factories.cast()
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, "Text;"), (ClauseKind.OPERATIVE, "Other;")])
    vote = services.open_vote(cast.chair, recommendation, VoteOpen(
        subject="clause", clause_id=recommendation.live_clauses[0].id,
        deadline_minutes=5))
    db.session.commit()
    return cast, vote


def yes(vote: Vote) -> dict:
    return {"option_id": next(o.id for o in vote.options if o.kind.value == "yes")}


def test_a_deadline_is_minutes_ahead_at_most_three_days(vote):
    cast, opened = vote
    assert timedelta(minutes=4) < opened.deadline - utcnow() <= timedelta(minutes=5)
    recommendation = opened.recommendation
    for bad in (-1, 3 * 24 * 60 + 1, "5", True, 1.5):
        with pytest.raises(INPUT_REFUSED) as refused:
            services.open_vote(cast.chair, recommendation, VoteOpen(
                subject="clause", clause_id=recommendation.live_clauses[1].id,
                deadline_minutes=bad))
        assert refused_fields(refused.value) == {"deadline_minutes"}
        db.session.rollback()


def test_a_ballot_after_the_deadline_is_refused_before_any_closer_ran(vote):
    cast, opened = vote
    ballots.cast_ballot(cast.member, opened, BallotIn.model_validate(yes(opened)))
    db.session.commit()
    assert close_due_votes() == 0  # not due yet
    db.session.execute(update(Vote).where(Vote.id == opened.id)
                       .values(deadline=utcnow() - timedelta(milliseconds=10)))
    db.session.commit()
    assert opened.status is VoteStatus.OPEN  # nobody has closed it yet
    with pytest.raises(Conflict, match="no longer accepted"):
        ballots.cast_ballot(cast.chair, opened, BallotIn.model_validate(yes(opened)))
    db.session.rollback()
    assert close_due_votes() == 1
    db.session.expire_all()
    closed = db.session.get(Vote, opened.id)
    assert (closed.status, closed.closed_by_id, closed.turnout) == (VoteStatus.CLOSED, None, 1)
    assert closed.outcome is VoteOutcome.ADOPTED and records.verify_vote(closed).ok
    assert close_due_votes() == 0


def test_a_vote_without_deadline_waits_for_its_chair(vote, factories):
    cast, _opened = vote
    other = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Other;")])
    undated = services.open_vote(cast.chair, other, VoteOpen(subject="clause",
                                                     clause_id=other.live_clauses[0].id))
    db.session.commit()
    assert undated.deadline is None
    assert close_due_votes(utcnow() + timedelta(days=30)) == 1  # the dated one only
    db.session.expire_all()
    assert db.session.get(Vote, undated.id).status is VoteStatus.OPEN


def test_a_vote_that_cannot_be_closed_does_not_hold_up_the_others(vote, factories, caplog):
    cast, broken = vote
    other = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Other;")])
    fine = services.open_vote(cast.chair, other, VoteOpen(subject="clause", deadline_minutes=5,
                                                  clause_id=other.live_clauses[0].id))
    db.session.commit()
    # A damaged row (an impossible electorate): its result cannot be computed.
    db.session.execute(update(Vote).where(Vote.id == broken.id).values(eligible_count=-1))
    db.session.commit()
    assert close_due_votes(utcnow() + timedelta(minutes=10)) == 1
    db.session.expire_all()
    assert db.session.get(Vote, fine.id).status is VoteStatus.CLOSED
    assert db.session.get(Vote, broken.id).status is VoteStatus.OPEN  # tried again next time
    assert f"closing vote {broken.id} at its deadline failed" in caplog.text


# --- two real server processes -----------------------------------------------------------

_PASS = re.compile(r"deadline pass (\d+) done")


def passes(server: Server) -> int:
    """How many looks the server's closer has finished (its DEBUG lines in the log)."""
    return max((int(n) for n in _PASS.findall(log_of(server))), default=0)


@pytest.fixture
def two_closing_servers(app, redis_url, tmp_path):
    """Two Plenary processes as docs/deployment.md runs them (gunicorn, gevent), joined by
    Redis, each with its deadline closer on."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    servers = [Server(app, redis_url, tmp_path, name, command=GEVENT_GUNICORN,
                      extra_env={"SOCKETIO_ASYNC_MODE": "gevent",
                                 "VOTE_DEADLINE_POLL_SECONDS": str(POLL),
                                 "DEBUG_LOGGERS": "drafting.votes.deadlines"})
               for name in ("a", "b")]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        # Quick shutdown (SIGINT): a graceful one waits ten seconds for the Redis listener,
        # and what this test proves is over by now.
        for server in servers:
            server.process.send_signal(signal.SIGINT)
        for server in servers:
            server.stop()


@pytest.mark.redis
def test_two_processes_close_a_vote_at_its_deadline_exactly_once(app, factories, two_closing_servers):
    cast = factories.cast()
    voters = [cast.member, factories.member_of(cast.group, GroupRole.MEMBER)]
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, "Text;")])
    with app.test_request_context():
        opened = services.open_vote(db.session.merge(cast.chair), db.session.merge(recommendation), VoteOpen(
            subject="clause", clause_id=db.session.merge(recommendation).live_clauses[0].id,
            deadline_minutes=60))
        db.session.commit()
        vote_id = opened.id
        ballots.cast_ballot(db.session.merge(voters[0]), opened, BallotIn.model_validate(yes(opened)))
        db.session.commit()

    received: dict[str, list[dict]] = {"a": [], "b": []}
    arrived = {"a": threading.Event(), "b": threading.Event()}
    clients = []
    for server, person, name in zip(two_closing_servers, voters, ("a", "b"), strict=True):
        browser, status = sign_in(server, person.email)  # a request: this process's closer starts
        assert status == 302
        client = socketio.Client(http_session=browser, reconnection=False)

        def on_closed(payload: dict, name: str = name) -> None:
            received[name].append(payload)
            arrived[name].set()

        client.on("vote_closed", on_closed)
        client.connect(server.url, transports=["websocket"], wait_timeout=10)
        assert client.call("join", {"recommendation": recommendation.id}, timeout=10)["ok"]
        clients.append(client)
    try:
        # The deadline has just passed; both closers are polling.
        with app.app_context():
            db.session.execute(update(Vote).where(Vote.id == vote_id)
                               .values(deadline=utcnow() - timedelta(milliseconds=1)))
            db.session.commit()
        for name in ("a", "b"):
            assert arrived[name].wait(15), f"process {name}'s client never heard the close"
        # Both closers look twice more (the first look may have begun before the close was
        # committed): neither may close it again.
        looked = [passes(server) for server in two_closing_servers]
        for server, before in zip(two_closing_servers, looked, strict=True):
            eventually(lambda server=server, before=before: passes(server) >= before + 2, timeout=15,
                       message=f"process {server.url}'s closer looking twice more")
        for name in ("a", "b"):
            assert len(received[name]) == 1, received[name]
            announced = received[name][0]["vote"]
            assert (announced["id"], announced["status"], announced["closed_by"]) == (vote_id, "closed", None)
            assert announced["turnout"] == 1 and announced["outcome"] == "adopted"
        with app.app_context():
            vote = db.session.get(Vote, vote_id)
            assert (vote.status, vote.closed_by_id) == (VoteStatus.CLOSED, None)
            assert db.session.scalar(select(func.count(Vote.id)).where(Vote.record.is_not(None))) == 1
            assert records.verify_vote(vote).ok
            assert received["a"][0]["vote"]["record_sha256"] == vote.record_sha256
    finally:
        for client in clients:
            client.disconnect()
