"""The rules of voting: who opens a vote and on what, who votes, closing it (by the chair or
at its deadline: ``deadlines``) into an immutable record and applying its decision, and the
statements on decided texts. Casting is ``ballots``; the count ``tally``; the record and its
verification ``records``.

Every change of a vote serialises on its row: casting a ballot starts with a conditional
UPDATE of the vote that succeeds only while it is open, and closing is the UPDATE that ends
that; so a ballot racing the close is either counted (committed before it) or refused, and
the counts recorded equal the ballots in the database. One ballot per voter is the
database's unique constraint, not a check in code.

A secret vote stores who took part (``ballot`` rows without a choice) and, separately, only
the running tally, sealed in the vote's row under a key that is not in the database
(``tally.seal``): every ballot rewrites it whole whatever its choice, so no row, row version
or write order pairs a voter with a choice. The close unseals it once into the published
counts (``vote_option.secret_count``). Changing a secret ballot takes the receipt given to the
voter when they cast it, an HMAC of the choice that only the voter holds: the server keeps
neither the receipt nor the choice, and learns the old choice only while changing it.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import CursorResult, select, update

from drafting.amendments.redlines import redline
from drafting.brackets import refusal, unagreed_passages
from drafting.editing import docs
from drafting.editing.services import hold_text, replace_text
from drafting.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from drafting.realtime import queue_event, recommendation_room
from drafting.recommendations import structure
from drafting.services import is_id, load
from drafting.votes.records import sha256, write_record
from drafting.votes.rules import Decision, decide
from drafting.votes.schemas import StatementIn, VoteOpen, vote_out
from drafting.votes.tally import Running, counts, seal, unseal_at_close
from models import (
    Amendment,
    AmendmentKind,
    AmendmentStatus,
    Ballot,
    Clause,
    ClauseStatus,
    GroupRole,
    Membership,
    OptionKind,
    Participant,
    Recommendation,
    RecommendationStatus,
    Statement,
    StatementKind,
    Vote,
    VoteOption,
    VoteOutcome,
    VoteStatus,
    VoteSubject,
    VoteVoter,
    WorkingGroup,
    db,
    utcnow,
)
from models.votes import VOTERS_KEY

MAX_REASON_LENGTH = 500



# --- reading -----------------------------------------------------------------------------


def get_vote(vote_id: Any, viewer: Participant) -> Vote:
    vote = load(Vote, vote_id)
    if not vote.can_view(viewer):
        raise NotFound(_("Not found."))
    return vote


def recommendation_votes(recommendation: Recommendation) -> list[Vote]:
    """Newest first."""
    return list(db.session.scalars(
        select(Vote).where(Vote.recommendation_id == recommendation.id).order_by(Vote.id.desc())))


def open_votes(recommendation: Recommendation) -> list[Vote]:
    return list(db.session.scalars(
        select(Vote).where(Vote.recommendation_id == recommendation.id,
                           Vote.status == VoteStatus.OPEN).order_by(Vote.id)))


def is_voter(vote: Vote, participant: Participant) -> bool:
    known = db.session().info.get(VOTERS_KEY, {}).get(vote.id)
    if known is not None:
        return participant.id in known
    return db.session.scalar(select(VoteVoter.id).where(
        VoteVoter.vote_id == vote.id, VoteVoter.participant_id == participant.id)) is not None


def remember_voters(vote: Vote) -> None:
    """Answer ``is_voter`` for this vote from one query, until the transaction ends: a batch
    of ballots asks about each of its voters. The voters are fixed when the vote opens."""
    known = db.session().info.setdefault(VOTERS_KEY, {})
    if vote.id not in known:
        known[vote.id] = frozenset(db.session.scalars(
            select(VoteVoter.participant_id).where(VoteVoter.vote_id == vote.id)))


def has_voted(vote: Vote, participant: Participant) -> bool:
    return db.session.scalar(select(Ballot.id).where(
        Ballot.vote_id == vote.id, Ballot.voter_id == participant.id)) is not None


def own_choice(vote: Vote, participant: Participant) -> Ballot | None:
    """A roll-call voter's ballot, to show them what they chose (secret: None, always)."""
    if vote.secret:
        return None
    return db.session.scalar(select(Ballot).where(Ballot.vote_id == vote.id,
                                                  Ballot.voter_id == participant.id))


# --- opening -----------------------------------------------------------------------------


def check_can_run(recommendation: Recommendation, actor: Participant) -> None:
    if recommendation.group.role_of(actor) is not GroupRole.CHAIR:
        raise PermissionDenied(_("Only the group's chair opens, closes and cancels votes."))
    if recommendation.status is not RecommendationStatus.DRAFTING:
        raise PermissionDenied(_("This recommendation is no longer a draft: there is nothing to vote on."))


def _live_clause(recommendation: Recommendation, clause_id: int | None) -> Clause:
    clause = db.session.get(Clause, clause_id) if is_id(Clause, clause_id) else None
    if clause is None or clause.recommendation_id != recommendation.id or clause.deleted_at is not None:
        raise ValidationFailed(_("Choose a clause of this recommendation."),
                               fields={"clause_id": _("Not a clause of this recommendation.")})
    return clause


def _check_votable(clause: Clause) -> None:
    """Whether the clause can be put to a vote; its text is then read as it is now and held
    until the vote is committed, so the wording frozen is exactly the stored text."""
    hold_text(clause)
    if clause.status is ClauseStatus.ADOPTED:
        raise Conflict(_("This clause is adopted: its wording is final."))
    if clause.status is ClauseStatus.LOCKED:
        raise Conflict(_("This clause is locked: a vote on it is already open, or its chair "
                         "froze it. Close or cancel that first."))


def _check_agreed(options: list[VoteOption], field: str, whose: dict[int, str]) -> None:
    """Nothing in square brackets is adopted: refuse to put a wording that still has some.
    ``whose``: option position -> how the refusal names that wording (the clause's own
    wording by default)."""
    for option in options:
        passages = unagreed_passages(option.wording)
        if passages:
            message = refusal(passages, whose.get(option.position))
            raise ValidationFailed(message, fields={field: message})


def _option(position: int, kind: OptionKind, label: str, wording: str = "",
            amendment: Amendment | None = None) -> VoteOption:
    return VoteOption(position=position, kind=kind, label=label, wording=wording,
                      wording_sha256=sha256(wording), amendment=amendment)


def _yes_no(wording: str) -> list[VoteOption]:
    return [_option(0, OptionKind.YES, _("Yes"), wording), _option(1, OptionKind.NO, _("No")),
            _option(2, OptionKind.ABSTAIN, _("Abstain"))]


def _amendment_wording(amendment: Amendment) -> str:
    """What adopting the amendment would make of its clause (or of the new clause)."""
    if amendment.kind is AmendmentKind.DELETE:
        return ""
    if amendment.kind is AmendmentKind.INSERT:
        return amendment.text
    result = redline(amendment).result
    if result is None:
        raise Conflict(_("Amendment %(id)s conflicts with the current text: its proposer must "
                         "update it before it can be voted on.", id=amendment.id))
    return result


def whole_text(recommendation: Recommendation) -> str:
    """The recommendation as one text (title, then each clause with its number): what a vote
    on the whole adopts, and what its hash proves."""
    numbers = recommendation.display_numbers()
    return "\n\n".join([recommendation.title] + [f"{numbers[c.id]} {c.text}"
                                                  for c in recommendation.live_clauses])


def _subject(recommendation: Recommendation, subject: VoteSubject,
             command: VoteOpen) -> tuple[Clause | None, Amendment | None, list[VoteOption], str]:
    """(clause, amendment, options, default question) of what is put to the vote."""
    if subject is VoteSubject.RECOMMENDATION:
        clauses = recommendation.live_clauses
        if not clauses or any(c.status is not ClauseStatus.ADOPTED for c in clauses):
            raise Conflict(_("The recommendation can be put as a whole only when every clause "
                             "is adopted (or deleted)."))
        numbers = recommendation.display_numbers()
        for clause in clauses:
            _check_agreed(_yes_no(clause.text), "subject", {0: _(
                "Clause %(number)s", number=numbers[clause.id].rstrip("."))})
        return None, None, _yes_no(whole_text(recommendation)), _(
            "Adopt the recommendation “%(title)s” as a whole?", title=recommendation.title)
    if subject is VoteSubject.AMENDMENT:
        found = db.session.get(Amendment, command.amendment_id) \
            if is_id(Amendment, command.amendment_id) else None
        if found is None or found.clause.recommendation_id != recommendation.id:
            raise ValidationFailed(_("Choose an amendment of this recommendation."),
                                   fields={"amendment_id": _("Not an amendment of this recommendation.")})
        if not found.is_open:
            raise Conflict(_("This amendment has already been dealt with."))
        clause = found.clause
        if clause.deleted_at is not None:
            raise Conflict(_("The clause of this amendment has been deleted."))
        _check_votable(clause)
        return clause, found, _yes_no(_amendment_wording(found)), _(
            "Adopt amendment %(id)s to clause %(number)s?", id=found.id,
            number=recommendation.display_numbers().get(clause.id, "").rstrip("."))
    clause = _live_clause(recommendation, command.clause_id)
    _check_votable(clause)
    number = recommendation.display_numbers().get(clause.id, "").rstrip(".")
    if subject is VoteSubject.CLAUSE:
        options = _yes_no(clause.text)
        _check_agreed(options, "clause_id", {})
        return clause, None, options, _("Adopt the wording of clause %(number)s?", number=number)
    candidates = [a for a in db.session.scalars(
        select(Amendment).where(Amendment.clause_id == clause.id,
                                Amendment.status == AmendmentStatus.TO_BE_VOTED,
                                Amendment.kind == AmendmentKind.REPLACE).order_by(Amendment.id))]
    if not candidates:
        raise Conflict(_("No new wording of this clause is marked “to be voted”: mark an "
                         "amendment first, or put the clause's own wording."))
    options = [_option(0, OptionKind.WORDING, _("The clause as drafted"), clause.text)]
    for position, amendment in enumerate(candidates, start=1):
        options.append(_option(position, OptionKind.WORDING, _("Amendment %(id)s", id=amendment.id),
                               _amendment_wording(amendment), amendment))
    options.append(_option(len(options), OptionKind.ABSTAIN, _("Abstain")))
    _check_agreed(options, "clause_id", _wording_names(options))
    return clause, None, options, _("Which wording of clause %(number)s?", number=number)


def _wording_names(options: list[VoteOption]) -> dict[int, str]:
    return {o.position: _("Amendment %(id)s", id=o.amendment.id)
            for o in options if o.amendment is not None}


def _runoff_options(previous: Vote) -> tuple[Clause | None, list[VoteOption], str]:
    if previous.outcome is not VoteOutcome.RUNOFF or previous.record is None:
        raise Conflict(_("That vote did not end in a run-off."))
    top_two = json.loads(previous.record)["runoff"]
    by_position = {option.position: option for option in previous.options}
    options = [_option(i, OptionKind.WORDING, by_position[p].label, by_position[p].wording,
                       by_position[p].amendment) for i, p in enumerate(top_two)]
    options.append(_option(2, OptionKind.ABSTAIN, _("Abstain")))
    # Checked when the first round was opened; a vote opened before the rule is held to it.
    _check_agreed(options, "runoff_of", _wording_names(options))
    return previous.clause, options, _("Run-off: %(question)s", question=previous.question)


def _voters(group: WorkingGroup) -> list[int]:
    return list(db.session.scalars(
        select(Membership.participant_id).where(Membership.group_id == group.id,
                                                Membership.role.in_(group.voting_roles()))
        .order_by(Membership.participant_id)))


def open_vote(actor: Participant, recommendation: Recommendation, command: VoteOpen) -> Vote:
    """Put a question to the group. ``subject`` clause (its wording: yes/no/abstain),
    wordings (the clause's wording against its amendments marked "to be voted"), amendment
    (``amendment_id`` alone) or recommendation (as a whole); or ``runoff_of`` a vote that
    ended in a run-off. ``rule`` (default: the group's), ``quorum`` (per cent), ``secret``,
    ``show_tally`` (roll-call), ``deadline_minutes``, ``question`` (default: worded for
    the subject). A clause voted on is locked until the vote ends."""
    check_can_run(recommendation, actor)
    group = recommendation.group
    now = utcnow()
    runoff_of = None
    if command.runoff_of is not None:
        runoff_of = db.session.get(Vote, command.runoff_of) if is_id(Vote, command.runoff_of) else None
        if runoff_of is None or runoff_of.recommendation_id != recommendation.id:
            raise ValidationFailed(_("Choose a vote of this recommendation."),
                                   fields={"runoff_of": _("Not a vote of this recommendation.")})
        clause, options, question = _runoff_options(runoff_of)
        if clause is not None and clause.status is ClauseStatus.ADOPTED:
            _check_votable(clause)
        subject, amendment = VoteSubject.WORDINGS, None
    else:
        assert command.subject is not None  # the command asks for one without runoff_of
        subject = command.subject
        clause, amendment, options, question = _subject(recommendation, subject, command)
    # After the clause's text is held (its live document first, then the database's write
    # lock: the order the live-editing writer takes them in, so neither waits for the other).
    _serialise_openings(recommendation)
    if clause is not None and db.session.scalar(select(Vote.id).where(
            Vote.clause_id == clause.id, Vote.status == VoteStatus.OPEN)) is not None:
        raise Conflict(_("A vote on this clause is already open."))
    if subject is VoteSubject.RECOMMENDATION and open_votes(recommendation):
        raise Conflict(_("Close or cancel the open votes of this recommendation first."))
    voters = _voters(group)
    if not voters:
        raise Conflict(_("Nobody in this group may vote: add members first."))
    vote = Vote(
        recommendation=recommendation, subject=subject, clause=clause, amendment=amendment,
        question=command.question or question, rule=command.rule or group.default_vote_rule,
        quorum=command.quorum, secret=command.secret, show_tally=command.show_tally,
        deadline=now + timedelta(minutes=command.deadline_minutes)
        if command.deadline_minutes is not None else None, status=VoteStatus.OPEN,
        eligible_count=len(voters), turnout=0, runoff_of_id=runoff_of.id if runoff_of else None,
        opened_by_id=actor.id, opened_at=now, options=options,
    )
    if clause is not None:
        # A run-off's clause is still held locked by the vote it follows.
        _claim_clause(clause, held=runoff_of is not None)
    db.session.add(vote)
    db.session.flush()
    if vote.secret:
        # Sealed from the start: the first ballot rewrites a tally as long as every other.
        seal(vote, Running([0] * len(options), []))
    db.session.add_all([VoteVoter(vote_id=vote.id, participant_id=p) for p in voters])
    if clause is not None:
        _set_clause_status(clause, ClauseStatus.LOCKED)
    emit(vote, "vote_opened")
    return vote


def _serialise_openings(recommendation: Recommendation) -> None:
    """One opening at a time per recommendation (a double click, two chairs): a write to its
    row, held until commit, on PostgreSQL as on SQLite, so that the checks that follow
    ("a vote on this clause is already open", "close the open votes first") see the
    vote another opening has just committed. Nothing of the row changes."""
    db.session.execute(update(Recommendation).where(Recommendation.id == recommendation.id)
                       .values(updated_at=Recommendation.updated_at)
                       .execution_options(synchronize_session=False))


def _claim_clause(clause: Clause, *, held: bool = False) -> None:
    """Lock the clause for the vote only if it is still open for drafting (or, ``held``,
    still locked awaiting this run-off), in one conditional UPDATE: a clause adopted or
    locked meanwhile (by a transaction this one read too early to see) is not voted on
    again."""
    allowed = [ClauseStatus.OPEN, ClauseStatus.LOCKED] if held else [ClauseStatus.OPEN]
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Clause).where(Clause.id == clause.id, Clause.status.in_(allowed))
        .values(status=ClauseStatus.LOCKED).execution_options(synchronize_session=False))
    docs.gates_changed([clause.id])
    if result.rowcount != 1:
        raise Conflict(_("This clause is locked: a vote on it is already open, or its chair "
                         "froze it. Close or cancel that first."))


def _set_clause_status(clause: Clause, status: ClauseStatus) -> None:
    clause.status = status
    structure.announce(clause.recommendation)


# --- closing -----------------------------------------------------------------------------


def check_can_close(vote: Vote, actor: Participant) -> None:
    if not vote.can_run(actor):
        raise PermissionDenied(_("Only the group's chair opens, closes and cancels votes."))
    if not vote.is_open:
        raise Conflict(_("This vote has already ended."))


def _end(vote: Vote, status: VoteStatus, actor: Participant | None) -> None:
    """The one UPDATE that ends a vote: it waits for ballots being cast, and only one of two
    closers (chairs, deadline workers of several processes) finds the vote still open."""
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Vote).where(Vote.id == vote.id, Vote.status == VoteStatus.OPEN)
        .values(status=status, closed_at=utcnow(), closed_by_id=actor.id if actor else None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("This vote has already ended."))
    db.session.refresh(vote)


def close_vote(actor: Participant | None, vote: Vote) -> Decision:
    """Close the vote (``actor`` None: its deadline did) and record the result: counted
    from the ballot rows, decided by the one rule function, written once with its hash
    chained to the conference's previous record, and applied to the text."""
    if actor is not None:
        check_can_close(vote, actor)
    _end(vote, VoteStatus.CLOSED, actor)
    if vote.secret:
        unseal_at_close(vote)
    tally = counts(vote)
    decision = decide(vote.rule, [o.kind for o in vote.options], tally, vote.eligible_count,
                      vote.quorum)
    vote.outcome = decision.outcome
    vote.winner_position = decision.winner
    write_record(vote, tally, decision)
    _apply(vote, decision)
    emit(vote, "vote_closed")
    return decision


def cancel_vote(actor: Participant, vote: Vote) -> None:
    """Call the vote off: nothing is decided, and a clause it locked opens again."""
    check_can_close(vote, actor)
    _end(vote, VoteStatus.CANCELLED, actor)
    if vote.clause is not None and vote.clause.status is ClauseStatus.LOCKED:
        _set_clause_status(vote.clause, ClauseStatus.OPEN)
    emit(vote, "vote_cancelled")


def _apply(vote: Vote, decision: Decision) -> None:
    """What the result does to the text."""
    adopted = decision.outcome is VoteOutcome.ADOPTED
    if vote.subject is VoteSubject.RECOMMENDATION:
        if adopted:
            vote.recommendation.status = RecommendationStatus.ADOPTED
        elif decision.outcome is VoteOutcome.REJECTED:
            vote.recommendation.status = RecommendationStatus.REJECTED
        return
    clause = vote.clause
    assert clause is not None
    if vote.subject is VoteSubject.AMENDMENT:
        amendment = vote.amendment
        assert amendment is not None
        if decision.outcome in (VoteOutcome.ADOPTED, VoteOutcome.REJECTED):
            # Without a quorum nothing is decided: the amendment stays to be voted.
            amendment.status = (AmendmentStatus.ADOPTED_BY_VOTE if adopted
                                else AmendmentStatus.REJECTED_BY_VOTE)
            amendment.decided_at = utcnow()
        _set_clause_status(clause, ClauseStatus.OPEN)
        if adopted:
            _apply_amendment(vote, amendment, clause)
        return
    if vote.subject is VoteSubject.WORDINGS and decision.outcome in (VoteOutcome.ADOPTED,
                                                                     VoteOutcome.REJECTED):
        # A run-off or a missing quorum decides nothing: the amendments stay to be voted.
        for option in vote.options:
            if option.amendment is not None and option.amendment.is_open:
                won = adopted and option.position == decision.winner
                option.amendment.status = (AmendmentStatus.ADOPTED_BY_VOTE if won
                                           else AmendmentStatus.REJECTED_BY_VOTE)
                option.amendment.decided_at = utcnow()
    if vote.subject is VoteSubject.WORDINGS and decision.runoff is not None:
        # The wordings that did not make the run-off are out; the top two stay to be voted.
        for option in vote.options:
            if (option.amendment is not None and option.amendment.is_open
                    and option.position not in decision.runoff):
                option.amendment.status = AmendmentStatus.REJECTED_BY_VOTE
                option.amendment.decided_at = utcnow()
    if decision.outcome is VoteOutcome.RUNOFF:
        # Still locked: the run-off puts the same frozen wordings, so the text must not move
        # in between. The chair unlocks the clause if there is to be no run-off.
        return
    if not adopted:
        _set_clause_status(clause, ClauseStatus.OPEN)
        return
    winner = next(o for o in vote.options if
                  (o.position == decision.winner if vote.subject is VoteSubject.WORDINGS
                   else o.kind is OptionKind.YES))
    if winner.wording != clause.text:
        author = winner.amendment.proposer if winner.amendment and winner.amendment.proposer else vote.opened_by
        if author is not None:
            replace_text(clause, author, winner.wording)
    # No square brackets in what is adopted: the wording was checked when the vote was opened
    # (``_check_agreed``), and it is frozen and hashed from then on.
    _set_clause_status(clause, ClauseStatus.ADOPTED)


def _apply_amendment(vote: Vote, amendment: Amendment, clause: Clause) -> None:
    author = amendment.proposer or vote.opened_by
    wording = next(o.wording for o in vote.options if o.kind is OptionKind.YES)
    if amendment.kind is AmendmentKind.REPLACE and author is not None:
        replace_text(clause, author, wording)
    elif amendment.kind is AmendmentKind.INSERT:
        recommendation = clause.recommendation
        structure.lock(recommendation)
        created = Clause(recommendation=recommendation, kind=clause.kind, text=wording,
                         position=clause.position + 1, created_by_id=author.id if author else None)
        db.session.add(created)
        db.session.flush()
        db.session.refresh(recommendation)
        structure.place_after(recommendation, created, clause.id)
        amendment.created_clause_id = created.id
        structure.announce(recommendation)
    elif amendment.kind is AmendmentKind.DELETE:
        structure.lock(clause.recommendation)
        clause.deleted_at = utcnow()
        structure.renumber(structure.part_of(clause.recommendation, clause.kind))
        structure.announce(clause.recommendation)


def due_votes(now: datetime) -> list[int]:
    """The open votes whose deadline has passed by ``now``, to be closed (``deadlines``)."""
    return list(db.session.scalars(select(Vote.id).where(
        Vote.status == VoteStatus.OPEN, Vote.deadline.is_not(None), Vote.deadline <= now)))


# --- statements --------------------------------------------------------------------------


def statements_of(recommendation: Recommendation) -> list[Statement]:
    return list(db.session.scalars(select(Statement).where(
        Statement.recommendation_id == recommendation.id).order_by(Statement.id)))


def check_can_state(recommendation: Recommendation, actor: Participant) -> None:
    if recommendation.group.role_of(actor) is None:
        raise PermissionDenied(_("Only the group's participants attach statements to its texts."))


def add_statement(actor: Participant, recommendation: Recommendation,
                  command: StatementIn) -> Statement:
    """An interpretative statement or a reservation on an adopted clause (``clause_id``) or on
    the adopted recommendation as a whole; by the group's chairs, members and observers."""
    check_can_state(recommendation, actor)
    kind = StatementKind(command.kind)
    clause = None
    if command.clause_id is not None:
        clause = _live_clause(recommendation, command.clause_id)
        if clause.status is not ClauseStatus.ADOPTED:
            raise Conflict(_("Statements are attached to adopted texts: this clause is not adopted."))
    elif recommendation.status is not RecommendationStatus.ADOPTED:
        raise Conflict(_("Statements are attached to adopted texts: this recommendation is not adopted."))
    statement = Statement(recommendation=recommendation, clause=clause, author=actor, kind=kind,
                          text=command.text)
    db.session.add(statement)
    db.session.flush()
    queue_event("statement_added", {"recommendation": recommendation.id, "statement": statement.id,
                                    "clause": clause.id if clause else None},
                room=recommendation_room(recommendation.id))
    return statement


# --- events ------------------------------------------------------------------------------


def emit(vote: Vote, name: str) -> None:
    """Tell the recommendation's open pages of the vote as the API shows it (after commit)."""
    db.session.flush()
    queue_event(name, {"recommendation": vote.recommendation_id,
                       "vote": vote_out(vote).model_dump(mode="json")},
                room=recommendation_room(vote.recommendation_id))
