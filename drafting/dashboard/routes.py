"""The signed-in participant's start page: my conferences and groups, with my role."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from drafting.conferences.services import list_conferences
from drafting.groups.services import groups_of

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    return render_template(
        "dashboard/index.html",
        conferences=list_conferences(current_user),
        memberships=groups_of(current_user),
    )
