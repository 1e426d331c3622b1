"""The plenary's rule for adopting the outcome document: a pure function, tested on every path.

After the working groups, the conference (its chair, with the secretariat) adopts the outcome
document in plenary. The plenary meets in the room; Plenary records its decision and checks
it against the rule. By default the plenary adopts by consensus (nobody objects; nothing is
counted); a vote must carry a two-thirds majority of those present and voting (yes and no:
abstentions are not among those voting, as in UN practice). The conference's rules of
procedure will hold the rule; until then it is this one.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from models import AdoptionMethod


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
    #: Fewer than two thirds of those present and voting said yes.
    SHORT_OF_TWO_THIRDS = "short_of_two_thirds"


@dataclass(frozen=True)
class PlenaryDecision:
    adopted: bool
    refusal: Refusal | None = None


def plenary_decision(method: AdoptionMethod, counts: Counts | None) -> PlenaryDecision:
    """Whether the plenary adopted the outcome document, by its rule."""
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
    # Two thirds of those present and voting, in integers: 3·yes ≥ 2·(yes + no).
    if 3 * counts.yes < 2 * voting:
        return PlenaryDecision(False, Refusal.SHORT_OF_TWO_THIRDS)
    return PlenaryDecision(True)
