"""The rules of amendments: proposing, co-sponsoring, editing and withdrawing them; the
chair's decisions (the redline of each: ``redlines``).

An amendment is written against the clause as it was (``base_text``). People keep editing
the clause, so its redline and, on acceptance, the wording it gives are the amendment's own
changes re-applied to the current text (``diff.rebase``); when the words it changes have
themselves changed since, it conflicts and cannot be accepted until its proposer updates it.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import CursorResult, func, select, update

from drafting.amendments.redlines import redline
from drafting.amendments.schemas import (
    AmendmentCreate,
    AmendmentPatch,
    AmendmentRejection,
    amendment_out,
)
from drafting.comments.services import resolve_by_adoption
from drafting.editing.services import hold_text, replace_text
from drafting.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from drafting.notifications.services import notify
from drafting.realtime import queue_event, recommendation_room
from drafting.recommendations.schemas import ClauseCreate
from drafting.recommendations.services import add_clause, delete_clause
from drafting.services import check_conference_open, load
from models import (
    OPEN_STATUSES,
    Amendment,
    AmendmentKind,
    AmendmentSponsor,
    AmendmentStatus,
    Clause,
    ClauseStatus,
    NotificationKind,
    Participant,
    Recommendation,
    RecommendationStatus,
    db,
    utcnow,
)

# --- reading -----------------------------------------------------------------------------


def get_amendment(amendment_id: Any, viewer: Participant) -> Amendment:
    amendment = load(Amendment, amendment_id)
    if not amendment.can_view(viewer):
        raise NotFound(_("Not found."))
    return amendment


def clause_amendments(clause: Clause, *, open_only: bool = False) -> list[Amendment]:
    query = select(Amendment).where(Amendment.clause_id == clause.id)
    if open_only:
        query = query.where(Amendment.status.in_(OPEN_STATUSES))
    return list(db.session.scalars(query.order_by(Amendment.id)))


def recommendation_amendments(recommendation: Recommendation, *,
                              open_only: bool = False) -> dict[int, list[Amendment]]:
    """Clause id -> its amendments in the order proposed, for every live clause."""
    found: dict[int, list[Amendment]] = {c.id: [] for c in recommendation.live_clauses}
    query = (select(Amendment).join(Clause, Amendment.clause_id == Clause.id)
             .where(Clause.recommendation_id == recommendation.id, Clause.deleted_at.is_(None))
             .order_by(Amendment.id))
    if open_only:
        query = query.where(Amendment.status.in_(OPEN_STATUSES))
    for amendment in db.session.scalars(query):
        found.setdefault(amendment.clause_id, []).append(amendment)
    return found


# --- proposing ---------------------------------------------------------------------------


def _check_open_clause(clause: Clause) -> None:
    check_conference_open(clause.recommendation)
    if clause.deleted_at is not None:
        raise NotFound(_("This clause has been deleted."))
    if clause.recommendation.status is not RecommendationStatus.DRAFTING:
        raise PermissionDenied(_("This recommendation is no longer a draft and cannot be amended."))
    if clause.status is ClauseStatus.ADOPTED:
        raise PermissionDenied(_("This clause is adopted: its wording is final and cannot be amended."))
    if clause.status is ClauseStatus.LOCKED:
        raise PermissionDenied(_("This clause is locked for a vote: it cannot be amended now."))


def check_can_propose(clause: Clause, actor: Participant) -> None:
    _check_open_clause(clause)
    if not clause.recommendation.group.can_draft(actor):
        raise PermissionDenied(_("Only the group's chair and members propose amendments."))


def _wording(kind: AmendmentKind, clause: Clause, text: str,
             base: str | None) -> tuple[str, str]:
    """(proposed text, the text it was written against: by default the clause's current
    one) for the kind."""
    if kind is AmendmentKind.DELETE:
        return "", clause.text
    if kind is AmendmentKind.INSERT:
        return text, ""
    base = clause.text if base is None else base
    if text == clause.text and text == base:
        raise ValidationFailed(_("The proposed wording is the clause's current wording."),
                               fields={"text": _("Change something.")})
    return text, base


def _emit(amendment: Amendment, name: str) -> None:
    db.session.flush()
    recommendation_id = amendment.clause.recommendation_id
    open_count = db.session.scalar(select(func.count(Amendment.id)).where(
        Amendment.clause_id == amendment.clause_id, Amendment.status.in_(OPEN_STATUSES)))
    queue_event(name, {"recommendation": recommendation_id, "clause": amendment.clause_id,
                       "amendment": amendment_out(amendment).model_dump(mode="json"),
                       "open_amendments": open_count},
                room=recommendation_room(recommendation_id))


def propose_amendment(actor: Participant, clause: Clause, command: AmendmentCreate) -> Amendment:
    """``kind`` replace (``text``, and the ``base_text`` it was written against, by default
    the current text), insert (``text`` of a new clause after this one) or delete; with a
    ``rationale``."""
    check_can_propose(clause, actor)
    text, base = _wording(command.kind, clause, command.text, command.base_text)
    amendment = Amendment(clause=clause, kind=command.kind, text=text, base_text=base,
                          rationale=command.rationale, proposer=actor)
    db.session.add(amendment)
    _emit(amendment, "amendment_proposed")
    return amendment


def check_can_edit(amendment: Amendment, actor: Participant) -> None:
    if amendment.status is not AmendmentStatus.PROPOSED:
        raise PermissionDenied(_("This amendment has been dealt with and can no longer change."))
    _check_open_clause(amendment.clause)
    if not amendment.can_edit(actor):
        raise PermissionDenied(_("Only its proposer can change or withdraw an amendment."))


def edit_amendment(actor: Participant, amendment: Amendment, command: AmendmentPatch) -> None:
    """New wording (written against ``base_text``, by default the clause's current text)
    and/or rationale, as far as sent. The sponsors stay: they back the amendment, and see
    the change live."""
    check_can_edit(amendment, actor)
    clause = amendment.clause
    sent = command.model_fields_set
    if "text" in sent or "base_text" in sent:
        amendment.text, amendment.base_text = _wording(
            amendment.kind, clause, amendment.text if command.text is None else command.text,
            command.base_text)
    if "rationale" in sent:
        amendment.rationale = command.rationale or ""
    amendment.updated_at = utcnow()
    _emit(amendment, "amendment_updated")


def withdraw_amendment(actor: Participant, amendment: Amendment) -> None:
    check_can_edit(amendment, actor)
    _claim(amendment, AmendmentStatus.WITHDRAWN, actor, "", allowed={AmendmentStatus.PROPOSED})
    _emit(amendment, "amendment_withdrawn")


def check_can_sponsor(amendment: Amendment, actor: Participant) -> None:
    if not amendment.is_open:
        raise PermissionDenied(_("This amendment has been dealt with."))
    _check_open_clause(amendment.clause)
    if amendment.proposer_id == actor.id:
        raise ValidationFailed(_("You proposed this amendment: you cannot also co-sponsor it."))
    if not amendment.can_sponsor(actor):
        raise PermissionDenied(_("Only the group's chair and members co-sponsor amendments."))


def set_sponsorship(actor: Participant, amendment: Amendment, sponsoring: bool) -> None:
    """Co-sponsor the amendment, or stop. Doing what is already done is not an error."""
    check_can_sponsor(amendment, actor)
    existing = next((s for s in amendment.sponsors if s.participant_id == actor.id), None)
    if sponsoring and existing is None:
        amendment.sponsors.append(AmendmentSponsor(participant_id=actor.id))
    elif not sponsoring and existing is not None:
        amendment.sponsors.remove(existing)
    else:
        return
    _emit(amendment, "amendment_updated")


# --- the chair's decisions ---------------------------------------------------------------


def check_can_decide(amendment: Amendment, actor: Participant) -> None:
    if not amendment.is_open:
        raise Conflict(_("This amendment has already been dealt with."))
    _check_open_clause(amendment.clause)
    if not amendment.can_decide(actor):
        raise PermissionDenied(_("Only the group's chair accepts or rejects amendments."))


def _claim(amendment: Amendment, status: AmendmentStatus, actor: Participant, reason: str, *,
           allowed: set[AmendmentStatus] | frozenset[AmendmentStatus] = OPEN_STATUSES) -> None:
    """Move the amendment to ``status`` if, in the database, it is still in an allowed one.

    One conditional UPDATE: of two chairs clicking "accept" at once, the second waits for the
    first's transaction and then finds nothing to change, so the wording is applied once."""
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Amendment)
        .where(Amendment.id == amendment.id, Amendment.status.in_(allowed))
        .values(status=status, decided_at=utcnow(), decided_by_id=actor.id,
                decision_reason=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_("This amendment has already been dealt with."))
    db.session.refresh(amendment)


def _tell_proposer(amendment: Amendment, actor: Participant) -> None:
    proposer = amendment.proposer
    if proposer is not None and proposer.id != actor.id:
        notify(proposer, NotificationKind.AMENDMENT_DECIDED, actor=actor, clause=amendment.clause,
               amendment=amendment, detail=amendment.status.value)


def accept_amendment(actor: Participant, amendment: Amendment) -> None:
    """The chair accepts: a new wording becomes the clause's text (a real edit in its
    history, attributed to the proposer), a new clause is inserted after it, or the clause is
    deleted. Every open editor sees it live."""
    check_can_decide(amendment, actor)
    clause = amendment.clause
    result = None
    if amendment.kind is AmendmentKind.REPLACE:
        # Rebased on the text as it is now, held until the commit: what others typed
        # meanwhile stays, and nothing typed can slip in between.
        hold_text(clause)
        result = redline(amendment).result
        if result is None:
            raise Conflict(_("The words this amendment changes have changed since it was "
                             "written. Its proposer must update it before it can be accepted."))
    _claim(amendment, AmendmentStatus.ACCEPTED, actor, "")
    author = amendment.proposer or actor
    if amendment.kind is AmendmentKind.REPLACE:
        replace_text(clause, author, result or "")
        clause.updated_at = utcnow()
    elif amendment.kind is AmendmentKind.INSERT:
        created = add_clause(actor, clause.recommendation, ClauseCreate(
            kind=clause.kind, text=amendment.text, after_id=clause.id))
        created.created_by_id = author.id
        amendment.created_clause_id = created.id
    else:
        delete_clause(actor, clause)
    _tell_proposer(amendment, actor)
    _emit(amendment, "amendment_accepted")


def reject_amendment(actor: Participant, amendment: Amendment,
                     command: AmendmentRejection) -> None:
    """The chair rejects, saying why."""
    check_can_decide(amendment, actor)
    _claim(amendment, AmendmentStatus.REJECTED, actor, command.reason)
    _tell_proposer(amendment, actor)
    _emit(amendment, "amendment_rejected")


def put_to_vote(actor: Participant, amendment: Amendment) -> None:
    """The chair marks it "to be voted": the group, not the chair alone, will decide."""
    check_can_decide(amendment, actor)
    _claim(amendment, AmendmentStatus.TO_BE_VOTED, actor, "", allowed={AmendmentStatus.PROPOSED})
    _tell_proposer(amendment, actor)
    _emit(amendment, "amendment_put_to_vote")


# --- adoption ------------------------------------------------------------------------------


def close_hanging(adopted: Clause | Recommendation, actor: Participant | None) -> None:
    """What hangs on a text is closed with its adoption: call it wherever a clause becomes
    adopted, or a recommendation as a whole. Its open threads are resolved (by the adoption)
    and its open amendments superseded: nobody decided them, and the adopted wording no
    longer changes. ``actor``: who adopted it (the chair closing the vote; None: a deadline)."""
    clauses = adopted.clauses if isinstance(adopted, Recommendation) else [adopted]
    resolve_by_adoption(clauses, actor)
    now = utcnow()
    hanging = db.session.scalars(select(Amendment).where(
        Amendment.clause_id.in_([c.id for c in clauses]),
        Amendment.status.in_(OPEN_STATUSES)).order_by(Amendment.id))
    for amendment in hanging:
        amendment.status = AmendmentStatus.SUPERSEDED
        amendment.decided_at = amendment.updated_at = now
        amendment.decided_by_id = actor.id if actor else None
        _emit(amendment, "amendment_superseded")
