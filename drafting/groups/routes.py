"""Working-group pages and API: the group page, its setup, and its membership."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields import SelectChoice

from drafting.api import endpoint
from drafting.conferences.services import get_conference
from drafting.forms import Refusal, as_id, flashed, form_data, form_page, run_form
from drafting.groups import services
from drafting.groups.forms import AddMemberForm, GroupForm, RoleForm
from drafting.groups.schemas import (
    GroupOut,
    GroupPatch,
    GroupWrite,
    MemberAdd,
    MemberOut,
    MemberRoleChange,
    group_out,
    member_out,
)
from models import (
    Delegation,
    GroupRole,
    Participant,
    WorkingGroup,
    activity_by_recommendation,
    delegations_of,
    open_amendment_counts,
    visible_recommendations,
)

bp = Blueprint("groups", __name__)

#: What the group form sets (drafting/groups/forms.GroupForm).
SETTINGS = ("name", "mandate", "observers_may_comment")


@bp.get("/groups/<int:group_id>")
@login_required
def show(group_id: int) -> ResponseReturnValue:
    group = services.get_group(group_id, current_user)
    recommendations = visible_recommendations(current_user, group)
    ids = [recommendation.id for recommendation in recommendations]
    return render_template(
        "groups/show.html",
        group=group,
        members=services.members_by_role(group),
        delegations=_delegations(group),
        my_role=group.role_of(current_user),
        recommendations=recommendations,
        activity=activity_by_recommendation(ids),
        open_amendments=open_amendment_counts(ids),
    )


@bp.route("/conferences/<int:conference_id>/groups/new", methods=["GET", "POST"])
@login_required
def new(conference_id: int) -> ResponseReturnValue:
    conference = get_conference(conference_id, current_user)
    services.check_can_manage(None, conference, current_user)
    form = GroupForm()
    return run_form(form, lambda: services.create_group(
        current_user, conference, form_data(form, *SETTINGS)),
        done=lambda group: flashed(
            _("The working group is created. Now appoint its chair and members."),
            url_for("groups.members", group_id=group.id)),
        refused=Refusal(lambda _error: form_page("groups/form.html", form,
                                                 conference=conference, group=None)))


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@login_required
def edit(group_id: int) -> ResponseReturnValue:
    group = services.get_group(group_id, current_user)
    services.check_can_manage(group, group.conference, current_user)
    form = GroupForm(obj=group)
    return run_form(form, lambda: services.update_group(
        current_user, group, form_data(form, *SETTINGS)),
        done=lambda _none: flashed(_("The working group is saved."),
                                   url_for("groups.show", group_id=group.id)),
        refused=Refusal(lambda _error: form_page("groups/form.html", form,
                                                 conference=group.conference, group=group)))


def _delegations(group: WorkingGroup) -> dict[int, Delegation]:
    """Participant id -> the delegation shown beside their name."""
    return delegations_of(group.conference_id, [m.participant_id for m in group.memberships])


def _render_members(group_id: int, add_form: AddMemberForm | None = None,
                    status: int = 200) -> ResponseReturnValue:
    group = services.get_group(group_id, current_user)
    candidates = services.list_candidates(current_user, group)
    form = add_form or AddMemberForm()
    form.participant_id.choices = [
        SelectChoice(str(p.id), f"{p.name} — {p.affiliation}" if p.affiliation else p.name)
        for p in candidates
    ]
    can_assign_chair = group.can_assign_role(current_user, GroupRole.CHAIR)
    if not can_assign_chair:
        form.role.choices = [c for c in form.role.choices if c.value != GroupRole.CHAIR.value]
    return render_template(
        "groups/members.html", group=group, members=services.members_by_role(group),
        delegations=_delegations(group),
        add_form=form, role_form=RoleForm(), can_assign_chair=can_assign_chair,
    ), status


@bp.get("/groups/<int:group_id>/members")
@login_required
def members(group_id: int) -> ResponseReturnValue:
    return _render_members(group_id)


@bp.post("/groups/<int:group_id>/members")
@login_required
def add_member(group_id: int) -> ResponseReturnValue:
    group = services.get_group(group_id, current_user)
    services.check_can_assign(group, current_user)
    form = AddMemberForm()
    return run_form(form, lambda: services.add_member(
        current_user, group, services.find_participant(as_id(form.participant_id.data)),
        form.role.data),
        done=lambda membership: flashed(
            _("%(name)s has been added to the group.", name=membership.participant.name),
            url_for("groups.members", group_id=group.id)),
        refused=Refusal(lambda _error: _render_members(group_id, form, 400)))


@bp.post("/memberships/<int:membership_id>/role")
@login_required
def change_role(membership_id: int) -> ResponseReturnValue:
    membership = services.get_membership(membership_id, current_user)
    form = RoleForm()
    return run_form(None, lambda: services.change_role(current_user, membership, form.role.data),
                    done=lambda _none: flashed(
                        _("The role of %(name)s is changed.", name=membership.participant.name),
                        url_for("groups.members", group_id=membership.group_id)))


@bp.post("/memberships/<int:membership_id>/remove")
@login_required
def remove_member(membership_id: int) -> ResponseReturnValue:
    membership = services.get_membership(membership_id, current_user)
    group_id, name = membership.group_id, membership.participant.name
    return run_form(None, lambda: services.remove_member(current_user, membership),
                    done=lambda _none: flashed(
                        _("%(name)s has been removed from the group.", name=name),
                        url_for("groups.members", group_id=group_id)))


# --- API ---------------------------------------------------------------------------------


@endpoint("/groups/<int:group_id>", summary="A working group: mandate, members, recommendations",
          tag="groups", response=GroupOut, errors=(404,))
def api_get_group(actor: Participant, group_id: int) -> GroupOut:
    return group_out(services.get_group(group_id, actor), actor)


@endpoint("/conferences/<int:conference_id>/groups", "POST", summary="Create a working group "
          "(secretariat)", tag="groups", response=GroupOut, status=201, body=GroupWrite,
          errors=(403, 404, 409))
def api_create_group(actor: Participant, conference_id: int, body: GroupWrite) -> GroupOut:
    conference = get_conference(conference_id, actor)
    return group_out(services.create_group(actor, conference, body.model_dump()), actor)


@endpoint("/groups/<int:group_id>", "PATCH", summary="Rename a group, change its mandate, "
          "or whether observers may comment (secretariat)", tag="groups", response=GroupOut,
          body=GroupPatch, errors=(403, 404, 409))
def api_update_group(actor: Participant, group_id: int, body: GroupPatch) -> GroupOut:
    group = services.get_group(group_id, actor)
    current = {"name": group.name, "mandate": group.mandate,
               "observers_may_comment": group.observers_may_comment}
    services.update_group(actor, group, {**current, **body.model_dump(exclude_unset=True)})
    return group_out(group, actor)


@endpoint("/groups/<int:group_id>/members", "POST", summary="Add a participant to a group "
          "(chair: members and observers; secretariat: any role)", tag="groups",
          response=MemberOut, status=201, body=MemberAdd, errors=(403, 404, 409))
def api_add_member(actor: Participant, group_id: int, body: MemberAdd) -> MemberOut:
    group = services.get_group(group_id, actor)
    participant = services.find_participant(body.participant_id)
    return member_out(services.add_member(actor, group, participant, body.role))


@endpoint("/memberships/<int:membership_id>", "PATCH", summary="Change a member's role",
          tag="groups", response=MemberOut, body=MemberRoleChange, errors=(403, 404, 409))
def api_change_role(actor: Participant, membership_id: int, body: MemberRoleChange) -> MemberOut:
    membership = services.get_membership(membership_id, actor)
    services.change_role(actor, membership, body.role)
    return member_out(membership)


@endpoint("/memberships/<int:membership_id>", "DELETE", summary="Remove a member from a group",
          tag="groups", status=204, errors=(403, 404, 409))
def api_remove_member(actor: Participant, membership_id: int) -> None:
    services.remove_member(actor, services.get_membership(membership_id, actor))
