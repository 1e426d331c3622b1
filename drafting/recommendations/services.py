"""Recommendations and their clauses: who sees them, who drafts them.

Clause text is edited here through whole-text writes; the real-time issue moves text editing
onto Yjs documents, and structure (add, delete, reorder) stays server-mediated here.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from drafting.errors import NotFound, PermissionDenied, ValidationFailed
from drafting.realtime import group_room, queue_event
from drafting.services import clean_text, load
from models import (
    Clause,
    ClauseKind,
    Membership,
    Participant,
    Recommendation,
    RecommendationStatus,
    WorkingGroup,
    db,
    utcnow,
)

MAX_CLAUSE_LENGTH = 20000


def visible_recommendations(viewer: Participant, group: WorkingGroup | None = None) -> list[Recommendation]:
    """Everything the viewer may read: their groups' drafts, and adopted texts of their
    conferences (or everything, for the secretariat)."""
    query = select(Recommendation).join(WorkingGroup).order_by(
        WorkingGroup.conference_id, WorkingGroup.position, Recommendation.id
    )
    if group is not None:
        query = query.where(Recommendation.group_id == group.id)
    if not viewer.is_secretariat:
        my_groups = select(Membership.group_id).where(Membership.participant_id == viewer.id)
        my_conferences = (
            select(WorkingGroup.conference_id)
            .join(Membership)
            .where(Membership.participant_id == viewer.id)
        )
        query = query.where(
            Recommendation.group_id.in_(my_groups)
            | (
                (Recommendation.status == RecommendationStatus.ADOPTED)
                & WorkingGroup.conference_id.in_(my_conferences)
            )
        )
    return list(db.session.scalars(query))


def get_recommendation(recommendation_id: Any, viewer: Participant) -> Recommendation:
    recommendation = load(Recommendation, recommendation_id)
    if not recommendation.can_view(viewer):
        raise NotFound(_("Not found."))
    return recommendation


def get_clause(clause_id: Any, viewer: Participant) -> Clause:
    clause = load(Clause, clause_id)
    if clause.deleted_at is not None or not clause.recommendation.can_view(viewer):
        raise NotFound(_("Not found."))
    return clause


def _emit(recommendation: Recommendation, name: str, **payload: Any) -> None:
    queue_event(name, {"recommendation_id": recommendation.id, **payload},
                room=group_room(recommendation.group_id))


def check_can_edit(recommendation: Recommendation, actor: Participant) -> None:
    if recommendation.status is not RecommendationStatus.DRAFTING:
        raise PermissionDenied(_("This recommendation is no longer a draft and cannot be edited."))
    if not recommendation.can_edit(actor):
        raise PermissionDenied(_("Only the group's chair and members draft its recommendations."))


def check_can_draft(group: WorkingGroup, actor: Participant) -> None:
    if not group.can_draft(actor):
        raise PermissionDenied(_("Only the group's chair and members draft its recommendations."))


def check_can_manage(recommendation: Recommendation, actor: Participant) -> None:
    if not recommendation.can_manage(actor):
        raise PermissionDenied(_("Only the group's chair or the secretariat can do this."))
    check_can_edit_status(recommendation)


def create_recommendation(actor: Participant, group: WorkingGroup, data: dict[str, Any]) -> Recommendation:
    check_can_draft(group, actor)
    title = clean_text(data.get("title"), "title", _("Title"), max_length=300)
    recommendation = Recommendation(group=group, title=title, created_by=actor)
    db.session.add(recommendation)
    db.session.flush()
    _emit(recommendation, "recommendation_created")
    return recommendation


def rename_recommendation(actor: Participant, recommendation: Recommendation, data: dict[str, Any]) -> None:
    check_can_manage(recommendation, actor)
    recommendation.title = clean_text(data.get("title"), "title", _("Title"), max_length=300)
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


def clean_kind(value: Any) -> ClauseKind:
    try:
        return ClauseKind(value)
    except ValueError:
        raise ValidationFailed(_("Choose preambular or operative."),
                               fields={"kind": _("Choose preambular or operative.")}) from None


def clean_clause_text(value: Any) -> str:
    return clean_text(value, "text", _("Clause text"), max_length=MAX_CLAUSE_LENGTH)


def add_clause(actor: Participant, recommendation: Recommendation, data: dict[str, Any]) -> Clause:
    """A new clause at the end of its kind, or right after ``after_id`` (same recommendation)."""
    check_can_edit(recommendation, actor)
    kind = clean_kind(data.get("kind"))
    text = clean_clause_text(data.get("text"))
    after_id = data.get("after_id")
    if after_id is not None:
        after = load(Clause, after_id)
        if after.recommendation_id != recommendation.id or after.deleted_at is not None:
            raise ValidationFailed(_("The clause to insert after is not in this recommendation."),
                                   fields={"after_id": _("Not a clause of this recommendation.")})
        if after.kind is not kind:
            raise ValidationFailed(_("A clause can only follow a clause of the same kind."),
                                   fields={"after_id": _("Different kind.")})
        position = after.position + 1
        # Make room: positions are only an order, so shifting the tail keeps ids untouched.
        db.session.execute(
            update(Clause)
            .where(Clause.recommendation_id == recommendation.id)
            .where(Clause.kind == kind)
            .where(Clause.position >= position)
            .values(position=Clause.position + 1)
        )
    else:
        last = db.session.scalar(
            select(func.max(Clause.position))
            .where(Clause.recommendation_id == recommendation.id)
            .where(Clause.kind == kind)
        )
        position = (last or 0) + 1
    clause = Clause(recommendation=recommendation, kind=kind, text=text, position=position,
                    created_by_id=actor.id)
    db.session.add(clause)
    db.session.flush()
    db.session.refresh(recommendation)
    _emit(recommendation, "clause_added", clause_id=clause.id)
    return clause


def update_clause_text(actor: Participant, clause: Clause, data: dict[str, Any]) -> None:
    check_can_edit(clause.recommendation, actor)
    clause.text = clean_clause_text(data.get("text"))
    db.session.flush()
    _emit(clause.recommendation, "clause_updated", clause_id=clause.id)


def delete_clause(actor: Participant, clause: Clause) -> None:
    """Soft delete: the clause leaves the text, its id is never reused, history keeps it."""
    check_can_edit(clause.recommendation, actor)
    if clause.deleted_at is not None:
        raise NotFound(_("Not found."))
    clause.deleted_at = utcnow()
    db.session.flush()
    _emit(clause.recommendation, "clause_deleted", clause_id=clause.id)
