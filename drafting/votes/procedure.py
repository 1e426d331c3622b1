"""The rules of procedure as pure functions: how a question may be put (``route``), how many
must take part or be present (``quorum_needed``), and what a consensus sought comes to
(``decide_consensus``; ballots are ``rules.decide``).

Nothing here reads the database or the clock: the services pass in the conference's rules
and the history of the question, so every path can be tested directly and every decision
recomputed from its record.

The practice they follow (OSCE MC.DOC/1/06; UN rules of procedure for conferences):
consensus is the absence of objection, declared by the chair once the question has reached
the members; a vote, where the rules allow one, comes only after consensus failed on the
same text; a decided text is put again only if a motion to reconsider carries.
"""
from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from drafting.votes.rules import Decision
from models import QuorumRule, RulesOfProcedure, VoteMethod, VoteOutcome, VoteRule


@dataclass(frozen=True)
class Past:
    """An earlier question on the same text, as it ended (closed votes only)."""

    method: VoteMethod
    outcome: VoteOutcome
    #: SHA-256 of the wording put (the clause's, an amendment's result, the whole text).
    wording_sha256: str
    #: It was a motion to reconsider.
    reconsideration: bool = False


class Refusal(enum.Enum):
    #: The text was decided (adopted; or rejected in this wording): only a motion to
    #: reconsider puts it again.
    DECIDED = "decided"
    #: Under consensus a vote may follow only a consensus that failed on the same text.
    CONSENSUS_FIRST = "consensus_first"
    #: The rules allow no vote: consensus only.
    NO_VOTING = "no_voting"
    #: Nothing was decided on this text: there is nothing to reconsider.
    NOTHING_TO_RECONSIDER = "nothing_to_reconsider"
    #: Reconsideration is by consensus under these rules, not by ballot (or the reverse).
    WRONG_METHOD = "wrong_method"


@dataclass(frozen=True)
class Route:
    """How a question may be put: under ``rule``, or refused for ``refusal``."""

    rule: VoteRule | None = None
    refusal: Refusal | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


#: What a question decides: a text adopted, or (in this wording) rejected.
DECISIONS = frozenset({VoteOutcome.ADOPTED, VoteOutcome.REJECTED})


def since_reconsidered(past: Sequence[Past]) -> list[Past]:
    """The questions that still count: those after the last motion to reconsider that
    carried (it set every earlier decision aside)."""
    start = 0
    for index, question in enumerate(past):
        if question.reconsideration and question.outcome is VoteOutcome.ADOPTED:
            start = index + 1
    return [question for question in past[start:] if not question.reconsideration]


def standing_decision(past: Sequence[Past]) -> Past | None:
    """The decision on the text that stands, if any: the last adoption or rejection."""
    decided = [question for question in since_reconsidered(past) if question.outcome in DECISIONS]
    return decided[-1] if decided else None


def route(rules: RulesOfProcedure, method: VoteMethod, past: Sequence[Past], wording_sha256: str,
          *, reconsider: bool = False) -> Route:
    """How a question on a text with this ``past`` (oldest first) may be put by ``method``.

    - Seeking consensus (declared, or by silence) is always in order, under the consensus
      rule; a vote by ballot is under the rules' decision rule when that is a majority, and
      under consensus rules only after consensus failed on this very wording, by the
      fallback rule (if the rules allow a vote at all).
    - A text adopted, or rejected in this wording, is decided: putting it again takes a
      motion to reconsider, itself decided by the reconsideration rule (by consensus when
      that rule is consensus, by ballot otherwise).
    """
    standing = standing_decision(past)
    if reconsider:
        if standing is None:
            return Route(refusal=Refusal.NOTHING_TO_RECONSIDER)
        by_consensus = rules.reconsideration_rule is VoteRule.CONSENSUS
        if by_consensus != (method is not VoteMethod.BALLOT):
            return Route(refusal=Refusal.WRONG_METHOD)
        return Route(rule=rules.reconsideration_rule)
    if standing is not None and (standing.outcome is VoteOutcome.ADOPTED
                                 or standing.wording_sha256 == wording_sha256):
        return Route(refusal=Refusal.DECIDED)
    if method is not VoteMethod.BALLOT:
        return Route(rule=VoteRule.CONSENSUS)
    if rules.decision_rule is not VoteRule.CONSENSUS:
        return Route(rule=rules.decision_rule)
    if rules.fallback_rule is None or rules.fallback_rule is VoteRule.CONSENSUS:
        return Route(refusal=Refusal.NO_VOTING)
    failed = any(question.method is not VoteMethod.BALLOT
                 and question.outcome is VoteOutcome.NO_CONSENSUS
                 and question.wording_sha256 == wording_sha256
                 for question in since_reconsidered(past))
    if not failed:
        return Route(refusal=Refusal.CONSENSUS_FIRST)
    return Route(rule=rules.fallback_rule)


def quorum_needed(quorum: QuorumRule, eligible: int) -> int:
    """How many of ``eligible`` must take part (or be present): more than half, at least a
    third, or anyone; never nobody, so nothing is decided by no one."""
    if eligible < 0:
        raise ValueError("eligible must not be negative")
    if quorum is QuorumRule.MAJORITY:
        needed = eligible // 2 + 1
    elif quorum is QuorumRule.ONE_THIRD:
        needed = -(-eligible // 3)
    else:
        needed = 1
    return max(needed, 1)


def decide_consensus(objections: int, present: int, needed: int) -> Decision:
    """A consensus sought (declared or by silence), as it stands at its close: any objection
    means no consensus; otherwise adopted if enough members were present, i.e. the question
    reached them (silence is consent only from those it reached); else nothing is decided.
    ``turnout`` is the number present."""
    if objections < 0 or present < 0 or needed < 1:
        raise ValueError("counts out of range")
    if objections:
        return Decision(VoteOutcome.NO_CONSENSUS, present)
    if present < needed:
        return Decision(VoteOutcome.NO_QUORUM, present)
    return Decision(VoteOutcome.ADOPTED, present)
