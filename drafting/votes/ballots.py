"""Casting a ballot: who may, the choice and its reason, a secret ballot counted with a
receipt and no link to its voter, a changed choice, and the turnout announced.

A secret ballot's transaction writes the same rows whatever its choice: the ballot row
(without a choice) and the vote's row (its turnout, and the whole tally sealed afresh,
``tally.seal``); never an option's row, whose versions would name the choice."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from drafting.errors import Conflict, PermissionDenied, ValidationFailed
from drafting.realtime import queue_event, recommendation_room
from drafting.services import check_conference_open, clean_text, is_id
from drafting.votes import units
from drafting.votes.records import sha256
from drafting.votes.schemas import MAX_REASON_LENGTH, BallotIn
from drafting.votes.services import changeable_ballot, claim_open, is_voter
from drafting.votes.tally import Running, counts, seal
from drafting.votes.tally import running as running_tally
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
    if vote.by_delegation:
        return units.casting_delegation(vote, voter)  # or says who casts its ballot
    if not is_voter(vote, voter):
        if vote.group.role_of(voter) is None:
            raise PermissionDenied(_("Only the group's members vote in its votes."))
        raise PermissionDenied(_("You are not among the voters of this vote (observers never "
                                 "vote, and the voters were fixed when it opened)."))
    return None


def _claim_open(vote: Vote, new_ballot: bool) -> None:
    """Lock the vote's row while it is open (and count a new ballot on it)."""
    claim_open(vote, 1 if new_ballot else 0, _("This vote is closed: ballots are no longer accepted."))


def cast_ballot(voter: Participant, vote: Vote, command: BallotIn) -> Cast:
    """Vote, or change one's vote until the close. ``option_id``; ``reason`` for an
    objection under consensus; ``receipt`` to change a secret ballot. In a vote by
    delegation the ballot is the voter's delegation's (``units``)."""
    delegation = check_can_cast(vote, voter)
    option = _clean_option(vote, command.option_id)
    reason = _clean_reason(vote, option, command.reason)
    _claim_open(vote, new_ballot=False)  # the row is ours until commit; is it still open?
    existing = changeable_ballot(vote, voter, delegation)
    if existing is None:
        try:
            with db.session.begin_nested():
                db.session.add(Ballot(vote_id=vote.id, voter_id=voter.id,
                                      delegation_id=delegation.id if delegation else None,
                                      option_id=None if vote.secret else option.id,
                                      reason="" if vote.secret else reason))
        except IntegrityError:
            # The same voter's (or delegation's) other request got there first: this one
            # changes it instead, if it is the voter's own.
            existing = changeable_ballot(vote, voter, delegation)
            if existing is None:
                raise Conflict(_("You have cast another ballot in this vote already.")) from None
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


def _count_secretly(vote: Vote, voter: Participant, option: VoteOption, reason: str,
                    running: Running | None = None) -> str:
    """Add the choice (and an objection's reason) to the sealed tally, rewritten whole in
    the vote's row as every ballot rewrites it; hand the voter the receipt that proves it,
    and keep nothing that does."""
    tally = running or running_tally(vote)
    tally.counts[vote.options.index(option)] += 1
    if reason:
        tally.reasons.append(reason)
    seal(vote, tally)
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
    tally = running_tally(vote)
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
