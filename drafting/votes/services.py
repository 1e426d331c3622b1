"""The rules of voting: who opens, who votes, one ballot each, secret and roll-call votes,
closing (by the chair or the deadline) into an immutable record, and verifying it later.

Every change of a vote serialises on its row: casting a ballot starts with a conditional
UPDATE of the vote that succeeds only while it is open, and closing is the UPDATE that ends
that; so a ballot racing the close is either counted (committed before it) or refused, and
the counts recorded equal the ballots in the database. One ballot per voter is the
database's unique constraint, not a check in code.

A secret vote stores who took part (``ballot`` rows without a choice) and, separately, only
how many chose each option (``vote_option.secret_count``): no row per choice whose order or
time could pair it with a voter. Changing a secret ballot takes the receipt given to the
voter when they cast it, an HMAC of the choice that only the voter holds: the server keeps
neither the receipt nor the choice, and learns the old choice only while changing it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from drafting.amendments.redlines import redline
from drafting.editing import docs
from drafting.editing.services import hold_text
from drafting.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from drafting.realtime import queue_event, recommendation_room
from drafting.recommendations import structure
from drafting.services import clean_text, is_id, load
from drafting.votes.rules import Decision, decide
from models import (
    Amendment,
    AmendmentKind,
    AmendmentStatus,
    Ballot,
    Clause,
    ClauseStatus,
    Conference,
    GroupRole,
    Membership,
    OptionKind,
    Participant,
    Recommendation,
    RecommendationStatus,
    SpentReceipt,
    Statement,
    StatementKind,
    Vote,
    VoteOption,
    VoteOutcome,
    VoteRule,
    VoteStatus,
    VoteSubject,
    VoteVoter,
    WorkingGroup,
    db,
    utcnow,
)

if TYPE_CHECKING:
    # The commands' types only: their module (the API's schemas) builds this module's
    # payloads, and services never build the commands they are given.
    from drafting.votes.schemas import BallotIn, StatementIn, VoteOpen

MAX_REASON_LENGTH = 500

log = logging.getLogger(__name__)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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
    return db.session.scalar(select(VoteVoter.id).where(
        VoteVoter.vote_id == vote.id, VoteVoter.participant_id == participant.id)) is not None


def has_voted(vote: Vote, participant: Participant) -> bool:
    return db.session.scalar(select(Ballot.id).where(
        Ballot.vote_id == vote.id, Ballot.voter_id == participant.id)) is not None


def own_choice(vote: Vote, participant: Participant) -> Ballot | None:
    """A roll-call voter's ballot, to show them what they chose (secret: None, always)."""
    if vote.secret:
        return None
    return db.session.scalar(select(Ballot).where(Ballot.vote_id == vote.id,
                                                  Ballot.voter_id == participant.id))


def counts(vote: Vote, ballots: list[Ballot] | None = None) -> list[int]:
    """Ballots per option, in option order: a secret vote's counters, or a roll-call vote's
    ballot rows counted (``ballots``, when the caller has loaded them already)."""
    if vote.secret:
        return [option.secret_count for option in vote.options]
    if ballots is not None:
        by_option: dict[int | None, int] = Counter(ballot.option_id for ballot in ballots)
    else:
        by_option = dict(db.session.execute(
            select(Ballot.option_id, func.count()).where(Ballot.vote_id == vote.id)
            .group_by(Ballot.option_id)).tuples().all())
    return [by_option.get(option.id, 0) for option in vote.options]


def roll_call(vote: Vote) -> list[Ballot]:
    """Who chose what, published after the close of a roll-call vote; never for a secret one."""
    if vote.secret:
        return []
    return list(db.session.scalars(
        select(Ballot).join(Participant, Ballot.voter_id == Participant.id)
        .where(Ballot.vote_id == vote.id).order_by(Participant.name, Ballot.id)))


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
        return clause, None, _yes_no(clause.text), _("Adopt the wording of clause %(number)s?",
                                                      number=number)
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
    return clause, None, options, _("Which wording of clause %(number)s?", number=number)


def _runoff_options(previous: Vote) -> tuple[Clause | None, list[VoteOption], str]:
    if previous.outcome is not VoteOutcome.RUNOFF or previous.record is None:
        raise Conflict(_("That vote did not end in a run-off."))
    top_two = json.loads(previous.record)["runoff"]
    by_position = {option.position: option for option in previous.options}
    options = [_option(i, OptionKind.WORDING, by_position[p].label, by_position[p].wording,
                       by_position[p].amendment) for i, p in enumerate(top_two)]
    options.append(_option(2, OptionKind.ABSTAIN, _("Abstain")))
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
    db.session.add_all([VoteVoter(vote_id=vote.id, participant_id=p) for p in voters])
    if clause is not None:
        _set_clause_status(clause, ClauseStatus.LOCKED)
    _emit(vote, "vote_opened")
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


# --- ballots -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """What the voter is told: counted, and for a secret ballot the receipt with which they
    (and only they) can change it before the close."""

    vote: Vote
    changed: bool
    receipt: str | None = None


def _clean_option(vote: Vote, value: int) -> VoteOption:
    option = next((o for o in vote.options if is_id(VoteOption, value) and o.id == value), None)
    if option is None:
        raise ValidationFailed(_("Choose one of the vote's options."),
                               fields={"option_id": _("Not an option of this vote.")})
    return option


def _clean_reason(vote: Vote, option: VoteOption, value: str | None) -> str:
    """An objection under consensus must say why, briefly; other ballots carry no reason."""
    if vote.rule is VoteRule.CONSENSUS and option.kind is OptionKind.NO:
        return clean_text(value, "reason", _("Reason for the objection"), max_length=MAX_REASON_LENGTH)
    return ""


def check_can_cast(vote: Vote, voter: Participant, now: datetime | None = None) -> None:
    if vote.status is VoteStatus.CANCELLED:
        raise Conflict(_("This vote was cancelled."))
    if vote.status is VoteStatus.CLOSED or (vote.deadline is not None and (now or utcnow()) >= vote.deadline):
        raise Conflict(_("This vote is closed: ballots are no longer accepted."))
    if not is_voter(vote, voter):
        if vote.group.role_of(voter) is None:
            raise PermissionDenied(_("Only the group's members vote in its votes."))
        raise PermissionDenied(_("You are not among the voters of this vote (observers never "
                                 "vote, and the voters were fixed when it opened)."))


def _claim_open(vote: Vote, new_ballot: bool) -> None:
    """Lock the vote's row while it is open (and count a new ballot on it): a close waits for
    this transaction, and one that came first makes this find nothing to update."""
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Vote).where(Vote.id == vote.id, Vote.status == VoteStatus.OPEN)
        .values(turnout=Vote.turnout + (1 if new_ballot else 0))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("This vote is closed: ballots are no longer accepted."))


def cast_ballot(voter: Participant, vote: Vote, command: BallotIn) -> Cast:
    """Vote, or change one's vote until the close. ``option_id``; ``reason`` for an
    objection under consensus; ``receipt`` to change a secret ballot."""
    check_can_cast(vote, voter)
    option = _clean_option(vote, command.option_id)
    reason = _clean_reason(vote, option, command.reason)
    _claim_open(vote, new_ballot=False)  # the row is ours until commit; is it still open?
    existing = db.session.scalar(select(Ballot).where(Ballot.vote_id == vote.id,
                                                      Ballot.voter_id == voter.id))
    if existing is None:
        try:
            with db.session.begin_nested():
                db.session.add(Ballot(vote_id=vote.id, voter_id=voter.id,
                                      option_id=None if vote.secret else option.id,
                                      reason="" if vote.secret else reason))
        except IntegrityError:
            # The same voter's other request got there first: this one changes it instead.
            existing = db.session.scalar(select(Ballot).where(Ballot.vote_id == vote.id,
                                                              Ballot.voter_id == voter.id))
    receipt = None
    if existing is None:
        _claim_open(vote, new_ballot=True)
        if vote.secret:
            receipt = _count_secretly(vote, voter, option, reason)
    elif vote.secret:
        receipt = _change_secretly(vote, voter, option, reason, command.receipt)
    else:
        existing.option_id, existing.reason = option.id, reason
    db.session.flush()
    db.session.refresh(vote)
    for each in vote.options:
        db.session.refresh(each)
    _announce_turnout(vote)
    return Cast(vote, changed=existing is not None, receipt=receipt)


def _receipt_mac(vote: Vote, voter: Participant, option: VoteOption, reason: str,
                 nonce: str) -> str:
    """Bound to the voter too: a receipt handed to someone else changes nothing of theirs."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"secret-ballot|{vote.id}|{voter.id}|{option.id}|{sha256(reason)}|{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _count_secretly(vote: Vote, voter: Participant, option: VoteOption, reason: str) -> str:
    """Add the choice to its option's count (and an objection's reason to the sorted list);
    hand the voter the receipt that proves it, and keep nothing that does."""
    db.session.execute(update(VoteOption).where(VoteOption.id == option.id)
                       .values(secret_count=VoteOption.secret_count + 1))
    if reason:
        vote.secret_reasons = json.dumps(sorted([*json.loads(vote.secret_reasons), reason]),
                                         ensure_ascii=False)
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_receipt_mac(vote, voter, option, reason, nonce)}"


def _change_secretly(vote: Vote, voter: Participant, option: VoteOption, reason: str,
                     receipt: str | None) -> str:
    """Move a secret ballot: the receipt tells (to whoever holds it) which choice it was."""
    refused = Conflict(_("You have voted. A secret ballot can be changed only with the receipt "
                         "you were given when you cast it (kept by the browser you used)."))
    if not isinstance(receipt, str) or len(receipt) > 100 or receipt.count(".") != 1:
        raise refused
    nonce, mac = receipt.split(".")
    reasons = json.loads(vote.secret_reasons)
    previous = next(((o, r) for o in vote.options for r in {"", *reasons}
                     if hmac.compare_digest(_receipt_mac(vote, voter, o, r, nonce), mac)), None)
    if previous is None:
        raise refused
    try:
        with db.session.begin_nested():
            db.session.add(SpentReceipt(vote_id=vote.id, receipt_sha256=sha256(receipt)))
    except IntegrityError:
        raise Conflict(_("This receipt has been used already: use the one you were given "
                         "when you last changed your ballot.")) from None
    old_option, old_reason = previous
    db.session.execute(update(VoteOption).where(VoteOption.id == old_option.id)
                       .values(secret_count=VoteOption.secret_count - 1))
    if old_reason:
        reasons.remove(old_reason)
        vote.secret_reasons = json.dumps(sorted(reasons), ensure_ascii=False)
    return _count_secretly(vote, voter, option, reason)


def _announce_turnout(vote: Vote) -> None:
    """Everyone sees the turnout; the running tally only in a roll-call vote that shows it.
    Never who voted how, never a time that could pair a ballot with a choice."""
    payload: dict[str, Any] = {"recommendation": vote.recommendation_id, "vote": vote.id,
                               "turnout": vote.turnout, "eligible": vote.eligible_count}
    if not vote.secret and vote.show_tally:
        payload["tally"] = {str(o.id): n for o, n in zip(vote.options, counts(vote), strict=True)}
    queue_event("ballot_counted", payload, room=recommendation_room(vote.recommendation_id))


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
    tally = counts(vote)
    decision = decide(vote.rule, [o.kind for o in vote.options], tally, vote.eligible_count,
                      vote.quorum)
    vote.outcome = decision.outcome
    vote.winner_position = decision.winner
    _write_record(vote, tally, decision)
    _apply(vote, decision)
    _emit(vote, "vote_closed")
    return decision


def cancel_vote(actor: Participant, vote: Vote) -> None:
    """Call the vote off: nothing is decided, and a clause it locked opens again."""
    check_can_close(vote, actor)
    _end(vote, VoteStatus.CANCELLED, actor)
    if vote.clause is not None and vote.clause.status is ClauseStatus.LOCKED:
        _set_clause_status(vote.clause, ClauseStatus.OPEN)
    _emit(vote, "vote_cancelled")


def _person(participant: Participant | None) -> dict[str, Any] | None:
    return {"id": participant.id, "name": participant.name} if participant else None


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


def record_of(vote: Vote, tally: list[int], decision: Decision, previous: str | None) -> dict[str, Any]:
    """Everything the result rests on, as it stands at the close."""
    record: dict[str, Any] = {
        "vote": vote.id, "conference": vote.recommendation.group.conference_id,
        "group": vote.recommendation.group_id, "recommendation": vote.recommendation_id,
        "subject": vote.subject.value, "clause": vote.clause_id, "amendment": vote.amendment_id,
        "question": vote.question, "rule": vote.rule.value, "quorum": vote.quorum,
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
    }
    if vote.secret:
        record["objections"] = json.loads(vote.secret_reasons)
    else:
        by_option = {o.id: o.position for o in vote.options}
        record["roll_call"] = [{"voter": _person(b.voter), "option": by_option.get(b.option_id or 0),
                                "reason": b.reason} for b in roll_call(vote)]
    return record


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _write_record(vote: Vote, tally: list[int], decision: Decision) -> None:
    previous = _previous_record(vote)
    text = canonical(record_of(vote, tally, decision, previous))
    vote.record, vote.record_sha256, vote.previous_sha256 = text, sha256(text), previous


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
        from drafting.editing.services import replace_text

        author = winner.amendment.proposer if winner.amendment and winner.amendment.proposer else vote.opened_by
        if author is not None:
            replace_text(clause, author, winner.wording)
    _set_clause_status(clause, ClauseStatus.ADOPTED)


def _apply_amendment(vote: Vote, amendment: Amendment, clause: Clause) -> None:
    from drafting.editing.services import replace_text

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


def close_due_votes(now: datetime | None = None) -> int:
    """Close every open vote whose deadline has passed; each in its own transaction, so one
    failure stops nothing else. Several processes may run this at once: each vote is closed
    by exactly one (``_end``)."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Vote.id).where(
        Vote.status == VoteStatus.OPEN, Vote.deadline.is_not(None), Vote.deadline <= now)))
    db.session.commit()
    closed = 0
    for vote_id in due:
        try:
            close_vote(None, db.session.get(Vote, vote_id))  # type: ignore[arg-type]
            db.session.commit()
            closed += 1
        except Conflict:
            db.session.rollback()  # another process closed it first
        except Exception:
            # This vote cannot be closed now (logged): the others still are, and it is
            # tried again at the next look.
            db.session.rollback()
            log.exception("closing vote %s at its deadline failed", vote_id)
    return closed


# --- verifying ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    #: Check name -> whether it holds.
    checks: dict[str, bool]

    @property
    def ok(self) -> bool:
        return all(self.checks.values())


def _roll_call_key(entries: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """A roll call by voter id (not name: a participant may be renamed after the vote)."""
    return sorted(((e["voter"] or {}).get("id"), e["option"], e["reason"]) for e in entries)


def verify_vote(vote: Vote) -> Verification:
    """Recompute everything the record says from the rows and the rule: the counts, the
    result, each wording's hash, the record's own hash and its link to the previous one."""
    if vote.status is not VoteStatus.CLOSED or vote.record is None:
        raise Conflict(_("Only a closed vote has a record to verify."))
    record = json.loads(vote.record)
    tally = counts(vote)
    decision = decide(vote.rule, [o.kind for o in vote.options], tally, vote.eligible_count, vote.quorum)
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
        "turnout": record["turnout"] == sum(tally) == db.session.scalar(
            select(func.count(Ballot.id)).where(Ballot.vote_id == vote.id)),
        # The result as recomputed, as recorded, and as shown (the vote's own columns).
        "result": (record["outcome"], record["winner"]) == (decision.outcome.value, decision.winner)
        == (vote.outcome.value if vote.outcome else None, vote.winner_position),
        "wordings": all(o.wording_sha256 == sha256(o.wording) == r["wording_sha256"]
                        and r.get("wording", o.wording) == o.wording
                        for o, r in zip(vote.options, record["options"], strict=True)),
        # Who chose what: two roll-call ballots swapped leave the counts as they were.
        "roll_call": vote.secret or _roll_call_key(record.get("roll_call", [])) == _roll_call_key(
            record_of(vote, tally, decision, record["previous_sha256"])["roll_call"]),
    }
    return Verification(checks)


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


def _emit(vote: Vote, name: str) -> None:
    from drafting.votes.schemas import vote_out

    db.session.flush()
    queue_event(name, {"recommendation": vote.recommendation_id,
                       "vote": vote_out(vote).model_dump(mode="json")},
                room=recommendation_room(vote.recommendation_id))
