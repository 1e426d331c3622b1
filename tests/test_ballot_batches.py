"""Ballots cast through the process's ballots' writer (drafting/votes/writer.py), as the
vote page's form and the API send them: the ballots that arrive together are cast in one
transaction and one commit, each request answered after it; a refusal stays with its own
ballot, and a ballot that breaks its batch is cast again alone.

A batch is made deterministic by the writer's settings: a batch limit of exactly the
ballots sent, and a linger far longer than the test, so that the writer waits until all of
them are in (never a timing assumption: it waits for them, however slow). The SQL sent is
counted with an SQLAlchemy event listener on the engine, the writer's thread included."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text, update

from drafting.votes import services as votes
from drafting.votes.ballots import Ballots
from drafting.votes.schemas import BallotIn, VoteOpen, vote_out
from models import (
    Ballot,
    Clause,
    ClauseKind,
    Conference,
    GroupRole,
    Participant,
    Recommendation,
    Vote,
    VotingUnit,
    db,
)
from tests.helpers.pages import acting, get


@pytest.fixture
def cast(factories):
    return factories.cast()


@pytest.fixture
def voters(factories, cast) -> list[Participant]:
    """Ten members besides the chair (who does not vote here) and the cast's member."""
    with factories.app.app_context():
        db.session.execute(update(Conference).where(Conference.id == cast.group.conference_id)
                           .values(chair_votes=False))
        db.session.commit()
    return [cast.member, *(factories.member_of(cast.group, GroupRole.MEMBER, name=f"Delegate {n:02}")
                           for n in range(10))]


def open_votes(app: Flask, factories: Any, cast: Any, count: int = 1, **data: Any) -> list[dict[str, Any]]:
    """``count`` open votes on clauses of one recommendation: id and option ids by kind."""
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, f"Calls on States to take measure {n};") for n in range(count)])
    opened = []
    with acting(app):
        draft = get(Recommendation, recommendation.id)
        for clause in db.session.scalars(select(Clause).where(Clause.recommendation_id == draft.id)
                                         .order_by(Clause.position)):
            vote = votes.open_vote(get(Participant, cast.chair.id), draft, VoteOpen.model_validate(
                {"subject": "clause", "clause_id": clause.id, "method": "ballot", **data}))
            opened.append({"id": vote.id, "recommendation": draft.id,
                           **{o.kind.value: o.id for o in vote.options}})
    return opened


@pytest.fixture
def batching(app_variant) -> Callable[[int], Flask]:
    """An app whose ballots' writer casts exactly ``size`` ballots together: it waits for
    them all (a linger far longer than any test), then writes them in one transaction."""
    return lambda size: app_variant(BALLOT_BATCH_LIMIT=size, BALLOT_BATCH_LINGER_MS=600_000)


def signed_in(app: Flask, people: list[Participant]) -> list[Any]:
    clients = []
    for person in people:
        client = app.test_client()
        client.sign_in(person)
        clients.append(client)
    return clients


def at_once(sends: list[Callable[[], Any]]) -> list[Any]:
    """Each request in a thread of its own, released together; the answers, in order."""
    barrier = threading.Barrier(len(sends), timeout=30)
    answers: list[Any] = [None] * len(sends)

    def run(index: int, send: Callable[[], Any]) -> None:
        barrier.wait()
        answers[index] = send()

    threads = [threading.Thread(target=run, args=(i, send)) for i, send in enumerate(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    return answers


def ballot(client: Any, vote: dict[str, Any], choice: str, **fields: str) -> Callable[[], Any]:
    option = str(vote[choice]) if choice in vote else choice
    return lambda: client.submit(f"/votes/{vote['id']}/ballot", {"option_id": option, **fields})


#: What reads or writes rows (savepoints and settings such as a lock timeout aside).
ROW_STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE")


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements that read or write rows, sent to the database inside the block
    from any thread."""
    sent: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(ROW_STATEMENTS):
            sent.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def stored(app: Flask, vote_id: int) -> tuple[int, dict[int | None, int]]:
    """The vote's turnout, and its ballot rows by option."""
    with app.app_context():
        turnout = db.session.get(Vote, vote_id).turnout
        rows = dict(db.session.execute(select(Ballot.option_id, func.count()).where(
            Ballot.vote_id == vote_id).group_by(Ballot.option_id)).tuples().all())
        return turnout, rows


# --- one transaction for the ballots that arrive together -------------------------------------

def test_a_ballot_alone_costs_thirteen_statements_where_it_cost_twenty(app, factories, cast):
    """The sign-in, then the writer's: who voted, the vote with its recommendation, group,
    roles, voters, whether its conference is still open, and options, the claim of the
    vote's row, the voter's earlier ballot, the ballot, the turnout. (It was 20: the vote,
    its group and the voter's role read by the request, the claim twice, the ballot under a
    savepoint, the vote and each option read back, and the voter and the vote again after
    the commit.)"""
    (vote,) = open_votes(app, factories, cast)
    (client,) = signed_in(app, [cast.member])
    with statements(app) as sent:
        assert ballot(client, vote, "yes")().status_code == 302
    assert len(sent) <= 13, "\n".join(sent)
    assert stored(app, vote["id"]) == (1, {vote["yes"]: 1})


def test_ballots_sent_together_are_cast_in_one_transaction(factories, cast, voters, batching):
    """Eleven ballots, one batch: a statement each for its sender's session, and the same
    dozen for all of them together (one claim, one INSERT, one turnout), where eleven
    ballots alone would have taken 132; every answer comes after the commit."""
    app = batching(len(voters))
    (vote,) = open_votes(app, factories, cast)
    clients = signed_in(app, voters)
    choices = ["yes", "no", "abstain"]
    with statements(app) as sent:
        answers = at_once([ballot(client, vote, choices[n % 3]) for n, client in enumerate(clients)])
    assert [a.status_code for a in answers] == [302] * len(voters)
    assert all(a.headers["Location"] == f"/votes/{vote['id']}" for a in answers)
    assert len(sent) <= len(voters) + 12, "\n".join(sent)
    assert sum(s.startswith("INSERT INTO ballot") for s in sent) == 1
    assert sum(s.startswith("UPDATE vote SET turnout=vote.turnout") for s in sent) == 1
    assert stored(app, vote["id"]) == (11, {vote["yes"]: 4, vote["no"]: 4, vote["abstain"]: 3})
    page = clients[0].get(f"/votes/{vote['id']}")
    assert "Your ballot is counted." in page.get_data(as_text=True)


def test_a_batch_announces_its_turnout_once(factories, cast, voters, batching, socket_test_client):
    """Everyone with the page open hears one ``ballot_counted`` for the batch, with the
    turnout after it (a hundred ballots at once were ten thousand messages to a hundred
    pages); the pages keep the highest turnout they hear."""
    app = batching(len(voters))
    (vote,) = open_votes(app, factories, cast)
    watcher = app.test_client()
    watcher.sign_in(cast.observer)
    socket = socket_test_client(app, flask_test_client=watcher)
    assert socket.emit("join", {"recommendation": vote["recommendation"]}, callback=True)["ok"]
    socket.get_received()
    at_once([ballot(client, vote, "yes") for client in signed_in(app, voters)])
    heard = [m["args"][0] for m in socket.get_received() if m["name"] == "ballot_counted"]
    assert heard == [{"recommendation": vote["recommendation"], "vote": vote["id"],
                      "turnout": len(voters), "eligible": len(voters)}]
    socket.disconnect()


def test_refusals_in_a_batch_stay_with_their_own_ballot(app, factories, cast, voters, batching):
    """One batch: five members' ballots, an observer's, a stranger's, an option of another
    vote, a ballot on a vote closed meanwhile, and one in Russian. Each refusal is its own,
    in its sender's language, with nothing of it written; the others are counted."""
    batched = batching(10)
    vote, closed = open_votes(batched, factories, cast, count=2)
    with acting(batched):
        votes.close_vote(get(Participant, cast.chair.id), get(Vote, closed["id"]))
    russian = voters[5]
    with batched.app_context():
        db.session.execute(update(Participant).where(Participant.id == russian.id).values(locale="ru"))
        db.session.commit()
    people = [*voters[:5], cast.observer, cast.outsider, voters[6], voters[7], russian]
    clients = signed_in(batched, people)
    sends = [ballot(client, vote, "yes") for client in clients[:5]]
    sends += [ballot(clients[5], vote, "yes"), ballot(clients[6], vote, "yes"),
              ballot(clients[7], vote, str(closed["yes"])), ballot(clients[8], closed, "no"),
              ballot(clients[9], closed, "no")]
    answers = at_once(sends)
    assert [a.status_code for a in answers] == [302] * 5 + [403, 404, 400, 409, 409]
    pages = [a.get_data(as_text=True) for a in answers]
    assert "You are not among the voters" in pages[5]
    assert "Choose one of the vote" in pages[7]
    assert "ballots are no longer accepted" in pages[8]
    assert "Голосование закрыто: голоса больше не принимаются." in pages[9], pages[9][:3000]
    assert stored(batched, vote["id"]) == (5, {vote["yes"]: 5})
    assert stored(batched, closed["id"]) == (0, {})


def test_the_same_voter_twice_in_a_batch_is_one_ballot(factories, cast, voters, batching):
    """Two tabs of one roll-call voter, in one batch: one ballot, the other answer a change."""
    app = batching(3)
    (vote,) = open_votes(app, factories, cast)
    first, second = signed_in(app, [voters[0], voters[0]])
    (other,) = signed_in(app, [voters[1]])
    answers = at_once([ballot(first, vote, "yes"), ballot(second, vote, "no"), ballot(other, vote, "no")])
    assert [a.status_code for a in answers] == [302] * 3
    assert stored(app, vote["id"])[0] == 2
    messages = [first.get(f"/votes/{vote['id']}").get_data(as_text=True),
                second.get(f"/votes/{vote['id']}").get_data(as_text=True)]
    assert sum("Your ballot is changed." in page for page in messages) == 1


def test_a_delegations_ballot_is_cast_once_in_a_batch_and_others_are_counted(app, factories, cast, voters,
                                                                            batching):
    """A vote by delegation, one batch: the head and the designated voter of one delegation
    both cast (one ballot, the other refused, naming who cast it), two other delegations
    cast, and a member seated nowhere is refused. Then, in a second batch, the head changes
    the delegation's ballot while the designated voter may not."""
    batched = batching(5)
    conference = cast.conference
    head, deputy, second, third, loner = voters[:5]
    kazakhstan = factories.delegation(conference, "Kazakhstan", head=head, voter=deputy,
                                      members=(head, deputy))
    factories.delegation(conference, "Kyrgyzstan", head=second, members=(second,))
    factories.delegation(conference, "Tajikistan", head=third, members=(third,))
    factories.delegation(conference, "Others", members=tuple(voters[5:]))
    with batched.app_context():
        db.session.execute(update(Conference).where(Conference.id == conference.id)
                           .values(voting_unit=VotingUnit.DELEGATION))
        db.session.commit()
    (vote,) = open_votes(batched, factories, cast)
    clients = signed_in(batched, [head, deputy, second, third, loner])
    answers = at_once([ballot(clients[0], vote, "yes"), ballot(clients[1], vote, "no"),
                       ballot(clients[2], vote, "no"), ballot(clients[3], vote, "abstain"),
                       ballot(clients[4], vote, "yes")])
    statuses = [a.status_code for a in answers]
    assert sorted(statuses[:2]) == [302, 409] and statuses[2:] == [302, 302, 403], statuses
    refused = answers[statuses.index(409)].get_data(as_text=True)
    caster_name = (head if statuses[0] == 302 else deputy).name
    assert "The delegation of Kazakhstan has voted" in refused and caster_name in refused
    assert "you do not sit in a delegation" in answers[4].get_data(as_text=True)
    first_choice = vote["yes"] if statuses[0] == 302 else vote["no"]
    turnout, rows = stored(batched, vote["id"])
    assert turnout == 3 and sum(rows.values()) == 3 and rows.get(vote["abstain"]) == 1
    with batched.app_context():
        assert db.session.scalar(select(Ballot.option_id).where(
            Ballot.vote_id == vote["id"], Ballot.delegation_id == kazakhstan.id)) == first_choice

    again = batching(2)
    who_cast, other = signed_in(again, [head, deputy] if statuses[0] == 302 else [deputy, head])
    answers = at_once([ballot(who_cast, vote, "abstain"), ballot(other, vote, "yes")])
    assert [a.status_code for a in answers] == [302, 409]
    with again.app_context():
        assert db.session.scalar(select(Ballot.option_id).where(
            Ballot.vote_id == vote["id"], Ballot.delegation_id == kazakhstan.id)) == vote["abstain"]
        assert db.session.get(Vote, vote["id"]).turnout == 3


def test_a_question_put_for_consensus_takes_no_ballot_in_a_batch(app, factories, cast, voters, batching):
    """Consensus is declared, not balloted: a ballot sent for one is refused, beside a ballot
    on a vote of the same batch that is counted."""
    batched = batching(2)
    (balloted,) = open_votes(batched, factories, cast)
    (sought,) = open_votes(batched, factories, cast, method="consensus")
    first, second = signed_in(batched, voters[:2])
    answers = at_once([ballot(first, balloted, "yes"), ballot(second, sought, str(balloted["yes"]))])
    assert [a.status_code for a in answers] == [302, 409]
    assert "put for consensus: there are no ballots" in answers[1].get_data(as_text=True)
    assert stored(batched, sought["id"]) == (0, {})
    assert stored(batched, balloted["id"]) == (1, {balloted["yes"]: 1})


@contextmanager
def refusing_ballots_of(app: Flask, voter_id: int) -> Iterator[None]:
    """A trigger that makes the database refuse any ballot row of this voter (a constraint
    of its own, as a broken row or a bug would meet one), dropped afterwards."""
    with app.app_context():
        dialect = db.engine.dialect.name
        with db.engine.begin() as connection:
            if dialect == "sqlite":
                connection.execute(text(
                    f"CREATE TRIGGER refuse_ballot BEFORE INSERT ON ballot WHEN NEW.voter_id = {voter_id} "
                    "BEGIN SELECT RAISE(ABORT, 'this ballot is refused'); END"))
            else:
                connection.execute(text(
                    "CREATE FUNCTION refuse_ballot() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.voter_id = {voter_id} THEN RAISE EXCEPTION 'this ballot is refused'; END IF; "
                    "RETURN NEW; END $$"))
                connection.execute(text("CREATE TRIGGER refuse_ballot BEFORE INSERT ON ballot "
                                        "FOR EACH ROW EXECUTE FUNCTION refuse_ballot()"))
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as connection:
            if dialect == "sqlite":
                connection.execute(text("DROP TRIGGER refuse_ballot"))
            else:
                connection.execute(text("DROP TRIGGER refuse_ballot ON ballot"))
                connection.execute(text("DROP FUNCTION refuse_ballot()"))


def test_a_ballot_that_breaks_its_batch_is_cast_again_alone(factories, cast, voters, batching):
    """The database refuses one ballot's row: the batch is rolled back and its ballots are
    cast again one by one; that one fails (the friendly error page), the others count."""
    app = batching(5)
    (vote,) = open_votes(app, factories, cast)
    clients = signed_in(app, voters[:5])
    with refusing_ballots_of(app, voters[2].id):
        answers = at_once([ballot(client, vote, "no") for client in clients])
    assert [a.status_code for a in answers] == [302, 302, 500, 302, 302]
    assert stored(app, vote["id"]) == (4, {vote["no"]: 4})


def test_ballots_racing_the_close_through_the_writer_are_counted_or_refused(app, factories, cast, voters):
    """Eleven ballots and the close, sent at once: each ballot is answered counted (and is
    in the record) or too late, never lost."""
    (vote,) = open_votes(app, factories, cast)
    chair = app.test_client()
    chair.sign_in(cast.chair)
    clients = signed_in(app, voters)
    sends = [ballot(client, vote, "yes" if n % 2 else "no") for n, client in enumerate(clients)]
    sends.insert(5, lambda: chair.submit(f"/votes/{vote['id']}/close"))
    answers = at_once(sends)
    closing = answers.pop(5)
    assert closing.status_code == 302
    assert {a.status_code for a in answers} <= {302, 409}
    counted = [a for a in answers if a.status_code == 302]
    assert all("ballots are no longer accepted" in a.get_data(as_text=True)
               for a in answers if a.status_code == 409)
    turnout, rows = stored(app, vote["id"])
    assert turnout == len(counted) == sum(rows.values())
    with app.app_context():
        record = vote_out(db.session.get(Vote, vote["id"]))
        assert sum(o.count or 0 for o in record.options) == len(counted)


def test_a_secret_batch_writes_the_same_statements_whatever_its_choices(app, factories, cast, voters):
    """A batch of secret ballots writes a ballot row each (without a choice) and the vote's
    row once: the same statements, and the same number of rows, however the voters chose."""
    first, second = open_votes(app, factories, cast, count=2, secret=True)
    sent_by_batch = []
    for vote, choices in ((first, ["yes"] * 6), (second, ["no", "abstain", "yes", "no", "no", "abstain"])):
        with app.test_request_context():
            people = [db.session.get(Participant, voter.id) for voter in voters[:6]]
            batch = Ballots(db.session.get(Vote, vote["id"]), people)
            with statements(app) as sent:
                for person, choice in zip(people, choices, strict=True):
                    batch.cast(person, BallotIn(option_id=vote[choice]))
                batch.write()
                db.session.commit()
        sent_by_batch.append([s for s in sent if not s.startswith("SELECT")])
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Ballot).where(
                Ballot.vote_id == vote["id"], Ballot.option_id.is_not(None))) == 0
    assert sent_by_batch[0] == sent_by_batch[1]
    assert [s.split(" ")[0] for s in sent_by_batch[0]] == ["UPDATE", "INSERT", "UPDATE"]
