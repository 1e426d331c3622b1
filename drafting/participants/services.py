"""The secretariat's register of participants, and each participant's own profile."""
from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from drafting.auth.account import identity_checks
from drafting.auth.services import (
    find_participant_by_email,
    issue_invitation,
    normalise_email,
    revoke_login_sessions,
)
from drafting.errors import Conflict, PermissionDenied, ValidationFailed
from drafting.realtime import queue_sockets_ended
from drafting.services import load, validate_all
from models import ApiToken, Participant, StakeholderCategory, db, utcnow


def check_can_manage_participants(actor: Participant) -> None:
    if not actor.can_manage_participants():
        raise PermissionDenied(_("Only the secretariat manages participants."))


def clean_email(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(_("Email is required."), fields={"email": _("Required.")})
    try:
        # Deliverability is not checked: conference delegates' domains need not resolve here.
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValidationFailed(
            _("That is not a valid email address."), fields={"email": _("Not a valid email address.")}
        ) from None
    return normalise_email(checked.normalized)


def clean_category(value: Any) -> StakeholderCategory:
    try:
        return StakeholderCategory(value)
    except ValueError:
        raise ValidationFailed(
            _("Choose a stakeholder category."), fields={"category": _("Choose one of the categories.")}
        ) from None


def _clean_details(data: dict[str, Any]) -> dict[str, Any]:
    return validate_all(**identity_checks(data), category=lambda: clean_category(data.get("category")))


def list_participants(actor: Participant) -> list[Participant]:
    check_can_manage_participants(actor)
    return list(db.session.scalars(select(Participant).order_by(func.lower(Participant.name))))


def invite_participant(actor: Participant, data: dict[str, Any]) -> tuple[Participant, str]:
    """Register a participant and return them with a fresh invitation token."""
    check_can_manage_participants(actor)
    values = validate_all(email=lambda: clean_email(data.get("email")), details=lambda: _clean_details(data))
    email = values["email"]
    if find_participant_by_email(email) is not None:
        raise Conflict(_("A participant with this email already exists."),
                       fields={"email": _("Already registered.")})
    participant = Participant(email=email, is_secretariat=bool(data.get("is_secretariat")),
                              **values["details"])
    db.session.add(participant)
    db.session.flush()
    token = issue_invitation(participant, created_by=actor)
    return participant, token


def reinvite_participant(actor: Participant, participant: Participant) -> str:
    """A new link (also how a forgotten password is reset); older links stop working."""
    check_can_manage_participants(actor)
    if not participant.is_active_account:
        raise ValidationFailed(_("Reactivate the account before inviting this participant again."))
    return issue_invitation(participant, created_by=actor)


def update_participant(actor: Participant, participant: Participant, data: dict[str, Any]) -> None:
    check_can_manage_participants(actor)
    values = validate_all(email=lambda: clean_email(data.get("email")), details=lambda: _clean_details(data))
    existing = find_participant_by_email(values["email"])
    if existing is not None and existing.id != participant.id:
        raise Conflict(_("A participant with this email already exists."),
                       fields={"email": _("Already registered.")})
    make_secretariat = bool(data.get("is_secretariat"))
    if participant.id == actor.id and not make_secretariat:
        raise ValidationFailed(_("You cannot remove your own secretariat role."),
                               fields={"is_secretariat": _("You cannot remove your own role.")})
    participant.email = values["email"]
    for name, value in values["details"].items():
        setattr(participant, name, value)
    if participant.is_secretariat and not make_secretariat:
        # No longer watching every group's editor: its sockets join again with what is left.
        queue_sockets_ended(participant.id, scope="rights")
    participant.is_secretariat = make_secretariat


def set_participant_active(actor: Participant, participant: Participant, active: bool) -> None:
    """Deactivating signs the participant out everywhere and revokes their API tokens."""
    check_can_manage_participants(actor)
    if participant.id == actor.id and not active:
        raise ValidationFailed(_("You cannot deactivate your own account."))
    participant.is_active_account = active
    if not active:
        revoke_login_sessions(participant)
        queue_sockets_ended(participant.id, scope="all")
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.participant_id == participant.id)
            .where(ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def get_participant(participant_id: Any, actor: Participant) -> Participant:
    check_can_manage_participants(actor)
    return load(Participant, participant_id)


def register_secretariat(data: dict[str, Any], created_by: Participant | None) -> tuple[Participant, str]:
    """Register a secretariat member without an acting secretariat: how an installation gets
    its first account (from the command line, which only the server's operator can run)."""
    values = validate_all(email=lambda: clean_email(data.get("email")),
                          details=lambda: _clean_details(data))
    if find_participant_by_email(values["email"]) is not None:
        raise Conflict(_("A participant with this email already exists."),
                       fields={"email": _("Already registered.")})
    member = Participant(email=values["email"], is_secretariat=True, **values["details"])
    db.session.add(member)
    db.session.flush()
    return member, issue_invitation(member, created_by=created_by)
