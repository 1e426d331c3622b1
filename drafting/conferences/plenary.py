"""The plenary's rule for adopting the outcome document: a pure function, tested on every path.

After the working groups, the conference (its chair, with the secretariat) adopts the outcome
document in plenary. The plenary meets in the room; Plenary records its decision and checks
it against the rule. By default the plenary adopts by consensus (nobody objects; nothing is
counted); a vote is by the majority the conference's rules of procedure give a vote (the
decision rule where it is a majority, else the majority a vote may follow a failed consensus
by; by default two thirds of those present and voting: yes and no, abstentions not among
those voting, as in UN practice). Rules of consensus only allow no vote. An absolute
majority is more than half of those present (yes, no and abstaining: the plenary's
membership is not recorded).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from models import DEFAULT_RULES, AdoptionMethod, RulesOfProcedure, VoteRule


class Counts(NamedTuple):
    yes: int
    no: int
    abstain: int


class Refusal(enum.StrEnum):
    """Why a recorded decision does not adopt the document."""

    #: Consensus counts nothing: counts were given.
    COUNTS_WITH_CONSENSUS = "counts_with_consensus"
    #: A vote without its counts.
    COUNTS_MISSING = "counts_missing"
    #: A count below zero.
    NEGATIVE = "negative"
    #: Nobody voted yes or no.
    NOBODY_VOTED = "nobody_voted"
    #: The vote did not reach the majority the rules of procedure require.
    NOT_CARRIED = "not_carried"
    #: The rules of procedure allow no vote: consensus only.
    NO_VOTING = "no_voting"


@dataclass(frozen=True)
class PlenaryDecision:
    adopted: bool
    refusal: Refusal | None = None


def vote_rule(rules: RulesOfProcedure) -> VoteRule | None:
    """The majority a vote of the plenary needs under these rules; None: no vote."""
    if rules.decision_rule is not VoteRule.CONSENSUS:
        return rules.decision_rule
    return rules.fallback_rule if rules.fallback_rule is not VoteRule.CONSENSUS else None


def _carried(rule: VoteRule, counts: Counts) -> bool:
    if rule is VoteRule.SIMPLE_MAJORITY:
        return counts.yes > counts.no
    if rule is VoteRule.ABSOLUTE_MAJORITY:
        return 2 * counts.yes > sum(counts)
    # Two thirds of those present and voting, in integers: 3·yes ≥ 2·(yes + no).
    return 3 * counts.yes >= 2 * (counts.yes + counts.no)


def plenary_decision(method: AdoptionMethod, counts: Counts | None,
                     rules: RulesOfProcedure = DEFAULT_RULES) -> PlenaryDecision:
    """Whether the plenary adopted the outcome document, by the conference's rules."""
    if method is AdoptionMethod.CONSENSUS:
        if counts is not None:
            return PlenaryDecision(False, Refusal.COUNTS_WITH_CONSENSUS)
        return PlenaryDecision(True)
    if counts is None:
        return PlenaryDecision(False, Refusal.COUNTS_MISSING)
    if min(counts) < 0:
        return PlenaryDecision(False, Refusal.NEGATIVE)
    voting = counts.yes + counts.no
    if voting == 0:
        return PlenaryDecision(False, Refusal.NOBODY_VOTED)
    rule = vote_rule(rules)
    if rule is None:
        return PlenaryDecision(False, Refusal.NO_VOTING)
    if not _carried(rule, counts):
        return PlenaryDecision(False, Refusal.NOT_CARRIED)
    return PlenaryDecision(True)
