"""Conference pages and API."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from drafting.api import endpoint
from drafting.conferences import services
from drafting.conferences.forms import ConferenceForm, RulesForm
from drafting.conferences.schemas import (
    ConferenceOut,
    ConferencePatch,
    ConferenceWrite,
    RulesIn,
    RulesOut,
    conference_fields,
    conference_out,
    rules_out,
    with_organiser_lines,
)
from drafting.forms import Refusal, flashed, form_data, form_page, run_form
from models import Participant

bp = Blueprint("conferences", __name__)


@bp.get("/conferences/<int:conference_id>")
@login_required
def show(conference_id: int) -> ResponseReturnValue:
    conference = services.get_conference(conference_id, current_user)
    return render_template("conferences/show.html", conference=conference)


@bp.route("/conferences/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    services.check_can_manage(None, current_user)
    form = ConferenceForm()
    return run_form(form, lambda: services.create_conference(current_user,
                                                             form_data(form, *form.FIELDS)),
                    done=lambda conference: flashed(
                        _("The conference is created. Now add its working groups."),
                        url_for("conferences.show", conference_id=conference.id)),
                    refused=Refusal(lambda _error: form_page("conferences/form.html", form,
                                                             conference=None)))


@bp.route("/conferences/<int:conference_id>/edit", methods=["GET", "POST"])
@login_required
def edit(conference_id: int) -> ResponseReturnValue:
    conference = services.get_conference(conference_id, current_user)
    services.check_can_manage(conference, current_user)
    form = ConferenceForm(obj=conference)
    return run_form(form, lambda: services.update_conference(current_user, conference,
                                                             form_data(form, *form.FIELDS)),
                    done=lambda _none: flashed(_("The conference is saved."), url_for(
                        "conferences.show", conference_id=conference.id)),
                    refused=Refusal(lambda _error: form_page("conferences/form.html", form,
                                                             conference=conference)))


@bp.route("/conferences/<int:conference_id>/rules", methods=["GET", "POST"])
@login_required
def rules(conference_id: int) -> ResponseReturnValue:
    """The rules of procedure: read by every participant, set by the secretariat."""
    conference = services.get_conference(conference_id, current_user)
    current = conference.rules
    form = RulesForm(data={
        "decision_rule": current.decision_rule.value,
        "fallback_rule": current.fallback_rule.value if current.fallback_rule else "",
        "quorum": current.quorum.value, "chair_votes": current.chair_votes,
        "reconsideration_rule": current.reconsideration_rule.value})

    def page(status: int = 200) -> ResponseReturnValue:
        return render_template("conferences/rules.html", conference=conference, form=form,
                               can_manage=conference.can_manage(current_user)), status

    if not form.is_submitted():
        return page()
    return run_form(form, lambda: services.set_rules(current_user, conference, form.command()),
                    check=lambda: services.check_can_manage(conference, current_user),
                    done=lambda _none: flashed(_("The rules of procedure are saved. Questions "
                                                 "already put keep the rules they were put under."),
                                               url_for("conferences.rules", conference_id=conference.id)),
                    refused=Refusal(lambda error: page(error.status if error else 400)))


# --- API ---------------------------------------------------------------------------------


@endpoint("/conferences", summary="Conferences I take part in (all, for the secretariat)",
          tag="conferences", response=list[ConferenceOut], errors=())
def api_list_conferences(actor: Participant) -> list[ConferenceOut]:
    return [conference_out(c) for c in services.list_conferences(actor)]


@endpoint("/conferences", "POST", summary="Create a conference (secretariat)", tag="conferences",
          response=ConferenceOut, status=201, body=ConferenceWrite, errors=(403,))
def api_create_conference(actor: Participant, body: ConferenceWrite) -> ConferenceOut:
    conference = services.create_conference(actor, with_organiser_lines(body.model_dump()))
    return conference_out(conference)


@endpoint("/conferences/<int:conference_id>", summary="One conference with its groups",
          tag="conferences", response=ConferenceOut, errors=(404,))
def api_get_conference(actor: Participant, conference_id: int) -> ConferenceOut:
    return conference_out(services.get_conference(conference_id, actor))


@endpoint("/conferences/<int:conference_id>/rules", summary="The conference's rules of "
          "procedure: how its working groups decide", tag="conferences", response=RulesOut,
          errors=(404,))
def api_conference_rules(actor: Participant, conference_id: int) -> RulesOut:
    return rules_out(services.get_conference(conference_id, actor).rules)


@endpoint("/conferences/<int:conference_id>/rules", "PUT", summary="Set the rules of "
          "procedure (secretariat); questions already put keep theirs", tag="conferences",
          response=RulesOut, body=RulesIn, errors=(403, 404, 409))
def api_set_conference_rules(actor: Participant, conference_id: int, body: RulesIn) -> RulesOut:
    conference = services.get_conference(conference_id, actor)
    services.set_rules(actor, conference, body)
    return rules_out(conference.rules)


@endpoint("/conferences/<int:conference_id>", "PATCH", summary="Change a conference (secretariat)",
          tag="conferences", response=ConferenceOut, body=ConferencePatch, errors=(403, 404, 409))
def api_update_conference(actor: Participant, conference_id: int,
                          body: ConferencePatch) -> ConferenceOut:
    conference = services.get_conference(conference_id, actor)
    changes = with_organiser_lines(body.model_dump(exclude_unset=True))
    services.update_conference(actor, conference, {**conference_fields(conference), **changes})
    return conference_out(conference)
