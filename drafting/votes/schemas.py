"""Votes on the wire: the API and the socket events send the same shapes.

A secret vote's shape has counts and turnout only; nothing in it, before or after the close,
says who chose what. A roll-call vote lists each voter's choice once it is closed.

The commands (``VoteOpen``, ``BallotIn``, ``StatementIn``) are the API's bodies and the vote
forms' results alike, validated once at the edge: types and ranges by pydantic, the rest of
their shape (texts, the deadline's bound, what goes together) by their ``_clean`` step, which
raises the services' own ``ValidationFailed``. What depends on the database (who may, which
clause or option, its state, the vote's rule) stays in the services."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Literal, Self

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from drafting.delegations.schemas import DelegationBrief, delegation_brief
from drafting.errors import ValidationFailed
from drafting.markup import render_markdown
from drafting.participants.schemas import ParticipantBrief, participant_brief
from drafting.services import clean_text
from drafting.votes.tally import ballot_delegations, counts, present, roll_call
from models import (
    OptionKind,
    Statement,
    Vote,
    VoteMethod,
    VoteOutcome,
    VoteRule,
    VoteStatus,
    VoteSubject,
    VotingUnit,
)


class OptionOut(BaseModel):
    id: int
    position: int
    kind: OptionKind
    label: str
    wording: str = Field(description="The exact wording voted on (empty for no/abstain).")
    wording_sha256: str
    amendment_id: int | None
    count: int | None = Field(description="Ballots for it: after the close, or live in a "
                              "roll-call vote that shows its tally; otherwise null.")


class RollCallEntry(BaseModel):
    voter: ParticipantBrief = Field(description="Who cast the ballot (in a vote by delegation, "
                                    "for their delegation).")
    delegation: DelegationBrief | None = Field(description="In a vote by delegation, whose "
                                               "ballot it is; else the voter's delegation, if any.")
    option_id: int | None
    reason: str


class RollCallFrom(BaseModel):
    """Where the roll call starts: drawn by lot when the vote opened."""

    delegation: DelegationBrief | None
    participant: ParticipantBrief | None


class VoteOut(BaseModel):
    id: int
    recommendation_id: int
    subject: VoteSubject
    clause_id: int | None
    amendment_id: int | None
    question: str
    method: VoteMethod = Field(description="ballot; consensus (declared by the chair when "
                               "nobody objects); silence (adopted at the deadline unless "
                               "someone objects).")
    rule: VoteRule = Field(description="The rule the rules of procedure gave the question.")
    quorum: int | None = Field(description="Votes opened before the rules of procedure: per "
                               "cent of the eligible voters who had to take part.")
    quorum_needed: int | None = Field(description="How many must take part (ballot) or be "
                                      "present (consensus, silence) for a decision.")
    present: int | None = Field(description="Consensus and silence: how many of the eligible "
                                "the question has reached so far (at the close: by then).")
    reconsiders: int | None = Field(description="A motion to reconsider: the vote whose "
                                    "decision it would set aside.")
    secret: bool
    show_tally: bool
    voting_unit: VotingUnit = Field(description="person: each voter casts a ballot; delegation: "
                                    "one ballot per delegation.")
    deadline: datetime | None
    status: VoteStatus
    eligible: int
    turnout: int
    options: list[OptionOut]
    opened_by: ParticipantBrief | None
    opened_at: datetime
    closed_by: ParticipantBrief | None = Field(description="Null on a closed vote: the deadline closed it.")
    closed_at: datetime | None
    outcome: VoteOutcome | None
    winner_option_id: int | None
    runoff_option_ids: list[int] | None = Field(description="When the outcome is runoff: the two "
                                                "wordings the chair may put again.")
    runoff_of: int | None
    record_sha256: str | None
    previous_sha256: str | None
    roll_call_from: RollCallFrom | None = Field(description="Roll-call votes: the delegation "
                                                "(or participant) the roll call starts from.")
    roll_call: list[RollCallEntry] | None = Field(description="Roll-call votes, once closed, in "
                                                  "the roll call's order: alphabetical, from the "
                                                  "one drawn by lot; consensus and silence: the "
                                                  "objections, named, from the start.")
    objections: list[str] | None = Field(description="Secret votes, once closed: the reasons "
                                         "of the objections, in alphabetical order, unattributed.")


MAX_QUESTION_LENGTH = 1000
MAX_REASON_LENGTH = 500
MAX_STATEMENT_LENGTH = 5000
#: The longest a deadline may be set ahead: a conference lasts days, not weeks.
MAX_DEADLINE = timedelta(days=3)


class VoteOpen(BaseModel):
    """Put a question to the group: subject clause (its wording), wordings (against its
    amendments to be voted), amendment (amendment_id), recommendation (as a whole), or
    reconsider (the decision on clause_id, or on the whole recommendation without one); or
    runoff_of a vote that ended in a run-off. The rule comes from the conference's rules of
    procedure, never from the chair."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # Enums from their values, as JSON sends them (in the API as from a form).
    subject: VoteSubject | None = Field(default=None, strict=False,
                                        description="Not needed with runoff_of.")
    clause_id: int | None = None
    amendment_id: int | None = None
    runoff_of: int | None = Field(default=None, description="A vote that ended in a run-off.")
    question: str | None = None
    method: VoteMethod | None = Field(default=None, strict=False, description="ballot, "
                                      "consensus or silence (needs deadline_minutes). Default: "
                                      "consensus where the rules decide by consensus, else "
                                      "ballot.")
    secret: bool = False
    show_tally: bool = False
    deadline_minutes: int | None = Field(default=None, ge=1, description="Minutes from now, at "
                                         "most three days: the server closes the vote then.")

    @model_validator(mode="after")
    def _clean(self) -> Self:
        if self.runoff_of is None and self.subject is None:
            raise ValidationFailed(_("Choose what to vote on."), fields={
                "subject": _("Choose clause, wordings, amendment or recommendation.")})
        if self.method is not None and self.method is not VoteMethod.BALLOT and self.secret:
            raise ValidationFailed(_("Consensus is not secret: objections are made openly."),
                                   fields={"secret": _("Only for a vote by ballot.")})
        if self.method is VoteMethod.SILENCE and self.deadline_minutes is None:
            raise ValidationFailed(_("A silence procedure needs a deadline."),
                                   fields={"deadline_minutes": _("Required for a silence procedure.")})
        if self.method is VoteMethod.CONSENSUS and self.deadline_minutes is not None:
            raise ValidationFailed(_("The chair declares a consensus: it has no deadline (a "
                                     "silence procedure has one)."),
                                   fields={"deadline_minutes": _("Only for a vote or a silence procedure.")})
        if self.secret and self.show_tally:
            raise ValidationFailed(_("A secret vote has no running tally."),
                                   fields={"show_tally": _("Only for roll-call votes.")})
        if self.question == "":
            self.question = None  # the default question, worded for the subject
        elif self.question is not None:
            self.question = clean_text(self.question, "question", _("Question"),
                                       max_length=MAX_QUESTION_LENGTH)
        if self.deadline_minutes is not None and \
                self.deadline_minutes > MAX_DEADLINE.total_seconds() // 60:
            raise ValidationFailed(_("The deadline is a number of minutes, at most three days."),
                                   fields={"deadline_minutes": _("From 1 minute to three days.")})
        return self


class BallotIn(BaseModel):
    """Vote, or change one's vote until the close."""

    model_config = ConfigDict(extra="forbid", strict=True)

    option_id: int
    reason: str | None = Field(default=None, description="Required for an objection under consensus.")
    receipt: str | None = Field(default=None, description="To change a secret ballot.")


class ObjectionIn(BaseModel):
    """Object to a consensus sought (or break a silence), by name; a reason is optional."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str | None = Field(default=None, description="Why, briefly (optional).")

    @model_validator(mode="after")
    def _clean(self) -> Self:
        self.reason = clean_text(self.reason, "reason", _("Reason for the objection"),
                                 max_length=MAX_REASON_LENGTH, required=False)
        return self


class BallotOut(BaseModel):
    vote: VoteOut
    changed: bool
    receipt: str | None = Field(description="Secret votes: keep it to change your ballot; "
                                "given once, never stored.")


class MyBallot(BaseModel):
    voted: bool
    option_id: int | None = Field(description="Roll-call only: secret ballots are not linked to you.")


class VerificationOut(BaseModel):
    ok: bool
    checks: dict[str, bool]
    record: dict[str, object]


class StatementIn(BaseModel):
    """An interpretative statement or a reservation on an adopted clause (clause_id) or
    on the adopted recommendation as a whole."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["interpretative", "reservation"]
    text: str
    clause_id: int | None = None

    @model_validator(mode="after")
    def _clean(self) -> Self:
        self.text = clean_text(self.text, "text", _("Statement"), max_length=MAX_STATEMENT_LENGTH)
        return self


class StatementOut(BaseModel):
    id: int
    recommendation_id: int
    clause_id: int | None
    kind: str
    text: str
    text_html: str
    author: ParticipantBrief | None
    delegation: DelegationBrief | None = Field(description="The delegation it was made on "
                                               "behalf of: the author's when they made it.")
    created_at: datetime


def statement_out(statement: Statement) -> StatementOut:
    return StatementOut(
        id=statement.id, recommendation_id=statement.recommendation_id,
        clause_id=statement.clause_id, kind=statement.kind.value, text=statement.text,
        text_html=str(render_markdown(statement.text)),
        author=participant_brief(statement.author) if statement.author else None,
        delegation=delegation_brief(statement.delegation) if statement.delegation else None,
        created_at=statement.created_at)


def vote_out(vote: Vote) -> VoteOut:
    closed = vote.status is VoteStatus.CLOSED
    live_tally = vote.status is VoteStatus.OPEN and not vote.secret and vote.show_tally
    tally = counts(vote) if closed or live_tally else [None] * len(vote.options)
    by_position = {o.position: o.id for o in vote.options}
    runoff = json.loads(vote.record)["runoff"] if closed and vote.record else None
    called = roll_call(vote) if (closed or vote.by_consensus) and not vote.secret else None
    delegations = ballot_delegations(vote, called) if called else {}
    return VoteOut(
        id=vote.id, recommendation_id=vote.recommendation_id, subject=vote.subject,
        clause_id=vote.clause_id, amendment_id=vote.amendment_id, question=vote.question,
        method=vote.method, rule=vote.rule, quorum=vote.quorum, quorum_needed=vote.quorum_needed,
        present=present(vote) if vote.by_consensus else None, reconsiders=vote.reconsiders_id,
        secret=vote.secret, show_tally=vote.show_tally, voting_unit=vote.voting_unit,
        deadline=vote.deadline, status=vote.status, eligible=vote.eligible_count,
        turnout=vote.turnout,
        options=[OptionOut(id=o.id, position=o.position, kind=o.kind, label=o.label,
                           wording=o.wording, wording_sha256=o.wording_sha256,
                           amendment_id=o.amendment_id, count=n)
                 for o, n in zip(vote.options, tally, strict=True)],
        opened_by=participant_brief(vote.opened_by) if vote.opened_by else None,
        opened_at=vote.opened_at,
        closed_by=participant_brief(vote.closed_by) if vote.closed_by else None,
        closed_at=vote.closed_at, outcome=vote.outcome,
        winner_option_id=by_position.get(vote.winner_position) if vote.winner_position is not None else None,
        runoff_option_ids=[by_position[p] for p in runoff] if runoff else None,
        runoff_of=vote.runoff_of_id, record_sha256=vote.record_sha256,
        previous_sha256=vote.previous_sha256,
        roll_call_from=_roll_call_from(vote),
        roll_call=[RollCallEntry(voter=participant_brief(b.voter), option_id=b.option_id,
                                 delegation=delegation_brief(delegations[b.id])
                                 if b.id in delegations else None,
                                 reason=b.reason) for b in called]
        if called is not None else None,
        objections=json.loads(vote.secret_reasons) if closed and vote.secret else None,
    )


def _roll_call_from(vote: Vote) -> RollCallFrom | None:
    if vote.secret or (vote.drawn_delegation is None and vote.drawn_participant is None):
        return None
    return RollCallFrom(
        delegation=delegation_brief(vote.drawn_delegation) if vote.drawn_delegation else None,
        participant=participant_brief(vote.drawn_participant) if vote.drawn_participant else None)
