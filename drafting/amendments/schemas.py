"""Amendments on the wire: the API and the socket events send the same shapes."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from drafting.markup import render_markdown
from drafting.participants.schemas import ParticipantBrief, participant_brief
from models import Amendment, AmendmentKind, AmendmentStatus


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


class AmendmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: AmendmentKind
    text: str = ""
    rationale: str = ""
    base_text: str | None = Field(default=None, description="The wording the proposal was "
                                  "written against; by default the clause's current text.")


class AmendmentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str | None = None
    rationale: str | None = None
    base_text: str | None = None


class AmendmentRejection(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str


class AmendmentQuery(BaseModel):
    state: Literal["open", "all"] = "all"


def amendment_out(amendment: Amendment) -> AmendmentOut:
    from drafting.amendments.services import redline

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
