"""What the vote pages show: the vote (with its ballot form), the projector, the record, and
the chair's console on the recommendation page.

These functions only read: they gather what templates/votes/ needs, so that a template asks
no question of the database and the same piece of HTML (the console) is rendered whole on
the recommendation page and alone (``?partial=1``) for the script that refreshes it on vote
events. Every form is offered only to whom the service would accept it from.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm

from drafting.amendments import services as amendments
from drafting.editing.diff import Piece, word_diff
from drafting.errors import DomainError
from drafting.markup import render_markdown
from drafting.votes import ballots, objections, records, services
from drafting.votes.forms import BallotForm, ObjectionForm, OpenVoteForm, StatementForm
from drafting.votes.rules import Decision
from drafting.votes.tally import ballot_delegations, counts, present, roll_call
from models import (
    DEFAULT_RULES,
    Amendment,
    AmendmentStatus,
    Clause,
    ClauseStatus,
    GroupRole,
    OptionKind,
    Participant,
    Recommendation,
    RecommendationStatus,
    RulesOfProcedure,
    Statement,
    Vote,
    VoteMethod,
    VoteOption,
    VoteOutcome,
    VoteRule,
    VoteStatus,
    VoteSubject,
    delegation_of,
    may_make_statement,
    utcnow,
)


def allowed(check: Callable[[], object]) -> bool:
    """Whether a service's ``check_can_...`` lets the action through."""
    return refusal(check) is None


def refusal(check: Callable[[], object]) -> DomainError | None:
    """What a service's ``check_can_...`` says against the action, if anything."""
    try:
        check()
    except DomainError as error:
        return error
    return None


def remaining_seconds(vote: Vote, now: datetime | None = None) -> int | None:
    """Whole seconds until the deadline (0 once it has passed); None without a deadline."""
    if vote.deadline is None:
        return None
    return max(0, int((vote.deadline - (now or utcnow())).total_seconds()))


def countdown(seconds: int | None) -> str:
    """"4:05", "1:02:03": the same format the script counts down in."""
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# --- one vote ----------------------------------------------------------------------------


@dataclass
class OptionView:
    option: VoteOption
    #: Against the wording as drafted (a choice of wordings, an amendment); None: no redline.
    redline: list[Piece] | None
    #: Ballots for it, when they may be shown (closed, or a roll-call vote that shows its tally).
    count: int | None
    winner: bool


def option_views(vote: Vote) -> list[OptionView]:
    """Each option with the redline of its wording against the text as drafted: a choice of
    wordings against the clause's own wording (frozen at opening), an amendment as its
    redline against the text it changes."""
    closed = vote.status is VoteStatus.CLOSED
    live_tally = vote.is_open and not vote.secret and vote.show_tally
    tally: list[int | None] = list(counts(vote)) if closed or live_tally \
        else [None] * len(vote.options)
    drafted = next((o.wording for o in vote.options
                    if o.kind is OptionKind.WORDING and o.amendment_id is None), None)
    views = []
    for option, count in zip(vote.options, tally, strict=True):
        pieces: list[Piece] | None = None
        if vote.subject is VoteSubject.WORDINGS and option.kind is OptionKind.WORDING \
                and option.amendment_id is not None and drafted is not None:
            pieces = word_diff(drafted, option.wording)
        elif vote.subject is VoteSubject.AMENDMENT and option.kind is OptionKind.YES \
                and vote.amendment is not None:
            pieces = amendments.redline(vote.amendment).pieces
        views.append(OptionView(option, pieces, count,
                                winner=closed and vote.outcome is VoteOutcome.ADOPTED
                                and (option.position == vote.winner_position
                                     if vote.winner_position is not None
                                     else option.kind is OptionKind.YES)))
    return views


def clause_number(vote: Vote) -> str:
    """The clause's display number ("3", "PP2"), or "" (a vote on the whole; a clause since
    deleted)."""
    if vote.clause_id is None:
        return ""
    return vote.recommendation.display_numbers().get(vote.clause_id, "").rstrip(".")


def vote_context(vote: Vote, viewer: Participant, form: BallotForm | None = None,
                 error: DomainError | None = None, receipt: str | None = None) -> dict[str, Any]:
    """What templates/votes/show.html (and the projector) need."""
    seconds = remaining_seconds(vote)
    refused = refusal(lambda: ballots.check_can_cast(vote, viewer)) if vote.is_open else None
    can_cast = vote.is_open and refused is None
    called = roll_call(vote) if vote.status is VoteStatus.CLOSED or vote.by_consensus else []
    voted = services.has_voted(vote, viewer)
    mine = services.own_choice(vote, viewer)
    if form is None:
        form = BallotForm(formdata=None, data={
            "option_id": str(mine.option_id) if mine and mine.option_id else "",
            "reason": mine.reason if mine else "", "receipt": receipt or ""})
    record = json.loads(vote.record) if vote.record else None
    return {
        "vote": vote,
        "recommendation": vote.recommendation,
        "group": vote.recommendation.group,
        "number": clause_number(vote),
        "options": option_views(vote),
        "remaining": seconds,
        "countdown": countdown(seconds),
        "can_cast": can_cast,
        "can_object": vote.is_open and allowed(lambda: objections.check_can_object(vote, viewer)),
        "objection_form": ObjectionForm(formdata=None, data={"reason": mine.reason if mine else ""}),
        "present": present(vote) if vote.by_consensus else None,
        #: Why the viewer casts no ballot (a vote by delegation says who casts theirs).
        "cast_refusal": refused,
        "is_voter": services.is_voter(vote, viewer),
        "voted": voted,
        "mine": mine,
        "can_run": vote.is_open and vote.can_run(viewer) and not vote.recommendation.is_closed,
        "can_runoff": (vote.outcome is VoteOutcome.RUNOFF and vote.can_run(viewer)
                       and vote.recommendation.status is RecommendationStatus.DRAFTING
                       and not vote.recommendation.is_closed),
        "roll_call": called,
        "roll_call_delegations": ballot_delegations(vote, called),
        "objections": record.get("objections", []) if record else [],
        "form": form,
        "error": error,
        "receipt": receipt,
        "viewer": viewer,
        "my_delegation": delegation_of(vote.group.conference_id, viewer.id)
        if vote.by_delegation else None,
    }


def verification_context(vote: Vote) -> dict[str, Any]:
    """The record as written at the close, and what verifying it finds now."""
    closed = vote.status is VoteStatus.CLOSED and vote.record is not None
    record = json.loads(vote.record) if closed and vote.record else None
    return {
        "record": record,
        "raw": vote.record if closed else None,
        "verification": records.verify_vote(vote) if closed else None,
        "by_position": {o.position: o for o in vote.options},
    }


# --- the console -------------------------------------------------------------------------


@dataclass
class ClauseRow:
    clause: Clause
    number: str
    #: drafting, locked-for-vote, locked, adopted, rejected (in its last vote)
    state: str
    #: The open vote on it, or the last one that decided nothing (rejected, no quorum, run-off).
    vote: Vote | None
    to_be_voted: list[Amendment]
    form: OpenVoteForm | None


@dataclass
class Console:
    recommendation: Recommendation
    rows: list[ClauseRow]
    open_votes: list[Vote]
    ended_votes: list[Vote]
    numbers: dict[int, str]
    is_chair: bool
    #: The form to put the recommendation as a whole, when every clause is adopted.
    whole_form: OpenVoteForm | None
    voter_of: dict[int, bool]
    voted: dict[int, bool]
    statements: list[Statement]
    statement_html: dict[int, Any]
    statement_form: StatementForm | None
    #: (clause id or "" for the whole, label) the statement form offers.
    statement_targets: list[tuple[str, str]]
    error: DomainError | None = None
    #: Which form a refused submission came from, so that the page opens it.
    refused: str = ""
    rules: RulesOfProcedure = DEFAULT_RULES
    #: The chair may move to reconsider decided clauses (and, ``reconsider_whole``, the
    #: decided recommendation).
    can_reconsider: bool = False
    reconsider_whole: bool = False
    #: How a motion to reconsider is put under the rules.
    reconsider_by: VoteMethod = VoteMethod.BALLOT
    #: Consensus and silence: how many the open question has reached.
    present: dict[int, int] = field(default_factory=dict)


def _clause_state(clause: Clause, last_vote: Vote | None) -> str:
    if clause.status is ClauseStatus.ADOPTED:
        return "adopted"
    if clause.status is ClauseStatus.LOCKED:
        return "locked-for-vote" if last_vote is not None and last_vote.is_open else "locked"
    if last_vote is not None and last_vote.outcome is VoteOutcome.NO_CONSENSUS:
        return "no-consensus"
    if last_vote is not None and last_vote.status is VoteStatus.CLOSED \
            and last_vote.outcome is not VoteOutcome.ADOPTED \
            and last_vote.subject in (VoteSubject.CLAUSE, VoteSubject.WORDINGS):
        return "rejected"
    return "drafting"


def open_form(recommendation: Recommendation, data: dict[str, Any]) -> OpenVoteForm:
    """A blank form to put a question: as the rules of procedure decide first (consensus,
    or a roll-call ballot)."""
    rules = recommendation.group.conference.rules
    method = VoteMethod.CONSENSUS if rules.decision_rule is VoteRule.CONSENSUS else VoteMethod.BALLOT
    return OpenVoteForm(formdata=None, data={"method": method.value, "ballot": "roll_call", **data})


def reconsider_method(rules: RulesOfProcedure) -> VoteMethod:
    """How a motion to reconsider is put under these rules."""
    return VoteMethod.CONSENSUS if rules.reconsideration_rule is VoteRule.CONSENSUS else VoteMethod.BALLOT


def closed_message(vote: Vote, decision: Decision) -> str:
    """What the chair is told on closing (or declaring)."""
    if not vote.by_consensus:
        return _("The vote is closed and its result recorded.")
    if decision.outcome is VoteOutcome.ADOPTED:
        return _("Consensus declared: the text is adopted, and the decision recorded.")
    return _("No consensus: nothing is adopted. The decision is recorded.")


def recommendation_part(recommendation: Recommendation, viewer: Participant,
                        state: Mapping[str, Any]) -> dict[str, Any]:
    """What votes add to the recommendation page (``drafting.recommendations.page``): the
    console, outside the editor's fallback, so it stays when the live editor runs (and is
    refreshed alone on vote events). A vote route that refused a form passes it as
    ``state["vote_forms"]``, with ``state["vote_error"]``."""
    return {"console": build_console(recommendation, viewer, state.get("vote_forms"),
                                     state.get("vote_error"))}


def build_console(recommendation: Recommendation, viewer: Participant,
            forms: dict[str, FlaskForm] | None = None,
            error: DomainError | None = None) -> Console:
    """The console: each clause's state, the open and ended votes, the chair's forms, the
    statements. ``forms`` holds a refused form under its key ("clause-<id>", "whole",
    "statement") so that it comes back with what was typed."""
    forms = dict(forms or {})
    group = recommendation.group
    group.remember_roles()
    numbers = recommendation.display_numbers()
    votes = services.recommendation_votes(recommendation)  # newest first
    is_chair = allowed(lambda: services.check_can_run(recommendation, viewer))
    last_vote: dict[int, Vote] = {}
    for vote in votes:
        if vote.clause_id is not None and vote.status is not VoteStatus.CANCELLED:
            last_vote.setdefault(vote.clause_id, vote)
    to_be_voted = {clause_id: [a for a in found if a.status is AmendmentStatus.TO_BE_VOTED]
                   for clause_id, found in amendments.recommendation_amendments(
                       recommendation, open_only=True).items()}
    rows = []
    for clause in recommendation.live_clauses:
        state = _clause_state(clause, last_vote.get(clause.id))
        form = None
        if is_chair and state in ("drafting", "rejected", "no-consensus"):
            key = f"clause-{clause.id}"
            kept = forms.get(key)
            form = kept if isinstance(kept, OpenVoteForm) else open_form(
                recommendation, {"subject": "clause", "clause_id": str(clause.id)})
        rows.append(ClauseRow(clause, numbers.get(clause.id, "").rstrip("."), state,
                              last_vote.get(clause.id), to_be_voted.get(clause.id, []), form))
    open_now = [v for v in reversed(votes) if v.is_open]
    whole = None
    live = recommendation.live_clauses
    if is_chair and live and not open_now and all(c.status is ClauseStatus.ADOPTED for c in live):
        kept = forms.get("whole")
        whole = kept if isinstance(kept, OpenVoteForm) else open_form(
            recommendation, {"subject": "recommendation"})
    runs = recommendation.group.role_of(viewer) is GroupRole.CHAIR and not recommendation.is_closed
    reconsider_whole = runs and not open_now and recommendation.status in (
        RecommendationStatus.ADOPTED, RecommendationStatus.REJECTED)
    statements = services.statements_of(recommendation)
    targets = [(str(row.clause.id), row.number) for row in rows if row.state == "adopted"]
    if recommendation.status is RecommendationStatus.ADOPTED:
        targets.insert(0, ("", ""))
    statement_form = None
    if targets and may_make_statement(recommendation, viewer) and not recommendation.is_closed:
        kept = forms.get("statement")
        statement_form = kept if isinstance(kept, StatementForm) else StatementForm(
            formdata=None, data={"kind": "interpretative", "clause_id": targets[0][0]})
    return Console(
        recommendation=recommendation, rows=rows, open_votes=open_now,
        ended_votes=[v for v in votes if not v.is_open], numbers=numbers, is_chair=is_chair,
        whole_form=whole,
        voter_of={v.id: services.is_voter(v, viewer) for v in open_now},
        voted={v.id: services.has_voted(v, viewer) for v in open_now},
        statements=statements,
        statement_html={s.id: render_markdown(s.text) for s in statements},
        statement_form=statement_form,
        statement_targets=targets, error=error,
        rules=recommendation.group.conference.rules, can_reconsider=runs,
        reconsider_by=reconsider_method(recommendation.group.conference.rules),
        reconsider_whole=reconsider_whole,
        present={v.id: present(v) for v in open_now if v.by_consensus},
        refused=next(iter(forms), ""),
    )

