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
from sqlalchemy.exc import IntegrityError

from drafting.amendments.redlines import redline
from drafting.amendments.services import close_hanging
from drafting.brackets import refusal, unagreed_passages
from drafting.editing import docs
from drafting.editing.services import hold_text, replace_text
from drafting.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from drafting.realtime import queue_event, recommendation_room
from drafting.recommendations import structure
from drafting.services import check_conference_open, is_id, load
from drafting.votes import units
from drafting.votes.procedure import Past, Refusal, quorum_needed, route, standing_decision
from drafting.votes.records import decision_of, sha256, write_record
from drafting.votes.rules import Decision
from drafting.votes.schemas import StatementIn, VoteOpen, vote_out
from drafting.votes.tally import Running, counts, present, seal, unseal_at_close
from models import (
    Amendment,
    AmendmentKind,
    AmendmentStatus,
    Ballot,
    Clause,
    ClauseStatus,
    Delegation,
    GroupRole,
    Membership,
    OptionKind,
    Participant,
    Recommendation,
    RecommendationStatus,
    RulesOfProcedure,
    Statement,
    StatementKind,
    Vote,
    VoteMethod,
    VoteOption,
    VoteOutcome,
    VoteRule,
    VoteStatus,
    VoteSubject,
    VoteVoter,
    VotingUnit,
    WorkingGroup,
    db,
    delegation_of,
    may_make_statement,
    utcnow,
)
from models.votes import VOTERS_KEY

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
    """Whether the participant casts a ballot in the vote: their own, or (a vote by
    delegation) their delegation's, as its head or designated voter."""
    if vote.by_delegation:
        try:
            units.casting_delegation(vote, participant)
        except PermissionDenied:
            return False
        return True
    known = db.session().info.get(VOTERS_KEY, {}).get(vote.id)
    if known is not None:
        return participant.id in known
    return db.session.scalar(select(VoteVoter.id).where(
        VoteVoter.vote_id == vote.id, VoteVoter.participant_id == participant.id)) is not None


def _ballot_of(vote: Vote, participant: Participant) -> Ballot | None:
    """The participant's ballot, or (a vote by delegation) their delegation's."""
    if vote.by_delegation:
        delegation = delegation_of(vote.group.conference_id, participant.id)
        if delegation is None:
            return None
        return db.session.scalar(select(Ballot).where(Ballot.vote_id == vote.id,
                                                      Ballot.delegation_id == delegation.id))
    return db.session.scalar(select(Ballot).where(Ballot.vote_id == vote.id,
                                                  Ballot.voter_id == participant.id))


def changeable_ballot(vote: Vote, voter: Participant, delegation: Delegation | None) -> Ballot | None:
    """The ballot (or objection) this one would change: the voter's, or their delegation's,
    which only the one who cast it may change."""
    if delegation is None:
        return db.session.scalar(select(Ballot).where(Ballot.vote_id == vote.id,
                                                      Ballot.voter_id == voter.id))
    found = db.session.scalar(select(Ballot).where(Ballot.vote_id == vote.id,
                                                   Ballot.delegation_id == delegation.id))
    if found is not None and found.voter_id != voter.id:
        raise cast_by_another(delegation, found.voter)
    return found


def cast_by_another(delegation: Delegation, caster: Participant) -> Conflict:
    """The refusal of a change to a delegation's ballot (or objection) by someone other than
    whoever cast it."""
    return Conflict(_("The delegation of %(delegation)s has voted: %(name)s cast its ballot, "
                      "and only they can change it before the close.",
                      delegation=delegation.name, name=caster.name))


def remember_voters(vote: Vote) -> None:
    """Answer ``is_voter`` for this vote from one query, until the transaction ends: a batch
    of ballots asks about each of its voters. The voters are fixed when the vote opens."""
    known = db.session().info.setdefault(VOTERS_KEY, {})
    if vote.id not in known:
        known[vote.id] = frozenset(db.session.scalars(
            select(VoteVoter.participant_id).where(VoteVoter.vote_id == vote.id)))


def has_voted(vote: Vote, participant: Participant) -> bool:
    """Whether the participant (or, a vote by delegation, their delegation) has voted."""
    return _ballot_of(vote, participant) is not None


def own_choice(vote: Vote, participant: Participant) -> Ballot | None:
    """A roll-call voter's ballot (or their delegation's), to show them what they chose
    (secret: None, always)."""
    if vote.secret:
        return None
    return _ballot_of(vote, participant)


# --- opening -----------------------------------------------------------------------------


def check_can_run(recommendation: Recommendation, actor: Participant, *,
                  reconsider: bool = False) -> None:
    """The group's chair, on a draft (or, ``reconsider``, on a decided recommendation)."""
    if recommendation.group.role_of(actor) is not GroupRole.CHAIR:
        raise PermissionDenied(_("Only the group's chair opens, closes and cancels votes."))
    check_conference_open(recommendation)
    if recommendation.status is not RecommendationStatus.DRAFTING and not reconsider:
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
        raise Conflict(_("This clause is adopted: its wording is final, unless a motion to "
                         "reconsider carries."))
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


def _consensus_options(wording: str) -> list[VoteOption]:
    """Consensus sought: the text (adopted when nobody objects) and the objection."""
    return [_option(0, OptionKind.YES, _("No objection"), wording),
            _option(1, OptionKind.NO, _("Objection"))]


def _method(command: VoteOpen, rules: RulesOfProcedure) -> VoteMethod:
    """As asked; by default what the rules decide by (consensus, else a ballot)."""
    if command.method is not None:
        return command.method
    if rules.decision_rule is VoteRule.CONSENSUS and not command.secret:
        return VoteMethod.CONSENSUS
    return VoteMethod.BALLOT


def _questions_on(recommendation: Recommendation, subject: VoteSubject, clause: Clause | None,
                  amendment: Amendment | None) -> list[Vote]:
    """The closed questions put on the same text before, oldest first: a clause's wording
    (and choices of wordings for it, and motions to reconsider it), an amendment alone, or
    the recommendation as a whole."""
    query = select(Vote).where(Vote.status == VoteStatus.CLOSED).order_by(Vote.id)
    if subject is VoteSubject.AMENDMENT and amendment is not None:
        query = query.where(Vote.subject == VoteSubject.AMENDMENT, Vote.amendment_id == amendment.id)
    elif clause is not None:
        query = query.where(Vote.clause_id == clause.id, Vote.subject.in_(
            [VoteSubject.CLAUSE, VoteSubject.WORDINGS, VoteSubject.RECONSIDER]))
    else:
        query = query.where(Vote.recommendation_id == recommendation.id, Vote.clause_id.is_(None),
                            Vote.subject.in_([VoteSubject.RECOMMENDATION, VoteSubject.RECONSIDER]))
    return list(db.session.scalars(query))


def past_of(votes: list[Vote]) -> list[Past]:
    """The questions as the rules of procedure read them: how each was put, how it ended,
    and the wording it put (the first option's: the text, or the clause as drafted)."""
    return [Past(vote.method, vote.outcome or VoteOutcome.NO_QUORUM,
                 vote.options[0].wording_sha256 if vote.options else "",
                 reconsideration=vote.subject is VoteSubject.RECONSIDER)
            for vote in votes]


def route_refusal(refusal: Refusal, rules: RulesOfProcedure) -> str:
    """Why the rules of procedure do not let the question be put so, in words."""
    rule = rule_name(rules.reconsideration_rule)
    return {
        Refusal.DECIDED: _("This text has been decided. Under the rules of procedure it can be "
                           "put again only if a motion to reconsider carries (%(rule)s).", rule=rule),
        Refusal.CONSENSUS_FIRST: _("Under the rules of procedure this group decides by "
                                   "consensus: a vote may follow only a consensus that failed "
                                   "on this same text. Seek consensus first."),
        Refusal.NO_VOTING: _("Under the rules of procedure this group decides by consensus "
                             "only: there is no vote."),
        Refusal.NOTHING_TO_RECONSIDER: _("Nothing has been decided on this text: there is "
                                         "nothing to reconsider."),
        Refusal.WRONG_METHOD: _("Under the rules of procedure a motion to reconsider is "
                                "decided by %(rule)s.", rule=rule),
    }[refusal]


def rule_name(rule: VoteRule) -> str:
    return {VoteRule.CONSENSUS: _("consensus"),
            VoteRule.SIMPLE_MAJORITY: _("a simple majority of the votes cast"),
            VoteRule.TWO_THIRDS: _("a two-thirds majority of those present and voting"),
            VoteRule.ABSOLUTE_MAJORITY: _("an absolute majority of the members")}[rule]


def _reconsideration(recommendation: Recommendation, command: VoteOpen,
                     method: VoteMethod) -> tuple[Clause | None, Vote, list[VoteOption], str]:
    """A motion to reconsider the decision standing on a clause (``clause_id``) or on the
    whole recommendation: (clause, the vote decided, options, question)."""
    clause = _live_clause(recommendation, command.clause_id) if command.clause_id is not None else None
    decided = _questions_on(recommendation, VoteSubject.RECONSIDER, clause, None)
    past = past_of(decided)
    standing = standing_decision(past)
    if standing is None:
        raise Conflict(route_refusal(Refusal.NOTHING_TO_RECONSIDER, recommendation.group.conference.rules))
    target = next(v for v, p in zip(decided, past, strict=True) if p is standing)
    winner = next((o for o in target.options if o.position == target.winner_position), None) \
        or target.options[0]
    wording = winner.wording
    options = _consensus_options(wording) if method is not VoteMethod.BALLOT else _yes_no(wording)
    if clause is None:
        question = _("Reconsider the decision on the recommendation “%(title)s” as a whole?",
                     title=recommendation.title)
    else:
        question = _("Reconsider the decision on clause %(number)s?",
                     number=recommendation.display_numbers().get(clause.id, "").rstrip("."))
    return clause, target, options, question


def open_vote(actor: Participant, recommendation: Recommendation, command: VoteOpen) -> Vote:
    """Put a question to the group. ``subject`` clause (its wording), wordings (the clause's
    wording against its amendments marked "to be voted"), amendment (``amendment_id``
    alone), recommendation (as a whole) or reconsider (a decided clause, ``clause_id``, or
    the whole); or ``runoff_of`` a vote that ended in a run-off. ``method``: consensus
    (declared by the chair), silence (until ``deadline_minutes``) or ballot (``secret``,
    ``show_tally``, ``deadline_minutes``); ``question`` (default: worded for the subject).

    The rules of procedure of the conference, not the chair, give the rule and the quorum
    (``procedure.route``): consensus first, a vote only where they allow one, a decided text
    only again after a motion to reconsider carries. A clause voted on is locked until the
    question ends."""
    reconsider = command.runoff_of is None and command.subject is VoteSubject.RECONSIDER
    check_can_run(recommendation, actor, reconsider=reconsider and command.clause_id is None)
    group = recommendation.group
    rules = group.conference.rules
    method = _method(command, rules)
    if method is not VoteMethod.BALLOT and command.secret:
        raise ValidationFailed(_("Consensus is not secret: objections are made openly."),
                               fields={"secret": _("Only for a vote by ballot.")})
    now = utcnow()
    runoff_of = None
    reconsiders: Vote | None = None
    if command.runoff_of is not None:
        runoff_of = db.session.get(Vote, command.runoff_of) if is_id(Vote, command.runoff_of) else None
        if runoff_of is None or runoff_of.recommendation_id != recommendation.id:
            raise ValidationFailed(_("Choose a vote of this recommendation."),
                                   fields={"runoff_of": _("Not a vote of this recommendation.")})
        if method is not VoteMethod.BALLOT:
            raise ValidationFailed(_("A run-off is a vote by ballot."),
                                   fields={"method": _("Only by ballot.")})
        clause, options, question = _runoff_options(runoff_of)
        if clause is not None and clause.status is ClauseStatus.ADOPTED:
            _check_votable(clause)
        subject, amendment, rule = VoteSubject.WORDINGS, None, runoff_of.rule
    else:
        assert command.subject is not None  # the command asks for one without runoff_of
        subject = command.subject
        if reconsider:
            clause, reconsiders, options, question = _reconsideration(recommendation, command, method)
            amendment = None
            if clause is not None:
                hold_text(clause)
        else:
            if method is not VoteMethod.BALLOT and subject is VoteSubject.WORDINGS:
                raise ValidationFailed(_("A choice between wordings is made by ballot: seek "
                                         "consensus on one wording at a time."),
                                       fields={"method": _("Only by ballot.")})
            clause, amendment, options, question = _subject(recommendation, subject, command)
            if method is not VoteMethod.BALLOT:
                options = _consensus_options(options[0].wording)
        past = past_of(_questions_on(recommendation, subject, clause, amendment))
        found = route(rules, method, past, options[0].wording_sha256, reconsider=reconsider)
        if found.refusal is not None:
            raise Conflict(route_refusal(found.refusal, rules))
        assert found.rule is not None
        rule = found.rule
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
    unit = group.conference.voting_unit
    if unit is VotingUnit.DELEGATION:
        voters = units.eligible_delegations(group, voters)
    vote = Vote(
        recommendation=recommendation, subject=subject, clause=clause, amendment=amendment,
        question=command.question or question, method=method, rule=rule, quorum=None,
        quorum_needed=quorum_needed(rules.quorum, len(voters)),
        secret=command.secret, show_tally=command.show_tally,
        deadline=now + timedelta(minutes=command.deadline_minutes)
        if command.deadline_minutes is not None else None, status=VoteStatus.OPEN,
        voting_unit=unit, eligible_count=len(voters), turnout=0,
        runoff_of_id=runoff_of.id if runoff_of else None,
        reconsiders_id=reconsiders.id if reconsiders else None,
        opened_by_id=actor.id, opened_at=now, options=options,
    )
    if clause is not None and not reconsider:
        # A run-off's clause is still held locked by the vote it follows.
        _claim_clause(clause, held=runoff_of is not None)
    db.session.add(vote)
    db.session.flush()
    if vote.secret:
        # Sealed from the start: the first ballot rewrites a tally as long as every other.
        seal(vote, Running([0] * len(options), []))
    units.fix_voters(vote, voters)
    if clause is not None and not reconsider:
        _set_clause_status(clause, ClauseStatus.LOCKED)
    emit(vote, "vote_opened")
    # The chair who puts the question has it before them (if they take part).
    mark_present(vote, actor)
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
    # Without the conference's share lock: the close takes the conference's row for update to
    # chain its record (``records._previous_record``), and two closers each holding a share
    # lock would deadlock there. An open vote keeps the conference from being finalised, so
    # the read is enough.
    check_conference_open(vote.recommendation, serialise=False)
    if not vote.is_open:
        raise Conflict(_("This vote has already ended."))


def claim_open(vote: Vote, change: int, refused: str) -> None:
    """Lock the vote's row while it is open, adding ``change`` to its turnout (a ballot or
    an objection counted, or withdrawn): a close waits for this transaction, and one that
    came first makes this find nothing to update, refused with ``refused``."""
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Vote).where(Vote.id == vote.id, Vote.status == VoteStatus.OPEN)
        .values(turnout=Vote.turnout + change).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(refused)


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
    chained to the conference's previous record, and applied to the text.

    A consensus sought is closed by its chair declaring it: adopted when nobody objected,
    once the question has reached a quorum of the members (refused before), or that there
    is no consensus when someone did. A silence procedure ends at its deadline (or at the
    first objection, ``objections``), never by the chair's hand."""
    if actor is not None:
        check_can_close(vote, actor)
        if vote.method is VoteMethod.SILENCE:
            raise Conflict(_("A silence procedure ends at its deadline, or at the first "
                             "objection. You may cancel it."))
        if vote.method is VoteMethod.CONSENSUS:
            reached = present(vote)
            needed = vote.quorum_needed or 1
            if vote.turnout == 0 and reached < needed:
                raise Conflict(_("The question has reached %(n)d of the %(total)d members so "
                                 "far; the quorum is %(needed)d. Consensus can be declared "
                                 "once it has reached them (or cancel it).",
                                 n=reached, total=vote.eligible_count, needed=needed))
    else:
        check_conference_open(vote.recommendation, serialise=False)  # as ``check_can_close``
    return end_with_decision(vote, actor)


def end_with_decision(vote: Vote, actor: Participant | None) -> Decision:
    """End the vote, decide, record and apply it (the checks are the caller's)."""
    _end(vote, VoteStatus.CLOSED, actor)
    if vote.secret:
        unseal_at_close(vote)
    tally = counts(vote)
    decision = decision_of(vote, tally)
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
    if vote.subject is VoteSubject.RECONSIDER:
        if adopted:
            _set_aside(vote)
        return
    if vote.subject is VoteSubject.RECOMMENDATION:
        if adopted:
            vote.recommendation.status = RecommendationStatus.ADOPTED
            close_hanging(vote.recommendation, vote.closed_by)
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
            amendment.status = (AmendmentStatus.ACCEPTED if adopted and vote.by_consensus
                                else AmendmentStatus.ADOPTED_BY_VOTE if adopted
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
    close_hanging(clause, vote.closed_by)


def _set_aside(motion: Vote) -> None:
    """A motion to reconsider carried: the decided text is open again (an adopted clause
    for drafting, a decided recommendation back to a draft), and the rules of procedure no
    longer count the decisions before it (``procedure.since_reconsidered``)."""
    if motion.clause is not None:
        if motion.clause.status is ClauseStatus.ADOPTED:
            _set_clause_status(motion.clause, ClauseStatus.OPEN)
        return
    motion.recommendation.status = RecommendationStatus.DRAFTING


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


def mark_present(vote: Vote, participant: Participant) -> bool:
    """The open question has reached this voter (a page, the console or the API showed it
    to them), or in a vote by delegation their delegation: counted as present for a
    consensus or a silence procedure. Once; nothing for a ballot (its turnout says who took
    part) or for someone not eligible."""
    if not vote.is_open or not vote.by_consensus:
        return False
    if vote.by_delegation:
        # A delegation is reached when the question is before any of its people.
        delegation = delegation_of(vote.group.conference_id, participant.id)
        if delegation is None:
            return False
        whose = VoteVoter.delegation_id == delegation.id
    else:
        whose = VoteVoter.participant_id == participant.id
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(VoteVoter).where(VoteVoter.vote_id == vote.id, whose, VoteVoter.seen_at.is_(None))
        .values(seen_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    emit(vote, "presence_counted")
    return True


def report_presence(vote: Vote, participant: Participant) -> bool:
    """The participant's page says the open question is before them (``mark_present``); a
    closed conference takes nothing more, this included."""
    check_conference_open(vote.recommendation, serialise=False)
    return mark_present(vote, participant)


def due_votes(now: datetime) -> list[int]:
    """The open votes whose deadline has passed by ``now``, to be closed (``deadlines``)."""
    return list(db.session.scalars(select(Vote.id).where(
        Vote.status == VoteStatus.OPEN, Vote.deadline.is_not(None), Vote.deadline <= now)))


# --- statements --------------------------------------------------------------------------


def statements_of(recommendation: Recommendation) -> list[Statement]:
    return list(db.session.scalars(select(Statement).where(
        Statement.recommendation_id == recommendation.id).order_by(Statement.id)))


def check_can_state(recommendation: Recommendation, actor: Participant) -> None:
    """Who may make a statement on the group's decisions (``may_make_statement``), in a
    conference still open: until the outcome document is finalised."""
    check_conference_open(recommendation)
    if not may_make_statement(recommendation, actor):
        raise PermissionDenied(_("Only the group's chair and members make statements on its "
                                 "decisions; observers do not."))


def check_not_stated_twice(recommendation: Recommendation, clause: Clause | None,
                           actor: Participant, kind: StatementKind) -> None:
    """One statement of a kind per author and decided text (the clause, or the
    recommendation as a whole); the database's unique constraints hold it too. The one place
    that says whose statement counts as the same one."""
    found = db.session.scalar(select(Statement.id).where(
        Statement.recommendation_id == recommendation.id,
        Statement.clause_id.is_(None) if clause is None else Statement.clause_id == clause.id,
        Statement.author_id == actor.id, Statement.kind == kind).limit(1))
    if found is not None:
        raise _stated_twice(kind)


def _stated_twice(kind: StatementKind) -> Conflict:
    if kind is StatementKind.RESERVATION:
        message = _("You have already made a reservation on this text: a statement is made "
                    "once, and stands as made.")
    else:
        message = _("You have already made an interpretative statement on this text: a "
                    "statement is made once, and stands as made.")
    return Conflict(message, fields={"kind": message})


def add_statement(actor: Participant, recommendation: Recommendation,
                  command: StatementIn) -> Statement:
    """An interpretative statement or a reservation on an adopted clause (``clause_id``) or on
    the adopted recommendation as a whole; by the group's chair and members, until the
    outcome document is finalised, once of each kind per text."""
    check_can_state(recommendation, actor)
    kind = StatementKind(command.kind)
    clause = None
    if command.clause_id is not None:
        clause = _live_clause(recommendation, command.clause_id)
        if clause.status is not ClauseStatus.ADOPTED:
            raise Conflict(_("Statements are attached to adopted texts: this clause is not adopted."))
    elif recommendation.status is not RecommendationStatus.ADOPTED:
        raise Conflict(_("Statements are attached to adopted texts: this recommendation is not adopted."))
    check_not_stated_twice(recommendation, clause, actor, kind)
    # Made on behalf of the author's delegation, as it is now (it stays so if they move).
    delegation = delegation_of(recommendation.group.conference_id, actor.id)
    statement = Statement(recommendation=recommendation, clause=clause, author=actor, kind=kind,
                          text=command.text, delegation=delegation)
    try:
        with db.session.begin_nested():
            db.session.add(statement)
    except IntegrityError:
        # The same author's other request got there first.
        raise _stated_twice(kind) from None
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
