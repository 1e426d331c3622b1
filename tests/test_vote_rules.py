"""The result function, against a direct reading of each decision rule: every count vector of
small electorates, property-based for larger ones, and the invariants a fair rule keeps."""
from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drafting.votes.rules import Decision, decide
from models import OptionKind, VoteOutcome, VoteRule

YES, NO, ABSTAIN, WORDING = OptionKind.YES, OptionKind.NO, OptionKind.ABSTAIN, OptionKind.WORDING
ADOPTED, REJECTED, NO_QUORUM, RUNOFF = (VoteOutcome.ADOPTED, VoteOutcome.REJECTED,
                                        VoteOutcome.NO_QUORUM, VoteOutcome.RUNOFF)
YES_NO = [YES, NO, ABSTAIN]
LAYOUTS = [YES_NO, [WORDING, WORDING, ABSTAIN], [WORDING, WORDING, WORDING, ABSTAIN],
           [WORDING, WORDING, WORDING, WORDING], [YES, NO]]
QUORUMS = [None, 1, 34, 50, 51, 67, 100]


# --- the rules as the issue states them, written again without looking at rules.py -------

def carries(rule: VoteRule, support: int, against: int, eligible: int) -> bool:
    if rule is VoteRule.CONSENSUS:  # nobody objects
        return against == 0
    if rule is VoteRule.SIMPLE_MAJORITY:  # more for than against; abstentions don't count
        return support > against
    if rule is VoteRule.TWO_THIRDS:  # two thirds of the votes cast, and somebody for it
        return support >= 1 and Fraction(support, support + against) >= Fraction(2, 3)
    assert rule is VoteRule.ABSOLUTE_MAJORITY  # more than half of everyone eligible
    return Fraction(support) > Fraction(eligible, 2)


def expected(rule: VoteRule, kinds: list[OptionKind], counts: list[int], eligible: int,
             quorum: int | None) -> tuple[VoteOutcome, int | None, tuple[int, int] | None]:
    """(outcome, winner position, run-off pair)."""
    took_part = sum(counts)
    if quorum is not None and eligible and Fraction(took_part, eligible) < Fraction(quorum, 100):
        return NO_QUORUM, None, None
    wordings = {i: counts[i] for i, kind in enumerate(kinds) if kind is WORDING}
    if not wordings:
        yes = sum(n for kind, n in zip(kinds, counts, strict=True) if kind is YES)
        no = sum(n for kind, n in zip(kinds, counts, strict=True) if kind is NO)
        if rule is VoteRule.CONSENSUS:  # silence is consent: only an objection stops it
            return (ADOPTED if no == 0 else REJECTED), None, None
        return (ADOPTED if carries(rule, yes, no, eligible) else REJECTED), None, None
    chosen = sum(wordings.values())
    most = max(wordings.values())
    leaders = [i for i, n in wordings.items() if n == most]
    if chosen and len(leaders) == 1 and carries(rule, most, chosen - most, eligible):
        return ADOPTED, leaders[0], None
    if len(wordings) > 2 and chosen:
        # The two with most votes; between equals, the one put first.
        first, second = sorted(wordings, key=lambda i: (-wordings[i], i))[:2]
        return RUNOFF, None, (first, second)
    return REJECTED, None, None


def check(rule: VoteRule, kinds: list[OptionKind], counts: list[int], eligible: int,
          quorum: int | None) -> Decision:
    decision = decide(rule, list(kinds), list(counts), eligible, quorum)
    assert (decision.outcome, decision.winner, decision.runoff) == \
        expected(rule, kinds, counts, eligible, quorum), (rule, kinds, counts, eligible, quorum)
    assert decision.turnout == sum(counts)
    return decision


def count_vectors(options: int, most: int):
    """Every way at most ``most`` voters can spread over ``options`` options."""
    for counts in itertools.product(range(most + 1), repeat=options):
        if sum(counts) <= most:
            yield list(counts)


# --- exhaustive on small electorates -----------------------------------------------------

@pytest.mark.parametrize("kinds", LAYOUTS, ids=lambda kinds: "-".join(k.value for k in kinds))
def test_every_count_of_up_to_six_voters(kinds):
    checked = 0
    for eligible in range(7):
        for counts in count_vectors(len(kinds), eligible):
            for rule in VoteRule:
                for quorum in QUORUMS:
                    check(rule, kinds, counts, eligible, quorum)
                    checked += 1
    assert checked > 1000


def test_the_rules_read_plainly_on_examples():
    sm, tt, am, cs = (VoteRule.SIMPLE_MAJORITY, VoteRule.TWO_THIRDS, VoteRule.ABSOLUTE_MAJORITY,
                      VoteRule.CONSENSUS)
    assert decide(sm, YES_NO, [3, 2, 10], 15).outcome is ADOPTED  # abstentions don't count
    assert decide(sm, YES_NO, [2, 2, 0], 4).outcome is REJECTED  # a tie fails
    assert decide(tt, YES_NO, [2, 1, 0], 3).outcome is ADOPTED  # exactly two thirds
    assert decide(tt, YES_NO, [3, 2, 0], 5).outcome is REJECTED
    assert decide(tt, YES_NO, [0, 0, 5], 5).outcome is REJECTED  # nobody for it
    assert decide(am, YES_NO, [5, 0, 0], 10).outcome is REJECTED  # half is not more than half
    assert decide(am, YES_NO, [6, 4, 0], 10).outcome is ADOPTED
    assert decide(cs, YES_NO, [0, 0, 0], 10).outcome is ADOPTED  # silence is consent
    assert decide(cs, YES_NO, [9, 1, 0], 10).outcome is REJECTED  # one objection
    assert decide(sm, YES_NO, [3, 0, 0], 10, 30).outcome is ADOPTED  # 30 % took part
    assert decide(sm, YES_NO, [2, 0, 0], 10, 30).outcome is NO_QUORUM
    assert decide(sm, YES_NO, [0, 0, 3], 10, 30).outcome is REJECTED  # abstaining counts for quorum
    choice = [WORDING, WORDING, WORDING, ABSTAIN]
    assert decide(sm, choice, [4, 2, 1, 9], 16) == Decision(ADOPTED, 16, winner=0)
    assert decide(sm, choice, [3, 2, 1, 0], 6) == Decision(RUNOFF, 6, runoff=(0, 1))
    assert decide(sm, choice, [1, 3, 3, 0], 7) == Decision(RUNOFF, 7, runoff=(1, 2))
    assert decide(sm, [WORDING, WORDING, ABSTAIN], [2, 2, 0], 4).outcome is REJECTED
    assert decide(sm, choice, [0, 0, 0, 5], 5).outcome is REJECTED  # nobody chose a wording
    assert decide(cs, choice, [0, 4, 0, 1], 5) == Decision(ADOPTED, 5, winner=1)


def test_nonsense_counts_are_refused():
    with pytest.raises(ValueError):
        decide(VoteRule.SIMPLE_MAJORITY, YES_NO, [1, 2], 3)
    with pytest.raises(ValueError):
        decide(VoteRule.SIMPLE_MAJORITY, YES_NO, [1, -1, 0], 3)
    with pytest.raises(ValueError):
        decide(VoteRule.SIMPLE_MAJORITY, YES_NO, [1, 0, 0], -1)


# --- property-based on larger electorates ------------------------------------------------

rules = st.sampled_from(list(VoteRule))
quorums = st.one_of(st.none(), st.integers(1, 100))
kinds_layouts = st.one_of(
    st.just(YES_NO), st.just([YES, NO]),
    st.integers(2, 6).flatmap(lambda n: st.just([WORDING] * n + [ABSTAIN])),
    st.integers(2, 6).map(lambda n: [WORDING] * n),
)


@st.composite
def votes(draw, kinds=kinds_layouts):
    layout = draw(kinds)
    eligible = draw(st.integers(0, 120))
    counts = [0] * len(layout)
    for _ in range(draw(st.integers(0, eligible))):  # each voter who took part picks one
        counts[draw(st.integers(0, len(layout) - 1))] += 1
    return layout, counts, eligible


@settings(max_examples=600, deadline=None)
@given(rules, votes(), quorums)
def test_decide_follows_the_rules(rule, vote, quorum):
    kinds, counts, eligible = vote
    check(rule, kinds, counts, eligible, quorum)


@settings(max_examples=300, deadline=None)
@given(rules, votes(st.just(YES_NO)), quorums)
def test_one_more_yes_never_defeats_and_one_more_no_never_carries(rule, vote, quorum):
    kinds, counts, eligible = vote
    before = decide(rule, kinds, counts, eligible + 1, quorum).outcome
    more_yes = decide(rule, kinds, [counts[0] + 1, counts[1], counts[2]], eligible + 1, quorum).outcome
    more_no = decide(rule, kinds, [counts[0], counts[1] + 1, counts[2]], eligible + 1, quorum).outcome
    if before is ADOPTED:
        assert more_yes is ADOPTED
    if before is REJECTED:
        assert more_no is REJECTED


@settings(max_examples=300, deadline=None)
@given(rules, votes(st.just(YES_NO)))
def test_abstentions_change_nothing_without_a_quorum(rule, vote):
    kinds, counts, eligible = vote
    before = decide(rule, kinds, counts, eligible + 3)
    for extra in (1, 2, 3):
        after = decide(rule, kinds, [counts[0], counts[1], counts[2] + extra], eligible + 3)
        assert after.outcome is before.outcome
        assert after.turnout == before.turnout + extra


@settings(max_examples=300, deadline=None)
@given(rules, votes(), quorums)
def test_a_quorum_only_ever_withholds_a_decision(rule, vote, quorum):
    kinds, counts, eligible = vote
    without = decide(rule, kinds, counts, eligible)
    with_quorum = decide(rule, kinds, counts, eligible, quorum)
    assert with_quorum in (without, Decision(NO_QUORUM, sum(counts)))


@settings(max_examples=300, deadline=None)
@given(rules, votes(st.integers(2, 6).map(lambda n: [WORDING] * n + [ABSTAIN])), quorums)
def test_a_winning_wording_keeps_winning_with_one_more_vote(rule, vote, quorum):
    kinds, counts, eligible = vote
    decision = decide(rule, kinds, counts, eligible, quorum)
    if decision.outcome is ADOPTED:
        assert decision.winner is not None and kinds[decision.winner] is WORDING
        counts[decision.winner] += 1
        assert decide(rule, kinds, counts, eligible + 1, quorum).winner == decision.winner
    if decision.outcome is RUNOFF:
        first, second = decision.runoff
        wordings = [i for i, kind in enumerate(kinds) if kind is WORDING]
        assert len(wordings) > 2 and first != second
        assert all(counts[first] >= counts[second] >= counts[i]
                   for i in wordings if i not in (first, second))
