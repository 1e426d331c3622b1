"""Recommendations and their clauses: who sees them, who drafts them.

Clause text is edited here through whole-text writes; the real-time issue moves text editing
onto Yjs documents, and structure (add, delete, reorder) stays server-mediated here.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from drafting.brackets import refusal, unagreed_passages
from drafting.editing.services import hold_text, replace_text
from drafting.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from drafting.realtime import group_room, queue_event
from drafting.recommendations import structure
from drafting.recommendations.schemas import (
    ClauseCreate,
    ClauseMove,
    ClausePatch,
    RecommendationWrite,
)
from drafting.services import check_conference_open, load
from models import (
    Clause,
    ClauseStatus,
    Participant,
    Recommendation,
    RecommendationStatus,
    Vote,
    VoteStatus,
    WorkingGroup,
    db,
    utcnow,
)


def get_recommendation(recommendation_id: Any, viewer: Participant) -> Recommendation:
    recommendation = load(Recommendation, recommendation_id)
    if not recommendation.can_view(viewer):
        raise NotFound(_("Not found."))
    return recommendation


def get_clause(clause_id: Any, viewer: Participant, *, deleted: bool = False) -> Clause:
    """A clause the viewer may see; a deleted one only when asked for (to restore it)."""
    clause = load(Clause, clause_id)
    if (clause.deleted_at is not None) is not deleted or not clause.recommendation.can_view(viewer):
        raise NotFound(_("Not found."))
    return clause


def _emit(recommendation: Recommendation, name: str, **payload: Any) -> None:
    queue_event(name, {"recommendation_id": recommendation.id, **payload},
                room=group_room(recommendation.group_id))


def check_can_edit(recommendation: Recommendation, actor: Participant) -> None:
    check_conference_open(recommendation)
    if recommendation.status is not RecommendationStatus.DRAFTING:
        raise PermissionDenied(_("This recommendation is no longer a draft and cannot be edited."))
    if not recommendation.can_edit(actor):
        raise PermissionDenied(_("Only the group's chair and members draft its recommendations."))


def check_can_draft(group: WorkingGroup, actor: Participant) -> None:
    if not group.can_draft(actor):
        raise PermissionDenied(_("Only the group's chair and members draft its recommendations."))
    check_conference_open(group.conference)


def check_can_manage(recommendation: Recommendation, actor: Participant) -> None:
    if not recommendation.can_manage(actor):
        raise PermissionDenied(_("Only the group's chair or the secretariat can do this."))
    check_conference_open(recommendation)
    check_can_edit_status(recommendation)


def create_recommendation(actor: Participant, group: WorkingGroup,
                          command: RecommendationWrite) -> Recommendation:
    check_can_draft(group, actor)
    recommendation = Recommendation(group=group, title=command.title, created_by=actor)
    db.session.add(recommendation)
    db.session.flush()
    _emit(recommendation, "recommendation_created")
    return recommendation


def rename_recommendation(actor: Participant, recommendation: Recommendation,
                          command: RecommendationWrite) -> None:
    check_can_manage(recommendation, actor)
    recommendation.title = command.title
    db.session.flush()
    _emit(recommendation, "recommendation_updated")


def check_can_edit_status(recommendation: Recommendation) -> None:
    if recommendation.status is not RecommendationStatus.DRAFTING:
        raise PermissionDenied(_("This recommendation is no longer a draft and cannot be edited."))


def withdraw_recommendation(actor: Participant, recommendation: Recommendation) -> None:
    check_can_manage(recommendation, actor)
    recommendation.status = RecommendationStatus.WITHDRAWN
    db.session.flush()
    _emit(recommendation, "recommendation_updated")


def add_clause(actor: Participant, recommendation: Recommendation, command: ClauseCreate) -> Clause:
    """A new clause at the end of its part, or right after ``after_id`` (same kind)."""
    check_can_edit(recommendation, actor)
    kind = command.kind
    structure.lock(recommendation)
    clause = Clause(recommendation=recommendation, kind=kind, text=command.text,
                    position=len(structure.part_of(recommendation, kind)) + 1, created_by_id=actor.id)
    db.session.add(clause)
    db.session.flush()
    db.session.refresh(recommendation)
    if command.after_id is not None:
        structure.place_after(recommendation, clause, command.after_id)
    structure.announce(recommendation)
    return clause


def update_clause(actor: Participant, clause: Clause, command: ClausePatch) -> None:
    """Change a clause's text (as a live edit, merged with what others type) or its kind."""
    check_can_edit(clause.recommendation, actor)
    if clause.is_locked:
        raise PermissionDenied(_("This clause is locked: its wording cannot change now."))
    if command.kind is not None:
        kind = command.kind
        if kind is not clause.kind:
            recommendation = clause.recommendation
            structure.lock(recommendation)
            old_part = [c for c in structure.part_of(recommendation, clause.kind) if c.id != clause.id]
            clause.kind = kind
            clause.position = len(structure.part_of(recommendation, kind)) + 1
            structure.renumber(old_part)
            structure.announce(recommendation)
    if command.text is not None:
        replace_text(clause, actor, command.text)


def move_clause(actor: Participant, clause: Clause, command: ClauseMove) -> None:
    """Reorder within the clause's part: right after ``after_id``, or first when None."""
    check_can_edit(clause.recommendation, actor)
    structure.lock(clause.recommendation)
    structure.place_after(clause.recommendation, clause, command.after_id)
    structure.announce(clause.recommendation)


def delete_clause(actor: Participant, clause: Clause) -> None:
    """Soft delete: the clause leaves the text, its id is never reused, history keeps it,
    and ``restore_clause`` can bring it back."""
    check_can_edit(clause.recommendation, actor)
    if clause.deleted_at is not None:
        raise NotFound(_("Not found."))
    if clause.is_locked:
        raise PermissionDenied(_("This clause is locked: it cannot be deleted now."))
    structure.lock(clause.recommendation)
    # Whatever its editors typed up to now is committed first and stays with it; what they
    # type after this commit is refused (the deleted clause's document is closed).
    hold_text(clause)
    clause.deleted_at = utcnow()
    # The clause keeps its position: where ``restore_clause`` puts it back.
    structure.renumber(structure.part_of(clause.recommendation, clause.kind))
    structure.announce(clause.recommendation)


def restore_clause(actor: Participant, clause: Clause) -> None:
    """Undo a delete: the clause comes back where it was (before the clause that followed it
    then), with every word it had."""
    check_can_edit(clause.recommendation, actor)
    if clause.deleted_at is None:
        raise ValidationFailed(_("This clause has not been deleted."))
    structure.lock(clause.recommendation)
    part = structure.part_of(clause.recommendation, clause.kind)
    clause.deleted_at = None
    part.insert(min(max(clause.position - 1, 0), len(part)), clause)
    structure.renumber(part)
    structure.announce(clause.recommendation)


def set_clause_lock(actor: Participant, clause: Clause, locked: bool) -> None:
    """Freeze the wording (editors go read-only everywhere, live) or open it again."""
    if not clause.can_lock(actor):
        raise PermissionDenied(_("Only the group's chair can lock or unlock a clause."))
    check_conference_open(clause.recommendation)
    if clause.status is ClauseStatus.ADOPTED:
        raise PermissionDenied(_("This clause is adopted: its wording is final."))
    structure.lock(clause.recommendation)
    # Ordered with the edits: everything acknowledged before this commit is in the frozen
    # wording, everything after it is refused.
    hold_text(clause)
    if db.session.scalar(select(Vote.id).where(Vote.clause_id == clause.id,
                                               Vote.status == VoteStatus.OPEN)) is not None:
        # The vote froze this exact wording: it ends by closing or cancelling the vote.
        raise Conflict(_("A vote on this clause is open: close or cancel the vote instead."))
    clause.status = ClauseStatus.LOCKED if locked else ClauseStatus.OPEN
    structure.announce(clause.recommendation)


def set_ad_referendum(actor: Participant, clause: Clause, agreed: bool) -> None:
    """Record that the clause is agreed ad referendum (the negotiators agree on its wording,
    subject to confirmation by their capitals), or no longer. The text and its history are
    untouched; every open editor and page is told."""
    if not clause.can_mark_ad_referendum(actor):
        raise PermissionDenied(_("Only the group's chair can mark a clause agreed ad referendum."))
    check_conference_open(clause.recommendation)
    check_can_edit_status(clause.recommendation)
    if clause.deleted_at is not None:
        raise NotFound(_("Not found."))
    if clause.status is ClauseStatus.ADOPTED:
        raise Conflict(_("This clause is adopted: its wording is final."))
    if agreed:
        # Read as stored, with what its editors typed up to now.
        hold_text(clause)
        passages = unagreed_passages(clause.text)
        if passages:
            message = refusal(passages)
            raise ValidationFailed(message, fields={"ad_referendum": message})
    if clause.ad_referendum is agreed:
        return
    structure.lock(clause.recommendation)
    clause.ad_referendum = agreed
    structure.announce(clause.recommendation)
