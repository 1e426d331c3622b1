"""Amendments on the wire: the API and the socket events send the same shapes; and the
commands that propose, change and reject them.

A command (``AmendmentCreate``, ``AmendmentPatch``, ``AmendmentRejection``) is the API's body
and the panel forms' result alike, validated once at the edge: types by pydantic, texts
(trimmed, within bounds, required where a wording is needed) by its ``_clean`` step, which
raises the services' own ``ValidationFailed``. What depends on the database (who may, the
clause's current text and state) stays in the services."""
from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from drafting.amendments.redlines import redline
from drafting.editing.services import max_clause_length
from drafting.markup import render_markdown
from drafting.participants.schemas import ParticipantBrief, participant_brief
from drafting.recommendations.schemas import clean_clause_text
from drafting.services import clean_text, validate_all
from models import Amendment, AmendmentKind, AmendmentStatus

MAX_RATIONALE_LENGTH = 5000
MAX_REASON_LENGTH = 2000


class RedlinePiece(BaseModel):
    op: Literal["equal", "insert", "delete"]
    text: str


class AmendmentOut(BaseModel):
    id: int
    clause_id: int
    kind: AmendmentKind = Field(description="replace: a new wording; insert: a new clause after "
                                "this one; delete: strike the clause.")
    status: AmendmentStatus
    text: str = Field(description="The proposed wording (Markdown); empty for a deletion.")
    text_html: str
    base_text: str = Field(description="The clause's wording the proposal was written against.")
    rationale: str
    rationale_html: str
    proposer: ParticipantBrief | None
    sponsors: list[ParticipantBrief]
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    decided_by: ParticipantBrief | None
    decision_reason: str
    created_clause_id: int | None = Field(description="For an accepted insertion: the new clause.")
    redline: list[RedlinePiece] = Field(description="Word-level changes to the clause's current "
                                        "text (while open), or to the text it was written for.")
    conflict: bool = Field(description="The words it changes have changed since it was written: "
                           "its proposer must update it before it can be accepted.")


def _wording(text: str | None) -> str:
    return clean_text(text, "text", _("Proposed wording"), max_length=max_clause_length())


def _base(base_text: str | None) -> str | None:
    """The wording it was written against (None: the clause's current text); its problems
    are shown beside the wording, the field a person sees."""
    return None if base_text is None else clean_clause_text(base_text, required=False)


def _rationale(rationale: str | None) -> str:
    return clean_text(rationale, "rationale", _("Rationale"), max_length=MAX_RATIONALE_LENGTH,
                      required=False)


class AmendmentCreate(BaseModel):
    """Propose: a new wording (text, written against base_text), a new clause after
    this one (text) or the clause's deletion (its text is not read)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # Enums from their values, as JSON sends them (in the API as from a form).
    kind: AmendmentKind = Field(strict=False)
    text: str = ""
    rationale: str = ""
    base_text: str | None = Field(default=None, description="The wording the proposal was "
                                  "written against; by default the clause's current text.")

    @model_validator(mode="after")
    def _clean(self) -> Self:
        kind = self.kind
        values = validate_all(
            text=lambda: "" if kind is AmendmentKind.DELETE else _wording(self.text),
            base_text=lambda: _base(self.base_text) if kind is AmendmentKind.REPLACE else None,
            rationale=lambda: _rationale(self.rationale))
        self.text, self.base_text, self.rationale = (values["text"], values["base_text"],
                                                     values["rationale"])
        return self


class AmendmentPatch(BaseModel):
    """One's own amendment's new wording (written against base_text) and/or rationale;
    a field not sent stays as it is."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str | None = None
    rationale: str | None = None
    base_text: str | None = None

    @model_validator(mode="after")
    def _clean(self) -> Self:
        # Only what was sent is cleaned and set again: the service reads ``model_fields_set``
        # (a rationale sent as null is emptied; one not sent stays).
        sent = set(self.model_fields_set)
        cleaners = {"text": lambda: _wording(self.text), "base_text": lambda: _base(self.base_text),
                    "rationale": lambda: _rationale(self.rationale)}
        values = validate_all(**{name: clean for name, clean in cleaners.items() if name in sent})
        for name, value in values.items():
            setattr(self, name, value)
        return self


class AmendmentRejection(BaseModel):
    """The chair's reason for rejecting."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str

    @model_validator(mode="after")
    def _clean(self) -> Self:
        self.reason = clean_text(self.reason, "reason", _("Reason"), max_length=MAX_REASON_LENGTH)
        return self


class AmendmentQuery(BaseModel):
    state: Literal["open", "all"] = "all"


def amendment_out(amendment: Amendment) -> AmendmentOut:
    lines = redline(amendment)
    return AmendmentOut(
        id=amendment.id, clause_id=amendment.clause_id, kind=amendment.kind,
        status=amendment.status, text=amendment.text, text_html=render_markdown(amendment.text),
        base_text=amendment.base_text, rationale=amendment.rationale,
        rationale_html=render_markdown(amendment.rationale),
        proposer=participant_brief(amendment.proposer) if amendment.proposer else None,
        sponsors=[participant_brief(s.participant) for s in amendment.sponsors],
        created_at=amendment.created_at, updated_at=amendment.updated_at,
        decided_at=amendment.decided_at,
        decided_by=participant_brief(amendment.decided_by) if amendment.decided_by else None,
        decision_reason=amendment.decision_reason, created_clause_id=amendment.created_clause_id,
        redline=[RedlinePiece(**piece) for piece in lines.pieces], conflict=lines.conflict,
    )
