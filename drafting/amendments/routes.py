"""Amendments pages and API."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from drafting.amendments import services
from drafting.amendments.forms import AmendmentEditForm, AmendmentForm, RejectForm
from drafting.amendments.page import amendment_key
from drafting.amendments.redlines import redline
from drafting.amendments.schemas import (
    AmendmentCreate,
    AmendmentOut,
    AmendmentPatch,
    AmendmentQuery,
    AmendmentRejection,
    amendment_out,
)
from drafting.api import endpoint
from drafting.comments import panel
from drafting.forms import Refusal, flashed, form_page, run_form
from drafting.recommendations.services import get_clause, get_recommendation
from models import Amendment, AmendmentKind, Participant

bp = Blueprint("amendments", __name__)


# --- pages -------------------------------------------------------------------------------


@bp.post("/clauses/<int:clause_id>/amendments")
@login_required
def amendment_new(clause_id: int) -> ResponseReturnValue:
    clause = get_clause(clause_id, current_user)
    form = AmendmentForm()
    return run_form(form, lambda: services.propose_amendment(current_user, clause, form.command()),
                    check=lambda: services.check_can_propose(clause, current_user),
                    done=panel.answered(clause, _("Your amendment is proposed."),
                                        amendment_key),
                    refused=panel.refusal(clause, form, "new-amendment"))


def _edit_prefill(amendment: Amendment) -> dict[str, Any]:
    """The wording to start from, written against the clause's current text: the amendment's
    changes re-applied to it, or (when they conflict) its own wording, which the proposer now
    sees compared with the current text and can bring up to date."""
    current = amendment.clause.text
    lines = redline(amendment)
    if amendment.kind is AmendmentKind.REPLACE and lines.result is not None:
        return {"text": lines.result, "base_text": current, "rationale": amendment.rationale}
    return {"text": amendment.text, "base_text": current, "rationale": amendment.rationale}


@bp.route("/amendments/<int:amendment_id>/edit", methods=["GET", "POST"])
@login_required
def amendment_edit(amendment_id: int) -> ResponseReturnValue:
    amendment = services.get_amendment(amendment_id, current_user)
    clause = amendment.clause
    form = AmendmentEditForm(data={**_edit_prefill(amendment),
                                   "state": panel.known_state(request.args.get("state"))})
    done: Callable[[None], ResponseReturnValue] = panel.answered(
        clause, _("The amendment is saved."), amendment_key(amendment))
    if request.method == "POST" and panel.wants_partial():
        # The script edits in the panel: refusals come back there.
        return run_form(form, lambda: services.edit_amendment(
            current_user, amendment, form.command(
            wording=amendment.kind is not AmendmentKind.DELETE)),
            check=lambda: services.check_can_edit(amendment, current_user),
            done=done, refused=panel.refusal(clause))
    services.check_can_edit(amendment, current_user)
    recommendation = clause.recommendation
    return run_form(form, lambda: services.edit_amendment(
        current_user, amendment, form.command(
            wording=amendment.kind is not AmendmentKind.DELETE)),
        done=done, refused=Refusal(lambda _error: form_page(
            "amendments/edit.html", form, amendment=amendment, clause=clause,
            recommendation=recommendation,
            number=recommendation.display_numbers().get(clause.id, ""),
            redline=redline(amendment), state=panel.known_state(form.state.data))))


@bp.post("/amendments/<int:amendment_id>/withdraw")
@login_required
def amendment_withdraw(amendment_id: int) -> ResponseReturnValue:
    amendment = services.get_amendment(amendment_id, current_user)
    return run_form(None, lambda: services.withdraw_amendment(current_user, amendment),
                    done=panel.answered(amendment.clause, _("The amendment is withdrawn."),
                                        amendment_key(amendment)),
                    refused=panel.refusal(amendment.clause))


@bp.post("/amendments/<int:amendment_id>/sponsor")
@login_required
def amendment_sponsor(amendment_id: int) -> ResponseReturnValue:
    amendment = services.get_amendment(amendment_id, current_user)
    return run_form(None, lambda: services.set_sponsorship(current_user, amendment, True),
                    done=panel.answered(amendment.clause, _("You co-sponsor the amendment."),
                                        amendment_key(amendment)),
                    refused=panel.refusal(amendment.clause))


@bp.post("/amendments/<int:amendment_id>/unsponsor")
@login_required
def amendment_unsponsor(amendment_id: int) -> ResponseReturnValue:
    amendment = services.get_amendment(amendment_id, current_user)
    return run_form(None, lambda: services.set_sponsorship(current_user, amendment, False),
                    done=panel.answered(amendment.clause,
                                        _("You no longer co-sponsor the amendment."),
                                        amendment_key(amendment)),
                    refused=panel.refusal(amendment.clause))


@bp.post("/amendments/<int:amendment_id>/accept")
@login_required
def amendment_accept(amendment_id: int) -> ResponseReturnValue:
    amendment = services.get_amendment(amendment_id, current_user)
    clause = amendment.clause
    message = _("The amendment is accepted.")
    answered: Callable[[None], ResponseReturnValue] = panel.answered(clause, message, amendment_key(amendment))

    def done(result: None) -> ResponseReturnValue:
        if clause.deleted_at is not None and not panel.wants_partial():
            # An accepted deletion: the clause is gone, its discussion with it.
            return flashed(message, url_for("recommendations.show",
                                            recommendation_id=clause.recommendation_id))
        return answered(result)

    return run_form(None, lambda: services.accept_amendment(current_user, amendment),
                    done=done, refused=panel.refusal(clause))


@bp.post("/amendments/<int:amendment_id>/reject")
@login_required
def amendment_reject(amendment_id: int) -> ResponseReturnValue:
    amendment = services.get_amendment(amendment_id, current_user)
    form = RejectForm()
    return run_form(form, lambda: services.reject_amendment(current_user, amendment,
                                                            form.command()),
        check=lambda: services.check_can_decide(amendment, current_user),
        done=panel.answered(amendment.clause, _("The amendment is rejected."),
                            amendment_key(amendment)),
        refused=panel.refusal(amendment.clause, form, f"reject-{amendment.id}"))


@bp.post("/amendments/<int:amendment_id>/put-to-vote")
@login_required
def amendment_put_to_vote(amendment_id: int) -> ResponseReturnValue:
    amendment = services.get_amendment(amendment_id, current_user)
    return run_form(None, lambda: services.put_to_vote(current_user, amendment),
                    done=panel.answered(amendment.clause,
                                        _("The amendment will be put to a vote."),
                                        amendment_key(amendment)),
                    refused=panel.refusal(amendment.clause))


# --- API ---------------------------------------------------------------------------------


@endpoint("/clauses/<int:clause_id>/amendments", summary="A clause's amendments in the order "
          "proposed, each with its redline against the current text; ?state=open|all",
          tag="amendments", response=list[AmendmentOut], query=AmendmentQuery, errors=(404,))
def api_clause_amendments(actor: Participant, clause_id: int,
                          query: AmendmentQuery) -> list[AmendmentOut]:
    clause = get_clause(clause_id, actor)
    return [amendment_out(a) for a in
            services.clause_amendments(clause, open_only=query.state == "open")]


@endpoint("/recommendations/<int:recommendation_id>/amendments", summary="The amendments of "
          "every live clause, clause by clause in reading order; ?state=open|all",
          tag="amendments", response=list[AmendmentOut], query=AmendmentQuery, errors=(404,))
def api_recommendation_amendments(actor: Participant, recommendation_id: int,
                                  query: AmendmentQuery) -> list[AmendmentOut]:
    recommendation = get_recommendation(recommendation_id, actor)
    by_clause = services.recommendation_amendments(recommendation,
                                                   open_only=query.state == "open")
    return [amendment_out(a) for amendments in by_clause.values() for a in amendments]


@endpoint("/clauses/<int:clause_id>/amendments", "POST", summary="Propose an amendment: a new "
          "wording, a new clause after this one, or the clause's deletion (chair or member)",
          tag="amendments", response=AmendmentOut, status=201, body=AmendmentCreate,
          errors=(403, 404, 409))
def api_propose_amendment(actor: Participant, clause_id: int,
                          body: AmendmentCreate) -> AmendmentOut:
    clause = get_clause(clause_id, actor)
    return amendment_out(services.propose_amendment(actor, clause, body))


@endpoint("/amendments/<int:amendment_id>", summary="An amendment with its sponsors and its "
          "redline", tag="amendments", response=AmendmentOut, errors=(404,))
def api_get_amendment(actor: Participant, amendment_id: int) -> AmendmentOut:
    return amendment_out(services.get_amendment(amendment_id, actor))


@endpoint("/amendments/<int:amendment_id>", "PATCH", summary="Change the wording or rationale "
          "of one's own amendment until it is dealt with", tag="amendments",
          response=AmendmentOut, body=AmendmentPatch, errors=(403, 404, 409))
def api_edit_amendment(actor: Participant, amendment_id: int,
                       body: AmendmentPatch) -> AmendmentOut:
    amendment = services.get_amendment(amendment_id, actor)
    services.edit_amendment(actor, amendment, body)
    return amendment_out(amendment)


@endpoint("/amendments/<int:amendment_id>/withdraw", "POST", summary="Withdraw one's own "
          "amendment", tag="amendments", response=AmendmentOut, errors=(403, 404, 409))
def api_withdraw_amendment(actor: Participant, amendment_id: int) -> AmendmentOut:
    amendment = services.get_amendment(amendment_id, actor)
    services.withdraw_amendment(actor, amendment)
    return amendment_out(amendment)


@endpoint("/amendments/<int:amendment_id>/sponsors/me", "PUT", summary="Co-sponsor an "
          "amendment (another chair or member of the group)", tag="amendments",
          response=AmendmentOut, errors=(400, 403, 404, 409))
def api_sponsor_amendment(actor: Participant, amendment_id: int) -> AmendmentOut:
    amendment = services.get_amendment(amendment_id, actor)
    services.set_sponsorship(actor, amendment, True)
    return amendment_out(amendment)


@endpoint("/amendments/<int:amendment_id>/sponsors/me", "DELETE", summary="Stop "
          "co-sponsoring an amendment", tag="amendments", response=AmendmentOut,
          errors=(400, 403, 404, 409))
def api_unsponsor_amendment(actor: Participant, amendment_id: int) -> AmendmentOut:
    amendment = services.get_amendment(amendment_id, actor)
    services.set_sponsorship(actor, amendment, False)
    return amendment_out(amendment)


@endpoint("/amendments/<int:amendment_id>/accept", "POST", summary="Accept an amendment "
          "(chair): its wording becomes the clause's, as an edit attributed to the proposer",
          tag="amendments", response=AmendmentOut, errors=(403, 404, 409))
def api_accept_amendment(actor: Participant, amendment_id: int) -> AmendmentOut:
    amendment = services.get_amendment(amendment_id, actor)
    services.accept_amendment(actor, amendment)
    return amendment_out(amendment)


@endpoint("/amendments/<int:amendment_id>/reject", "POST", summary="Reject an amendment, "
          "saying why (chair)", tag="amendments", response=AmendmentOut,
          body=AmendmentRejection, errors=(403, 404, 409))
def api_reject_amendment(actor: Participant, amendment_id: int,
                         body: AmendmentRejection) -> AmendmentOut:
    amendment = services.get_amendment(amendment_id, actor)
    services.reject_amendment(actor, amendment, body)
    return amendment_out(amendment)


@endpoint("/amendments/<int:amendment_id>/put-to-vote", "POST", summary="Mark an amendment "
          "'to be voted': the group will decide (chair)", tag="amendments",
          response=AmendmentOut, errors=(403, 404, 409))
def api_put_amendment_to_vote(actor: Participant, amendment_id: int) -> AmendmentOut:
    amendment = services.get_amendment(amendment_id, actor)
    services.put_to_vote(actor, amendment)
    return amendment_out(amendment)
