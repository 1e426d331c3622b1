"""Putting questions in tests whatever the rules of procedure: by a given majority (the
conference's rules are set to vote by it), or by consensus (sought, then declared)."""
from __future__ import annotations

from typing import Any

from drafting.votes import ballots, objections, services
from drafting.votes.schemas import BallotIn, ObjectionIn, VoteOpen
from models import OptionKind, Participant, Recommendation, Vote, VoteRule, db


def put_question(chair: Participant, recommendation: Recommendation, rule: str | None = None,
                 **data: Any) -> Vote:
    """Open a question (committed). ``rule``: "consensus" seeks consensus; a majority rule
    makes it the conference's decision rule first; None: as the rules stand."""
    if rule == "consensus":
        data.setdefault("method", "consensus")
    elif rule is not None:
        recommendation.group.conference.decision_rule = VoteRule(rule)
        db.session.commit()
    vote = services.open_vote(chair, recommendation, VoteOpen.model_validate(data))
    db.session.commit()
    return vote


def settle(chair: Participant, vote: Vote, voters: list[Participant], answer: str = "yes") -> Vote:
    """Every voter answers (a ballot; or, for consensus, the question reaches them and "no"
    objects), then the chair closes or declares (committed)."""
    wanted = next((o for o in vote.options if o.kind is OptionKind(answer)), None)
    for voter in voters:
        if vote.by_consensus:
            services.mark_present(vote, voter)
            if answer == "no":
                objections.object_to(voter, vote, ObjectionIn(reason=""))
        else:
            assert wanted is not None
            ballots.cast_ballot(voter, vote, BallotIn(option_id=wanted.id))
        db.session.commit()
    services.close_vote(chair, vote)
    db.session.commit()
    return vote
