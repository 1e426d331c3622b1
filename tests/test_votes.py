"""Votes, as rules: who opens and who votes, what a vote locks and what its result does to the
text, run-offs, statements, the tamper-evident record, and the secrecy of secret ballots."""
from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from drafting.errors import Conflict, PermissionDenied, ValidationFailed
from drafting.realtime import PENDING_KEY, QueuedEvent
from drafting.votes import ballots, objections, records, services, tally
from drafting.votes.schemas import BallotIn, ObjectionIn, StatementIn, VoteOpen, vote_out
from models import (
    AmendmentKind,
    AmendmentStatus,
    Ballot,
    Clause,
    ClauseKind,
    ClauseStatus,
    ClauseUpdate,
    Conference,
    GroupRole,
    OptionKind,
    Participant,
    QuorumRule,
    RecommendationStatus,
    Statement,
    StatementKind,
    Vote,
    VoteOption,
    VoteOutcome,
    VoteRule,
    VoteStatus,
    db,
)
from tests.helpers.commands import INPUT_REFUSED, refused_fields

TEXT = "Calls on States to protect migrant workers in the region;"
OTHER = "Invites the ILO to assist;"


@pytest.fixture
def draft(ctx, factories):
    """The cast, two more members (four voters with the chair), and a draft of two clauses."""
    cast = factories.cast()
    more = [factories.member_of(cast.group, GroupRole.MEMBER, name=f"Voter {n}") for n in (1, 2)]
    recommendation = factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, TEXT), (ClauseKind.OPERATIVE, OTHER)])
    return cast, more, recommendation


def open_(actor, recommendation, rule: str | None = None, quorum: int | None = None,
          **data) -> Vote:
    """Put a question; ``rule``: by that majority (the conference's rules of procedure are
    set to vote by it), or "consensus" (sought, not balloted); ``quorum``: how many of the
    voters, in per cent rounded up, must take part (set as the rules' quorum)."""
    conference = recommendation.group.conference
    if rule == "consensus":
        data.setdefault("method", "consensus")
    elif rule is not None:
        conference.decision_rule = VoteRule(rule)
    if quorum is not None:
        conference.quorum_rule = QuorumRule.MAJORITY
    db.session.commit()
    vote = services.open_vote(actor, recommendation, VoteOpen.model_validate(data))
    db.session.commit()
    return vote


def option(vote: Vote, which: Any) -> VoteOption:
    """By kind ("yes", "no", "abstain") or by position."""
    if isinstance(which, int):
        return next(o for o in vote.options if o.position == which)
    return next(o for o in vote.options if o.kind is OptionKind(which))


def ballot(voter, vote: Vote, which: Any, **data) -> ballots.Cast:
    cast = ballots.cast_ballot(voter, vote, BallotIn.model_validate({"option_id": option(vote, which).id, **data}))
    db.session.commit()
    return cast


def close(actor, vote: Vote):
    decision = services.close_vote(actor, vote)
    db.session.commit()
    return decision


def queued(name: str) -> list[dict]:
    return [e.args[0] for e in db.session().info.get(PENDING_KEY, [])
            if isinstance(e, QueuedEvent) and e.name == name]


def clause_vote(draft, **data) -> tuple[Any, list, Vote, Clause]:
    cast, more, recommendation = draft
    clause = recommendation.live_clauses[0]
    vote = open_(cast.chair, recommendation, subject="clause", clause_id=clause.id,
                 **data)
    return cast, more, vote, clause


# --- who opens, who votes ----------------------------------------------------------------

@pytest.mark.parametrize("role", ["member", "observer", "other_chair", "secretariat", "outsider"])
def test_only_the_chair_opens_closes_and_cancels(draft, role):
    cast, _more, recommendation = draft
    clause = recommendation.live_clauses[0]
    person = getattr(cast, role)
    with pytest.raises(PermissionDenied) as refused:
        services.open_vote(person, recommendation, VoteOpen(subject="clause", clause_id=clause.id))
    assert refused.value.status == 403
    db.session.rollback()
    vote = open_(cast.chair, recommendation, subject="clause", clause_id=clause.id)
    for action in (services.close_vote, services.cancel_vote):
        with pytest.raises(PermissionDenied):
            action(person, vote)
        db.session.rollback()
    assert db.session.get(Vote, vote.id).status is VoteStatus.OPEN


def test_the_voters_are_fixed_when_the_vote_opens(draft, factories):
    cast, more, vote, _clause = clause_vote(draft)
    assert vote.eligible_count == 4  # chair, member and two more; not the observer
    latecomer = factories.member_of(cast.group, GroupRole.MEMBER)
    with pytest.raises(PermissionDenied, match="fixed when it opened"):
        ballots.cast_ballot(latecomer, vote, BallotIn(option_id=option(vote, "yes").id))
    with pytest.raises(PermissionDenied, match="observers never"):
        ballots.cast_ballot(cast.observer, vote, BallotIn(option_id=option(vote, "yes").id))
    for stranger in (cast.other_chair, cast.outsider, cast.secretariat):
        with pytest.raises(PermissionDenied, match="Only the group's members"):
            ballots.cast_ballot(stranger, vote, BallotIn(option_id=option(vote, "yes").id))
    db.session.rollback()
    for voter in (cast.chair, cast.member, *more):
        ballot(voter, vote, "yes")
    assert db.session.get(Vote, vote.id).turnout == 4


def test_a_neutral_chair_does_not_vote(draft):
    cast, _more, recommendation = draft
    cast.conference.chair_votes = False
    db.session.commit()
    vote = open_(cast.chair, recommendation, subject="clause",
                 clause_id=recommendation.live_clauses[0].id)
    assert vote.eligible_count == 3
    with pytest.raises(PermissionDenied):
        ballots.cast_ballot(cast.chair, vote, BallotIn(option_id=option(vote, "yes").id))


def test_bad_ballots_are_refused_clearly(draft, factories):
    cast, more, vote, _clause = clause_vote(draft)
    other = clause_vote((cast, more, factories.recommendation(cast.group, clauses=[
        (ClauseKind.OPERATIVE, TEXT)])))[2]
    for bad in (-1, 10**12, option(other, "yes").id):
        with pytest.raises(ValidationFailed, match="Choose one of the vote's options"):
            ballots.cast_ballot(cast.member, vote, BallotIn(option_id=bad))
    for shapeless in (None, "1", True):
        with pytest.raises(INPUT_REFUSED) as refused:
            BallotIn.model_validate({"option_id": shapeless})
        assert refused_fields(refused.value) == {"option_id"}
    db.session.rollback()
    close(cast.chair, vote)
    with pytest.raises(Conflict, match="closed: ballots are no longer accepted"):
        ballots.cast_ballot(cast.member, vote, BallotIn(option_id=option(vote, "yes").id))
    db.session.rollback()
    services.cancel_vote(cast.chair, other)
    db.session.commit()
    with pytest.raises(Conflict, match="cancelled"):
        ballots.cast_ballot(cast.member, other, BallotIn(option_id=option(other, "yes").id))


def test_an_objection_to_a_consensus_is_named_and_may_give_a_reason(draft):
    cast, _more, recommendation = draft
    vote = open_(cast.chair, recommendation, subject="clause",
                 clause_id=recommendation.live_clauses[0].id, rule="consensus")
    with pytest.raises(Conflict, match="no ballots"):
        ballots.cast_ballot(cast.member, vote, BallotIn(option_id=option(vote, "no").id))
    db.session.rollback()
    objections.object_to(cast.member, vote, ObjectionIn(reason="Too vague."))
    db.session.commit()
    decision = close(cast.chair, vote)
    assert decision.outcome is VoteOutcome.NO_CONSENSUS
    entry = json.loads(vote.record)["roll_call"][0]
    assert (entry["voter"]["id"], entry["reason"]) == (cast.member.id, "Too vague.")


def test_a_roll_call_ballot_may_be_changed_until_the_close(draft):
    cast, _more, vote, _clause = clause_vote(draft)
    assert ballot(cast.member, vote, "no").changed is False
    assert ballot(cast.member, vote, "yes").changed is True
    assert db.session.get(Vote, vote.id).turnout == 1
    assert services.own_choice(vote, cast.member).option_id == option(vote, "yes").id
    assert tally.counts(vote) == [1, 0, 0]


def test_a_secret_ballot_changes_only_with_its_receipt(draft):
    cast, _more, vote, _clause = clause_vote(draft, secret=True)
    first = ballot(cast.member, vote, "no")
    assert first.receipt and not first.changed
    with pytest.raises(Conflict, match="receipt"):
        ballots.cast_ballot(cast.member, vote, BallotIn(option_id=option(vote, "yes").id))
    db.session.rollback()
    with pytest.raises(Conflict, match="receipt"):
        ballots.cast_ballot(cast.member, vote, BallotIn(option_id=option(vote, "yes").id,
                                                 receipt="forged.0123456789abcdef"))
    db.session.rollback()
    second = ballot(cast.member, vote, "yes", receipt=first.receipt)
    assert second.changed and second.receipt != first.receipt
    assert tally.counts(vote) == [1, 0, 0]
    with pytest.raises(Conflict, match="used already"):
        ballots.cast_ballot(cast.member, vote, BallotIn(option_id=option(vote, "no").id,
                                                 receipt=first.receipt))
    db.session.rollback()
    assert tally.counts(vote) == [1, 0, 0]
    assert services.own_choice(vote, cast.member) is None


def test_a_receipt_changes_only_its_own_voters_ballot(draft):
    cast, more, vote, _clause = clause_vote(draft, secret=True)
    mine = ballot(cast.member, vote, "no")
    ballot(more[0], vote, "yes")
    with pytest.raises(Conflict, match="receipt"):
        ballots.cast_ballot(more[0], vote, BallotIn(option_id=option(vote, "abstain").id,
                                              receipt=mine.receipt))
    db.session.rollback()
    assert tally.counts(vote) == [1, 1, 0]


# --- what a vote does to the clause ------------------------------------------------------

def test_opening_locks_the_clause_and_cancelling_unlocks_it(draft):
    cast, _more, recommendation = draft
    clause = recommendation.live_clauses[0]
    vote = services.open_vote(cast.chair, recommendation, VoteOpen(subject="clause", clause_id=clause.id))
    assert [e["vote"]["id"] for e in queued("vote_opened")] == [vote.id]
    assert clause.status is ClauseStatus.LOCKED
    db.session.commit()
    with pytest.raises(Conflict, match="locked"):
        services.open_vote(cast.chair, clause.recommendation, VoteOpen(subject="clause", clause_id=clause.id))
    db.session.rollback()
    services.cancel_vote(cast.chair, vote)
    assert [e["vote"]["status"] for e in queued("vote_cancelled")] == ["cancelled"]
    db.session.commit()
    assert clause.status is ClauseStatus.OPEN
    assert vote.status is VoteStatus.CANCELLED and vote.closed_by_id == cast.chair.id
    with pytest.raises(Conflict, match="already ended"):
        services.close_vote(cast.chair, vote)


def test_a_rejected_wording_unlocks_the_clause(draft):
    cast, _more, vote, clause = clause_vote(draft)
    ballot(cast.member, vote, "no")
    assert close(cast.chair, vote).outcome is VoteOutcome.REJECTED
    assert clause.status is ClauseStatus.OPEN and clause.text == TEXT


def test_an_adopted_wording_stays_adopted(draft):
    cast, more, vote, clause = clause_vote(draft)
    for voter in (cast.member, *more):
        ballot(voter, vote, "yes")
    decision = services.close_vote(cast.chair, vote)
    assert [e["vote"]["outcome"] for e in queued("vote_closed")] == ["adopted"]
    db.session.commit()
    assert decision.outcome is VoteOutcome.ADOPTED
    assert clause.status is ClauseStatus.ADOPTED and clause.text == TEXT
    with pytest.raises(Conflict, match="adopted"):
        services.open_vote(cast.chair, clause.recommendation, VoteOpen(subject="clause", clause_id=clause.id))


def test_no_quorum_decides_nothing(draft):
    cast, _more, vote, clause = clause_vote(draft, quorum=75)
    ballot(cast.member, vote, "yes")
    assert close(cast.chair, vote).outcome is VoteOutcome.NO_QUORUM
    assert clause.status is ClauseStatus.OPEN


def to_be_voted(factories, clause, proposer, text, kind=AmendmentKind.REPLACE):
    return factories.amendment(clause, proposer, kind=kind, text=text,
                               status=AmendmentStatus.TO_BE_VOTED)


@pytest.mark.parametrize("subject", ["amendment", "wordings"])
def test_without_a_quorum_the_amendments_stay_to_be_voted(draft, factories, subject):
    cast, more, recommendation = draft
    clause = recommendation.live_clauses[0]
    amendment = to_be_voted(factories, clause, more[0], TEXT.replace("protect", "shield"))
    vote = open_(cast.chair, recommendation, subject=subject, clause_id=clause.id,
                 amendment_id=amendment.id, quorum=60)
    ballot(cast.member, vote, "yes" if subject == "amendment" else 1)
    assert close(cast.chair, vote).outcome is VoteOutcome.NO_QUORUM
    assert amendment.status is AmendmentStatus.TO_BE_VOTED and amendment.decided_at is None
    assert clause.status is ClauseStatus.OPEN and clause.text == TEXT


def test_the_winning_wording_becomes_the_clause_by_its_proposer(draft, factories):
    cast, more, recommendation = draft
    clause = recommendation.live_clauses[0]
    first = to_be_voted(factories, clause, more[0], TEXT.replace("the region", "all regions"))
    second = to_be_voted(factories, clause, more[1], TEXT.replace("protect", "shield"))
    vote = open_(cast.chair, recommendation, subject="wordings", clause_id=clause.id)
    assert [o.kind for o in vote.options] == [OptionKind.WORDING] * 3 + [OptionKind.ABSTAIN]
    assert [o.amendment_id for o in vote.options] == [None, first.id, second.id, None]
    for voter in (cast.chair, cast.member, more[0]):
        ballot(voter, vote, 2)
    ballot(more[1], vote, 0)
    decision = close(cast.chair, vote)
    assert (decision.outcome, decision.winner) == (VoteOutcome.ADOPTED, 2)
    assert clause.text == TEXT.replace("protect", "shield")
    assert clause.status is ClauseStatus.ADOPTED
    last_edit = db.session.scalars(select(ClauseUpdate).where(ClauseUpdate.clause_id == clause.id)
                                   .order_by(ClauseUpdate.id.desc())).first()
    assert last_edit.author_id == more[1].id
    assert second.status is AmendmentStatus.ADOPTED_BY_VOTE
    assert first.status is AmendmentStatus.REJECTED_BY_VOTE
    assert records.verify_vote(vote).ok


def test_a_split_choice_goes_to_a_run_off_of_the_top_two(draft, factories):
    cast, more, recommendation = draft
    clause = recommendation.live_clauses[0]
    first = to_be_voted(factories, clause, more[0], TEXT.replace("the region", "all regions"))
    second = to_be_voted(factories, clause, more[1], TEXT.replace("protect", "shield"))
    vote = open_(cast.chair, recommendation, subject="wordings", clause_id=clause.id,
                 rule="absolute_majority")
    ballot(cast.chair, vote, 1)
    ballot(cast.member, vote, 1)
    ballot(more[0], vote, 2)
    ballot(more[1], vote, 0)
    decision = close(cast.chair, vote)
    assert (decision.outcome, decision.runoff) == (VoteOutcome.RUNOFF, (1, 0))
    # Held locked for the run-off: its frozen wordings must still be the clause's words.
    assert clause.status is ClauseStatus.LOCKED
    # Nothing is decided yet for the two still in the race; the third is out.
    assert first.status is AmendmentStatus.TO_BE_VOTED
    assert second.status is AmendmentStatus.REJECTED_BY_VOTE
    assert vote_out(vote).runoff_option_ids == [option(vote, 1).id, option(vote, 0).id]
    runoff = open_(cast.chair, recommendation, runoff_of=vote.id, rule="absolute_majority")
    assert [(o.kind, o.amendment_id, o.wording) for o in runoff.options] == [
        (OptionKind.WORDING, first.id, first.text), (OptionKind.WORDING, None, TEXT),
        (OptionKind.ABSTAIN, None, "")]
    assert runoff.runoff_of_id == vote.id and clause.status is ClauseStatus.LOCKED
    for voter in (cast.chair, cast.member, more[0]):
        ballot(voter, runoff, 0)
    assert close(cast.chair, runoff).winner == 0
    assert clause.text == first.text and clause.status is ClauseStatus.ADOPTED
    assert first.status is AmendmentStatus.ADOPTED_BY_VOTE
    with pytest.raises(Conflict, match="run-off"):
        services.open_vote(cast.chair, recommendation, VoteOpen(runoff_of=runoff.id))


@pytest.mark.parametrize("kind", list(AmendmentKind))
def test_an_adopted_amendment_is_applied(draft, factories, kind):
    cast, more, recommendation = draft
    clause = recommendation.live_clauses[0]
    text = {"replace": TEXT.replace("protect", "shield"), "insert": "Welcomes IOM's help;",
            "delete": ""}[kind.value]
    amendment = to_be_voted(factories, clause, more[0], text, kind)
    vote = open_(cast.chair, recommendation, subject="amendment", amendment_id=amendment.id,
                 rule="two_thirds")
    assert clause.status is ClauseStatus.LOCKED
    assert option(vote, "yes").wording == text
    for voter in (cast.chair, cast.member, more[0]):
        ballot(voter, vote, "yes")
    ballot(more[1], vote, "no")
    assert close(cast.chair, vote).outcome is VoteOutcome.ADOPTED
    db.session.refresh(recommendation)
    texts = [c.text for c in recommendation.live_clauses]
    assert amendment.status is AmendmentStatus.ADOPTED_BY_VOTE
    assert texts == {"replace": [text, OTHER], "insert": [TEXT, text, OTHER],
                     "delete": [OTHER]}[kind.value]
    assert records.verify_vote(vote).ok


def test_a_rejected_amendment_changes_nothing(draft, factories):
    cast, more, recommendation = draft
    clause = recommendation.live_clauses[0]
    amendment = to_be_voted(factories, clause, more[0], "Something else;")
    vote = open_(cast.chair, recommendation, subject="amendment", amendment_id=amendment.id)
    ballot(cast.member, vote, "no")
    close(cast.chair, vote)
    assert amendment.status is AmendmentStatus.REJECTED_BY_VOTE
    assert clause.text == TEXT and clause.status is ClauseStatus.OPEN


def test_the_whole_recommendation_only_once_every_clause_is_adopted(draft):
    cast, more, recommendation = draft
    first = open_(cast.chair, recommendation, subject="clause",
                  clause_id=recommendation.live_clauses[0].id, rule="consensus")
    close(cast.chair, first)
    with pytest.raises(Conflict, match="every clause is adopted"):
        services.open_vote(cast.chair, recommendation, VoteOpen(subject="recommendation"))
    db.session.rollback()
    second = open_(cast.chair, recommendation, subject="clause",
                   clause_id=recommendation.live_clauses[1].id, rule="consensus")
    close(cast.chair, second)
    vote = open_(cast.chair, recommendation, subject="recommendation", rule="absolute_majority")
    assert option(vote, "yes").wording == services.whole_text(recommendation)
    assert TEXT in option(vote, "yes").wording and OTHER in option(vote, "yes").wording
    for voter in (cast.chair, cast.member, more[0]):
        ballot(voter, vote, "yes")
    assert close(cast.chair, vote).outcome is VoteOutcome.ADOPTED
    assert recommendation.status is RecommendationStatus.ADOPTED


# --- statements ---------------------------------------------------------------------------

def test_statements_attach_to_adopted_texts_by_the_chair_and_members(draft):
    cast, _more, recommendation = draft
    clause = recommendation.live_clauses[0]
    data = {"kind": "reservation", "text": "We read *region* narrowly.", "clause_id": clause.id}
    with pytest.raises(Conflict, match="not adopted"):
        services.add_statement(cast.member, recommendation, StatementIn.model_validate(data))
    db.session.rollback()
    close(cast.chair, open_(cast.chair, recommendation, subject="clause", clause_id=clause.id,
                            method="consensus"))
    for stranger in (cast.outsider, cast.other_chair, cast.observer, cast.secretariat):
        with pytest.raises(PermissionDenied):
            services.add_statement(stranger, recommendation, StatementIn.model_validate(data))
        db.session.rollback()
    with pytest.raises(INPUT_REFUSED) as refused:
        StatementIn.model_validate({**data, "kind": "opinion"})
    assert refused_fields(refused.value) == {"kind"}
    with pytest.raises(Conflict, match="recommendation is not adopted"):
        services.add_statement(cast.member, recommendation, StatementIn.model_validate({**data, "clause_id": None}))
    db.session.rollback()
    statement = services.add_statement(cast.member, recommendation, StatementIn.model_validate(data))
    assert queued("statement_added") == [{"recommendation": recommendation.id,
                                          "statement": statement.id, "clause": clause.id}]
    db.session.commit()
    assert services.statements_of(recommendation) == [statement]
    assert statement.author_id == cast.member.id


def test_a_statement_is_made_once_of_each_kind_per_author_and_text(draft):
    cast, _more, recommendation = draft
    first, second = recommendation.live_clauses[:2]
    for clause in (first, second):
        close(cast.chair, open_(cast.chair, recommendation, subject="clause", clause_id=clause.id,
                                rule="consensus"))
    close(cast.chair, open_(cast.chair, recommendation, subject="recommendation",
                            rule="consensus"))

    def state(who, kind, clause):
        return services.add_statement(who, recommendation, StatementIn.model_validate(
            {"kind": kind, "text": "As we read it.", "clause_id": clause.id if clause else None}))

    made = [state(cast.member, kind, clause) for kind in ("interpretative", "reservation")
            for clause in (first, second, None)]
    made.append(state(cast.chair, "reservation", first))
    db.session.commit()
    for kind, words in (("interpretative", "already made an interpretative statement"),
                        ("reservation", "already made a reservation")):
        for clause in (first, None):
            with pytest.raises(Conflict, match=words) as refused:
                state(cast.member, kind, clause)
            assert refused.value.fields == {"kind": refused.value.message}
            db.session.rollback()
    assert services.statements_of(recommendation) == made


def test_the_database_holds_one_statement_of_a_kind_per_author_and_text(draft):
    """Past the service's check (two requests at once): the unique constraints, for a clause
    and for the recommendation as a whole alike."""
    cast, _more, recommendation = draft
    clause = recommendation.live_clauses[0]
    for on in (clause.id, None):
        db.session.add(Statement(recommendation_id=recommendation.id, clause_id=on,
                                 author_id=cast.member.id, kind=StatementKind.RESERVATION, text="A"))
        db.session.commit()
        db.session.add(Statement(recommendation_id=recommendation.id, clause_id=on,
                                 author_id=cast.member.id, kind=StatementKind.RESERVATION, text="B"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    # Another kind, another author: not the same statement.
    db.session.add_all([
        Statement(recommendation_id=recommendation.id, clause_id=None, author_id=cast.member.id,
                  kind=StatementKind.INTERPRETATIVE, text="C"),
        Statement(recommendation_id=recommendation.id, clause_id=None, author_id=cast.chair.id,
                  kind=StatementKind.RESERVATION, text="D")])
    db.session.commit()


# --- the record -----------------------------------------------------------------------------

def closed_vote(draft, secret=False) -> tuple[Any, Vote]:
    cast, more, vote, _clause = clause_vote(draft, secret=secret, quorum=50,
                                            question="Adopt clause 1 as drafted?")
    ballot(cast.chair, vote, "yes")
    ballot(cast.member, vote, "yes")
    ballot(more[0], vote, "no")
    ballot(more[1], vote, "abstain")
    close(cast.chair, vote)
    return cast, vote


def test_the_record_holds_everything_the_result_rests_on(draft):
    cast, vote = closed_vote(draft)
    record = json.loads(vote.record)
    assert vote.record_sha256 == records.sha256(vote.record)
    assert vote.record == records.canonical(record)
    assert record["question"] == "Adopt clause 1 as drafted?"
    assert (record["method"], record["rule"], record["quorum_needed"], record["eligible"],
            record["turnout"]) == ("ballot", "simple_majority", 3, 4, 4)
    assert [(o["kind"], o["count"]) for o in record["options"]] == [("yes", 2), ("no", 1), ("abstain", 1)]
    yes = record["options"][0]
    assert yes["wording"] == TEXT and yes["wording_sha256"] == records.sha256(TEXT)
    assert record["outcome"] == "adopted"
    assert record["opened_by"] == {"id": cast.chair.id, "name": cast.chair.name}
    assert record["closed_by"] == {"id": cast.chair.id, "name": cast.chair.name}
    assert record["opened_at"] == vote.opened_at.isoformat()
    assert record["closed_at"] == vote.closed_at.isoformat()
    assert sorted((r["voter"]["id"], r["option"]) for r in record["roll_call"]) == sorted(
        [(cast.chair.id, 0), (cast.member.id, 0), (draft[1][0].id, 1), (draft[1][1].id, 2)])
    assert records.verify_vote(vote).ok


def test_records_chain_within_the_conference(draft):
    cast, _more, recommendation = draft
    votes = []
    for clause in recommendation.live_clauses:
        vote = open_(cast.chair, recommendation, subject="clause", clause_id=clause.id, rule="consensus")
        close(cast.chair, vote)
        votes.append(vote)
    assert votes[0].previous_sha256 is None
    assert votes[1].previous_sha256 == votes[0].record_sha256
    assert json.loads(votes[1].record)["previous_sha256"] == votes[0].record_sha256
    # Rewriting the first record (even with a fresh hash of its own) breaks the link.
    forged = json.loads(votes[0].record) | {"outcome": "rejected"}
    text = records.canonical(forged)
    db.session.execute(update(Vote).where(Vote.id == votes[0].id)
                       .values(record=text, record_sha256=records.sha256(text)))
    db.session.commit()
    db.session.expire_all()
    assert records.verify_vote(votes[1]).checks["chain"] is False
    assert records.verify_vote(votes[0]).checks["result"] is False


def tamper_record(vote: Vote, change, rehash: bool) -> None:
    record = json.loads(vote.record)
    change(record)
    text = records.canonical(record)
    values = {"record": text}
    if rehash:
        values["record_sha256"] = records.sha256(text)
    db.session.execute(update(Vote).where(Vote.id == vote.id).values(**values))


def set_count(record, n):
    record["options"][0]["count"] = n


TAMPERING = {
    "a count in the record": (lambda v: tamper_record(v, lambda r: set_count(r, 3), rehash=False),
                              "record_hash"),
    "a count in the record, rehashed": (lambda v: tamper_record(v, lambda r: set_count(r, 3), rehash=True),
                                        "counts"),
    "the outcome in the record": (lambda v: tamper_record(
        v, lambda r: r.update(outcome="rejected"), rehash=True), "result"),
    "the outcome shown": (lambda v: db.session.execute(
        update(Vote).where(Vote.id == v.id).values(outcome=VoteOutcome.REJECTED)), "result"),
    "an option's wording": (lambda v: db.session.execute(
        update(VoteOption).where(VoteOption.id == option(v, "yes").id).values(wording="Other;")),
        "wordings"),
    "an option's wording and its hash": (lambda v: db.session.execute(
        update(VoteOption).where(VoteOption.id == option(v, "yes").id).values(
            wording="Other;", wording_sha256=records.sha256("Other;"))), "wordings"),
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_verify_detects_tampering(draft, what):
    _cast, vote = closed_vote(draft)
    assert records.verify_vote(vote).ok
    tamper, check = TAMPERING[what]
    tamper(vote)
    db.session.commit()
    db.session.expire_all()
    verification = records.verify_vote(db.session.get(Vote, vote.id))
    assert verification.checks[check] is False and not verification.ok


def test_verify_detects_a_roll_call_ballot_edited_after_the_close(draft):
    cast, vote = closed_vote(draft)
    db.session.execute(update(Ballot).where(Ballot.vote_id == vote.id, Ballot.voter_id == cast.member.id)
                       .values(option_id=option(vote, "no").id))
    db.session.commit()
    db.session.expire_all()
    checks = records.verify_vote(db.session.get(Vote, vote.id)).checks
    assert checks["counts"] is False and checks["roll_call"] is False


def test_verify_detects_two_roll_call_ballots_swapped(draft):
    """The counts stay the same; who voted what does not."""
    cast, vote = closed_vote(draft)
    more = draft[1]
    for voter, which in ((cast.member, "no"), (more[0], "yes")):
        db.session.execute(update(Ballot).where(Ballot.vote_id == vote.id, Ballot.voter_id == voter.id)
                           .values(option_id=option(vote, which).id))
    db.session.commit()
    db.session.expire_all()
    checks = records.verify_vote(db.session.get(Vote, vote.id)).checks
    assert checks["counts"] is True and checks["roll_call"] is False


@pytest.mark.parametrize("change", [+1, "move"])
def test_verify_detects_an_altered_secret_counter(draft, change):
    _cast, vote = closed_vote(draft, secret=True)
    assert records.verify_vote(vote).ok
    yes, no = option(vote, "yes").id, option(vote, "no").id
    db.session.execute(update(VoteOption).where(VoteOption.id == yes)
                       .values(secret_count=VoteOption.secret_count + 1))
    if change == "move":
        db.session.execute(update(VoteOption).where(VoteOption.id == no)
                           .values(secret_count=VoteOption.secret_count - 1))
    db.session.commit()
    db.session.expire_all()
    checks = records.verify_vote(db.session.get(Vote, vote.id)).checks
    assert checks["counts"] is False


def test_only_a_closed_vote_is_verified(draft):
    _cast, _more, vote, _clause = clause_vote(draft)
    with pytest.raises(Conflict):
        records.verify_vote(vote)


# --- secrecy ---------------------------------------------------------------------------------

def as_person(app, person_id: int, work):
    """Run a service as someone and commit, as an edge would (a request context each)."""
    with app.test_request_context():
        result = work(db.session.get(Participant, person_id))
        db.session.commit()
        return result


def test_a_secret_vote_links_no_participant_to_a_choice(app, factories, socket_test_client, caplog):
    """Search everything a secret vote leaves behind: every column of every row, every event
    the sockets received, every log line, the record and the vote's API shape."""
    caplog.set_level(logging.DEBUG)
    cast = factories.cast()
    voters = [cast.member] + [
        factories.member_of(cast.group, GroupRole.MEMBER, name=f"Delegate {n}") for n in range(5)]
    recommendation = factories.recommendation(cast.group, clauses=[(ClauseKind.OPERATIVE, TEXT)])
    with app.app_context():  # a neutral chair: who opened and closed it is named, and votes not
        db.session.execute(update(Conference).where(Conference.id == cast.conference.id).values(chair_votes=False))
        db.session.commit()
    sockets = []
    for person in (cast.chair, cast.observer):
        client = app.test_client()
        client.sign_in(person)
        socket = socket_test_client(app, flask_test_client=client)
        assert socket.emit("join", {"recommendation": recommendation.id}, callback=True)["ok"]
        socket.get_received()
        sockets.append(socket)
    with app.app_context():
        clause_id = db.session.scalar(select(Clause.id).where(Clause.recommendation_id == recommendation.id))
    vote_id = as_person(app, cast.chair.id, lambda chair: services.open_vote(
        chair, db.session.merge(recommendation), VoteOpen(subject="clause", clause_id=clause_id,
                                                  secret=True)).id)
    with app.app_context():
        options = {o.kind.value: o.id for o in db.session.get(Vote, vote_id).options}
    choices = dict(zip([v.id for v in voters], ["yes", "no", "yes", "abstain", "no", "yes"], strict=True))
    reasons: dict[int, str] = {}  # consensus, with its named objections, is never secret
    receipts = {}
    for voter_id, choice in choices.items():
        reason: dict[str, str] = {}
        receipts[voter_id] = as_person(app, voter_id, lambda voter, c=choice, r=reason: ballots.cast_ballot(
            voter, db.session.get(Vote, vote_id), BallotIn.model_validate({"option_id": options[c], **r})).receipt)
    # One changes their mind with the receipt.
    as_person(app, voters[2].id, lambda voter: ballots.cast_ballot(
        voter, db.session.get(Vote, vote_id), BallotIn(option_id=options["abstain"],
                                               receipt=receipts[voters[2].id])))
    as_person(app, cast.chair.id, lambda chair: services.close_vote(chair, db.session.get(Vote, vote_id)))

    with app.app_context():
        vote = db.session.get(Vote, vote_id)
        assert vote.outcome is VoteOutcome.REJECTED
        assert tally.counts(vote) == [2, 2, 2] and vote.turnout == 6
        assert records.verify_vote(vote).ok
        out = json.dumps(vote_out(vote).model_dump(mode="json"))
        record = vote.record
        stored_ballots = db.session.scalars(select(Ballot).where(Ballot.vote_id == vote_id)).all()
        assert sorted(b.voter_id for b in stored_ballots) == sorted(choices)
        assert all(b.option_id is None and b.reason == "" for b in stored_ballots)
        rows: list[tuple[str, dict]] = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)).mappings():
                rows.append((table.name, dict(row)))
        people = {p.id: (p.name, p.email) for p in db.session.scalars(
            select(Participant).where(Participant.id.in_(choices)))}

    option_ids = set(options.values())
    assert any(table == "ballot" for table, _row in rows)
    for table, row in rows:
        person_columns = {k for k, v in row.items() if v in choices and (
            "participant" in k or "voter" in k or "author" in k or k.endswith("_by_id"))}
        option_columns = {k for k, v in row.items() if v in option_ids and "option" in k}
        assert not (person_columns and option_columns), (table, row)
        text = " ".join(str(v) for v in row.values())
        if person_columns:
            assert not any(reason in text for reason in reasons.values()), (table, row)
        for receipt in receipts.values():
            assert receipt.split(".")[1] not in text, (table, row)

    # Published: the counts, nobody's choice.
    assert json.loads(out)["roll_call"] is None and "roll_call" not in json.loads(record)
    assert json.loads(out)["objections"] == json.loads(record)["objections"] == []
    not_named = list(people.values())
    for published in (out, record):
        for name, email in not_named:
            assert name not in published and email not in published

    # Events: turnout only, never who or what.
    for socket in sockets:
        received = socket.get_received()
        names = [m["name"] for m in received]
        assert names.count("ballot_counted") == 7 and names.count("vote_closed") == 1
        for message in received:
            blob = json.dumps(message["args"])
            if message["name"] == "ballot_counted":
                assert set(message["args"][0]) == {"recommendation", "vote", "turnout", "eligible"}
            assert not any(receipt.split(".")[1] in blob for receipt in receipts.values())
            for name, email in not_named:
                assert name not in blob and email not in blob
        socket.disconnect()

    # The log of the whole flow: no receipt, no reason, no voter beside an option.
    log = "\n".join(entry.getMessage() for entry in caplog.records)
    for receipt in receipts.values():
        assert receipt.split(".")[1] not in log
    for reason in reasons.values():
        assert reason not in log
    for line in log.splitlines():
        if any(name in line or email in line for name, email in people.values()):
            assert "option" not in line, line


def test_verify_detects_a_fork_in_the_chain(draft):
    cast, _more, recommendation = draft
    votes = []
    for clause in recommendation.live_clauses:
        vote = open_(cast.chair, recommendation, subject="clause", clause_id=clause.id, rule="consensus")
        close(cast.chair, vote)
        votes.append(vote)
    assert all(records.verify_vote(v).checks["chain"] for v in votes)
    # The second record made to follow what the first follows (nothing): the first record
    # could then be changed without breaking any later hash.
    tamper_record(votes[1], lambda r: r.update(previous_sha256=None), rehash=True)
    db.session.execute(update(Vote).where(Vote.id == votes[1].id).values(previous_sha256=None))
    db.session.commit()
    db.session.expire_all()
    assert not records.verify_vote(votes[0]).checks["chain"]
    assert not records.verify_vote(votes[1]).checks["chain"]


def test_the_chair_cannot_unlock_a_clause_while_its_vote_is_open(draft):
    """The vote froze the exact wording: only closing or cancelling the vote ends that."""
    from drafting.recommendations.services import set_clause_lock

    cast, _more, recommendation = draft
    clause = recommendation.live_clauses[0]
    vote = open_(cast.chair, recommendation, subject="clause", clause_id=clause.id)
    with pytest.raises(Conflict, match="close or cancel the vote"):
        set_clause_lock(cast.chair, clause, False)
    db.session.rollback()
    assert clause.status is ClauseStatus.LOCKED and vote.is_open
    services.cancel_vote(cast.chair, vote)
    db.session.commit()
    assert clause.status is ClauseStatus.OPEN
