"""Working groups and their membership."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from drafting.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from drafting.realtime import group_room, participant_room, queue_event, queue_sockets_ended
from drafting.services import check_conference_open, clean_text, load, validate_all
from models import Conference, GroupRole, Membership, Participant, WorkingGroup, db


def get_group(group_id: Any, viewer: Participant) -> WorkingGroup:
    group = load(WorkingGroup, group_id)
    if not group.can_view(viewer):
        raise NotFound(_("Not found."))
    return group


def get_membership(membership_id: Any, viewer: Participant) -> Membership:
    membership = load(Membership, membership_id)
    if not membership.group.can_view(viewer):
        raise NotFound(_("Not found."))
    return membership


def check_can_manage(group: WorkingGroup | None, conference: Conference, actor: Participant) -> None:
    allowed = conference.can_manage(actor) if group is None else group.can_manage(actor)
    if not allowed:
        raise PermissionDenied(_("Only the secretariat can set up working groups."))
    check_conference_open(conference)


def _clean_flag(value: Any, field: str) -> bool:
    # Strict: "false" or 0 from a careless client must not read as a choice either way.
    if not isinstance(value, bool):
        raise ValidationFailed(_("Choose yes or no."), fields={field: _("Must be true or false.")})
    return value


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """The group's settings; ``observers_may_comment`` only when given (absent: unchanged,
    or for a new group the default: observers take part). How the group decides is the
    conference's rules of procedure."""
    validators: dict[str, Any] = {
        "name": lambda: clean_text(data.get("name"), "name", _("Group name"), max_length=200),
        "mandate": lambda: clean_text(data.get("mandate"), "mandate", _("Mandate"),
                                      max_length=20000, required=False),
    }
    if "observers_may_comment" in data:
        validators["observers_may_comment"] = lambda: _clean_flag(
            data["observers_may_comment"], "observers_may_comment")
    return validate_all(**validators)


def _check_unique_name(conference: Conference, name: str, group: WorkingGroup | None) -> None:
    # Compared here, not with SQL lower(): SQLite's folds only ASCII, so "Étude" and "étude"
    # would pass the check and the insert then break the unique constraint (a 500).
    names = db.session.execute(
        select(WorkingGroup.id, WorkingGroup.name).where(WorkingGroup.conference_id == conference.id)
    ).all()
    clash = next((found for found, existing in names if existing.lower() == name.lower()), None)
    if clash is not None and (group is None or clash != group.id):
        raise Conflict(_("This conference already has a working group with that name."),
                       fields={"name": _("Already used in this conference.")})


def create_group(actor: Participant, conference: Conference, data: dict[str, Any]) -> WorkingGroup:
    check_can_manage(None, conference, actor)
    values = _clean(data)
    _check_unique_name(conference, values["name"], None)
    last = db.session.scalar(
        select(func.max(WorkingGroup.position)).where(WorkingGroup.conference_id == conference.id)
    )
    group = WorkingGroup(conference=conference, position=(last or 0) + 1, **values)
    db.session.add(group)
    db.session.flush()
    return group


def update_group(actor: Participant, group: WorkingGroup, data: dict[str, Any]) -> None:
    check_can_manage(group, group.conference, actor)
    values = _clean(data)
    _check_unique_name(group.conference, values["name"], group)
    for name, value in values.items():
        setattr(group, name, value)
    db.session.flush()
    queue_event("group_updated", {"group_id": group.id}, room=group_room(group.id))


def clean_role(value: Any) -> GroupRole:
    try:
        return GroupRole(value)
    except ValueError:
        raise ValidationFailed(_("Choose a role: chair, member or observer."),
                               fields={"role": _("Choose chair, member or observer.")}) from None


def check_can_assign(group: WorkingGroup, actor: Participant, *roles: GroupRole) -> None:
    if not group.can_manage_members(actor):
        raise PermissionDenied(_("Only the group's chair or the secretariat manages its members."))
    for role in roles:
        if not group.can_assign_role(actor, role):
            raise PermissionDenied(_("Only the secretariat appoints or removes chairs."))
    check_conference_open(group.conference)


def _membership_changed(group: WorkingGroup, participant_id: int, *, rights_changed: bool = False) -> None:
    payload = {"group_id": group.id, "participant_id": participant_id}
    queue_event("membership_changed", payload, room=group_room(group.id))
    queue_event("membership_changed", payload, room=participant_room(participant_id))
    if rights_changed:
        # Its open editors must stop hearing the group's rooms now: they reconnect and join
        # again with the rights the participant has left (drafting/sockets/connections.py).
        queue_sockets_ended(participant_id, scope="rights")


def add_member(actor: Participant, group: WorkingGroup, participant: Participant,
               role: Any) -> Membership:
    chosen = clean_role(role)
    check_can_assign(group, actor, chosen)
    if not participant.is_active_account:
        raise ValidationFailed(_("This participant's account is deactivated."))
    if group.role_of(participant) is not None:
        raise Conflict(_("%(name)s is already in this group.", name=participant.name))
    membership = Membership(group=group, participant=participant, role=chosen)
    db.session.add(membership)
    db.session.flush()
    _membership_changed(group, participant.id)
    return membership


def change_role(actor: Participant, membership: Membership, role: Any) -> None:
    chosen = clean_role(role)
    check_can_assign(membership.group, actor, membership.role, chosen)
    changed = membership.role is not chosen
    membership.role = chosen
    db.session.flush()
    _membership_changed(membership.group, membership.participant_id, rights_changed=changed)


def remove_member(actor: Participant, membership: Membership) -> None:
    group = membership.group
    check_can_assign(group, actor, membership.role)
    participant_id = membership.participant_id
    db.session.delete(membership)
    db.session.flush()
    _membership_changed(group, participant_id, rights_changed=True)


def find_participant(participant_id: Any) -> Participant:
    """A participant to add by id; NotFound for unknown or deactivated accounts."""
    participant = load(Participant, participant_id)
    if not participant.is_active_account:
        raise NotFound(_("Not found."))
    return participant


def list_candidates(actor: Participant, group: WorkingGroup) -> list[Participant]:
    """Active participants who could be added to the group (not yet in it)."""
    if not group.can_manage_members(actor):
        raise PermissionDenied(_("Only the group's chair or the secretariat manages its members."))
    inside = select(Membership.participant_id).where(Membership.group_id == group.id)
    return list(db.session.scalars(
        select(Participant)
        .where(Participant.is_active_account.is_(True))
        .where(Participant.id.not_in(inside))
        .order_by(func.lower(Participant.name))
    ))


def members_by_role(group: WorkingGroup) -> dict[GroupRole, list[Membership]]:
    ordered: dict[GroupRole, list[Membership]] = {role: [] for role in GroupRole}
    for membership in sorted(group.memberships, key=lambda m: m.participant.name.lower()):
        ordered[membership.role].append(membership)
    return ordered


def groups_of(participant: Participant) -> list[Membership]:
    """The participant's memberships, for the dashboard, in conference and group order."""
    return list(db.session.scalars(
        select(Membership)
        .join(WorkingGroup)
        .join(Conference)
        .where(Membership.participant_id == participant.id)
        .order_by(Conference.starts_on.desc(), WorkingGroup.position, WorkingGroup.id)
    ))
