"""The secretariat's participant register: list, invite, edit, (de)activate. Pages and API."""
from __future__ import annotations

from flask import Blueprint, g, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from drafting.api import endpoint
from drafting.forms import Refusal, flashed, form_data, form_page, run_form
from drafting.participants import services
from drafting.participants.forms import ParticipantForm
from drafting.participants.schemas import (
    InvitationOut,
    ParticipantCreate,
    ParticipantOut,
    ParticipantUpdate,
    participant_fields,
    participant_out,
)
from models import Participant

bp = Blueprint("participants", __name__, url_prefix="/admin/participants")


def invitation_url(token: str) -> ResponseReturnValue:
    return url_for("auth.accept_invitation", token=token, _external=True)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    return render_template("participants/index.html",
                           participants=services.list_participants(current_user))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    services.check_can_manage_participants(current_user)
    form = ParticipantForm()
    return run_form(form, lambda: services.invite_participant(current_user,
                                                              form_data(form, *form.FIELDS)),
                    done=lambda invited: _show_invitation(*invited),
                    refused=Refusal(lambda _error: form_page("participants/form.html", form,
                                                             participant=None)))


def _show_invitation(participant: Participant, token: str) -> ResponseReturnValue:
    # The link is the only copy of the token: shown once, in this response, never cached.
    g.no_store = True
    return render_template("participants/invited.html", participant=participant,
                           link=invitation_url(token)), 201


@bp.route("/<int:participant_id>/edit", methods=["GET", "POST"])
@login_required
def edit(participant_id: int) -> ResponseReturnValue:
    participant = services.get_participant(participant_id, current_user)
    form = ParticipantForm(obj=participant)
    return run_form(form, lambda: services.update_participant(current_user, participant,
                                                              form_data(form, *form.FIELDS)),
                    done=lambda _none: flashed(_("%(name)s is saved.", name=participant.name),
                                               url_for("participants.index")),
                    refused=Refusal(lambda _error: form_page("participants/form.html", form,
                                                             participant=participant)))


@bp.post("/<int:participant_id>/invitation")
@login_required
def reinvite(participant_id: int) -> ResponseReturnValue:
    participant = services.get_participant(participant_id, current_user)
    return run_form(None, lambda: services.reinvite_participant(current_user, participant),
                    done=lambda token: _show_invitation(participant, token))


@bp.post("/<int:participant_id>/deactivate")
@login_required
def deactivate(participant_id: int) -> ResponseReturnValue:
    participant = services.get_participant(participant_id, current_user)
    return run_form(None, lambda: services.set_participant_active(current_user, participant, False),
                    done=lambda _none: flashed(
                        _("%(name)s can no longer sign in.", name=participant.name),
                        url_for("participants.index")))


@bp.post("/<int:participant_id>/activate")
@login_required
def activate(participant_id: int) -> ResponseReturnValue:
    participant = services.get_participant(participant_id, current_user)
    return run_form(None, lambda: services.set_participant_active(current_user, participant, True),
                    done=lambda _none: flashed(
                        _("%(name)s can sign in again.", name=participant.name),
                        url_for("participants.index")))


# --- API ---------------------------------------------------------------------------------


@endpoint("/me", summary="The calling participant", tag="participants", response=ParticipantOut,
          errors=())
def api_me(actor: Participant) -> ParticipantOut:
    return participant_out(actor)


@endpoint("/participants", summary="All participants (secretariat)", tag="participants",
          response=list[ParticipantOut], errors=(403,))
def api_list_participants(actor: Participant) -> list[ParticipantOut]:
    return [participant_out(p) for p in services.list_participants(actor)]


@endpoint("/participants", "POST", summary="Register a participant and get their invitation "
          "link (secretariat)", tag="participants", response=InvitationOut, status=201,
          body=ParticipantCreate, errors=(403, 409))
def api_invite_participant(actor: Participant, body: ParticipantCreate) -> InvitationOut:
    participant, token = services.invite_participant(actor, body.model_dump())
    return InvitationOut(participant=participant_out(participant),
                         invitation_url=invitation_url(token))


@endpoint("/participants/<int:participant_id>", summary="One participant (secretariat)",
          tag="participants", response=ParticipantOut, errors=(403, 404))
def api_get_participant(actor: Participant, participant_id: int) -> ParticipantOut:
    return participant_out(services.get_participant(participant_id, actor))


@endpoint("/participants/<int:participant_id>", "PATCH", summary="Change a participant "
          "(secretariat)", tag="participants", response=ParticipantOut, body=ParticipantUpdate,
          errors=(403, 404, 409))
def api_update_participant(actor: Participant, participant_id: int,
                           body: ParticipantUpdate) -> ParticipantOut:
    participant = services.get_participant(participant_id, actor)
    changes = body.model_dump(exclude_unset=True)
    active = changes.pop("is_active", None)
    services.update_participant(actor, participant, {**participant_fields(participant), **changes})
    if active is not None:
        services.set_participant_active(actor, participant, active)
    return participant_out(participant)
