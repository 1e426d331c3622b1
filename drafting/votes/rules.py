"""The decision rules: one pure function from the counted ballots to the result.

Nothing here reads the database or the clock, so the result of any vote can be computed
again from its record at any time (``verify_vote``), and the rules can be tested
exhaustively against a direct reading of each.
"""
from __future__ import annotations

from dataclasses import dataclass

from models import OptionKind, VoteOutcome, VoteRule


@dataclass(frozen=True)
class Decision:
    outcome: VoteOutcome
    #: How many voted (abstentions included).
    turnout: int
    #: The adopted wording's option position, for a choice of wordings.
    winner: int | None = None
    #: The two wordings (option positions) a run-off would put, most votes first.
    runoff: tuple[int, int] | None = None


def quorum_met(turnout: int, eligible: int, quorum: int | None, needed: int | None = None) -> bool:
    """At least ``needed`` voters took part (the rules of procedure's quorum, fixed at the
    opening), and, on a vote opened before them, at least ``quorum`` percent of the eligible
    voters (in whole numbers: turnout / eligible >= quorum / 100)."""
    return (needed is None or turnout >= needed) and (quorum is None or turnout * 100 >= quorum * eligible)


def _carried(rule: VoteRule, support: int, against: int, eligible: int) -> bool:
    """Whether ``support`` votes carry against ``against`` under the rule (abstentions are
    neither)."""
    if rule is VoteRule.CONSENSUS:
        return against == 0
    if rule is VoteRule.SIMPLE_MAJORITY:
        return support > against
    if rule is VoteRule.TWO_THIRDS:
        return support > 0 and 3 * support >= 2 * (support + against)
    return 2 * support > eligible  # absolute majority of everyone eligible


def decide(rule: VoteRule, kinds: list[OptionKind], counts: list[int], eligible: int,
           quorum: int | None = None, needed: int | None = None) -> Decision:
    """The result of a vote whose option ``i`` (position ``i``) is of ``kinds[i]`` and got
    ``counts[i]`` ballots, among ``eligible`` voters.

    Yes/no: under consensus, adopted when nobody objected (silence is consent); otherwise by
    the rule, abstentions not counted as cast. A choice of wordings: the wording with the most
    votes, if it alone has them and carries against all the others together (consensus: the
    only wording anyone chose); else a run-off between the top two, or, when there were only
    two wordings, nothing adopted. Too few taking part: no quorum, whatever the counts.
    """
    if len(kinds) != len(counts) or any(count < 0 for count in counts) or eligible < 0:
        raise ValueError("counts do not match the options")
    turnout = sum(counts)
    if not quorum_met(turnout, eligible, quorum, needed):
        return Decision(VoteOutcome.NO_QUORUM, turnout)
    wordings = [i for i, kind in enumerate(kinds) if kind is OptionKind.WORDING]
    if not wordings:
        yes = sum(c for k, c in zip(kinds, counts, strict=True) if k is OptionKind.YES)
        no = sum(c for k, c in zip(kinds, counts, strict=True) if k is OptionKind.NO)
        if rule is not VoteRule.CONSENSUS and yes + no == 0:
            return Decision(VoteOutcome.REJECTED, turnout)
        adopted = _carried(rule, yes, no, eligible)
        return Decision(VoteOutcome.ADOPTED if adopted else VoteOutcome.REJECTED, turnout)
    ranked = sorted(wordings, key=lambda i: (-counts[i], i))
    cast = sum(counts[i] for i in wordings)
    top = ranked[0]
    alone = len(ranked) == 1 or counts[ranked[1]] < counts[top]
    if cast > 0 and alone and _carried(rule, counts[top], cast - counts[top], eligible):
        return Decision(VoteOutcome.ADOPTED, turnout, winner=top)
    if len(wordings) > 2 and cast > 0:
        return Decision(VoteOutcome.RUNOFF, turnout, runoff=(ranked[0], ranked[1]))
    return Decision(VoteOutcome.REJECTED, turnout)
