"""Delegation pages and API: the conference's delegations and its voting unit, one delegation
with its members, its head and designated voter. Everyone who sees the conference sees
them; the secretariat changes them."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields import SelectChoice

from drafting.api import endpoint
from drafting.conferences.services import get_conference
from drafting.delegations import services
from drafting.delegations.forms import (
    DelegationEditForm,
    DelegationForm,
    SeatForm,
    VotingUnitForm,
)
from drafting.delegations.schemas import (
    DelegationOut,
    DelegationPatch,
    DelegationWrite,
    SeatIn,
    VotingUnitIn,
    VotingUnitOut,
    delegation_out,
)
from drafting.errors import DomainError
from drafting.forms import Refusal, as_id, flashed, run_form
from drafting.services import load
from models import Conference, Delegation, Participant, delegation_of

bp = Blueprint("delegations", __name__)


def _render_index(conference: Conference, *, new_form: DelegationForm | None = None,
                  unit_form: VotingUnitForm | None = None,
                  error: DomainError | None = None) -> ResponseReturnValue:
    manage = conference.can_manage(current_user)
    return render_template(
        "delegations/index.html", conference=conference,
        delegations=services.list_delegations(conference), can_manage=manage,
        new_form=new_form or DelegationForm(formdata=None),
        unit_form=unit_form or VotingUnitForm(formdata=None,
                                              data={"voting_unit": conference.voting_unit.value}),
        unseated=services.unseated_members(conference) if manage else [],
    ), (error.status if error is not None
        else 400 if (new_form and new_form.errors) or (unit_form and unit_form.errors) else 200)


@bp.get("/conferences/<int:conference_id>/delegations")
@login_required
def index(conference_id: int) -> ResponseReturnValue:
    return _render_index(get_conference(conference_id, current_user))


@bp.post("/conferences/<int:conference_id>/delegations")
@login_required
def create(conference_id: int) -> ResponseReturnValue:
    conference = get_conference(conference_id, current_user)
    form = DelegationForm()
    return run_form(form, lambda: services.create_delegation(current_user, conference, form.command()),
                    check=lambda: services.check_can_manage(conference, current_user),
                    done=lambda delegation: flashed(
                        _("The delegation of %(name)s is created. Now seat its members.",
                          name=delegation.name),
                        url_for("delegations.show", conference_id=conference.id,
                                delegation_id=delegation.id)),
                    refused=Refusal(lambda error: _render_index(conference, new_form=form,
                                                                error=error)))


@bp.post("/conferences/<int:conference_id>/voting-unit")
@login_required
def voting_unit(conference_id: int) -> ResponseReturnValue:
    conference = get_conference(conference_id, current_user)
    form = VotingUnitForm()
    return run_form(form, lambda: services.set_voting_unit(current_user, conference, form.command()),
                    check=lambda: services.check_can_manage(conference, current_user),
                    done=lambda _none: flashed(_("Who casts the ballots is saved: votes opened "
                                                 "from now on follow it."),
                                               url_for("delegations.index", conference_id=conference.id)),
                    refused=Refusal(lambda error: _render_index(conference, unit_form=form,
                                                                error=error)))


def _render_delegation(conference: Conference, delegation: Delegation, *,
                       edit_form: DelegationEditForm | None = None,
                       seat_form: SeatForm | None = None, status: int = 200) -> ResponseReturnValue:
    manage = conference.can_manage(current_user)
    members = sorted((seat.participant for seat in delegation.seats), key=lambda p: p.name)
    form = edit_form or DelegationEditForm(formdata=None, data={
        "name": delegation.name, "kind": delegation.kind.value, "sort_key": delegation.sort_key,
        "head_id": str(delegation.head_id or ""), "voter_id": str(delegation.voter_id or "")})
    nobody = SelectChoice("", _("Nobody"))
    form.head_id.choices = [nobody, *(SelectChoice(str(p.id), p.name) for p in members)]
    form.voter_id.choices = [nobody, *(SelectChoice(str(p.id), p.name) for p in members)]
    seat = seat_form or SeatForm(formdata=None)
    seatable = services.seated_participants(conference) if manage else []
    seat.participant_id.choices = [
        SelectChoice(str(p.id), _("%(name)s (now: %(delegation)s)", name=p.name,
                                  delegation=seated.name) if seated else p.name)
        for p, seated in seatable if seated is None or seated.id != delegation.id]
    return render_template(
        "delegations/show.html", conference=conference, delegation=delegation, members=members,
        can_manage=manage, edit_form=form, seat_form=seat,
        deletable=manage and not services.is_used(delegation)), status


def _delegation(conference_id: int, delegation_id: int) -> tuple[Conference, Delegation]:
    conference = get_conference(conference_id, current_user)
    return conference, services.get_delegation(conference, delegation_id)


@bp.get("/conferences/<int:conference_id>/delegations/<int:delegation_id>")
@login_required
def show(conference_id: int, delegation_id: int) -> ResponseReturnValue:
    return _render_delegation(*_delegation(conference_id, delegation_id))


@bp.post("/conferences/<int:conference_id>/delegations/<int:delegation_id>")
@login_required
def edit(conference_id: int, delegation_id: int) -> ResponseReturnValue:
    conference, delegation = _delegation(conference_id, delegation_id)
    form = DelegationEditForm()
    return run_form(form, lambda: services.update_delegation(current_user, delegation, form.command()),
                    check=lambda: services.check_can_manage(conference, current_user),
                    done=lambda _none: flashed(_("The delegation of %(name)s is saved.",
                                                 name=delegation.name), _here(delegation)),
                    refused=Refusal(lambda error: _render_delegation(
                        conference, delegation, edit_form=form, status=error.status if error else 400)))


def _here(delegation: Delegation) -> str:
    return url_for("delegations.show", conference_id=delegation.conference_id,
                   delegation_id=delegation.id)


@bp.post("/conferences/<int:conference_id>/delegations/<int:delegation_id>/delete")
@login_required
def delete(conference_id: int, delegation_id: int) -> ResponseReturnValue:
    conference, delegation = _delegation(conference_id, delegation_id)
    name = delegation.name
    return run_form(None, lambda: services.delete_delegation(current_user, delegation),
                    done=lambda _none: flashed(_("The delegation of %(name)s is deleted.", name=name),
                                               url_for("delegations.index", conference_id=conference.id)))


@bp.post("/conferences/<int:conference_id>/delegations/<int:delegation_id>/seats")
@login_required
def seat(conference_id: int, delegation_id: int) -> ResponseReturnValue:
    conference, delegation = _delegation(conference_id, delegation_id)
    form = SeatForm()
    return run_form(form, lambda: services.seat_participant(
        current_user, conference, load(Participant, as_id(form.participant_id.data)),
        form.command(delegation.id)),
        check=lambda: services.check_can_manage(conference, current_user),
        done=lambda _delegation: flashed(_("The participant now sits in the delegation of "
                                           "%(name)s.", name=delegation.name), _here(delegation)),
        refused=Refusal(lambda error: _render_delegation(conference, delegation, seat_form=form,
                                                         status=error.status if error else 400)))


@bp.post("/conferences/<int:conference_id>/seats/<int:participant_id>/remove")
@login_required
def unseat(conference_id: int, participant_id: int) -> ResponseReturnValue:
    conference = get_conference(conference_id, current_user)
    services.check_can_manage(conference, current_user)
    participant = load(Participant, participant_id)
    delegation = delegation_of(conference.id, participant.id)
    return run_form(None, lambda: services.unseat_participant(current_user, conference, participant),
                    done=lambda _none: flashed(
                        _("%(name)s no longer sits in a delegation of this conference.",
                          name=participant.name),
                        _here(delegation) if delegation else url_for(
                            "delegations.index", conference_id=conference.id)))


# --- API ---------------------------------------------------------------------------------


@endpoint("/conferences/<int:conference_id>/delegations", summary="The conference's "
          "delegations, in alphabetical order", tag="delegations", response=list[DelegationOut],
          errors=(404,))
def api_list_delegations(actor: Participant, conference_id: int) -> list[DelegationOut]:
    conference = get_conference(conference_id, actor)
    return [delegation_out(d) for d in services.list_delegations(conference)]


@endpoint("/conferences/<int:conference_id>/delegations", "POST", summary="Create a delegation "
          "(secretariat)", tag="delegations", response=DelegationOut, status=201,
          body=DelegationWrite, errors=(403, 404, 409))
def api_create_delegation(actor: Participant, conference_id: int,
                          body: DelegationWrite) -> DelegationOut:
    conference = get_conference(conference_id, actor)
    return delegation_out(services.create_delegation(actor, conference, body))


@endpoint("/conferences/<int:conference_id>/delegations/<int:delegation_id>",
          summary="One delegation with its members", tag="delegations", response=DelegationOut,
          errors=(404,))
def api_get_delegation(actor: Participant, conference_id: int, delegation_id: int) -> DelegationOut:
    conference = get_conference(conference_id, actor)
    return delegation_out(services.get_delegation(conference, delegation_id))


@endpoint("/conferences/<int:conference_id>/delegations/<int:delegation_id>", "PATCH",
          summary="Rename a delegation, change its kind or sort key, name its head or "
          "designated voter (secretariat)", tag="delegations", response=DelegationOut,
          body=DelegationPatch, errors=(403, 404, 409))
def api_update_delegation(actor: Participant, conference_id: int, delegation_id: int,
                          body: DelegationPatch) -> DelegationOut:
    conference = get_conference(conference_id, actor)
    delegation = services.get_delegation(conference, delegation_id)
    services.update_delegation(actor, delegation, body)
    return delegation_out(delegation)


@endpoint("/conferences/<int:conference_id>/delegations/<int:delegation_id>", "DELETE",
          summary="Delete a delegation nobody uses (secretariat)", tag="delegations", status=204,
          errors=(403, 404, 409))
def api_delete_delegation(actor: Participant, conference_id: int, delegation_id: int) -> None:
    conference = get_conference(conference_id, actor)
    services.delete_delegation(actor, services.get_delegation(conference, delegation_id))


@endpoint("/conferences/<int:conference_id>/seats/<int:participant_id>", "PUT",
          summary="Seat a participant in a delegation of the conference, moving them from "
          "any other (secretariat)", tag="delegations", response=DelegationOut, body=SeatIn,
          errors=(403, 404, 409))
def api_seat_participant(actor: Participant, conference_id: int, participant_id: int,
                         body: SeatIn) -> DelegationOut:
    conference = get_conference(conference_id, actor)
    services.check_can_manage(conference, actor)
    participant = load(Participant, participant_id)
    return delegation_out(services.seat_participant(actor, conference, participant, body))


@endpoint("/conferences/<int:conference_id>/seats/<int:participant_id>", "DELETE",
          summary="Take a participant out of their delegation (secretariat)", tag="delegations",
          status=204, errors=(403, 404, 409))
def api_unseat_participant(actor: Participant, conference_id: int, participant_id: int) -> None:
    conference = get_conference(conference_id, actor)
    services.check_can_manage(conference, actor)
    services.unseat_participant(actor, conference, load(Participant, participant_id))


@endpoint("/conferences/<int:conference_id>/voting-unit", "PUT", summary="Who casts the "
          "ballots of the conference's votes: each person, or each delegation (secretariat)",
          tag="delegations", response=VotingUnitOut, body=VotingUnitIn, errors=(403, 404, 409))
def api_set_voting_unit(actor: Participant, conference_id: int, body: VotingUnitIn) -> VotingUnitOut:
    conference = get_conference(conference_id, actor)
    services.set_voting_unit(actor, conference, body)
    return VotingUnitOut(voting_unit=conference.voting_unit)
