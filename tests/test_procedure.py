"""The rules of procedure as pure functions (drafting/votes/procedure.py), on every path."""
from __future__ import annotations

import itertools

import pytest

from drafting.votes.procedure import (
    Past,
    Refusal,
    decide_consensus,
    quorum_needed,
    route,
    since_reconsidered,
    standing_decision,
)
from models import DEFAULT_RULES, QuorumRule, RulesOfProcedure, VoteMethod, VoteOutcome, VoteRule

BALLOT, CONSENSUS, SILENCE = VoteMethod.BALLOT, VoteMethod.CONSENSUS, VoteMethod.SILENCE
A, B = "a" * 64, "b" * 64  # two wordings' hashes
MAJORITY = RulesOfProcedure(decision_rule=VoteRule.SIMPLE_MAJORITY, fallback_rule=None)
CONSENSUS_ONLY = RulesOfProcedure(fallback_rule=None)


def failed(wording: str = A, method: VoteMethod = CONSENSUS) -> Past:
    return Past(method, VoteOutcome.NO_CONSENSUS, wording)


def test_the_defaults_are_the_practice():
    assert RulesOfProcedure(
        decision_rule=VoteRule.CONSENSUS, fallback_rule=VoteRule.TWO_THIRDS,
        quorum=QuorumRule.MAJORITY, chair_votes=False, reconsideration_rule=VoteRule.TWO_THIRDS) == DEFAULT_RULES


@pytest.mark.parametrize("method", [CONSENSUS, SILENCE])
@pytest.mark.parametrize("rules", [DEFAULT_RULES, MAJORITY, CONSENSUS_ONLY])
def test_seeking_consensus_is_always_in_order(rules, method):
    assert route(rules, method, [], A).rule is VoteRule.CONSENSUS
    assert route(rules, method, [failed()], A).rule is VoteRule.CONSENSUS


def test_under_consensus_a_vote_comes_only_after_consensus_failed_on_the_same_text():
    assert route(DEFAULT_RULES, BALLOT, [], A).refusal is Refusal.CONSENSUS_FIRST
    assert route(DEFAULT_RULES, BALLOT, [failed(B)], A).refusal is Refusal.CONSENSUS_FIRST
    assert route(DEFAULT_RULES, BALLOT, [failed(A)], A).rule is VoteRule.TWO_THIRDS
    assert route(DEFAULT_RULES, BALLOT, [failed(A, SILENCE)], A).rule is VoteRule.TWO_THIRDS
    # A consensus that ended without a quorum did not fail: nothing was decided.
    assert route(DEFAULT_RULES, BALLOT, [Past(CONSENSUS, VoteOutcome.NO_QUORUM, A)], A).refusal \
        is Refusal.CONSENSUS_FIRST
    assert route(CONSENSUS_ONLY, BALLOT, [failed(A)], A).refusal is Refusal.NO_VOTING


@pytest.mark.parametrize("rule", [VoteRule.SIMPLE_MAJORITY, VoteRule.TWO_THIRDS, VoteRule.ABSOLUTE_MAJORITY])
def test_under_a_majority_rule_groups_vote_by_it(rule):
    rules = RulesOfProcedure(decision_rule=rule)
    assert route(rules, BALLOT, [], A).rule is rule


def test_a_text_rejected_by_vote_is_not_put_again_in_the_same_wording():
    """The chair who lost 2-2 cannot then seek consensus on the same text and declare it."""
    lost = Past(BALLOT, VoteOutcome.REJECTED, A)
    for method in (BALLOT, CONSENSUS, SILENCE):
        assert route(MAJORITY, method, [lost], A).refusal is Refusal.DECIDED
        assert route(DEFAULT_RULES, method, [failed(A), lost], A).refusal is Refusal.DECIDED
    # A new wording is a new question.
    assert route(MAJORITY, BALLOT, [lost], B).rule is VoteRule.SIMPLE_MAJORITY


def test_an_adopted_text_is_decided_whatever_its_wording():
    adopted = Past(CONSENSUS, VoteOutcome.ADOPTED, A)
    for method, wording in itertools.product((BALLOT, CONSENSUS, SILENCE), (A, B)):
        assert route(DEFAULT_RULES, method, [adopted], wording).refusal is Refusal.DECIDED


def test_reconsideration():
    adopted = Past(CONSENSUS, VoteOutcome.ADOPTED, A)
    assert route(DEFAULT_RULES, BALLOT, [], A, reconsider=True).refusal is Refusal.NOTHING_TO_RECONSIDER
    assert route(DEFAULT_RULES, BALLOT, [failed()], A, reconsider=True).refusal is Refusal.NOTHING_TO_RECONSIDER
    assert route(DEFAULT_RULES, BALLOT, [adopted], A, reconsider=True).rule is VoteRule.TWO_THIRDS
    assert route(DEFAULT_RULES, CONSENSUS, [adopted], A, reconsider=True).refusal is Refusal.WRONG_METHOD
    by_consensus = RulesOfProcedure(reconsideration_rule=VoteRule.CONSENSUS)
    assert route(by_consensus, CONSENSUS, [adopted], A, reconsider=True).rule is VoteRule.CONSENSUS
    assert route(by_consensus, BALLOT, [adopted], A, reconsider=True).refusal is Refusal.WRONG_METHOD
    # Carried, the motion sets every decision before it aside; lost, they stand.
    carried = Past(BALLOT, VoteOutcome.ADOPTED, A, reconsideration=True)
    lost = Past(BALLOT, VoteOutcome.REJECTED, A, reconsideration=True)
    assert since_reconsidered([adopted, carried]) == []
    assert standing_decision([adopted, lost]) is adopted
    assert route(DEFAULT_RULES, CONSENSUS, [adopted, carried], A).rule is VoteRule.CONSENSUS
    assert route(DEFAULT_RULES, CONSENSUS, [adopted, lost], A).refusal is Refusal.DECIDED
    # A failed consensus before the reconsideration no longer opens the way to a vote.
    assert route(DEFAULT_RULES, BALLOT, [failed(A), adopted, carried], A).refusal is Refusal.CONSENSUS_FIRST


@pytest.mark.parametrize(("quorum", "eligible", "needed"), [
    (QuorumRule.MAJORITY, 0, 1), (QuorumRule.MAJORITY, 1, 1), (QuorumRule.MAJORITY, 4, 3),
    (QuorumRule.MAJORITY, 5, 3), (QuorumRule.MAJORITY, 100, 51),
    (QuorumRule.ONE_THIRD, 0, 1), (QuorumRule.ONE_THIRD, 3, 1), (QuorumRule.ONE_THIRD, 4, 2),
    (QuorumRule.ONE_THIRD, 100, 34), (QuorumRule.NONE, 0, 1), (QuorumRule.NONE, 100, 1),
])
def test_quorum_needed(quorum, eligible, needed):
    assert quorum_needed(quorum, eligible) == needed


def test_quorum_needed_refuses_a_negative_count():
    with pytest.raises(ValueError):
        quorum_needed(QuorumRule.MAJORITY, -1)


@pytest.mark.parametrize(("objections", "present", "needed", "outcome"), [
    (0, 3, 3, VoteOutcome.ADOPTED), (0, 5, 3, VoteOutcome.ADOPTED),
    (0, 2, 3, VoteOutcome.NO_QUORUM), (0, 0, 1, VoteOutcome.NO_QUORUM),
    (1, 5, 3, VoteOutcome.NO_CONSENSUS), (1, 1, 3, VoteOutcome.NO_CONSENSUS),
])
def test_decide_consensus(objections, present, needed, outcome):
    decision = decide_consensus(objections, present, needed)
    assert (decision.outcome, decision.turnout) == (outcome, present)


@pytest.mark.parametrize("args", [(-1, 1, 1), (0, -1, 1), (0, 1, 0)])
def test_decide_consensus_refuses_counts_out_of_range(args):
    with pytest.raises(ValueError):
        decide_consensus(*args)
