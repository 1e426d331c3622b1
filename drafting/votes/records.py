"""A closed vote's record: the canonical JSON of its question, options, tally, decision and (for
a roll call) its ballots, chained to the group's previous record by SHA-256; and checking a
stored record against the ballots again."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from drafting.errors import Conflict
from drafting.votes.procedure import decide_consensus
from drafting.votes.rules import Decision, decide
from drafting.votes.tally import ballot_delegations, counts, present, roll_call
from models import (
    Ballot,
    Conference,
    Delegation,
    OptionKind,
    Participant,
    Recommendation,
    Vote,
    VoteStatus,
    WorkingGroup,
    db,
)


def sha256(text: str) -> str:
    """Hex SHA-256 of a text's UTF-8 bytes: how records, wordings and receipts are hashed."""
    return hashlib.sha256(text.encode()).hexdigest()


def _person(participant: Participant | None) -> dict[str, Any] | None:
    return {"id": participant.id, "name": participant.name} if participant else None


def _delegation(delegation: Delegation | None) -> dict[str, Any] | None:
    return {"id": delegation.id, "name": delegation.name} if delegation else None


def _drawn(vote: Vote) -> dict[str, Any] | None:
    """Where the roll call starts, as drawn by lot at the opening."""
    if vote.by_delegation:
        return _delegation(vote.drawn_delegation)
    return _person(vote.drawn_participant)


def _previous_record(vote: Vote) -> str | None:
    """The head of the conference's chain: the record no other record follows. The
    conference's row is locked (PostgreSQL; SQLite has one writer anyway) so that two
    closes chain one after the other. Not the newest ``closed_at``: that time is taken
    before the close waits for the lock, so closes that meet here may hold them in
    either order, and following it forked the chain."""
    conference_id = vote.recommendation.group.conference_id
    db.session.execute(select(Conference.id).where(Conference.id == conference_id).with_for_update())
    follower = aliased(Vote)
    followed = select(follower.previous_sha256).where(follower.previous_sha256.is_not(None))
    return db.session.scalar(
        select(Vote.record_sha256).join(Recommendation).join(WorkingGroup)
        .where(WorkingGroup.conference_id == conference_id, Vote.record_sha256.is_not(None),
               Vote.id != vote.id, Vote.record_sha256.not_in(followed))
        .order_by(Vote.closed_at.desc(), Vote.id.desc()).limit(1))


def decision_of(vote: Vote, tally: list[int]) -> Decision:
    """What the vote decided, from its counts: a ballot by its rule and quorum; a consensus
    sought (declared or by silence) by its objections and who it had reached by the close."""
    if vote.by_consensus:
        objections = sum(n for o, n in zip(vote.options, tally, strict=True) if o.kind is OptionKind.NO)
        return decide_consensus(objections, present(vote), vote.quorum_needed or 1)
    return decide(vote.rule, [o.kind for o in vote.options], tally, vote.eligible_count,
                  vote.quorum, vote.quorum_needed)


def record_of(vote: Vote, tally: list[int], decision: Decision, previous: str | None) -> dict[str, Any]:
    """Everything the result rests on, as it stands at the close."""
    record: dict[str, Any] = {
        "vote": vote.id, "conference": vote.recommendation.group.conference_id,
        "group": vote.recommendation.group_id, "recommendation": vote.recommendation_id,
        "subject": vote.subject.value, "clause": vote.clause_id, "amendment": vote.amendment_id,
        "question": vote.question, "method": vote.method.value, "rule": vote.rule.value,
        "quorum": vote.quorum, "quorum_needed": vote.quorum_needed,
        "reconsiders": vote.reconsiders_id,
        "secret": vote.secret, "eligible": vote.eligible_count, "turnout": decision.turnout,
        "options": [{"position": o.position, "kind": o.kind.value, "label": o.label,
                     "wording": o.wording, "wording_sha256": o.wording_sha256,
                     "amendment": o.amendment_id,
                     "count": n} for o, n in zip(vote.options, tally, strict=True)],
        "outcome": decision.outcome.value, "winner": decision.winner,
        "runoff": list(decision.runoff) if decision.runoff else None,
        "opened_by": _person(vote.opened_by), "opened_at": vote.opened_at.isoformat(),
        "closed_by": _person(vote.closed_by),
        "closed_at": vote.closed_at.isoformat() if vote.closed_at else None,
        "runoff_of": vote.runoff_of_id, "previous_sha256": previous,
        "voting_unit": vote.voting_unit.value,
    }
    if vote.secret:
        record["objections"] = json.loads(vote.secret_reasons)
    else:
        by_option = {o.id: o.position for o in vote.options}
        called = roll_call(vote)
        delegations = ballot_delegations(vote, called)
        record["roll_call_from"] = _drawn(vote)
        # In the roll call's order; each voter's delegation (whose ballot it is, in a vote by
        # delegation; the one they sat in at the close, where people vote).
        record["roll_call"] = [{"voter": _person(b.voter), "delegation": _delegation(delegations.get(b.id)),
                                "option": by_option.get(b.option_id or 0), "reason": b.reason}
                               for b in called]
    return record


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def write_record(vote: Vote, tally: list[int], decision: Decision) -> None:
    previous = _previous_record(vote)
    text = canonical(record_of(vote, tally, decision, previous))
    vote.record, vote.record_sha256, vote.previous_sha256 = text, sha256(text), previous


# --- verifying ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    #: Check name -> whether it holds.
    checks: dict[str, bool]

    @property
    def ok(self) -> bool:
        return all(self.checks.values())


def _roll_call_key(entries: list[dict[str, Any]], by_delegation: bool) -> list[tuple[Any, ...]]:
    """A roll call by voter id (not name: a participant may be renamed after the vote), and
    in a vote by delegation the delegation's id (where people vote, the delegation beside a
    name is only who they sat with: seats may change after the vote)."""
    return sorted(((e["voter"] or {}).get("id"),
                   (e.get("delegation") or {}).get("id") if by_delegation else None,
                   e["option"], e["reason"]) for e in entries)


def verify_vote(vote: Vote) -> Verification:
    """Recompute everything the record says from the rows and the rule: the counts, the
    result, each wording's hash, the record's own hash and its link to the previous one."""
    if vote.status is not VoteStatus.CLOSED or vote.record is None:
        raise Conflict(_("Only a closed vote has a record to verify."))
    record = json.loads(vote.record)
    tally = counts(vote)
    decision = decision_of(vote, tally)
    chain = db.session.execute(
        select(Vote.record_sha256, Vote.previous_sha256).join(Recommendation).join(WorkingGroup)
        .where(WorkingGroup.conference_id == vote.recommendation.group.conference_id,
               Vote.record_sha256.is_not(None))).tuples().all()
    previous = record["previous_sha256"]
    checks = {
        "record_hash": sha256(vote.record) == vote.record_sha256,
        # It follows a record of the conference (or is the first), and nothing else follows
        # the same one: a fork would leave a record that no later hash depends on.
        "chain": previous == vote.previous_sha256
        and (previous is None or previous in {record_hash for record_hash, _ in chain})
        and [p for _, p in chain].count(previous) == 1,
        "counts": [o["count"] for o in record["options"]] == tally,
        # Consensus: the turnout is who was present; the ballots are the objections.
        "turnout": record["turnout"] == decision.turnout
        and sum(tally) == db.session.scalar(select(func.count(Ballot.id)).where(Ballot.vote_id == vote.id)),
        # The result as recomputed, as recorded, and as shown (the vote's own columns).
        "result": (record["outcome"], record["winner"]) == (decision.outcome.value, decision.winner)
        == (vote.outcome.value if vote.outcome else None, vote.winner_position),
        "wordings": all(o.wording_sha256 == sha256(o.wording) == r["wording_sha256"]
                        and r.get("wording", o.wording) == o.wording
                        for o, r in zip(vote.options, record["options"], strict=True)),
        # Who chose what: two roll-call ballots swapped leave the counts as they were.
        "roll_call": vote.secret or _roll_call_key(record.get("roll_call", []), vote.by_delegation)
        == _roll_call_key(record_of(vote, tally, decision, record["previous_sha256"])["roll_call"],
                          vote.by_delegation),
        # Where the roll call starts is the one drawn at the opening (records written before
        # roll calls were drawn name none, nor does the vote).
        "draw": vote.secret or ((record.get("roll_call_from") or {}).get("id")
                                == (vote.drawn_delegation_id if vote.by_delegation
                                    else vote.drawn_participant_id)),
    }
    return Verification(checks)
