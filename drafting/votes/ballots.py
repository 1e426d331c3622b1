"""Casting a ballot: who may, the choice and its reason, a secret ballot counted with a
receipt and no link to its voter, a changed choice, and the turnout announced.

A secret ballot's transaction writes the same rows whatever its choice: the ballot row
(without a choice) and the vote's row (its turnout, and the whole tally sealed afresh,
``tally.sealed``); never an option's row, whose versions would name the choice. A batch of
ballots (``Ballots``) writes one ballot row each and the vote's row once.

One ballot is cast by ``cast_ballot``; the pages and the API hand theirs to the process's
ballots' writer (``drafting.votes.writer``), which casts together those that arrive
together, in one transaction and one commit."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from drafting.errors import Conflict, PermissionDenied, ValidationFailed
from drafting.realtime import queue_event, recommendation_room
from drafting.services import check_conference_open, clean_text, is_id
from drafting.votes import units
from drafting.votes.records import sha256
from drafting.votes.schemas import MAX_REASON_LENGTH, BallotIn
from drafting.votes.services import cast_by_another, is_voter, remember_voters
from drafting.votes.tally import Running, counts, unsealed
from drafting.votes.tally import sealed as sealed_tally
from models import (
    Ballot,
    Delegation,
    OptionKind,
    Participant,
    SpentReceipt,
    Vote,
    VoteOption,
    VoteRule,
    VoteStatus,
    db,
    utcnow,
)


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


def check_can_cast(vote: Vote, voter: Participant, now: datetime | None = None) -> Delegation | None:
    """Refuse a ballot that may not be cast; in a vote by delegation, the delegation whose
    ballot the voter casts."""
    check_takes_ballots(vote, now)
    return check_voter(vote, voter)


def check_takes_ballots(vote: Vote, now: datetime | None = None) -> None:
    """Refuse every ballot of a question that takes none (now)."""
    if vote.by_consensus:
        raise Conflict(_("This question is put for consensus: there are no ballots. Object if "
                         "you object; silence is consent."))
    # Without the conference's share lock: a ballot counts only while its vote is open, and
    # an open vote keeps the conference from being finalised.
    check_conference_open(vote.recommendation, serialise=False)
    if vote.status is VoteStatus.CANCELLED:
        raise Conflict(_("This vote was cancelled."))
    if vote.status is VoteStatus.CLOSED or (vote.deadline is not None and (now or utcnow()) >= vote.deadline):
        raise Conflict(_("This vote is closed: ballots are no longer accepted."))


def check_voter(vote: Vote, voter: Participant) -> Delegation | None:
    """Refuse a voter who does not vote in the vote; in a vote by delegation, the delegation
    whose ballot the voter casts."""
    if vote.by_delegation:
        return units.casting_delegation(vote, voter)  # or says who casts its ballot
    if not is_voter(vote, voter):
        if vote.group.role_of(voter) is None:
            raise PermissionDenied(_("Only the group's members vote in its votes."))
        raise PermissionDenied(_("You are not among the voters of this vote (observers never "
                                 "vote, and the voters were fixed when it opened)."))
    return None


def cast_ballot(voter: Participant, vote: Vote, command: BallotIn) -> Cast:
    """Vote, or change one's vote until the close. ``option_id``; ``reason`` for an
    objection under consensus; ``receipt`` to change a secret ballot. In a vote by
    delegation the ballot is the voter's delegation's (``units``)."""
    ballots = Ballots(vote, [voter])
    cast = ballots.cast(voter, command)
    ballots.write()
    return cast


class Ballots:
    """Ballots of one vote cast in one transaction: one (``cast_ballot``), or every ballot
    that arrived while the previous batch was being committed (the ballots' writer,
    drafting/votes/writer.py). Each ``cast`` checks and counts one ballot, or refuses it
    alone with nothing of it written; ``write`` then writes what was counted, together: the
    new ballot rows in one INSERT, the vote's row once (its turnout, and a secret vote's
    whole tally sealed afresh), one announcement of the turnout.

    Before the first ballot is counted the vote's row is claimed: a conditional UPDATE that
    succeeds only while the vote is open, and whose lock is held until commit. A close
    waits for this transaction, or came first and then every ballot here is refused as too
    late: counted or refused, never lost. Under that lock the ballots these voters cast
    before are read once for all of them, and no other transaction can add one for this
    vote until this one ends (every ballot is cast through here); one ballot per voter is
    still the database's unique constraint, which refuses a second row whatever happens.
    The voters' roles and eligibility, and the vote's options, are read once for the batch.

    In a vote by delegation a ballot is its delegation's: whoever of its head and designated
    voter casts first casts it, and only they change it (one per delegation is the
    database's constraint too).

    ``voters``: everyone who casts in this batch."""

    def __init__(self, vote: Vote, voters: Iterable[Participant]) -> None:
        self.vote = vote
        self.voter_ids = sorted({voter.id for voter in voters})
        vote.group.remember_roles()
        remember_voters(vote)
        #: None until claimed; then whether the vote was still open.
        self.open: bool | None = None
        #: The turnout and the sealed tally under the claim, before this batch.
        self.turnout = 0
        self.stored_tally: bytes | None = None
        self.tally: Running | None = None
        #: The ballots cast before this batch, and the rows this batch adds, by voter (by
        #: delegation, in a vote by delegation); who cast each row this batch adds.
        self.existing: dict[int, Ballot] = {}
        self.new: dict[int, dict[str, Any]] = {}
        self.casters: dict[int, Participant] = {}
        self.counted = 0
        #: Whether the vote was found to take ballots (asked once for the batch).
        self.takes_ballots = False

    def cast(self, voter: Participant, command: BallotIn) -> Cast:
        """Count one ballot (a new one, or a change), or refuse it (a ``DomainError``) with
        nothing of it written. Its rows are written by ``write``."""
        vote = self.vote
        if not self.takes_ballots:
            check_takes_ballots(vote)  # or refused, as each ballot of the batch will be
            self.takes_ballots = True
        delegation = check_voter(vote, voter)
        option = _clean_option(vote, command.option_id)
        reason = _clean_reason(vote, option, command.reason)
        self._claim()  # the row is ours until commit; is it still open?
        key = delegation.id if delegation is not None else voter.id
        if delegation is not None:
            self._check_own(key, delegation, voter)
        changed = key in self.existing or key in self.new
        receipt = None
        if vote.secret:
            receipt = (_change_secretly(vote, voter, option, reason, command.receipt, self._running())
                       if changed else _count_secretly(vote, voter, option, reason, self._running()))
        if not changed:
            self.new[key] = {"vote_id": vote.id, "voter_id": voter.id,
                             "delegation_id": delegation.id if delegation is not None else None,
                             "option_id": None if vote.secret else option.id,
                             "reason": "" if vote.secret else reason}
            self.casters[key] = voter
        elif not vote.secret and key in self.new:
            self.new[key].update(option_id=option.id, reason=reason)
        elif not vote.secret:
            existing = self.existing[key]
            existing.option_id, existing.reason = option.id, reason
        self.counted += 1
        return Cast(vote, changed=changed, receipt=receipt)

    def write(self) -> None:
        """Write what was counted (nothing, if nothing was), and announce the turnout."""
        if not self.counted:
            return
        vote = self.vote
        if self.new:
            # Under a savepoint, as a ballot always was: the rows get a transaction id of
            # their own, after the claim's (which is how tests/test_secret_ballot_storage.py,
            # reading the files as an attacker, tells each batch's writes apart).
            with db.session.begin_nested():
                db.session.execute(insert(Ballot.__table__), list(self.new.values()))
        values: dict[str, Any] = {"turnout": self.turnout + len(self.new)}
        if vote.secret:
            # Every ballot rewrites the whole tally, whatever its choice.
            values["sealed_tally"] = sealed_tally(vote, self._running())
        if self.new or vote.secret:
            db.session.execute(update(Vote).where(Vote.id == vote.id).values(**values)
                               .execution_options(synchronize_session=False))
        for name, value in values.items():
            set_committed_value(vote, name, value)
        db.session.flush()  # a roll-call voter's changed choice
        _announce_turnout(vote)

    def _claim(self) -> None:
        if self.open is None:
            claimed = db.session.execute(
                update(Vote).where(Vote.id == self.vote.id, Vote.status == VoteStatus.OPEN)
                .values(turnout=Vote.turnout).returning(Vote.turnout, Vote.sealed_tally)
                .execution_options(synchronize_session=False)).first()
            self.open = claimed is not None
            if claimed is not None:
                self.turnout, self.stored_tally = claimed
                self.existing = self._cast_before()
        if not self.open:
            raise Conflict(_("This vote is closed: ballots are no longer accepted."))

    def _cast_before(self) -> dict[int, Ballot]:
        """The ballots cast before this batch that it may change: its voters' own, or in a
        vote by delegation every delegation's (one each, a few dozen at most)."""
        if self.vote.by_delegation:
            return {ballot.delegation_id: ballot for ballot in db.session.scalars(
                select(Ballot).where(Ballot.vote_id == self.vote.id)) if ballot.delegation_id}
        return {ballot.voter_id: ballot for ballot in db.session.scalars(
            select(Ballot).where(Ballot.vote_id == self.vote.id, Ballot.voter_id.in_(self.voter_ids)))}

    def _check_own(self, key: int, delegation: Delegation, voter: Participant) -> None:
        """A delegation's ballot is changed only by whoever cast it."""
        caster = (self.casters[key] if key in self.new
                  else self.existing[key].voter if key in self.existing else None)
        if caster is not None and caster.id != voter.id:
            raise cast_by_another(delegation, caster)

    def _running(self) -> Running:
        """A secret vote's tally as this batch has counted it so far."""
        if self.tally is None:
            self.tally = unsealed(self.vote, self.stored_tally)
        return self.tally


def _receipt_mac(vote: Vote, voter: Participant, option: VoteOption, reason: str,
                 nonce: str) -> str:
    """Bound to the voter too: a receipt handed to someone else changes nothing of theirs."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"secret-ballot|{vote.id}|{voter.id}|{option.id}|{sha256(reason)}|{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _count_secretly(vote: Vote, voter: Participant, option: VoteOption, reason: str,
                    tally: Running) -> str:
    """Add the choice (and an objection's reason) to the tally, which ``Ballots.write``
    seals whole into the vote's row as every ballot rewrites it; hand the voter the receipt
    that proves it, and keep nothing that does."""
    tally.counts[vote.options.index(option)] += 1
    if reason:
        tally.reasons.append(reason)
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_receipt_mac(vote, voter, option, reason, nonce)}"


def _change_secretly(vote: Vote, voter: Participant, option: VoteOption, reason: str,
                     receipt: str | None, tally: Running) -> str:
    """Move a secret ballot: the receipt tells (to whoever holds it) which choice it was.
    Refused with nothing changed, or the tally moved and the receipt spent."""
    refused = Conflict(_("You have voted. A secret ballot can be changed only with the receipt "
                         "you were given when you cast it (kept by the browser you used)."))
    if not isinstance(receipt, str) or len(receipt) > 100 or receipt.count(".") != 1:
        raise refused
    nonce, mac = receipt.split(".")
    previous = next(((o, r) for o in vote.options for r in {"", *tally.reasons}
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
    tally.counts[vote.options.index(old_option)] -= 1
    if old_reason:
        tally.reasons.remove(old_reason)
    return _count_secretly(vote, voter, option, reason, tally)


def _announce_turnout(vote: Vote) -> None:
    """Everyone sees the turnout; the running tally only in a roll-call vote that shows it.
    Never who voted how, never a time that could pair a ballot with a choice."""
    payload: dict[str, Any] = {"recommendation": vote.recommendation_id, "vote": vote.id,
                               "turnout": vote.turnout, "eligible": vote.eligible_count}
    if not vote.secret and vote.show_tally:
        payload["tally"] = {str(o.id): n for o, n in zip(vote.options, counts(vote), strict=True)}
    queue_event("ballot_counted", payload, room=recommendation_room(vote.recommendation_id))
