"""Clause history: the page and the API."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from drafting.api import endpoint
from drafting.editing.diff import word_diff
from drafting.forms import as_id, flashed, run_form
from drafting.history import services as history
from drafting.history.schemas import (
    DiffQuery,
    HistoryOut,
    HistoryQuery,
    PieceOut,
    RestoreWording,
    TextAtOut,
    session_out,
)
from drafting.recommendations.schemas import ClauseOut, clause_out
from drafting.recommendations.services import get_clause
from models import Participant

bp = Blueprint("history", __name__)


@bp.get("/clauses/<int:clause_id>/history")
@login_required
def show_history(clause_id: int) -> ResponseReturnValue:
    clause = get_clause(clause_id, current_user)
    sessions = history.editing_sessions(clause)
    chosen = as_id(request.args.get("at"))
    diff = None
    if chosen is not None:
        diff = word_diff(history.text_at(clause, chosen), clause.text)
    recommendation = clause.recommendation
    return render_template(
        "history/clause.html", clause=clause, recommendation=recommendation,
        number=recommendation.display_numbers().get(clause.id, ""), sessions=sessions,
        chosen=chosen, diff=diff, can_edit=clause.can_edit(current_user),
    )


@bp.post("/clauses/<int:clause_id>/history/restore")
@login_required
def restore_wording(clause_id: int) -> ResponseReturnValue:
    clause = get_clause(clause_id, current_user)
    return run_form(None, lambda: history.restore_wording(current_user, clause,
                                                          as_id(request.args.get("at"))),
                    done=lambda _none: flashed(
                        _("The earlier wording is the current text again. The history keeps both."),
                        url_for("history.show_history", clause_id=clause.id)))


# --- API ---------------------------------------------------------------------------------


@endpoint("/clauses/<int:clause_id>/history", summary="Who changed a clause and when, in "
          "editing sessions (newest first)", tag="history", response=HistoryOut, errors=(404,))
def api_history(actor: Participant, clause_id: int) -> HistoryOut:
    clause = get_clause(clause_id, actor)
    return HistoryOut(clause_id=clause.id,
                      sessions=[session_out(s) for s in history.editing_sessions(clause)])


@endpoint("/clauses/<int:clause_id>/text", summary="A clause's text at a point of its history",
          tag="history", response=TextAtOut, query=HistoryQuery, errors=(404,))
def api_text_at(actor: Participant, clause_id: int, query: HistoryQuery) -> TextAtOut:
    clause = get_clause(clause_id, actor)
    return TextAtOut(clause_id=clause.id, at=query.at, text=history.text_at(clause, query.at))


@endpoint("/clauses/<int:clause_id>/diff", summary="Word-level differences between two points "
          "(or a point and the current text)", tag="history", response=list[PieceOut],
          query=DiffQuery, errors=(404,))
def api_diff(actor: Participant, clause_id: int, query: DiffQuery) -> list[PieceOut]:
    clause = get_clause(clause_id, actor)
    return [PieceOut(**piece) for piece in history.compare(clause, query.from_, query.to)]


@endpoint("/clauses/<int:clause_id>/restore-wording", "POST", summary="Make an earlier "
          "wording current again (a new edit; the history keeps both)", tag="history",
          response=ClauseOut, body=RestoreWording, errors=(403, 404, 409))
def api_restore_wording(actor: Participant, clause_id: int, body: RestoreWording) -> ClauseOut:
    clause = get_clause(clause_id, actor)
    history.restore_wording(actor, clause, body.at)
    return clause_out(clause, clause.recommendation.display_numbers())
