"""Recommendation pages and API: read a recommendation, draft its clauses."""
from __future__ import annotations

from flask import Blueprint, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from drafting.api import endpoint
from drafting.forms import Refusal, flashed, form_page, run_form
from drafting.groups.schemas import RecommendationBrief, recommendation_brief
from drafting.groups.services import get_group
from drafting.recommendations import services
from drafting.recommendations.forms import ClauseForm, ClauseTextForm, RecommendationForm
from drafting.recommendations.page import render_page
from drafting.recommendations.schemas import (
    ClauseCreate,
    ClauseMove,
    ClauseOut,
    ClausePatch,
    RecommendationOut,
    RecommendationQuery,
    RecommendationWrite,
    clause_out,
    recommendation_out,
)
from models import Clause, Participant, visible_recommendations

bp = Blueprint("recommendations", __name__)


@bp.get("/recommendations/<int:recommendation_id>")
@login_required
def show(recommendation_id: int) -> ResponseReturnValue:
    return render_page(services.get_recommendation(recommendation_id, current_user))


@bp.route("/groups/<int:group_id>/recommendations/new", methods=["GET", "POST"])
@login_required
def new(group_id: int) -> ResponseReturnValue:
    group = get_group(group_id, current_user)
    services.check_can_draft(group, current_user)
    form = RecommendationForm()
    return run_form(form, lambda: services.create_recommendation(current_user, group,
                                                                 form.command()),
                    done=lambda created: flashed(_("The draft is created. Add its clauses."),
                                                 url_for("recommendations.show",
                                                         recommendation_id=created.id)),
                    refused=Refusal(lambda _error: form_page(
                        "recommendations/form.html", form, group=group, recommendation=None)))


@bp.route("/recommendations/<int:recommendation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(recommendation_id: int) -> ResponseReturnValue:
    recommendation = services.get_recommendation(recommendation_id, current_user)
    services.check_can_manage(recommendation, current_user)
    form = RecommendationForm(obj=recommendation)
    return run_form(form, lambda: services.rename_recommendation(current_user, recommendation,
                                                                 form.command()),
                    done=lambda _none: flashed(_("The title is saved."), url_for(
                        "recommendations.show", recommendation_id=recommendation.id)),
                    refused=Refusal(lambda _error: form_page(
                        "recommendations/form.html", form, group=recommendation.group,
                        recommendation=recommendation)))


@bp.post("/recommendations/<int:recommendation_id>/withdraw")
@login_required
def withdraw(recommendation_id: int) -> ResponseReturnValue:
    recommendation = services.get_recommendation(recommendation_id, current_user)
    return run_form(None, lambda: services.withdraw_recommendation(current_user, recommendation),
                    done=lambda _none: flashed(_("The recommendation is withdrawn."), url_for(
                        "recommendations.show", recommendation_id=recommendation.id)))


@bp.post("/recommendations/<int:recommendation_id>/clauses")
@login_required
def add_clause(recommendation_id: int) -> ResponseReturnValue:
    recommendation = services.get_recommendation(recommendation_id, current_user)
    services.check_can_edit(recommendation, current_user)
    form = ClauseForm()
    return run_form(form, lambda: services.add_clause(current_user, recommendation,
                                                      form.command()),
                    done=lambda clause: flashed(_("The clause is added."), url_for(
                        "recommendations.show", recommendation_id=recommendation.id,
                        _anchor=f"clause-{clause.id}")),
                    refused=Refusal(lambda _error: render_page(recommendation, form, 400)))


@bp.route("/clauses/<int:clause_id>/edit", methods=["GET", "POST"])
@login_required
def edit_clause(clause_id: int) -> ResponseReturnValue:
    clause = services.get_clause(clause_id, current_user)
    recommendation = clause.recommendation
    services.check_can_edit(recommendation, current_user)
    form = ClauseTextForm(obj=clause)
    return run_form(form, lambda: services.update_clause(current_user, clause, form.command()),
                    done=lambda _none: flashed(_("The clause is saved."), url_for(
                        "recommendations.show", recommendation_id=recommendation.id,
                        _anchor=f"clause-{clause.id}")),
                    refused=Refusal(lambda _error: form_page(
                        "recommendations/clause_form.html", form, clause=clause,
                        recommendation=recommendation,
                        number=recommendation.display_numbers()[clause.id])))


@bp.post("/clauses/<int:clause_id>/unlock")
@login_required
def unlock_clause(clause_id: int) -> ResponseReturnValue:
    """The chair opens a clause frozen without a vote (or held for a run-off not held)."""
    clause = services.get_clause(clause_id, current_user)
    return run_form(None, lambda: services.set_clause_lock(current_user, clause, False),
                    done=lambda _none: flashed(_("The clause is open for drafting again."), url_for(
                        "recommendations.show", recommendation_id=clause.recommendation_id,
                        _anchor="votes")))


@bp.post("/clauses/<int:clause_id>/ad-referendum")
@login_required
def mark_ad_referendum(clause_id: int) -> ResponseReturnValue:
    """The chair records that the clause is agreed ad referendum."""
    clause = services.get_clause(clause_id, current_user)
    return run_form(None, lambda: services.set_ad_referendum(current_user, clause, True),
                    done=lambda _none: flashed(_("The clause is marked agreed ad referendum."),
                                               _clause_on_console(clause)))


@bp.post("/clauses/<int:clause_id>/ad-referendum/clear")
@login_required
def clear_ad_referendum(clause_id: int) -> ResponseReturnValue:
    """The chair takes the mark off (a capital did not confirm, or it was a mistake)."""
    clause = services.get_clause(clause_id, current_user)
    return run_form(None, lambda: services.set_ad_referendum(current_user, clause, False),
                    done=lambda _none: flashed(_("The clause is no longer marked agreed ad "
                                                 "referendum."), _clause_on_console(clause)))


def _clause_on_console(clause: Clause) -> str:
    return url_for("recommendations.show", recommendation_id=clause.recommendation_id,
                   _anchor=f"vote-clause-{clause.id}")


@bp.post("/clauses/<int:clause_id>/delete")
@login_required
def delete_clause(clause_id: int) -> ResponseReturnValue:
    clause = services.get_clause(clause_id, current_user)
    return run_form(None, lambda: services.delete_clause(current_user, clause),
                    done=lambda _none: flashed(
                        _("The clause is deleted. It stays in the recommendation's history."),
                        url_for("recommendations.show",
                                recommendation_id=clause.recommendation_id)))


# --- API ---------------------------------------------------------------------------------


@endpoint("/recommendations", summary="Recommendations I may read; ?group= filters",
          tag="recommendations", response=list[RecommendationBrief], query=RecommendationQuery,
          errors=(404,))
def api_list_recommendations(actor: Participant,
                             query: RecommendationQuery) -> list[RecommendationBrief]:
    group = get_group(query.group, actor) if query.group is not None else None
    return [recommendation_brief(r) for r in visible_recommendations(actor, group)]


@endpoint("/groups/<int:group_id>/recommendations", "POST", summary="Start a draft "
          "recommendation (chair or member of the group)", tag="recommendations",
          response=RecommendationOut, status=201, body=RecommendationWrite, errors=(403, 404, 409))
def api_create_recommendation(actor: Participant, group_id: int,
                              body: RecommendationWrite) -> RecommendationOut:
    group = get_group(group_id, actor)
    return recommendation_out(services.create_recommendation(actor, group, body))


@endpoint("/recommendations/<int:recommendation_id>", summary="A recommendation with its "
          "clauses in reading order", tag="recommendations", response=RecommendationOut,
          errors=(404,))
def api_get_recommendation(actor: Participant, recommendation_id: int) -> RecommendationOut:
    return recommendation_out(services.get_recommendation(recommendation_id, actor))


@endpoint("/recommendations/<int:recommendation_id>", "PATCH", summary="Rename a draft (chair "
          "or secretariat)", tag="recommendations", response=RecommendationOut,
          body=RecommendationWrite, errors=(403, 404, 409))
def api_rename_recommendation(actor: Participant, recommendation_id: int,
                              body: RecommendationWrite) -> RecommendationOut:
    recommendation = services.get_recommendation(recommendation_id, actor)
    services.rename_recommendation(actor, recommendation, body)
    return recommendation_out(recommendation)


@endpoint("/recommendations/<int:recommendation_id>/withdraw", "POST", summary="Withdraw a "
          "draft (chair or secretariat)", tag="recommendations", response=RecommendationOut,
          errors=(403, 404, 409))
def api_withdraw_recommendation(actor: Participant, recommendation_id: int) -> RecommendationOut:
    recommendation = services.get_recommendation(recommendation_id, actor)
    services.withdraw_recommendation(actor, recommendation)
    return recommendation_out(recommendation)


@endpoint("/recommendations/<int:recommendation_id>/clauses", "POST", summary="Add a clause",
          tag="recommendations", response=ClauseOut, status=201, body=ClauseCreate,
          errors=(403, 404, 409))
def api_add_clause(actor: Participant, recommendation_id: int, body: ClauseCreate) -> ClauseOut:
    recommendation = services.get_recommendation(recommendation_id, actor)
    clause = services.add_clause(actor, recommendation, body)
    return clause_out(clause, recommendation.display_numbers())


@endpoint("/clauses/<int:clause_id>", "PATCH", summary="Change a clause's wording (as a live "
          "edit, merged with what others type) or its kind", tag="recommendations",
          response=ClauseOut, body=ClausePatch, errors=(403, 404, 409))
def api_update_clause(actor: Participant, clause_id: int, body: ClausePatch) -> ClauseOut:
    clause = services.get_clause(clause_id, actor)
    services.update_clause(actor, clause, body)
    return clause_out(clause, clause.recommendation.display_numbers())


@endpoint("/clauses/<int:clause_id>/move", "POST", summary="Reorder a clause within its part",
          tag="recommendations", response=RecommendationOut, body=ClauseMove, errors=(403, 404, 409))
def api_move_clause(actor: Participant, clause_id: int, body: ClauseMove) -> RecommendationOut:
    clause = services.get_clause(clause_id, actor)
    services.move_clause(actor, clause, body)
    return recommendation_out(clause.recommendation)


@endpoint("/clauses/<int:clause_id>/restore", "POST", summary="Undo the deletion of a clause",
          tag="recommendations", response=ClauseOut, errors=(400, 403, 404, 409))
def api_restore_clause(actor: Participant, clause_id: int) -> ClauseOut:
    clause = services.get_clause(clause_id, actor, deleted=True)
    services.restore_clause(actor, clause)
    return clause_out(clause, clause.recommendation.display_numbers())


@endpoint("/clauses/<int:clause_id>/lock", "POST", summary="Freeze a clause's wording (chair)",
          tag="recommendations", response=ClauseOut, errors=(403, 404, 409))
def api_lock_clause(actor: Participant, clause_id: int) -> ClauseOut:
    clause = services.get_clause(clause_id, actor)
    services.set_clause_lock(actor, clause, True)
    return clause_out(clause, clause.recommendation.display_numbers())


@endpoint("/clauses/<int:clause_id>/unlock", "POST", summary="Open a locked clause again (chair)",
          tag="recommendations", response=ClauseOut, errors=(403, 404, 409))
def api_unlock_clause(actor: Participant, clause_id: int) -> ClauseOut:
    clause = services.get_clause(clause_id, actor)
    services.set_clause_lock(actor, clause, False)
    return clause_out(clause, clause.recommendation.display_numbers())


@endpoint("/clauses/<int:clause_id>/ad-referendum", "POST", summary="Mark a clause agreed ad "
          "referendum, subject to confirmation by capitals (chair)", tag="recommendations",
          response=ClauseOut, errors=(400, 403, 404, 409))
def api_mark_ad_referendum(actor: Participant, clause_id: int) -> ClauseOut:
    clause = services.get_clause(clause_id, actor)
    services.set_ad_referendum(actor, clause, True)
    return clause_out(clause, clause.recommendation.display_numbers())


@endpoint("/clauses/<int:clause_id>/ad-referendum", "DELETE", summary="Take the mark "
          "“agreed ad referendum” off a clause (chair)", tag="recommendations",
          response=ClauseOut, errors=(403, 404, 409))
def api_clear_ad_referendum(actor: Participant, clause_id: int) -> ClauseOut:
    clause = services.get_clause(clause_id, actor)
    services.set_ad_referendum(actor, clause, False)
    return clause_out(clause, clause.recommendation.display_numbers())


@endpoint("/clauses/<int:clause_id>", "DELETE", summary="Delete a clause (kept in history; its "
          "id is never reused)", tag="recommendations", status=204, errors=(403, 404, 409))
def api_delete_clause(actor: Participant, clause_id: int) -> None:
    services.delete_clause(actor, services.get_clause(clause_id, actor))
