"""Vote pages (the vote, the chair's console, the projector, the record) and API."""
from __future__ import annotations

import json

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from drafting.api import endpoint
from drafting.errors import DomainError
from drafting.forms import Refusal, flashed, run_form
from drafting.recommendations.page import render_page
from drafting.recommendations.services import get_recommendation
from drafting.votes import objections, pages, records, services, writer
from drafting.votes.forms import BallotForm, ObjectionForm, OpenVoteForm, StatementForm
from drafting.votes.schemas import (
    BallotIn,
    BallotOut,
    MyBallot,
    ObjectionIn,
    StatementIn,
    StatementOut,
    VerificationOut,
    VoteOpen,
    VoteOut,
    statement_out,
    vote_out,
)
from models import Participant, Vote, db

bp = Blueprint("votes", __name__)


# --- pages -------------------------------------------------------------------------------
# Plain forms, so that voting works without scripts. A refused form comes back on its page
# with the message and the status of the refusal (400 what was typed, 409 the state of the
# vote); "not allowed" and "not found" are the friendly error pages.

#: Where a secret ballot's receipt waits, in the voter's own session, to be shown once.
RECEIPT_KEY = "vote_receipt"


def _render_vote(vote: Vote, form: BallotForm | None = None, error: DomainError | None = None,
                 status: int = 200) -> ResponseReturnValue:
    receipt = None
    kept = session.get(RECEIPT_KEY)
    if isinstance(kept, dict) and kept.get("vote") == vote.id and form is None:
        receipt = str(session.pop(RECEIPT_KEY).get("receipt") or "")
    return render_template("votes/show.html", **pages.vote_context(
        vote, current_user, form, error, receipt)), status


def _vote_page_refusal(vote_id: int, form: BallotForm | None) -> Refusal:
    """A refused ballot or objection comes back on the question's page, the message above
    it, with the refusal's status (400 what was typed, 409 the state of the question)."""
    return Refusal(lambda error: _render_vote(services.get_vote(vote_id, current_user), form, error,
                                              error.status if error else 400), message_above=True)


@bp.get("/votes/<int:vote_id>")
@login_required
def show(vote_id: int) -> ResponseReturnValue:
    vote = services.get_vote(vote_id, current_user)
    if services.mark_present(vote, current_user):
        db.session.commit()
    return _render_vote(vote)


@bp.post("/votes/<int:vote_id>/objection")
@login_required
def object_to(vote_id: int) -> ResponseReturnValue:
    vote = services.get_vote(vote_id, current_user)
    form = ObjectionForm()
    return run_form(form, lambda: objections.object_to(current_user, vote, form.command()),
                    check=lambda: objections.check_can_object(vote, current_user),
                    done=lambda _vote: flashed(_("Your objection is recorded, with your name."),
                                               url_for("votes.show", vote_id=vote.id)),
                    refused=_vote_page_refusal(vote_id, None))


@bp.post("/votes/<int:vote_id>/objection/withdraw")
@login_required
def withdraw_objection(vote_id: int) -> ResponseReturnValue:
    vote = services.get_vote(vote_id, current_user)
    return run_form(None, lambda: objections.withdraw_objection(current_user, vote),
                    done=lambda _vote: flashed(_("Your objection is withdrawn."),
                                               url_for("votes.show", vote_id=vote.id)))


@bp.post("/votes/<int:vote_id>/ballot")
@login_required
def cast(vote_id: int) -> ResponseReturnValue:
    """Cast through the process's ballots' writer (``drafting.votes.writer``), which also
    finds the vote and checks that the voter may see it, with the ballots that arrive
    together."""
    form = BallotForm()

    def counted(done: writer.Counted) -> ResponseReturnValue:
        if done.receipt:
            session[RECEIPT_KEY] = {"vote": vote_id, "receipt": done.receipt}
            message = (_("Your secret ballot is changed.") if done.changed
                       else _("Your secret ballot is counted."))
        else:
            message = _("Your ballot is changed.") if done.changed else _("Your ballot is counted.")
        return flashed(message, url_for("votes.show", vote_id=vote_id))

    return run_form(form, lambda: writer.submit(current_user, vote_id, form.command()),
                    done=counted, refused=_vote_page_refusal(vote_id, form))


@bp.post("/votes/<int:vote_id>/close")
@login_required
def close(vote_id: int) -> ResponseReturnValue:
    vote = services.get_vote(vote_id, current_user)
    return run_form(None, lambda: services.close_vote(current_user, vote),
                    done=lambda decision: flashed(pages.closed_message(vote, decision),
                                                  url_for("votes.show", vote_id=vote.id)))


@bp.post("/votes/<int:vote_id>/cancel")
@login_required
def cancel(vote_id: int) -> ResponseReturnValue:
    vote = services.get_vote(vote_id, current_user)
    return run_form(None, lambda: services.cancel_vote(current_user, vote),
                    done=lambda _none: flashed(_("The vote is cancelled: nothing was decided."),
                                               url_for("votes.show", vote_id=vote.id)))


@bp.get("/votes/<int:vote_id>/record")
@login_required
def record(vote_id: int) -> ResponseReturnValue:
    vote = services.get_vote(vote_id, current_user)
    return render_template("votes/record.html", **pages.vote_context(vote, current_user),
                           **pages.verification_context(vote))


@bp.get("/votes/<int:vote_id>/projector")
@login_required
def projector(vote_id: int) -> ResponseReturnValue:
    vote = services.get_vote(vote_id, current_user)
    return render_template("votes/projector.html", **pages.vote_context(vote, current_user))


@bp.get("/recommendations/<int:recommendation_id>/votes")
@login_required
def console(recommendation_id: int) -> ResponseReturnValue:
    """The console alone (``?partial=1``), for the script that refreshes it on vote events;
    otherwise the recommendation page, where it belongs."""
    recommendation = get_recommendation(recommendation_id, current_user)
    if request.args.get("partial") == "1":
        return render_template("votes/_console.html",
                               console=pages.build_console(recommendation, current_user))
    return redirect(url_for("recommendations.show", recommendation_id=recommendation.id,
                            _anchor="votes"))


def _console_refusal(recommendation_id: int, form: FlaskForm, key: str) -> Refusal:
    """A refused form of the console comes back on the recommendation page, under ``key``
    (drafting/votes/pages.py), with the message above it and the refusal's status."""
    return Refusal(lambda error: render_page(
        get_recommendation(recommendation_id, current_user),
        status=error.status if error else 400, vote_forms={key: form}, vote_error=error),
        message_above=True)


def _open_key(form: OpenVoteForm) -> str:
    """Which of the console's forms was sent, to show it again with what was typed."""
    if form.subject.data == "recommendation":
        return "whole"
    if form.subject.data == "reconsider":
        return "reconsider"
    if form.clause_id.data and not form.runoff_of.data:
        return f"clause-{form.clause_id.data}"
    return "runoff"


@bp.post("/recommendations/<int:recommendation_id>/votes")
@login_required
def open_vote(recommendation_id: int) -> ResponseReturnValue:
    recommendation = get_recommendation(recommendation_id, current_user)
    form = OpenVoteForm()
    services.check_can_run(recommendation, current_user, reconsider=(
        form.subject.data == "reconsider" and not form.clause_id.data))
    return run_form(form, lambda: services.open_vote(current_user, recommendation,
                                                     form.command()),
                    done=lambda vote: flashed(_("The question is put to the group.") if vote.by_consensus
                                              else _("The vote is open."),
                                              url_for("votes.show", vote_id=vote.id)),
                    refused=_console_refusal(recommendation_id, form, _open_key(form)))


@bp.post("/recommendations/<int:recommendation_id>/statements")
@login_required
def add_statement(recommendation_id: int) -> ResponseReturnValue:
    recommendation = get_recommendation(recommendation_id, current_user)
    form = StatementForm()
    return run_form(form, lambda: services.add_statement(current_user, recommendation,
                                                         form.command()),
                    check=lambda: services.check_can_state(recommendation, current_user),
                    done=lambda statement: flashed(_("Your statement is attached."), url_for(
                        "recommendations.show", recommendation_id=recommendation.id,
                        _anchor=f"statement-{statement.id}")),
                    refused=_console_refusal(recommendation_id, form, "statement"))


# --- API ---------------------------------------------------------------------------------


@endpoint("/recommendations/<int:recommendation_id>/votes", summary="The votes put on a "
          "recommendation, newest first", tag="votes", response=list[VoteOut], errors=(404,))
def api_recommendation_votes(actor: Participant, recommendation_id: int) -> list[VoteOut]:
    recommendation = get_recommendation(recommendation_id, actor)
    return [vote_out(v) for v in services.recommendation_votes(recommendation)]


@endpoint("/recommendations/<int:recommendation_id>/votes", "POST", summary="Open a vote "
          "(chair): a clause's wording, a choice of wordings, an amendment, the recommendation "
          "as a whole, or a run-off; a clause voted on is locked until the vote ends",
          tag="votes", response=VoteOut, status=201, body=VoteOpen, errors=(403, 404, 409))
def api_open_vote(actor: Participant, recommendation_id: int, body: VoteOpen) -> VoteOut:
    recommendation = get_recommendation(recommendation_id, actor)
    return vote_out(services.open_vote(actor, recommendation, body))


@endpoint("/votes/<int:vote_id>", summary="A vote: its options, turnout, and after the close "
          "its result (with the roll call, unless it was secret)", tag="votes",
          response=VoteOut, errors=(404,))
def api_get_vote(actor: Participant, vote_id: int) -> VoteOut:
    vote = services.get_vote(vote_id, actor)
    services.mark_present(vote, actor)
    return vote_out(vote)


@endpoint("/votes/<int:vote_id>/presence", "POST", summary="The open question has reached "
          "me (the page shows it): counted as present for a consensus or a silence procedure",
          tag="votes", response=VoteOut, errors=(404, 409))
def api_mark_present(actor: Participant, vote_id: int) -> VoteOut:
    vote = services.get_vote(vote_id, actor)
    services.report_presence(vote, actor)
    return vote_out(vote)


@endpoint("/votes/<int:vote_id>/objection", "POST", summary="Object, by name, to a consensus "
          "sought (a reason is optional); under a silence procedure the objection ends it",
          tag="votes", response=VoteOut, body=ObjectionIn, errors=(403, 404, 409))
def api_object(actor: Participant, vote_id: int, body: ObjectionIn) -> VoteOut:
    vote = services.get_vote(vote_id, actor)
    return vote_out(objections.object_to(actor, vote, body))


@endpoint("/votes/<int:vote_id>/objection", "DELETE", summary="Withdraw one's objection "
          "while the chair has not declared the result", tag="votes", response=VoteOut,
          errors=(403, 404, 409))
def api_withdraw_objection(actor: Participant, vote_id: int) -> VoteOut:
    vote = services.get_vote(vote_id, actor)
    return vote_out(objections.withdraw_objection(actor, vote))


@endpoint("/votes/<int:vote_id>/ballot", "POST", summary="Cast or change one's ballot until "
          "the close; a secret ballot answers with a receipt, needed to change it",
          tag="votes", response=BallotOut, body=BallotIn, errors=(403, 404, 409))
def api_cast_ballot(actor: Participant, vote_id: int, body: BallotIn) -> BallotOut:
    counted = writer.submit(actor, vote_id, body, with_vote=True)
    assert counted.vote is not None
    return BallotOut(vote=counted.vote, changed=counted.changed, receipt=counted.receipt)


@endpoint("/votes/<int:vote_id>/ballot", summary="Whether one has voted, and in a roll-call "
          "vote what one chose", tag="votes", response=MyBallot, errors=(404,))
def api_my_ballot(actor: Participant, vote_id: int) -> MyBallot:
    vote = services.get_vote(vote_id, actor)
    ballot = services.own_choice(vote, actor)
    return MyBallot(voted=services.has_voted(vote, actor),
                    option_id=ballot.option_id if ballot else None)


@endpoint("/votes/<int:vote_id>/close", "POST", summary="Close a vote, or declare the "
          "result of a consensus sought (chair): the result is recorded, chained to the "
          "conference's previous record, and applied to the text",
          tag="votes", response=VoteOut, errors=(403, 404, 409))
def api_close_vote(actor: Participant, vote_id: int) -> VoteOut:
    vote = services.get_vote(vote_id, actor)
    services.close_vote(actor, vote)
    return vote_out(vote)


@endpoint("/votes/<int:vote_id>/cancel", "POST", summary="Call a vote off (chair): nothing is "
          "decided and the clause it locked opens again", tag="votes", response=VoteOut,
          errors=(403, 404, 409))
def api_cancel_vote(actor: Participant, vote_id: int) -> VoteOut:
    vote = services.get_vote(vote_id, actor)
    services.cancel_vote(actor, vote)
    return vote_out(vote)


@endpoint("/votes/<int:vote_id>/verify", summary="Recompute a closed vote's result, counts and "
          "hashes from the database and compare them with its record", tag="votes",
          response=VerificationOut, errors=(404, 409))
def api_verify_vote(actor: Participant, vote_id: int) -> VerificationOut:
    vote = services.get_vote(vote_id, actor)
    verification = records.verify_vote(vote)
    return VerificationOut(ok=verification.ok, checks=verification.checks,
                           record=json.loads(vote.record or "{}"))


@endpoint("/recommendations/<int:recommendation_id>/statements", summary="Interpretative "
          "statements and reservations on an adopted recommendation and its clauses",
          tag="votes", response=list[StatementOut], errors=(404,))
def api_statements(actor: Participant, recommendation_id: int) -> list[StatementOut]:
    recommendation = get_recommendation(recommendation_id, actor)
    return [statement_out(s) for s in services.statements_of(recommendation)]


@endpoint("/recommendations/<int:recommendation_id>/statements", "POST", summary="Attach an "
          "interpretative statement or a reservation to an adopted clause (clause_id) or to "
          "the adopted recommendation", tag="votes", response=StatementOut, status=201,
          body=StatementIn, errors=(403, 404, 409))
def api_add_statement(actor: Participant, recommendation_id: int,
                      body: StatementIn) -> StatementOut:
    recommendation = get_recommendation(recommendation_id, actor)
    return statement_out(services.add_statement(actor, recommendation, body))
