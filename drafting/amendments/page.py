"""What amendments add to the pages of the capabilities below them: to the recommendation
page, each clause's open amendments with their redlines against its current wording
(``drafting.recommendations.page``); to a clause's discussion panel, its amendments, their
redlines and the forms to propose and reject them (``drafting.comments.panel``)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm

from drafting.amendments.forms import AmendmentForm, RejectForm
from drafting.amendments.redlines import redline
from drafting.amendments.services import (
    check_can_propose,
    clause_amendments,
    recommendation_amendments,
)
from drafting.comments.panel import allowed, keyed_form
from models import Amendment, Clause, Participant, Recommendation


def amendment_key(amendment: Amendment) -> str:
    """The amendment's place in the discussion panel (its element's id)."""
    return f"amendment-{amendment.id}"


def recommendation_part(recommendation: Recommendation, _viewer: Participant,
                        _state: Mapping[str, Any]) -> dict[str, Any]:
    open_amendments = recommendation_amendments(recommendation, open_only=True)
    return {
        "open_amendments": open_amendments,
        "redlines": {amendment.id: redline(amendment)
                     for amendments in open_amendments.values() for amendment in amendments},
    }


def panel_part(clause: Clause, viewer: Participant, state: str,
               forms: Mapping[str, FlaskForm]) -> dict[str, Any]:
    all_amendments = clause_amendments(clause)
    new_amendment = forms.get("new-amendment") or AmendmentForm(
        formdata=None, data={"kind": "replace", "text": clause.text, "base_text": clause.text})
    new_amendment.state.data = state
    return {
        "open_amendments": [a for a in all_amendments if a.is_open],
        "closed_amendments": [a for a in all_amendments if not a.is_open],
        "redlines": {a.id: redline(a) for a in all_amendments},
        "can_propose": allowed(lambda: check_can_propose(clause, viewer)),
        "new_amendment": new_amendment,
        "reject_form": lambda amendment: keyed_form(forms, f"reject-{amendment.id}", RejectForm,
                                                    state),
    }
